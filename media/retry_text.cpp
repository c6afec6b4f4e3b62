#include "media/retry_text.hpp"

#include <charconv>
#include <vector>

namespace zaki {

namespace {

// Unit separators: never in a file id, and not typed in Telegram texts.
constexpr char sep = '\x1F';
constexpr std::string_view magic = "\x1Fzaki-media\x1F";

int64_t number(std::string_view s) {
  int64_t n = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), n);
  return res.ec == std::errc{} ? n : -1;
}

} // namespace

std::string encode_media_retry(const inbound_message& msg) {
  std::string out{magic};
  out += std::to_string(static_cast<int>(msg.kind));
  out += sep;
  out += msg.file_id;
  out += sep;
  out += std::to_string(msg.file_size);
  out += sep;
  out += msg.file_name;
  out += sep;
  out += msg.mime_type;
  out += sep;
  out += msg.text;
  return out;
}

bool decode_media_retry(inbound_message& msg) {
  std::string_view text{msg.text};
  if (text.substr(0, magic.size()) != magic)
    return false;
  text.remove_prefix(magic.size());
  std::vector<std::string_view> parts;
  for (int i = 0; i < 5; ++i) {
    auto at = text.find(sep);
    if (at == std::string_view::npos)
      return false;
    parts.push_back(text.substr(0, at));
    text.remove_prefix(at + 1);
  }
  auto kind = number(parts[0]);
  auto size = number(parts[2]);
  if (kind < static_cast<int>(inbound_kind::photo)
      || kind > static_cast<int>(inbound_kind::voice) || size < 0
      || parts[1].empty())
    return false;
  msg.kind = static_cast<inbound_kind>(kind);
  msg.file_id = std::string{parts[1]};
  msg.file_size = size;
  msg.file_name = std::string{parts[3]};
  msg.mime_type = std::string{parts[4]};
  msg.text = std::string{text};
  return true;
}

} // namespace zaki
