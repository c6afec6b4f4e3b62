#include "gateway/sse.hpp"

#include <utility>

#include <simdjson.h>

#include "json/parse.hpp"

namespace zaki {

namespace od = simdjson::ondemand;

sse_reader::sse_reader(size_t max_event) : max_event_(max_event) {
  // nop
}

namespace {

/// Returns the position of the first CR or LF in `text` (npos: none).
/// libstdc++'s find_first_of calls memchr on the two-byte set once per
/// byte of the text (4 % of the router's samples in the stream scenario).
size_t line_end(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' || text[i] == '\r')
      return i;
  return std::string_view::npos;
}

} // namespace

bool sse_reader::feed(std::string_view bytes, const event_handler& on_event) {
  if (overflowed_)
    return false;
  size_t i = 0;
  if (skip_lf_ && !bytes.empty()) {
    // The CR of a CRLF ended the previous read.
    skip_lf_ = false;
    if (bytes[0] == '\n')
      i = 1;
  }
  while (i < bytes.size()) {
    auto rest = bytes.substr(i);
    auto end = line_end(rest);
    if (end == std::string_view::npos) {
      if (line_.size() + rest.size() > max_event_) {
        overflowed_ = true;
        return false;
      }
      line_.append(rest);
      return true;
    }
    // Whole lines are parsed in place; only a split line is copied.
    if (line_.empty()) {
      on_line(rest.substr(0, end), on_event);
    } else {
      line_.append(rest.substr(0, end));
      on_line(line_, on_event);
      line_.clear();
    }
    if (overflowed_)
      return false;
    i += end + 1;
    if (rest[end] == '\r') {
      if (i == bytes.size())
        skip_lf_ = true;
      else if (bytes[i] == '\n')
        ++i;
    }
  }
  return true;
}

void sse_reader::on_line(std::string_view line, const event_handler& on_event) {
  if (line.size() > max_event_) {
    overflowed_ = true;
    return;
  }
  if (line.empty()) {
    if (has_data_)
      on_event(data_);
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line[0] == ':')
    return; // a comment, e.g. a keep-alive
  auto colon = line.find(':');
  auto field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
      value.remove_prefix(1);
  }
  if (field != "data")
    return; // event, id, retry and unknown fields carry nothing we use
  if (data_.size() + value.size() + 1 > max_event_) {
    overflowed_ = true;
    return;
  }
  if (has_data_)
    data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
}

namespace {

/// Returns `data` in the calling thread's padded buffer. An event is a few
/// hundred bytes: copying it into a buffer that keeps its capacity costs
/// less than allocating a padded string per event.
std::string_view padded_copy(std::string_view data) {
  thread_local std::string buf;
  buf.assign(data.data(), data.size());
  pad_for_simdjson(buf);
  return buf;
}

template <class Value>
void assign(std::string& out, Value&& v) {
  std::string_view text;
  if (!std::forward<Value>(v).get_string().get(text))
    out.assign(text.data(), text.size());
}

void decode_choices(od::array choices, stream_chunk& out) {
  for (auto choice : choices) {
    od::object obj;
    if (choice.get_object().get(obj))
      return;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key))
        return;
      if (key == "delta") {
        od::object delta;
        if (field.value().get_object().get(delta))
          continue;
        for (auto d : delta) {
          std::string_view dkey;
          if (!d.unescaped_key().get(dkey) && dkey == "content")
            assign(out.content, d.value());
        }
      } else if (key == "finish_reason") {
        assign(out.finish_reason, field.value());
      }
    }
    return; // only the first choice
  }
}

} // namespace

stream_chunk decode_stream_chunk(std::string_view data) {
  stream_chunk out;
  auto trimmed = data;
  while (!trimmed.empty() && trimmed.back() == ' ')
    trimmed.remove_suffix(1);
  if (trimmed == "[DONE]") {
    out.kind = stream_chunk::done;
    return out;
  }
  auto padded = padded_copy(data);
  od::document doc;
  od::object root;
  auto capacity = padded.size() + simdjson::SIMDJSON_PADDING;
  if (thread_ondemand_parser().iterate(padded, capacity).get(doc)
      || doc.get_object().get(root))
    return out;
  out.kind = stream_chunk::chunk;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) {
      out.kind = stream_chunk::malformed;
      return out;
    }
    if (key == "choices") {
      od::array choices;
      if (!field.value().get_array().get(choices))
        decode_choices(choices, out);
    } else if (key == "usage") {
      od::object usage;
      if (field.value().get_object().get(usage))
        continue;
      for (auto u : usage) {
        std::string_view ukey;
        int64_t n = 0;
        if (u.unescaped_key().get(ukey) || u.value().get_int64().get(n))
          continue;
        if (ukey == "prompt_tokens")
          out.prompt_tokens = n;
        else if (ukey == "completion_tokens")
          out.completion_tokens = n;
      }
    } else if (key == "error") {
      out.kind = stream_chunk::error;
      od::object err;
      if (field.value().get_object().get(err))
        continue;
      for (auto e : err) {
        std::string_view ekey;
        if (e.unescaped_key().get(ekey))
          break;
        if (ekey == "type")
          assign(out.error_type, e.value());
        else if (ekey == "message")
          assign(out.error_message, e.value());
      }
    }
  }
  return out;
}

} // namespace zaki
