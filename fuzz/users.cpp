// users.json: the parser into a map, the streaming parser into the store's
// packed registry (what load_user_registry does after reading the file), and
// the writer. Both loaders must agree, and what loads must survive a write
// and a second load unchanged.

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "storage/user_registry.hpp"
#include "storage/users_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  auto as_map = zaki::parse_users(text);
  zaki::user_registry registry;
  auto streamed = zaki::parse_users(text, [&registry](zaki::user_record&& rec) {
    registry.put(rec);
  });
  ZAKI_FUZZ_CHECK(as_map.ok == streamed.ok);
  if (!as_map.ok) {
    ZAKI_FUZZ_CHECK(!as_map.error.empty());
    return 0;
  }
  ZAKI_FUZZ_CHECK(registry.size() == as_map.users.size());
  for (auto& [id, rec] : as_map.users) {
    ZAKI_FUZZ_CHECK(rec.user_id == id);
    auto found = registry.find(id);
    ZAKI_FUZZ_CHECK(found && *found == rec);
  }
  auto written = zaki::format_users(as_map.users);
  ZAKI_FUZZ_CHECK(written == zaki::format_users(registry));
  auto again = zaki::parse_users(written);
  ZAKI_FUZZ_CHECK(again.ok && again.warnings.empty());
  ZAKI_FUZZ_CHECK(again.users == as_map.users);
  return 0;
}
