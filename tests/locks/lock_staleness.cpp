#define CAF_SUITE locks.lock_staleness

#include "locks/lock_staleness.hpp"

#include "caf/test/unit_test.hpp"

#include "tests/fixtures/lock_fixture.hpp"

using namespace std::chrono;
using namespace zaki;

namespace {

const auto now = lock_clock::time_point{milliseconds{1'763'800'000'000}};

lock_owner owner_at(int64_t pid, lock_clock::time_point created,
                    int64_t starttime = 100, std::string host = "here") {
  lock_owner o;
  o.pid = pid;
  o.created_at = format_iso8601(created);
  o.starttime = starttime;
  o.hostname = std::move(host);
  return o;
}

staleness_policy policy() {
  return staleness_policy{minutes{30}, "here", false};
}

const process_facts alive{true, 100};
const process_facts dead{false, -1};

} // namespace

CAF_TEST(iso8601 round trip) {
  auto t = lock_clock::time_point{milliseconds{1'763'802'192'282}};
  CAF_CHECK_EQUAL(format_iso8601(t), "2025-11-22T09:03:12.282Z");
  CAF_CHECK(parse_iso8601("2025-11-22T09:03:12.282Z") == t);
  CAF_CHECK(parse_iso8601("2025-11-22T10:03:12.282+01:00") == t);
  CAF_CHECK(parse_iso8601("2025-11-22T09:03:12.2829Z") == t);
  CAF_CHECK(parse_iso8601("2025-11-22T09:03:12Z") == t - milliseconds{282});
  CAF_CHECK(parse_iso8601("1970-01-01") == lock_clock::time_point{});
  CAF_CHECK(parse_iso8601("2024-02-29T00:00Z").has_value());
  for (auto bad : {"", "garbage", "2025-13-01T00:00:00Z", "2025-02-29T00:00Z",
                   "2025-11-22T24:00:00Z", "2025-11-22T09:03:12.Z",
                   "2025-11-22T09:03:12ZZ", "2025-11-22 09:03:12Z",
                   "2025-11-22T09:03:12+0100", "1763800000000"})
    CAF_CHECK(!parse_iso8601(bad).has_value());
}

CAF_TEST(owner json round trip and OpenClaw format) {
  auto o = owner_at(4242, now, 114122, "box");
  o.instance = "zr-1-\"quoted\"";
  auto text = format_lock_owner(o);
  CAF_CHECK_NOT_EQUAL(text.find("\"createdAt\":\"2025-11-22T"),
                      std::string::npos);
  auto back = parse_lock_owner(text);
  CAF_CHECK_EQUAL(back.pid, 4242);
  CAF_CHECK_EQUAL(back.created_at, o.created_at);
  CAF_CHECK_EQUAL(back.starttime, 114122);
  CAF_CHECK_EQUAL(back.hostname, "box");
  CAF_CHECK_EQUAL(back.instance, o.instance);
  CAF_CHECK_EQUAL(back.parse_error, "");
  // Pretty-printed, as OpenClaw writes it, with unknown fields.
  auto oc = parse_lock_owner("{\n  \"pid\": 30031,\n  \"createdAt\": "
                             "\"2026-11-22T09:03:12.282Z\",\n  \"starttime\": "
                             "114122,\n  \"extra\": [1, {\"a\": null}]\n}\n");
  CAF_CHECK_EQUAL(oc.pid, 30031);
  CAF_CHECK_EQUAL(oc.starttime, 114122);
  CAF_CHECK_EQUAL(oc.hostname, "");
}

CAF_TEST(garbage empty and wrong types never fail) {
  for (auto text : {"", "   ", "garbage", "{\"pid\":", "[1,2]", "42", "null",
                    "{\"pid\":1}{", "\xff\xfe"}) {
    auto o = parse_lock_owner(text);
    CAF_CHECK_EQUAL(o.pid, 0);
    CAF_CHECK_NOT_EQUAL(o.parse_error, "");
  }
  auto o = parse_lock_owner("{\"pid\":\"12\",\"createdAt\":5,\"starttime\":-3,"
                            "\"hostname\":{}}");
  CAF_CHECK_EQUAL(o.parse_error, "");
  CAF_CHECK_EQUAL(o.pid, 0);
  CAF_CHECK_EQUAL(o.created_at, "");
  CAF_CHECK_EQUAL(o.starttime, -1);
  CAF_CHECK_EQUAL(parse_lock_owner("{\"pid\":-5}").pid, 0);
  CAF_CHECK_EQUAL(parse_lock_owner("{\"pid\":1.5}").pid, 0);
  CAF_CHECK_EQUAL(parse_lock_owner("{\"pid\":99999999999999999999}").pid, 0);
}

CAF_TEST(a live fresh lock is not stale) {
  auto v = judge_lock(owner_at(10, now - seconds{3}), alive, now, now,
                      policy());
  CAF_CHECK(!v.stale);
  CAF_CHECK_EQUAL(v.reasons, 0);
  CAF_CHECK(v.age == milliseconds{3000});
  // Without starttime in the file (non-Linux writer), pid liveness decides.
  v = judge_lock(owner_at(10, now, -1), alive, now, now, policy());
  CAF_CHECK(!v.stale);
}

CAF_TEST(dead recycled and too old) {
  auto v = judge_lock(owner_at(10, now), dead, now, now, policy());
  CAF_CHECK(v.stale);
  CAF_CHECK_EQUAL(v.reasons_text(), "dead-pid");
  v = judge_lock(owner_at(10, now, 100), process_facts{true, 999}, now, now,
                 policy());
  CAF_CHECK(v.stale);
  CAF_CHECK_EQUAL(v.reasons_text(), "recycled-pid");
  v = judge_lock(owner_at(10, now - minutes{31}), alive, now, now, policy());
  CAF_CHECK(v.stale);
  CAF_CHECK_EQUAL(v.reasons_text(), "too-old");
  v = judge_lock(owner_at(10, now - minutes{29}), alive, now, now, policy());
  CAF_CHECK(!v.stale);
  v = judge_lock(owner_at(10, now - minutes{31}), dead, now, now, policy());
  CAF_CHECK_EQUAL(v.reasons_text(), "dead-pid,too-old");
  // A createdAt in the future (clock skew) is age zero, not stale.
  v = judge_lock(owner_at(10, now + hours{1}), alive, now, now, policy());
  CAF_CHECK(!v.stale);
  CAF_CHECK(v.age == milliseconds{0});
}

CAF_TEST(missing pid or createdAt waits for an old mtime) {
  auto garbage = parse_lock_owner("garbage");
  auto fresh = judge_lock(garbage, dead, now, now - seconds{2}, policy());
  CAF_CHECK(!fresh.stale);
  CAF_CHECK(fresh.too_recent);
  CAF_CHECK_EQUAL(fresh.reasons_text(), "missing-pid,invalid-createdAt");
  auto old = judge_lock(garbage, dead, now, now - seconds{6}, policy());
  CAF_CHECK(old.stale);
  CAF_CHECK(!old.too_recent);
  // The guard is min(max_age, 5 s).
  auto short_policy = policy();
  short_policy.max_age = seconds{1};
  CAF_CHECK(
    judge_lock(garbage, dead, now, now - seconds{2}, short_policy).stale);
  // A live pid with an invalid createdAt: the same mtime rule.
  auto o = owner_at(10, now);
  o.created_at = "yesterday";
  CAF_CHECK(!judge_lock(o, alive, now, now, policy()).stale);
  auto v = judge_lock(o, alive, now, now - seconds{10}, policy());
  CAF_CHECK(v.stale);
  CAF_CHECK_EQUAL(v.reasons_text(), "invalid-createdAt");
}

CAF_TEST(another host is judged by age only) {
  auto o = owner_at(10, now - minutes{1}, 100, "elsewhere");
  CAF_CHECK(!needs_probe(o, policy()));
  auto v = judge_lock(o, dead, now, now, policy());
  CAF_CHECK(!v.stale);
  CAF_CHECK(v.foreign_host);
  v = judge_lock(owner_at(10, now - minutes{31}, 100, "elsewhere"), dead, now,
                 now, policy());
  CAF_CHECK(v.stale);
  CAF_CHECK_EQUAL(v.reasons_text(), "too-old");
  // OpenClaw's files carry no hostname: same host.
  CAF_CHECK(needs_probe(owner_at(10, now, 1, ""), policy()));
  auto age_only = policy();
  age_only.age_only = true;
  CAF_CHECK(!needs_probe(owner_at(10, now, 1, ""), age_only));
  CAF_CHECK(
    !judge_lock(owner_at(10, now, 1, ""), dead, now, now, age_only).stale);
}

CAF_TEST(the real probe) {
  auto self = probe_process(::getpid());
  CAF_CHECK(self.alive);
  CAF_CHECK_EQUAL(self.starttime, own_starttime());
  CAF_CHECK_GREATER_OR_EQUAL(self.starttime, 0);
  CAF_CHECK(!probe_process(test::dead_pid()).alive);
  CAF_CHECK(!probe_process(0).alive);
  CAF_CHECK(!probe_process(-1).alive);
  CAF_CHECK(!probe_process(int64_t{1} << 40).alive);
  // A zombie (exited, not yet reaped) is dead.
  pid_t child = ::fork();
  if (child == 0)
    ::_exit(0);
  bool zombie_dead = false;
  for (int i = 0; i < 200 && !zombie_dead; ++i) {
    zombie_dead = !probe_process(child).alive;
    if (!zombie_dead)
      ::usleep(5000);
  }
  CAF_CHECK(zombie_dead);
  ::waitpid(child, nullptr, 0);
  CAF_CHECK(!own_hostname().empty());
}

CAF_TEST(probing through the procfs of another namespace) {
  // Our own root sees the host's /proc, so the answers must agree.
  auto self = probe_process_in(::getpid(), ::getpid());
  CAF_CHECK(self.alive);
  CAF_CHECK_EQUAL(self.starttime, own_starttime());
  CAF_CHECK(!probe_process_in(::getpid(), test::dead_pid()).alive);
  // A vanished container: nothing in it can be alive.
  CAF_CHECK(!probe_process_in(test::dead_pid(), 1).alive);
  CAF_CHECK(!probe_process_in(0, 1).alive);
}

CAF_TEST(timestamps outside the range of the clock are invalid) {
  // Found by fuzz/lock_file.cpp: the year 1013 overflowed the conversion to
  // the clock's nanoseconds (undefined behaviour) instead of being rejected.
  CAF_CHECK(!parse_iso8601("1013-11-22T09:03:12.282Z"));
  CAF_CHECK(!parse_iso8601("9999-12-31T23:59:59.999Z"));
  CAF_CHECK(!parse_iso8601("0000-01-01"));
  // Before 1970 the age (now minus then) would overflow in its turn.
  CAF_CHECK(!parse_iso8601("1700-01-01T00:00:00Z"));
  CAF_CHECK(!parse_iso8601("1969-12-31T23:59:59Z"));
  CAF_CHECK(parse_iso8601("2261-12-31T23:59:59.999Z"));
  auto o = parse_lock_owner(
    R"({"pid":4242,"createdAt":"1013-11-22T09:03:12.282Z","starttime":1})");
  auto v = judge_lock(o, process_facts{true, 1}, now, now - seconds{10},
                      staleness_policy{});
  CAF_CHECK(v.has(stale_reason::invalid_created_at));
}
