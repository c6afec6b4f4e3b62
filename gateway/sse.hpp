#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace zaki {

/// Reads Server-Sent Events incrementally, as the bytes of a streamed
/// response arrive: lines end in LF, CRLF or CR (a CRLF may be split across
/// two reads), comments (`:`) and unknown fields are ignored, and an event is
/// dispatched at the empty line that ends it. Only `data` matters to the
/// gateway; several `data` lines of one event are joined with LF, as the
/// SSE specification says.
class sse_reader {
public:
  /// Receives the data of one complete event.
  using event_handler = std::function<void(std::string_view data)>;

  /// Creates a reader refusing events (or lines) above `max_event` bytes, so
  /// a gateway that never ends a line cannot grow the router's memory.
  explicit sse_reader(size_t max_event = 1 << 20);

  /// Consumes `bytes` and calls `on_event` for every event they complete.
  /// Returns false once the limit was exceeded; the reader then ignores
  /// further input.
  bool feed(std::string_view bytes, const event_handler& on_event);

  /// Returns whether an event exceeded the limit.
  bool overflowed() const {
    return overflowed_;
  }

private:
  void on_line(std::string_view line, const event_handler& on_event);

  size_t max_event_;
  std::string line_;
  std::string data_;
  bool has_data_ = false;
  bool skip_lf_ = false;
  bool overflowed_ = false;
};

/// What one `data:` payload of OpenAI-style chat completion chunks says.
struct stream_chunk {
  enum kind_t {
    /// A chunk (content, role, finish reason or usage; any may be empty).
    chunk,
    /// `[DONE]`: the stream ended normally.
    done,
    /// `{"error": ...}`: the run failed after the headers (HTTP 200).
    error,
    /// Not JSON, or JSON of another shape.
    malformed,
  };

  kind_t kind = malformed;
  /// choices[0].delta.content.
  std::string content;
  /// choices[0].finish_reason, when set.
  std::string finish_reason;
  /// usage.prompt_tokens and usage.completion_tokens (-1: absent).
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
  /// error.type and error.message.
  std::string error_type;
  std::string error_message;
};

/// Decodes one event's data.
stream_chunk decode_stream_chunk(std::string_view data);

} // namespace zaki
