#define CAF_SUITE e2e.access
#include "caf/test/unit_test.hpp"

#include <sstream>
#include <thread>

#include <caf/all.hpp>

#include "app/users_cli.hpp"
#include "messages/peer.hpp"
#include "storage/inbox_journal.hpp"
#include "tests/fixtures/checks.hpp"
#include "tests/fixtures/router_fixture.hpp"

// Who may use the bot, end to end (issue 23): the real tree against the fake
// Bot API and gateway. Strangers under each policy, admins approving with
// their buttons (two at once), held messages delivered in order, a forged
// press, a revoke and a rejection.

using namespace zaki;
using namespace zaki::test;
using namespace std::chrono;

namespace {

constexpr int64_t admin_a = 501;
constexpr int64_t admin_b = 502;
constexpr int64_t stranger = 9001;

/// Returns the nonce of the Approve button in an approval request.
std::string approve_data(const fakes::sent_message& m) {
  auto pos = m.reply_markup.find("z1:a:");
  if (pos == std::string::npos)
    return {};
  return m.reply_markup.substr(pos, 17);
}

struct access_fixture : router_fixture {
  explicit access_fixture(const std::string& policy) {
    cfg().access.policy = policy;
    cfg().access.admins = std::to_string(admin_a) + ","
      + std::to_string(admin_b);
    // Admins have containers too (they chat like everyone).
    add_user(admin_a);
    add_user(admin_b);
    add_user(7001);
  }

  /// Gives `id` a container record, as the provisioner would on approval.
  void provision(int64_t id) {
    auto token = "gw-secret-" + std::to_string(id);
    gateway.behavior().set_user_token(std::to_string(id), token);
    user_record rec;
    rec.user_id = id;
    rec.port = gateway.port();
    rec.token = token;
    rec.container = "zaki-user-" + std::to_string(id);
    caf::scoped_actor self{system()};
    bool ok = false;
    self
      ->request(peer<store_actor>(system()), seconds(5), put_atom_v,
                std::move(rec))
      .receive(
        [&](bool x) {
          ok = x;
        },
        [](caf::error&) {});
    CAF_REQUIRE(ok);
  }
};

} // namespace

CAF_TEST(a stranger under each policy) {
  struct expectation {
    const char* policy;
    const char* text;
  };
  for (auto [policy, text] :
       {expectation{"approval", "sent to an admin for approval"},
        expectation{"allowlist", "Ask its operator to add your id 9001"},
        expectation{"closed", "not taking new users"}}) {
    CAF_MESSAGE("policy " << policy);
    access_fixture f{policy};
    f.start();
    f.telegram.push_text(stranger, "hello");
    f.telegram.push_text(stranger, "anyone?");
    CAF_REQUIRE(f.telegram.wait_for_sent_to(stranger, 1, seconds(10)));
    // Held or refused: nothing reaches a gateway, a registered user still
    // chats.
    f.telegram.push_text(7001, "u7001-m1");
    CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
    auto got = texts_to(f, stranger);
    CAF_CHECK(contains(got.front(), text));
    if (std::string{policy} == "approval") {
      // Told once; each admin got the request with its buttons.
      CAF_CHECK_EQUAL(got.size(), 1u);
      CAF_CHECK(f.telegram.wait_for_sent_to(admin_a, 1, seconds(5)));
      CAF_CHECK(f.telegram.wait_for_sent_to(admin_b, 1, seconds(5)));
      auto notice = f.telegram.sent_to(admin_a).front();
      CAF_CHECK(contains(notice.text, "9001"));
      CAF_CHECK(!approve_data(notice).empty());
    } else {
      CAF_CHECK(f.telegram.sent_to(admin_a).empty());
    }
    for (auto& t : got)
      CAF_CHECK(!contains(t, "echo:"));
    CAF_CHECK_EQUAL(std::string{texts_to(f, 7001).front()}, "echo: u7001-m1");
    CAF_CHECK_EQUAL(f.stop(), 0);
  }
}

CAF_TEST(two admins racing to approve deliver the held messages once in order) {
  access_fixture f{"approval"};
  f.start();
  for (int i = 1; i <= 3; ++i)
    f.telegram.push_text(stranger, "s-m" + std::to_string(i));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, 1, seconds(10)));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_b, 1, seconds(10)));
  auto note_a = f.telegram.sent_to(admin_a).front();
  auto note_b = f.telegram.sent_to(admin_b).front();
  auto data = approve_data(note_a);
  CAF_REQUIRE_EQUAL(data, approve_data(note_b));
  // A stranger pressing the real button, and an admin pressing a forged
  // one, change nothing.
  f.telegram.push_callback(stranger, data, note_a.message_id);
  f.telegram.push_callback(admin_a, "z1:a:000000000000", note_a.message_id);
  CAF_REQUIRE(eventually([&] {
    return f.telegram.calls("answercallbackquery").size() == 2;
  }));
  CAF_CHECK_EQUAL(texts_to(f, stranger).size(), 1u); // "waiting" only
  CAF_CHECK(
    contains(*f.telegram.message_text(note_a.message_id), "Access request"));
  // The provisioner's part, then both admins press at once.
  f.provision(stranger);
  f.telegram.push_callback(admin_a, data, note_a.message_id);
  f.telegram.push_callback(admin_b, data, note_b.message_id);
  CAF_REQUIRE(f.telegram.wait_for_sent_to(stranger, 5, seconds(10)));
  auto got = texts_to(f, stranger);
  CAF_CHECK(contains(got[0], "sent to an admin"));
  CAF_CHECK(contains(got[1], "You are approved"));
  CAF_CHECK_EQUAL(got[2], "echo: s-m1");
  CAF_CHECK_EQUAL(got[3], "echo: s-m2");
  CAF_CHECK_EQUAL(got[4], "echo: s-m3");
  // Both requests say who decided; one press was told it came too late.
  CAF_CHECK(eventually([&] {
    return contains(*f.telegram.message_text(note_a.message_id), "approved by")
      && contains(*f.telegram.message_text(note_b.message_id), "approved by");
  }));
  CAF_REQUIRE(eventually([&] {
    return f.telegram.calls("answercallbackquery").size() == 4;
  }));
  size_t approved = 0;
  size_t late = 0;
  for (auto& c : f.telegram.calls("answercallbackquery")) {
    approved += c.text == "Approved." ? 1 : 0;
    late += c.text == "Decided already." ? 1 : 0;
  }
  CAF_CHECK_EQUAL(approved, 1u);
  CAF_CHECK_EQUAL(late, 1u);
  // The command menus: one for everyone, one per admin with the operator
  // commands.
  auto menus = f.telegram.calls("setmycommands");
  CAF_REQUIRE_EQUAL(menus.size(), 3u);
  size_t admin_menus = 0;
  for (auto& m : menus) {
    CAF_CHECK(contains(m.text, "\"usage\""));
    if (contains(m.data, "\"chat\"")) {
      ++admin_menus;
      CAF_CHECK(contains(m.text, "\"approve\""));
    } else {
      CAF_CHECK(!contains(m.text, "\"approve\""));
    }
  }
  CAF_CHECK_EQUAL(admin_menus, 2u);
  // Later messages go straight through.
  f.telegram.push_text(stranger, "s-m4");
  CAF_CHECK(f.telegram.wait_for_sent_to(stranger, 6, seconds(10)));
  CAF_CHECK_EQUAL(std::string{texts_to(f, stranger).back()}, "echo: s-m4");
  auto st = f.gateway.stats();
  CAF_CHECK_EQUAL(st.order_violations, 0u);
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(operator commands reject and revoke) {
  access_fixture f{"approval"};
  f.start();
  // Not an admin: the operator commands do not exist.
  f.telegram.push_text(7001, "/approve 9001");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
  CAF_CHECK(contains(texts_to(f, 7001).front(), "Unknown command"));
  // Bad input.
  f.telegram.push_text(admin_a, "/reject");
  f.telegram.push_text(admin_a, "/reject abc");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, 2, seconds(10)));
  for (auto& t : texts_to(f, admin_a))
    CAF_CHECK(contains(t, "Usage: /reject ID"));
  // A rejection is told once.
  f.telegram.push_text(stranger, "let me in");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(stranger, 1, seconds(10)));
  f.telegram.push_text(admin_a, "/reject 9001");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(stranger, 2, seconds(10)));
  CAF_CHECK(contains(texts_to(f, stranger).back(), "not approved"));
  f.telegram.push_text(stranger, "please?");
  // Approving an approved user is idempotent and says so.
  f.telegram.push_text(admin_b, "/approve 7001");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_b, 2, seconds(10)));
  CAF_CHECK(contains(texts_to(f, admin_b).back(), "already approved"));
  CAF_CHECK_EQUAL(texts_to(f, stranger).size(), 2u);
  // Revoke: the next message gets the revoked text, not the gateway.
  f.telegram.push_text(7001, "u7001-m1");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 2, seconds(10)));
  f.telegram.push_text(admin_b, "/revoke 7001");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_b, 3, seconds(10)));
  CAF_CHECK(contains(texts_to(f, admin_b).back(), "User 7001: revoked"));
  f.telegram.push_text(7001, "u7001-m2");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 3, seconds(10)));
  CAF_CHECK(contains(texts_to(f, 7001).back(), "was revoked"));
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(an allowlist managed with the users command) {
  access_fixture f{"allowlist"};
  // Nothing listens there: the command works on the database file.
  f.cfg().admin.address = "127.0.0.1:1";
  auto users = [&f](std::vector<std::string> args, std::string& out) {
    std::ostringstream o;
    std::ostringstream e;
    auto code = run_users_command(f.cfg(), args, o, e);
    out = o.str() + e.str();
    return code;
  };
  std::string out;
  // Before the first start: the database is created for the decision.
  CAF_CHECK_EQUAL(users({"approve", "9002"}, out), users_exit::ok);
  CAF_CHECK(contains(out, "user 9002 approved"));
  CAF_CHECK_EQUAL(users({"approve", "9002"}, out), users_exit::ok);
  CAF_CHECK(contains(out, "already approved"));
  CAF_CHECK_EQUAL(users({"revoke", "12345"}, out), users_exit::not_found);
  CAF_CHECK_EQUAL(users({"approve", "x1"}, out), users_exit::usage);
  CAF_CHECK_EQUAL(users({"list", "--status=approved"}, out), users_exit::ok);
  CAF_CHECK(contains(out, "9002\t0\t\tapproved"));
  f.start();
  // 9002 is let in (and has no container on a static backend: the usual
  // answer), 9003 is not on the list.
  f.telegram.push_text(9002, "hi");
  f.telegram.push_text(9003, "hi");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(9002, 1, seconds(10)));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(9003, 1, seconds(10)));
  CAF_CHECK(!contains(texts_to(f, 9002).front(), "private"));
  CAF_CHECK(contains(texts_to(f, 9003).front(), "add your id 9003"));
  CAF_CHECK_EQUAL(f.stop(), 0);
}

/// Returns the callback data of the button labelled `label` in `markup`.
std::string button_data(const std::string& markup, const std::string& label) {
  auto at = markup.find(label);
  if (at == std::string::npos)
    return {};
  auto pos = markup.find("z1:p:", at);
  return pos == std::string::npos ? std::string{} : markup.substr(pos, 17);
}

CAF_TEST(users are listed in pages turned with signed buttons) {
  access_fixture f{"approval"};
  f.start();
  // The root starts its children after start() returns.
  CAF_REQUIRE(eventually([&] {
    return static_cast<bool>(peer<access_actor>(f.system()));
  }));
  {
    caf::scoped_actor self{f.system()};
    size_t approved = 0;
    for (int64_t id = 9500; id < 9545; ++id)
      self
        ->request(peer<access_actor>(f.system()), seconds(10), decide_atom_v,
                  id, std::string{"approve"}, int64_t{0})
        .receive(
          [&](const std::string& what) {
            approved += what == "approved" ? 1 : 0;
          },
          [](caf::error&) {});
    CAF_REQUIRE_EQUAL(approved, 45u);
  }
  // Not for users.
  f.telegram.push_text(7001, "/users");
  f.telegram.push_text(admin_a, "/users bogus");
  f.telegram.push_text(admin_a, "/users approved");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, 2, seconds(10)));
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
  CAF_CHECK(contains(texts_to(f, 7001).front(), "Unknown command"));
  CAF_CHECK(contains(texts_to(f, admin_a).front(), "Usage: /users"));
  auto listing = f.telegram.sent_to(admin_a)[1];
  CAF_CHECK(contains(listing.text, "Users (approved)</b>: 45"));
  CAF_CHECK(contains(listing.text, "9500"));
  CAF_CHECK(contains(listing.text, "9519"));
  CAF_CHECK(!contains(listing.text, "9520"));
  CAF_CHECK(contains(listing.text, "Page 1 of 3"));
  CAF_CHECK(button_data(listing.reply_markup, "Prev").empty());
  auto next = button_data(listing.reply_markup, "Next");
  CAF_REQUIRE(!next.empty());
  auto page_of = [&] {
    return *f.telegram.message_text(listing.message_id);
  };
  auto answers = [&] {
    return f.telegram.calls("answercallbackquery").size();
  };
  // A forged nonce, and the real button pressed by someone else: nothing.
  f.telegram.push_callback(admin_a, "z1:p:000000000000", listing.message_id);
  f.telegram.push_callback(7001, next, listing.message_id);
  CAF_REQUIRE(eventually([&] {
    return answers() == 2;
  }));
  for (auto& c : f.telegram.calls("answercallbackquery"))
    CAF_CHECK(contains(c.text, "no longer works"));
  CAF_CHECK(contains(page_of(), "Page 1 of 3"));
  // Next: the message is edited in place, with both buttons now.
  f.telegram.push_callback(admin_a, next, listing.message_id);
  CAF_REQUIRE(eventually([&] {
    return contains(page_of(), "Page 2 of 3");
  }));
  CAF_CHECK(contains(page_of(), "9520"));
  CAF_CHECK(!contains(page_of(), "9519"));
  CAF_REQUIRE(eventually([&] {
    return answers() == 3;
  }));
  CAF_CHECK_EQUAL(
    std::string{f.telegram.calls("answercallbackquery").back().text},
    "Page 2 of 3");
  auto markup = f.telegram.message_markup(listing.message_id);
  CAF_CHECK(!button_data(markup, "Prev").empty());
  auto last = button_data(markup, "Next");
  CAF_REQUIRE(!last.empty());
  // The spent button again (a replay): refused, the page stays.
  f.telegram.push_callback(admin_a, next, listing.message_id);
  CAF_REQUIRE(eventually([&] {
    return answers() == 4;
  }));
  CAF_CHECK(contains(f.telegram.calls("answercallbackquery").back().text,
                     "no longer works"));
  CAF_CHECK(contains(page_of(), "Page 2 of 3"));
  // The last page has no Next.
  f.telegram.push_callback(admin_a, last, listing.message_id);
  CAF_REQUIRE(eventually([&] {
    return contains(page_of(), "Page 3 of 3");
  }));
  CAF_CHECK(contains(page_of(), "9544"));
  CAF_CHECK(eventually([&] {
    auto m = f.telegram.message_markup(listing.message_id);
    return button_data(m, "Next").empty() && !button_data(m, "Prev").empty();
  }));
  // A short list has no buttons at all.
  f.telegram.push_text(admin_a, "/users pending");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, 3, seconds(10)));
  CAF_CHECK(f.telegram.sent_to(admin_a)[2].reply_markup.empty());
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(containers and restarts of other users are for admins only) {
  access_fixture f{"approval"};
  f.start();
  f.telegram.push_text(7001, "/containers");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
  CAF_CHECK(contains(texts_to(f, 7001).front(), "Unknown command"));
  f.telegram.push_text(admin_a, "/containers");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, 1, seconds(10)));
  auto list = texts_to(f, admin_a).front();
  // Static backend: the gateways run outside the bot.
  CAF_CHECK(contains(list, "Containers</b>: 3"));
  CAF_CHECK(contains(list, "<code>7001</code> external"));
  CAF_CHECK(contains(list, "restarts 0"));
  for (auto bad : {"/restart abc", "/restart 12x", "/restart -4"}) {
    auto before = texts_to(f, admin_a).size();
    f.telegram.push_text(admin_a, bad);
    CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, before + 1, seconds(10)));
    CAF_CHECK(contains(texts_to(f, admin_a).back(), "Usage: /restart ID"));
  }
  f.telegram.push_text(admin_a, "/restart 7001");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, 5, seconds(10)));
  CAF_CHECK(contains(texts_to(f, admin_a).back(), "run outside this bot"));
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(a broadcast reaches every approved user and reports the count) {
  access_fixture f{"approval"};
  // 1,000 recipients: 998 users, 7001 and both admins, less the revoked
  // 8000. A global rate well above Telegram's 30/s keeps the test short
  // while the bucket still paces it (checked below).
  for (int64_t id = 8000; id < 8998; ++id)
    f.add_user(id);
  constexpr double rate = 200;
  f.cfg().telegram.global_rate = rate;
  f.cfg().telegram.global_burst = 20;
  f.start();
  // A revoked user gets nothing.
  f.telegram.push_text(admin_a, "/revoke 8000");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, 1, seconds(10)));
  CAF_CHECK(contains(texts_to(f, admin_a).back(), "revoked"));
  f.telegram.push_text(7001, "/broadcast not for you");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(7001, 1, seconds(10)));
  CAF_CHECK(contains(texts_to(f, 7001).back(), "Unknown command"));
  f.telegram.push_text(admin_a, "/broadcast");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(admin_a, 2, seconds(10)));
  CAF_CHECK(contains(texts_to(f, admin_a).back(), "Usage: /broadcast"));
  f.telegram.push_text(admin_a, "/broadcast Maintenance at 22:00 UTC");
  CAF_REQUIRE(f.telegram.wait_for_sent_to(8997, 1, seconds(30)));
  auto progress = f.telegram.sent_to(admin_a)[2];
  CAF_CHECK(contains(progress.text, "Broadcasting to 1000 users"));
  CAF_CHECK(eventually(
    [&] {
      return contains(*f.telegram.message_text(progress.message_id),
                      "Broadcast done: 1000 of 1000 delivered");
    },
    seconds(30)));
  CAF_CHECK(f.telegram.sent_to(8000).empty());
  CAF_CHECK_EQUAL(std::string{texts_to(f, 8100).back()},
                  "Maintenance at 22:00 UTC");
  // The global bucket paced it: no second of arrivals holds much more
  // than the rate plus the burst (half a second of slack for scheduling).
  std::vector<steady_clock::time_point> at;
  for (auto& m : f.telegram.sent())
    if (m.text == "Maintenance at 22:00 UTC")
      at.push_back(m.at);
  CAF_REQUIRE_EQUAL(at.size(), 1000u);
  std::sort(at.begin(), at.end());
  size_t most = 0;
  for (size_t i = 0, j = 0; j < at.size(); ++j) {
    while (at[j] - at[i] > seconds(1))
      ++i;
    most = std::max(most, j - i + 1);
  }
  CAF_MESSAGE("broadcast of 1000: at most " << most
                                            << " deliveries in one second");
  CAF_CHECK_LESS_OR_EQUAL(most, static_cast<size_t>(1.5 * rate + 20));
  CAF_CHECK_EQUAL(f.stop(), 0);
}

CAF_TEST(held messages survive a router restart) {
  constexpr int64_t stranger = 8400;
  access_fixture first{"approval"};
  first.cfg().log.file = first.dir() + "/router.log";
  first.start();
  first.telegram.push_text(stranger, "h-m1");
  first.telegram.push_text(stranger, "h-m2");
  CAF_REQUIRE(first.telegram.wait_for_sent_to(admin_a, 1, seconds(10)));
  CAF_REQUIRE(first.telegram.wait_for_sent_to(stranger, 1, seconds(10)));
  // The held messages do not hold up the shutdown (no drain timeout)...
  CAF_CHECK_EQUAL(first.stop(), 0);
  CAF_CHECK(!contains(first.read_log(), "event=drain_timeout"));
  // ... and stay in the journal.
  {
    std::string error;
    auto journal = inbox_journal::open(first.dir() + "/data/inbox.journal",
                                       error);
    CAF_REQUIRE(journal != nullptr);
    size_t pending = 0;
    for (auto& msg : journal->pending())
      pending += msg.user_id == stranger ? 1 : 0;
    CAF_CHECK_EQUAL(pending, 2u);
  }
  // The next router on the same data root replays them into the same
  // hold; approved, they are answered in order.
  access_fixture second{"approval"};
  second.cfg().log.file = second.dir() + "/router.log";
  second.cfg().store.data_root = first.dir() + "/data";
  second.start();
  // The root starts its children after start() returns.
  CAF_REQUIRE(eventually([&] {
    return peer<store_actor>(second.system())
      && peer<access_actor>(second.system());
  }));
  // The replay holds them again (the log says so within a second); only
  // then the provisioner's part (a user with a container is let in).
  CAF_REQUIRE(eventually(
    [&] {
      return contains(second.read_log(), "event=held user=8400");
    },
    seconds(10)));
  second.provision(stranger);
  {
    caf::scoped_actor self{second.system()};
    std::string verdict;
    self
      ->request(peer<access_actor>(second.system()), seconds(10), decide_atom_v,
                stranger, std::string{"approve"}, admin_a)
      .receive(
        [&](const std::string& what) {
          verdict = what;
        },
        [](caf::error&) {});
    CAF_CHECK_EQUAL(verdict, "approved");
  }
  CAF_REQUIRE(second.telegram.wait_for_sent_to(stranger, 3, seconds(10)));
  std::vector<std::string> echoes;
  size_t approved_notes = 0;
  for (auto& text : texts_to(second, stranger)) {
    if (contains(text, "echo: "))
      echoes.push_back(text);
    approved_notes += contains(text, "You are approved") ? 1 : 0;
  }
  CAF_CHECK_EQUAL(approved_notes, 1u);
  CAF_REQUIRE_EQUAL(echoes.size(), 2u);
  CAF_CHECK_EQUAL(echoes[0], "echo: h-m1");
  CAF_CHECK_EQUAL(echoes[1], "echo: h-m2");
  CAF_CHECK_EQUAL(second.stop(), 0);
}
