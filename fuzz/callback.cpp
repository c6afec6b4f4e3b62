// Callback data of inline buttons: whatever a client sends back.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "chat/callback_data.hpp"
#include "fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto action = zaki::decode_callback(text);
  if (!action)
    return 0;
  ZAKI_FUZZ_CHECK(size <= zaki::max_callback_data_size);
  // A decoded action encodes to valid data that decodes to itself.
  auto encoded = zaki::encode_callback(*action);
  ZAKI_FUZZ_CHECK(!encoded.empty());
  ZAKI_FUZZ_CHECK(encoded.size() <= zaki::max_callback_data_size);
  auto back = zaki::decode_callback(encoded);
  ZAKI_FUZZ_CHECK(back && *back == *action);
  return 0;
}
