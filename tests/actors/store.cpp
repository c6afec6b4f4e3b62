#define CAF_SUITE actors.store
#include "admin/http.hpp"
#include "caf/test/unit_test.hpp"

#include "actors/store.hpp"

#include <filesystem>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>

#include "runtime/config.hpp"
#include "storage/database.hpp"

// The store actor in front of its database worker: lookups, pages, usage
// batched into one commit, transcripts and /forget, and a database that
// refuses writes (at its size cap, as on a full disk) fails readiness with
// the reason while lookups go on and usage stays counted in memory.

using namespace zaki;

namespace {

namespace fs = std::filesystem;

struct fixture {
  fs::path dir;
  std::shared_ptr<service_context> ctx = std::make_shared<service_context>();
  config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> self;
  store_actor st;

  fixture() {
    static int n = 0;
    dir = fs::temp_directory_path()
      / ("zaki-store-" + std::to_string(::getpid()) + "-"
         + std::to_string(++n));
    fs::create_directories(dir / "data");
    ctx->cfg.store.users_file = (dir / "users.json").string();
    ctx->cfg.store.data_root = (dir / "data").string();
    ctx->cfg.store.transcript_limit = 4;
    cfg.set("scheduler.policy", caf::atom("sharing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    self = std::make_unique<caf::scoped_actor>(*sys);
  }

  void start(size_t users = 0) {
    user_map seed;
    for (size_t i = 1; i <= users; ++i) {
      user_record rec;
      rec.user_id = static_cast<int64_t>(i);
      rec.port = static_cast<uint16_t>(19000 + i);
      rec.token = "t";
      rec.container = "zaki-user-" + std::to_string(i);
      seed.emplace(rec.user_id, rec);
    }
    st = sys->spawn(store, ctx, user_registry{seed});
  }

  ~fixture() {
    if (st)
      (*self)->send_exit(st, caf::exit_reason::user_shutdown);
    self.reset();
    sys.reset();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  template <class T, class... Ts>
  T ask(Ts... xs) {
    T out{};
    (*self)
      ->request(st, std::chrono::seconds(10), xs...)
      .receive(
        [&](const T& x) {
          out = x;
        },
        [&](caf::error& e) {
          CAF_FAIL(sys->render(e));
        });
    return out;
  }

  std::pair<bool, std::string> ready() {
    std::pair<bool, std::string> out;
    (*self)
      ->request(st, std::chrono::seconds(10), ready_atom_v)
      .receive(
        [&](bool ok, const std::string& why) {
          out = {ok, why};
        },
        [&](caf::error& e) {
          CAF_FAIL(sys->render(e));
        });
    return out;
  }

  status_node status() {
    return ask<status_node>(status_atom_v);
  }

  std::unique_ptr<database> open_db() {
    std::string err;
    auto db = database::open(
      database_path(ctx->cfg.store.database, ctx->cfg.store.data_root), err);
    CAF_REQUIRE(db != nullptr);
    return db;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(store_tests, fixture)

CAF_TEST(lookups and pages come from the database) {
  start(25);
  CAF_CHECK(ask<user_lookup>(get_atom_v, int64_t{7}).found);
  CAF_CHECK(!ask<user_lookup>(get_atom_v, int64_t{70}).found);
  auto page = ask<user_page>(list_atom_v, std::string{}, uint32_t{10},
                             int64_t{0});
  CAF_CHECK_EQUAL(page.users.size(), 10u);
  CAF_CHECK_EQUAL(page.next_after, 10);
  page = ask<user_page>(list_atom_v, std::string{}, uint32_t{10}, int64_t{20});
  CAF_CHECK_EQUAL(page.users.size(), 5u);
  CAF_CHECK_EQUAL(page.next_after, 0);
  CAF_CHECK(ready().first);
}

CAF_TEST(usage is batched and transcripts are bounded and forgotten) {
  start(2);
  for (int i = 0; i < 10; ++i)
    caf::anon_send(st, usage_atom_v, usage_record{1, 1, 10, 5});
  caf::anon_send(st, usage_atom_v, usage_record{2, 1, 0, 0});
  for (int i = 0; i < 6; ++i)
    CAF_CHECK(ask<bool>(transcript_atom_v,
                        transcript_entry{1, i, "in", std::to_string(i), "r"}));
  CAF_CHECK(
    ask<bool>(transcript_atom_v, transcript_entry{2, 0, "in", "x", "r"}));
  // The usage flush runs 200 ms after the first count; poll the database
  // from outside (a second connection, as the CLI would) until it landed.
  auto db = open_db();
  std::string err;
  usage_record u;
  for (int i = 0; i < 100 && u.requests < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    u = db->usage_of(1, utc_day(), err);
  }
  CAF_CHECK(u == (usage_record{1, 10, 100, 50}));
  auto t = db->transcript_of(1, err);
  CAF_REQUIRE_EQUAL(t.size(), 4u);
  CAF_CHECK_EQUAL(t.front().text, "2");
  CAF_CHECK_EQUAL(ask<uint64_t>(forget_atom_v, int64_t{1}), 4u);
  CAF_CHECK(db->transcript_of(1, err).empty());
  CAF_CHECK_EQUAL(db->transcript_of(2, err).size(), 1u);
}

CAF_TEST(a database that refuses writes fails readiness and keeps routing) {
  ctx->cfg.store.max_size_mb = 1;
  ctx->cfg.store.transcript_limit = 1000;
  start(3);
  CAF_CHECK(ready().first);
  // Fill the capped file with transcripts until a write fails.
  std::string big(200 * 1024, 'x');
  bool ok = true;
  for (int i = 0; i < 40 && ok; ++i)
    ok = ask<bool>(transcript_atom_v, transcript_entry{1, i, "in", big, "r"});
  CAF_REQUIRE(!ok);
  auto r = ready();
  CAF_CHECK(!r.first);
  CAF_CHECK(r.second.find("full") != std::string::npos);
  CAF_CHECK_EQUAL(status().state, "degraded");
  // Lookups still answer: routing goes on.
  CAF_CHECK(ask<user_lookup>(get_atom_v, int64_t{2}).found);
  // Usage that cannot be written stays counted in memory.
  auto failures = [&] {
    auto d = detail_to_json(status().detail);
    auto i = d.find("\"write_failures\":");
    return i == std::string::npos ? 0 : std::stoull(d.substr(i + 17));
  };
  auto before = failures();
  // Counters of 30,000 users need new pages, which the full file refuses.
  for (int64_t u = 1; u <= 30000; ++u)
    caf::anon_send(st, usage_atom_v, usage_record{u, 1, 1, 1});
  // The retry after a failed write comes 5 s later.
  for (int i = 0; i < 300 && failures() == before; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto detail = detail_to_json(status().detail);
  CAF_CHECK_GREATER(failures(), before);
  CAF_CHECK(detail.find("\"pending_usage\":30000") != std::string::npos);
  CAF_CHECK(detail.find("db_error") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
