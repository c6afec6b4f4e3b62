#define CAF_SUITE storage.users_file
#include "admin/http.hpp"
#include "caf/test/unit_test.hpp"

#include "storage/users_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/store.hpp"
#include "runtime/config.hpp"

// users.json, the registry of the original router: the minimal format
// loads, syntax errors name line and column, writes are atomic with mode
// 0600, and the store actor keeps its mapping when a reload fails.

using namespace zaki;

namespace {

namespace fs = std::filesystem;

struct temp_dir {
  temp_dir() {
    static int n = 0;
    path = fs::temp_directory_path()
      / ("zaki-users-" + std::to_string(::getpid()) + "-"
         + std::to_string(++n));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const {
    return (path / name).string();
  }
  fs::path path;
};

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

const char* minimal = R"({
  "users": {
    "123456": {"port": 19001, "token": "tok-a", "container": "zaki-user-123456"},
    "7012345678": {"port": 19002, "token": "tok-b", "container": "zaki-user-7012345678"}
  }
})";

} // namespace

CAF_TEST(a file with only port token and container loads) {
  auto res = parse_users(minimal);
  CAF_REQUIRE(res.ok);
  CAF_CHECK(res.error.empty());
  CAF_CHECK(res.warnings.empty());
  CAF_REQUIRE_EQUAL(res.users.size(), 2u);
  auto& a = res.users.at(123456);
  CAF_CHECK_EQUAL(a.user_id, 123456);
  CAF_CHECK_EQUAL(a.port, 19001u);
  CAF_CHECK_EQUAL(a.token, "tok-a");
  CAF_CHECK_EQUAL(a.container, "zaki-user-123456");
  CAF_CHECK_EQUAL(a.host, "127.0.0.1");
  auto& b = res.users.at(7012345678);
  CAF_CHECK_EQUAL(b.port, 19002u);
}

CAF_TEST(optional and unknown fields) {
  auto res = parse_users(
    R"({"version":2,"users":{"5":{"container":"c5",)"
    R"("status":"running","data_dir":"/d/5","token":"t",)"
    R"("created_at":"2026-01-01T00:00:00Z","quota":{"mem":"1g"},)"
    R"("host":"10.0.0.5","port":19005},)"
    R"("6":{"port":19006}}})");
  CAF_REQUIRE(res.ok);
  auto& r = res.users.at(5);
  CAF_CHECK_EQUAL(r.status, "running");
  CAF_CHECK_EQUAL(r.data_dir, "/d/5");
  CAF_CHECK_EQUAL(r.created_at, "2026-01-01T00:00:00Z");
  CAF_CHECK_EQUAL(r.host, "10.0.0.5");
  // A missing container name gets the conventional one.
  CAF_CHECK_EQUAL(res.users.at(6).container, "zaki-user-6");
  CAF_CHECK_EQUAL(res.users.at(6).token, "");
}

CAF_TEST(bad entries are skipped with a reason not half loaded) {
  auto res = parse_users(
    R"({"users":{"abc":{"port":1},"-5":{"port":2},)"
    R"("7":{"port":0},"8":{"port":70000},"9":{"token":"x"},)"
    R"("10":"not an object","11":{"port":"19011"},)"
    R"("12":{"port":19012,"token":"ok"}}})");
  CAF_REQUIRE(res.ok);
  CAF_CHECK_EQUAL(res.users.size(), 1u);
  CAF_CHECK_EQUAL(res.users.count(12), 1u);
  CAF_CHECK_EQUAL(res.warnings.size(), 7u);
  for (auto& w : res.warnings)
    CAF_MESSAGE("warning: " << w);
}

CAF_TEST(syntax errors name line and column) {
  // The missing comma is at the start of line 4, column 5.
  auto res = parse_users("{\n  \"users\": {\n    \"1\": {\"port\": 1}\n"
                         "    \"2\": {\"port\": 2}\n  }\n}\n");
  CAF_CHECK(!res.ok);
  CAF_MESSAGE("error: " << res.error);
  CAF_CHECK(res.error.find("line 4, column 5") != std::string::npos);
  CAF_CHECK(res.users.empty());
  res = parse_users("{\"users\": {\"1\": {\"port\": 1,}}}");
  CAF_CHECK(!res.ok);
  CAF_CHECK(res.error.find("line 1, column ") != std::string::npos);
  // Columns count characters, not bytes.
  res = parse_users("{\"users\": {\"Ж\": tru}}");
  CAF_CHECK(!res.ok);
  CAF_CHECK(res.error.find("line 1, column 17") != std::string::npos);
  CAF_CHECK(!parse_users("").ok);
  CAF_CHECK(!parse_users("{\"users\": []}").ok);
  CAF_CHECK(!parse_users("{}").ok);
  CAF_CHECK_EQUAL(locate_json_error(minimal), "");
}

CAF_TEST(balance test for truncated documents) {
  for (auto good : {"{}", "[]", R"({"a":[1,{"b":"}]"}],"c":"\\\""})",
                    R"("just a string")", "42", ""})
    if (!json_is_balanced(good))
      CAF_FAIL("judged unbalanced: " << good);
  for (auto bad : {"{", "[", "}", "{]", "[}", R"({"a":"x)", R"({"a":"x\")",
                   R"({"a":"x\)", R"({"a":[1,2})", "[[]", "{}}"})
    if (json_is_balanced(bad))
      CAF_FAIL("judged balanced: " << bad);
  // Escapes and brackets at every offset of a 16-byte block (the test
  // reads blocks of 16 where it can).
  for (size_t pad = 0; pad < 40; ++pad) {
    auto head = R"({"k":")" + std::string(pad, 'a');
    CAF_CHECK(json_is_balanced(head + R"(\"}]\\"})"));
    CAF_CHECK(json_is_balanced(head + R"(x",")" + std::string(pad, 'b')
                               + R"(":[{}]})"));
    CAF_CHECK(!json_is_balanced(head + R"(\"})"));
    CAF_CHECK(!json_is_balanced(head + R"(x",")" + std::string(pad, 'b')
                                + R"(":[{]})"));
  }
  std::string deep(512, '[');
  deep += std::string(512, ']');
  CAF_CHECK(json_is_balanced(deep));
  CAF_CHECK(!json_is_balanced("[" + deep + "]"));
}

CAF_TEST(missing file is an empty registry) {
  temp_dir dir;
  auto res = load_users_file(dir.file("nope.json"));
  CAF_CHECK(res.ok);
  CAF_CHECK(res.users.empty());
  CAF_CHECK_EQUAL(res.warnings.size(), 1u);
}

CAF_TEST(atomic write with mode 0600 round trips) {
  temp_dir dir;
  auto path = dir.file("users.json");
  // A pre-existing world-readable file is replaced by a private one.
  write_file(path, "{}");
  ::chmod(path.c_str(), 0644);
  auto old_umask = ::umask(0);
  auto loaded = parse_users(minimal);
  loaded.users.at(123456).status = "running";
  loaded.users.at(123456).host = "10.1.2.3";
  auto err = save_users_file(path, loaded.users);
  ::umask(old_umask);
  CAF_CHECK_EQUAL(err, "");
  struct stat st;
  CAF_REQUIRE_EQUAL(::stat(path.c_str(), &st), 0);
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0600u);
  auto again = load_users_file(path);
  CAF_REQUIRE(again.ok);
  CAF_CHECK(again.users == loaded.users);
  // Sorted by id, one trailing newline, no temp file left behind.
  auto text = read_file(path);
  CAF_CHECK_LESS(text.find("\"123456\""), text.find("\"7012345678\""));
  CAF_CHECK_EQUAL(text.back(), '\n');
  size_t files = 0;
  for (auto& entry : fs::directory_iterator(dir.path)) {
    static_cast<void>(entry);
    ++files;
  }
  CAF_CHECK_EQUAL(files, 1u);
  // Writing into a missing directory fails with a message, not a crash.
  auto bad = save_users_file(dir.file("missing/users.json"), loaded.users);
  CAF_CHECK_NOT_EQUAL(bad, "");
}

CAF_TEST(tokens with special characters survive a round trip) {
  user_map users;
  user_record r;
  r.user_id = 1;
  r.port = 19001;
  r.token = "t\"o\\k\n\x01 🌊";
  r.container = "zaki-user-1";
  users[1] = r;
  auto back = parse_users(format_users(users));
  CAF_REQUIRE(back.ok);
  CAF_CHECK_EQUAL(back.users.at(1).token, r.token);
}

CAF_TEST(entries are found by key whatever their values hold) {
  // Braces and quotes inside strings, an escaped key, a nested object, and
  // a "users" text inside another member: each entry is cut out exactly.
  auto res = parse_users(R"({
    "note": {"users": "not this one", "x": ["}", "{"]},
    "users": {
      "1": {"port": 19001, "token": "a}b{c\"d", "extra": {"deep": [1, {}]}},
      "\u0032": {"port": 19002, "token": "t2"},
      "3": 5,
      "4": {"port": "x"}
    }
  })");
  CAF_REQUIRE(res.ok);
  CAF_CHECK_EQUAL(res.users.size(), 2u);
  CAF_CHECK_EQUAL(res.users.at(1).token, "a}b{c\"d");
  CAF_CHECK_EQUAL(res.users.at(1).port, 19001u);
  CAF_CHECK_EQUAL(res.users.at(2).token, "t2");
  CAF_CHECK_EQUAL(res.users.at(2).container, "zaki-user-2");
  CAF_CHECK_EQUAL(res.warnings.size(), 2u);
  auto none = parse_users(R"({"other": {"users": {}}})");
  CAF_CHECK(!none.ok);
  CAF_CHECK_EQUAL(none.error, "users.json has no object \"users\"");
}

CAF_TEST(store reload keeps the old mapping on error) {
  temp_dir dir;
  auto path = dir.file("users.json");
  write_file(path, minimal);
  auto ctx = std::make_shared<service_context>();
  ctx->cfg.store.users_file = path;
  ctx->cfg.store.data_root = dir.file("data");
  fs::create_directories(ctx->cfg.store.data_root);
  config cfg;
  // No I/O here, so no io scheduler either.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  {
    caf::scoped_actor self{sys};
    auto initial = load_users_file(path);
    CAF_REQUIRE(initial.ok);
    auto st = sys.spawn(store, ctx, user_registry{initial.users});
    auto lookup = [&](int64_t id) {
      user_lookup out;
      self->request(st, std::chrono::seconds(5), get_atom_v, id)
        .receive(
          [&](const user_lookup& x) {
            out = x;
          },
          [&](caf::error& e) {
            CAF_FAIL(sys.render(e));
          });
      return out;
    };
    auto reload = [&] {
      uint64_t n = 0;
      self->request(st, std::chrono::seconds(5), reload_atom_v)
        .receive(
          [&](uint64_t x) {
            n = x;
          },
          [&](caf::error& e) {
            CAF_FAIL(sys.render(e));
          });
      return n;
    };
    CAF_CHECK(lookup(123456).found);
    CAF_CHECK_EQUAL(lookup(123456).record.token, "tok-a");
    CAF_CHECK(!lookup(99).found);
    // A broken file: the reload reports the old count and keeps serving.
    write_file(path, "{\"users\": {\"99\": {\"port\": 1}");
    CAF_CHECK_EQUAL(reload(), 2u);
    CAF_CHECK(lookup(123456).found);
    CAF_CHECK(!lookup(99).found);
    std::string detail;
    self->request(st, std::chrono::seconds(5), status_atom_v)
      .receive(
        [&](const status_node& n) {
          CAF_CHECK_EQUAL(n.state, "degraded");
          detail = detail_to_json(n.detail);
        },
        [&](caf::error& e) {
          CAF_FAIL(sys.render(e));
        });
    CAF_CHECK(detail.find("line 1, column") != std::string::npos);
    // A good file again: its users are upserted into the database (users
    // absent from the file stay; `users remove` removes them).
    write_file(path, R"({"users":{"99":{"port":19099,"token":"t99"}}})");
    CAF_CHECK_EQUAL(reload(), 3u);
    CAF_CHECK(lookup(99).found);
    CAF_CHECK(lookup(123456).found);
    // A missing file (issue 24): the users stay.
    fs::remove(path);
    CAF_CHECK_EQUAL(reload(), 3u);
    CAF_CHECK(lookup(99).found);
    // put and remove are committed to the database, not to users.json.
    user_record rec;
    rec.user_id = 555;
    rec.port = 19555;
    rec.token = "t555";
    rec.container = "zaki-user-555";
    bool ok = false;
    self->request(st, std::chrono::seconds(5), put_atom_v, rec)
      .receive(
        [&](bool x) {
          ok = x;
        },
        [&](caf::error& e) {
          CAF_FAIL(sys.render(e));
        });
    CAF_CHECK(ok);
    CAF_CHECK(lookup(555).record == rec);
    CAF_CHECK(!fs::exists(path));
    self->request(st, std::chrono::seconds(5), remove_atom_v, int64_t{99})
      .receive(
        [&](bool x) {
          ok = x;
        },
        [&](caf::error& e) {
          CAF_FAIL(sys.render(e));
        });
    CAF_CHECK(ok);
    CAF_CHECK(!lookup(99).found);
    // The export writes the seed's format atomically with mode 0600.
    uint64_t exported = 0;
    self->request(st, std::chrono::seconds(5), export_atom_v, path)
      .receive(
        [&](uint64_t n) {
          exported = n;
        },
        [&](caf::error& e) {
          CAF_FAIL(sys.render(e));
        });
    CAF_CHECK_EQUAL(exported, 3u);
    auto on_disk = load_users_file(path);
    CAF_REQUIRE(on_disk.ok);
    CAF_CHECK_EQUAL(on_disk.users.size(), 3u);
    CAF_CHECK(on_disk.users.at(555) == rec);
    struct stat sb;
    CAF_REQUIRE_EQUAL(::stat(path.c_str(), &sb), 0);
    CAF_CHECK_EQUAL(sb.st_mode & 0777, 0600u);
    self->send_exit(st, caf::exit_reason::user_shutdown);
  }
}
