#define CAF_SUITE e2e.admin_access
#include "caf/test/unit_test.hpp"

#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include "actors/root.hpp"
#include "tests/fixtures/admin_fixture.hpp"
#include "tests/fixtures/checks.hpp"

// The access endpoints of the admin API over real HTTP on 127.0.0.1 (issue
// 23, item 7): a pending user approved through the API gets their held
// messages, a revoke stops the container, wrong tokens and bad ids are
// refused clearly, a second approve says so. A recording provisioner stands
// in for the container backend: it answers with the fake gateway and keeps
// the stops.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

constexpr int64_t admin_id = 601;
constexpr int64_t stranger = 9101;
const std::string token = "admin-secret";

/// What the recording provisioner was asked, as "stop:9101".
struct provisioner_log {
  std::mutex mtx;
  std::vector<std::string> calls;

  void add(std::string call) {
    std::lock_guard<std::mutex> guard{mtx};
    calls.push_back(std::move(call));
  }

  bool has(const std::string& call) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(calls.begin(), calls.end(), call) != calls.end();
  }
};

provisioner_actor::behavior_type
recording_provisioner(provisioner_actor::pointer self, uint16_t port,
                      std::shared_ptr<provisioner_log> log) {
  return {
    [port, log](ensure_atom, int64_t user) {
      log->add("ensure:" + std::to_string(user));
      user_record rec;
      rec.user_id = user;
      rec.port = port;
      rec.token = "gateway-token";
      rec.container = "zaki-user-" + std::to_string(user);
      return rec;
    },
    [log](restart_atom, int64_t user) {
      log->add("restart:" + std::to_string(user));
      return true;
    },
    [log](stop_atom, int64_t user) {
      log->add("stop:" + std::to_string(user));
      return true;
    },
    [log](remove_atom, int64_t user) {
      log->add("remove:" + std::to_string(user));
      return true;
    },
    [self](status_atom) {
      status_node node;
      node.name = "provisioner";
      node.id = self->id();
      node.state = "running";
      return node;
    },
  };
}

struct fixture : admin_fixture {
  std::shared_ptr<provisioner_log> prov = std::make_shared<provisioner_log>();

  fixture() : admin_fixture(1) {
    cfg.values.access.policy = "approval";
    cfg.values.access.admins = std::to_string(admin_id);
    admin_options opts;
    admin_access access;
    access.host = "127.0.0.1";
    access.require_token = true;
    access.token = token;
    opts.access = access;
    auto log = prov;
    auto port = gateway.port();
    child_spec spec{
      "provisioner", names::provisioner, [port, log](root_self self) {
        return caf::actor_cast<caf::actor>(
          self->spawn<caf::linked>(recording_provisioner, port, log));
      }};
    start({spec}, opts);
  }

  std::vector<std::string> texts_to(int64_t chat) {
    std::vector<std::string> out;
    for (auto& m : telegram.sent_to(chat))
      out.push_back(m.text);
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(admin_access_tests, fixture)

CAF_TEST(a pending user approved through the API gets the held messages) {
  CAF_REQUIRE_NOT_EQUAL(port, 0);
  for (int i = 1; i <= 3; ++i)
    telegram.push_text(stranger, "held-" + std::to_string(i));
  CAF_REQUIRE(telegram.wait_for_sent_to(admin_id, 1, seconds(10)));
  CAF_REQUIRE(telegram.wait_for_sent_to(stranger, 1, seconds(10)));
  // Nothing reached the container side while pending.
  CAF_CHECK(!prov->has("ensure:" + std::to_string(stranger)));
  // The pending list, with and without the token.
  CAF_CHECK_EQUAL(get("/admin/users?status=pending").status, 401);
  CAF_CHECK_EQUAL(get("/admin/users?status=pending", "wrong").status, 401);
  auto pending = get("/admin/users?status=pending", token);
  CAF_CHECK_EQUAL(pending.status, 200);
  CAF_CHECK(contains(pending.body, R"("user_id":9101)"));
  CAF_CHECK(contains(pending.body, R"("status":"pending")"));
  // A wrong token changes nothing.
  auto refused = post("/admin/users/9101/approve", "admin-secreT");
  CAF_CHECK_EQUAL(refused.status, 401);
  CAF_CHECK_EQUAL(texts_to(stranger).size(), 1u);
  // Approve: the user hears it, then their messages are answered in order.
  auto approved = post("/admin/users/9101/approve", token);
  CAF_CHECK_EQUAL(approved.status, 200);
  CAF_CHECK(contains(approved.body, R"("result":"approved")"));
  CAF_REQUIRE(telegram.wait_for_sent_to(stranger, 5, seconds(10)));
  auto got = texts_to(stranger);
  CAF_CHECK(contains(got[0], "sent to an admin"));
  CAF_CHECK(contains(got[1], "You are approved"));
  CAF_CHECK_EQUAL(got[2], "echo: held-1");
  CAF_CHECK_EQUAL(got[3], "echo: held-2");
  CAF_CHECK_EQUAL(got[4], "echo: held-3");
  // The admin's request says who decided: the operator (the API).
  CAF_CHECK(eventually([&] {
    auto note = telegram.sent_to(admin_id).front();
    auto text = telegram.message_text(note.message_id);
    return text && contains(*text, "approved by the operator");
  }));
  // Approving again is idempotent and says so.
  auto again = post("/admin/users/9101/approve", token);
  CAF_CHECK_EQUAL(again.status, 200);
  CAF_CHECK(contains(again.body, R"("result":"already approved")"));
  auto list = get("/admin/users?status=approved", token);
  CAF_CHECK(contains(list.body, R"("user_id":9101)"));
  CAF_CHECK(!contains(get("/admin/users?status=pending", token).body,
                      R"("user_id":9101)"));
}

CAF_TEST(a revoke through the API stops the container) {
  auto approved = post("/admin/users/9101/approve", token);
  CAF_REQUIRE_EQUAL(approved.status, 200);
  telegram.push_text(stranger, "before");
  CAF_REQUIRE(eventually([&] {
    auto got = texts_to(stranger);
    return !got.empty() && got.back() == "echo: before";
  }));
  auto revoked = post("/admin/users/9101/revoke", token);
  CAF_CHECK_EQUAL(revoked.status, 200);
  CAF_CHECK(contains(revoked.body, R"("result":"revoked")"));
  CAF_CHECK(eventually([&] {
    return prov->has("stop:9101");
  }));
  CAF_CHECK(!prov->has("remove:9101"));
  auto before = texts_to(stranger).size();
  telegram.push_text(stranger, "after");
  CAF_REQUIRE(telegram.wait_for_sent_to(stranger, before + 1, seconds(10)));
  CAF_CHECK(contains(texts_to(stranger).back(), "was revoked"));
  CAF_CHECK_EQUAL(gateway.stats().chat_requests, 1u);
  // purge=1 removes the data too.
  CAF_REQUIRE_EQUAL(post("/admin/users/9102/approve", token).status, 200);
  auto purged = post("/admin/users/9102/revoke?purge=1", token);
  CAF_CHECK_EQUAL(purged.status, 200);
  CAF_CHECK(eventually([&] {
    return prov->has("remove:9102");
  }));
  CAF_CHECK(!prov->has("stop:9102"));
}

CAF_TEST(unknown and non - numeric ids get clear errors) {
  auto unknown = post("/admin/users/123456/revoke", token);
  CAF_CHECK_EQUAL(unknown.status, 404);
  CAF_CHECK(contains(unknown.body, "unknown user"));
  for (auto target : {"/admin/users/abc/approve", "/admin/users/-5/reject",
                      "/admin/users/12x/revoke", "/admin/users/0/approve"}) {
    auto bad = post(target, token);
    CAF_CHECK_EQUAL(bad.status, 400);
    CAF_CHECK(contains(bad.body, "positive decimal number"));
  }
  // A GET of a decision is refused with the allowed method.
  auto wrong_method = get("/admin/users/9101/approve", token);
  CAF_CHECK_EQUAL(wrong_method.status, 405);
  CAF_CHECK_EQUAL(wrong_method.allow, "POST");
  // Still serving.
  CAF_CHECK_EQUAL(get("/health/live").status, 200);
}

CAF_TEST(a broadcast through the API reaches every approved user) {
  CAF_REQUIRE_EQUAL(post("/admin/users/9101/approve", token).status, 200);
  CAF_REQUIRE_EQUAL(post("/admin/users/9102/revoke", token).status, 404);
  auto call = [this](const std::string& body, const std::string& bearer) {
    fakes::sync_client client{port, seconds(10)};
    http_reply out;
    auto res = client.call(boost::beast::http::verb::post, "/admin/broadcast",
                           body, bearer);
    if (res) {
      out.status = static_cast<int>(res->result_int());
      out.body = res->body();
    }
    return out;
  };
  CAF_CHECK_EQUAL(call(R"({"text":"x"})", "wrong").status, 401);
  for (auto bad : {"", "not json", R"({"txt":"x"})", R"({"text":"  "})"}) {
    auto res = call(bad, token);
    CAF_CHECK_EQUAL(res.status, 400);
    CAF_CHECK(contains(res.body, "error"));
  }
  // Wrong method.
  CAF_CHECK_EQUAL(get("/admin/broadcast", token).status, 405);
  auto res = call(R"({"text":"Maintenance at 22:00 UTC"})", token);
  CAF_CHECK_EQUAL(res.status, 202);
  CAF_CHECK(contains(res.body, R"("recipients":2)"));
  CAF_CHECK(telegram.wait_for_sent_to(first_user, 1, seconds(10)));
  CAF_CHECK(eventually([&] {
    auto got = texts_to(stranger);
    return !got.empty() && got.back() == "Maintenance at 22:00 UTC";
  }));
  CAF_CHECK_EQUAL(std::string{texts_to(first_user).back()},
                  "Maintenance at 22:00 UTC");
  // Nothing went to the admin (no progress message for the API).
  CAF_CHECK(telegram.sent_to(admin_id).empty());
}

CAF_TEST(an admin restarts a user container from the chat) {
  telegram.push_text(admin_id, "/restart 424242");
  CAF_REQUIRE(telegram.wait_for_sent_to(admin_id, 1, seconds(10)));
  CAF_CHECK(contains(texts_to(admin_id).back(), "unknown user"));
  CAF_CHECK(!prov->has("restart:424242"));
  telegram.push_text(admin_id, "/restart 7000001");
  CAF_REQUIRE(telegram.wait_for_sent_to(admin_id, 2, seconds(10)));
  CAF_CHECK_EQUAL(std::string{texts_to(admin_id).back()},
                  "User 7000001: container restarted.");
  CAF_CHECK(prov->has("restart:7000001"));
  // A user's own /restart still asks first, and "/restart 5" is not theirs.
  telegram.push_text(first_user, "/restart 5");
  CAF_REQUIRE(telegram.wait_for_sent_to(first_user, 1, seconds(10)));
  CAF_CHECK(contains(texts_to(first_user).back(), "Restart your assistant?"));
  CAF_CHECK(!prov->has("restart:5"));
  // /containers lists the store's container with its port.
  telegram.push_text(admin_id, "/containers");
  CAF_REQUIRE(telegram.wait_for_sent_to(admin_id, 3, seconds(10)));
  auto list = texts_to(admin_id).back();
  CAF_CHECK(contains(list, "Containers</b>: 1"));
  CAF_CHECK(contains(list, "<code>7000001</code>"));
  CAF_CHECK(contains(list, "zaki-user-7000001"));
}

CAF_TEST_FIXTURE_SCOPE_END()
