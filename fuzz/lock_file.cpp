// Session lock files: their content (written by OpenClaw, by routers, or
// by anything that can write to a user's data dir), the timestamps in them
// and the judgement made from them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "locks/lock_staleness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto owner = zaki::parse_lock_owner(text);
  ZAKI_FUZZ_CHECK(owner.pid >= 0);
  zaki::describe(owner);
  // Our own format reads back as written.
  auto again = zaki::parse_lock_owner(zaki::format_lock_owner(owner));
  ZAKI_FUZZ_CHECK(again.parse_error.empty());
  ZAKI_FUZZ_CHECK(again.pid == owner.pid);
  ZAKI_FUZZ_CHECK(again.created_at == owner.created_at);
  ZAKI_FUZZ_CHECK(again.starttime == owner.starttime);
  ZAKI_FUZZ_CHECK(again.hostname == owner.hostname);
  ZAKI_FUZZ_CHECK(again.instance == owner.instance);
  // Timestamps anywhere in the input, not only in a well-formed file.
  if (auto t = zaki::parse_iso8601(text))
    zaki::format_iso8601(*t);
  auto now = zaki::lock_clock::now();
  zaki::staleness_policy policy;
  policy.local_hostname = "fuzz-host";
  for (bool alive : {false, true}) {
    zaki::process_facts facts{alive, alive ? 12345 : -1};
    auto verdict = zaki::judge_lock(owner, facts, now,
                                    now - std::chrono::seconds(10), policy);
    verdict.reasons_text();
    if (verdict.stale)
      ZAKI_FUZZ_CHECK(verdict.reasons != 0);
  }
  return 0;
}
