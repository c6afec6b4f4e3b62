// getUpdates bodies: the batch decoder and its balance pre-check, plus the
// other two decoders of Bot API answers. The balance test is compared with a
// byte-at-a-time reference, so that its SIMD block path cannot drift from
// its contract.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "storage/users_file.hpp"
#include "telegram/codec.hpp"

namespace {

/// The contract of json_is_balanced, one byte at a time: strings closed,
/// brackets paired by kind, at most 512 deep.
bool reference_balanced(std::string_view text) {
  std::string open;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (open.size() == 512)
        return false;
      open += c;
    } else if (c == '}' || c == ']') {
      if (open.empty() || open.back() != (c == '}' ? '{' : '['))
        return false;
      open.pop_back();
    }
  }
  return !in_string && open.empty();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  bool balanced = zaki::json_is_balanced(text);
  ZAKI_FUZZ_CHECK(balanced == reference_balanced(text));
  // A document that is well-formed JSON always balances (depth permitting).
  if (!balanced && zaki::locate_json_error(text).empty())
    ZAKI_FUZZ_CHECK(!reference_balanced(text));
  std::string body{text};
  auto res = zaki::decode_updates(body);
  if (res.ok) {
    ZAKI_FUZZ_CHECK(balanced);
    ZAKI_FUZZ_CHECK(res.error.empty());
  } else if (res.api_error.error_code == 0
             && res.api_error.description.empty()) {
    ZAKI_FUZZ_CHECK(!res.error.empty());
  }
  if (!balanced)
    ZAKI_FUZZ_CHECK(!res.ok);
  std::string copy{text};
  zaki::bot_api_error err;
  zaki::decode_api_error(copy, err);
  std::string sent{text};
  zaki::decode_sent_message_id(sent);
  return 0;
}
