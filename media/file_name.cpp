#include "media/file_name.hpp"

#include <ctime>

namespace zaki {

namespace {

std::string default_name(inbound_kind kind, std::string_view mime) {
  switch (kind) {
    case inbound_kind::photo: return "photo.jpg";
    case inbound_kind::voice: return "voice.ogg";
    case inbound_kind::audio:
      return mime == "audio/mpeg" ? "audio.mp3" : "audio";
    case inbound_kind::video: return "video.mp4";
    default: return mime == "application/pdf" ? "document.pdf" : "file";
  }
}

/// Returns the length of the longest prefix of `s` within `limit` bytes
/// that ends on a UTF-8 code point boundary.
size_t utf8_cut(std::string_view s, size_t limit) {
  if (s.size() <= limit)
    return s.size();
  auto n = limit;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
    --n;
  return n;
}

} // namespace

std::string sanitize_file_name(std::string_view name, inbound_kind kind,
                               std::string_view mime_type) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    // Separators and control characters (NUL included) become '_': the
    // name can never leave the inbox nor break a log line.
    if (c == '/' || c == '\\' || u < 0x20 || u == 0x7F)
      out += '_';
    else
      out += c;
  }
  // ".." anywhere and leading dots (hidden files, "." and "..") go.
  for (auto at = out.find(".."); at != std::string::npos;
       at = out.find("..", at))
    out.replace(at, 2, "_");
  auto first = out.find_first_not_of(". _");
  out = first == std::string::npos ? std::string{} : out.substr(first);
  while (!out.empty() && (out.back() == ' ' || out.back() == '.'))
    out.pop_back();
  if (out.empty())
    return default_name(kind, mime_type);
  constexpr size_t limit = max_inbox_name - 11;
  if (out.size() > limit) {
    auto dot = out.rfind('.');
    std::string ext;
    if (dot != std::string::npos && out.size() - dot <= 16)
      ext = out.substr(dot);
    auto stem = out.substr(0, out.size() - ext.size());
    stem.resize(utf8_cut(stem, limit - ext.size()));
    out = stem + ext;
  }
  return out;
}

std::string inbox_file_name(int64_t unix_seconds, std::string_view name) {
  auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char date[16];
  std::strftime(date, sizeof(date), "%Y-%m-%d", &tm);
  return std::string{date} + "-" + std::string{name};
}

} // namespace zaki
