#include "emulators/json_value.hpp"

#include <cerrno>
#include <cstdlib>

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/writer.h>

namespace zaki::fakes {

namespace {

/// Builds a json_value tree from rapidjson's SAX events. Numbers arrive as
/// their literal text (kParseNumbersAsStringsFlag), as the fakes echo ids.
class tree_builder {
public:
  tree_builder(json_value& root, const rapidjson::MemoryStream& in,
               std::string_view text, size_t max_depth)
    : root_(root), in_(in), text_(text), max_depth_(max_depth) {
    // nop
  }

  bool Null() {
    scalar(json_value::null_kind).raw = "null";
    return true;
  }

  bool Bool(bool b) {
    auto& v = scalar(json_value::bool_kind);
    v.boolean = b;
    v.raw = b ? "true" : "false";
    return true;
  }

  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    scalar(json_value::number_kind).text.assign(s, n);
    return true;
  }

  bool String(const char* s, rapidjson::SizeType n, bool) {
    scalar(json_value::string_kind).text.assign(s, n);
    return true;
  }

  bool Key(const char* s, rapidjson::SizeType n, bool) {
    key_.assign(s, n);
    return true;
  }

  bool StartObject() {
    return open(json_value::object_kind);
  }

  bool EndObject(rapidjson::SizeType) {
    return close();
  }

  bool StartArray() {
    return open(json_value::array_kind);
  }

  bool EndArray(rapidjson::SizeType) {
    return close();
  }

  // Never called with kParseNumbersAsStringsFlag; required by the concept.
  bool Int(int) {
    return false;
  }
  bool Uint(unsigned) {
    return false;
  }
  bool Int64(int64_t) {
    return false;
  }
  bool Uint64(uint64_t) {
    return false;
  }
  bool Double(double) {
    return false;
  }

private:
  /// Returns the slot for the next value: the root, an array element or
  /// the member named by the last key.
  json_value& next() {
    if (open_.empty())
      return root_;
    auto& parent = *open_.back();
    if (parent.kind == json_value::array_kind)
      return parent.items.emplace_back();
    return parent.members.emplace_back(std::move(key_), json_value{}).second;
  }

  json_value& scalar(json_value::kind_t kind) {
    auto& v = next();
    v.kind = kind;
    return v;
  }

  bool open(json_value::kind_t kind) {
    if (open_.size() >= max_depth_)
      return false;
    auto& v = scalar(kind);
    // Tell() is just past the bracket. The slot stays put while it is
    // open: only its own children are appended meanwhile.
    starts_.push_back(in_.Tell() - 1);
    open_.push_back(&v);
    return true;
  }

  bool close() {
    auto start = starts_.back();
    open_.back()->raw = text_.substr(start, in_.Tell() - start);
    starts_.pop_back();
    open_.pop_back();
    return true;
  }

  json_value& root_;
  const rapidjson::MemoryStream& in_;
  std::string_view text_;
  size_t max_depth_;
  std::string key_;
  std::vector<json_value*> open_;
  std::vector<size_t> starts_;
};

/// rapidjson's output stream over a std::string.
struct string_out {
  using Ch = char;

  std::string& out;

  void Put(char c) {
    out.push_back(c);
  }

  void Flush() {
    // nop
  }
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

std::optional<json_value> parse_json(std::string_view input, size_t max_depth) {
  // rapidjson reads up to a NUL, so a NUL byte in the input ends it (and
  // then fails the document) rather than being read past.
  json_value result;
  rapidjson::MemoryStream in{input.data(), input.size()};
  tree_builder builder{result, in, input, max_depth};
  rapidjson::Reader reader;
  constexpr unsigned flags = rapidjson::kParseNumbersAsStringsFlag;
  if (reader.Parse<flags>(in, builder).IsError())
    return std::nullopt;
  return result;
}

void append_json_string(std::string& out, std::string_view s) {
  string_out sink{out};
  rapidjson::Writer<string_out> w{sink};
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(out, s);
  return out;
}

} // namespace zaki::fakes
