#include "emulators/mini_json.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace zaki::fakes {

namespace {

class parser {
public:
  parser(std::string_view in, size_t max_depth)
    : in_(in), max_depth_(max_depth) {
    // nop
  }

  bool parse_document(json_value& out) {
    if (!parse_value(out, 0))
      return false;
    skip_ws();
    return pos_ == in_.size();
  }

private:
  void skip_ws() {
    while (pos_ < in_.size()
           && (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\r'
               || in_[pos_] == '\t'))
      ++pos_;
  }

  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }

  bool parse_value(json_value& out, size_t depth) {
    if (depth > max_depth_)
      return false;
    skip_ws();
    if (pos_ >= in_.size())
      return false;
    auto start = pos_;
    bool ok = false;
    switch (in_[pos_]) {
      case '{':
        out.kind = json_value::object_kind;
        ok = parse_object(out, depth);
        break;
      case '[':
        out.kind = json_value::array_kind;
        ok = parse_array(out, depth);
        break;
      case '"':
        out.kind = json_value::string_kind;
        ok = parse_string(out.text);
        break;
      case 't':
        out.kind = json_value::bool_kind;
        out.boolean = true;
        ok = literal("true");
        break;
      case 'f':
        out.kind = json_value::bool_kind;
        ok = literal("false");
        break;
      case 'n':
        ok = literal("null");
        break;
      default:
        out.kind = json_value::number_kind;
        ok = parse_number(out.text);
    }
    if (ok)
      out.raw = in_.substr(start, pos_ - start);
    return ok;
  }

  bool parse_object(json_value& out, size_t depth) {
    ++pos_; // '{'
    skip_ws();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      std::string key;
      if (pos_ >= in_.size() || in_[pos_] != '"' || !parse_string(key))
        return false;
      skip_ws();
      if (pos_ >= in_.size() || in_[pos_++] != ':')
        return false;
      json_value val;
      if (!parse_value(val, depth + 1))
        return false;
      out.members.emplace_back(std::move(key), std::move(val));
      skip_ws();
      if (pos_ >= in_.size())
        return false;
      char c = in_[pos_++];
      if (c == '}')
        return true;
      if (c != ',')
        return false;
    }
  }

  bool parse_array(json_value& out, size_t depth) {
    ++pos_; // '['
    skip_ws();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      json_value val;
      if (!parse_value(val, depth + 1))
        return false;
      out.items.emplace_back(std::move(val));
      skip_ws();
      if (pos_ >= in_.size())
        return false;
      char c = in_[pos_++];
      if (c == ']')
        return true;
      if (c != ',')
        return false;
    }
  }

  bool parse_number(std::string& out) {
    auto start = pos_;
    if (pos_ < in_.size() && in_[pos_] == '-')
      ++pos_;
    auto digits = pos_;
    while (pos_ < in_.size()
           && (isdigit(static_cast<unsigned char>(in_[pos_]))
               || in_[pos_] == '.' || in_[pos_] == 'e' || in_[pos_] == 'E'
               || in_[pos_] == '+' || in_[pos_] == '-'))
      ++pos_;
    if (pos_ == digits || !isdigit(static_cast<unsigned char>(in_[digits])))
      return false;
    out.assign(in_.substr(start, pos_ - start));
    return true;
  }

  bool hex4(uint32_t& cp) {
    if (pos_ + 4 > in_.size())
      return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      char c = in_[pos_++];
      cp <<= 4;
      if (c >= '0' && c <= '9')
        cp |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        cp |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        cp |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool parse_string(std::string& out) {
    ++pos_; // '"'
    for (;;) {
      // Copy runs of plain characters at once.
      auto run = pos_;
      while (pos_ < in_.size() && in_[pos_] != '"' && in_[pos_] != '\\'
             && static_cast<unsigned char>(in_[pos_]) >= 0x20)
        ++pos_;
      out.append(in_.data() + run, pos_ - run);
      if (pos_ >= in_.size())
        return false;
      char c = in_[pos_++];
      if (c == '"')
        return true;
      if (c != '\\' || pos_ >= in_.size())
        return false; // raw control character or dangling backslash
      char e = in_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp))
            return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            // A high surrogate must be followed by an escaped low one.
            uint32_t lo = 0;
            if (in_.substr(pos_, 2) != "\\u")
              return false;
            pos_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF)
              return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          append_utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
  }

  std::string_view in_;
  size_t max_depth_;
  size_t pos_ = 0;
};

} // namespace

const json_value* json_value::get(std::string_view key) const {
  for (auto& [k, v] : members)
    if (k == key)
      return &v;
  return nullptr;
}

std::optional<int64_t> json_value::as_int() const {
  if (kind != number_kind && kind != string_kind)
    return std::nullopt;
  if (text.empty() || text.size() > 20)
    return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size())
    return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string json_value::as_text() const {
  if (kind == string_kind || kind == number_kind)
    return text;
  return std::string{raw};
}

std::optional<json_value> parse_json(std::string_view input,
                                     size_t max_depth) {
  json_value result;
  parser p{input, max_depth};
  if (!p.parse_document(result))
    return std::nullopt;
  return result;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(out, s);
  return out;
}

} // namespace zaki::fakes
