#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/codec.hpp"
#include "gateway/sse.hpp"
#include "messages/types.hpp"

namespace zaki {

/// Turns the body of a streamed chat completion into text deltas and, at
/// the end, into a `gateway_answer` like a non-streamed one. Fed on the I/O
/// thread (by the HTTP client's body callback); read by the user actor only
/// after the exchange's completion arrived, which the same thread sends
/// after the last feed, so no lock is needed.
class gateway_stream {
public:
  /// Creates a reader refusing events above `max_event` bytes. A gateway
  /// that ignores `"stream": true` and answers one JSON body (up to
  /// `max_json` bytes) is understood as well.
  explicit gateway_stream(size_t max_event = 1 << 20,
                          size_t max_json = 4 << 20);

  /// Consumes body bytes; appends the text they complete to `delta`.
  /// Returns false to abort the exchange (an event over the limit, an
  /// error event, or bytes after [DONE]).
  bool feed(std::string_view bytes, std::string& delta);

  /// Classifies the finished exchange: 2xx with [DONE] (or a finish reason)
  /// and no error event is an answer with the whole text; an error event
  /// under 200 is retryable (as a 502 would be); a 2xx that ends early is a
  /// bad response; anything else as classify_gateway_result says.
  gateway_answer finish(http_result& res);

  /// Returns the text received so far, in bytes.
  size_t received() const {
    return text_.size();
  }

  /// Returns whether an error event arrived.
  bool failed() const {
    return error_;
  }

private:
  enum class body_kind { unknown, sse, json };

  sse_reader reader_;
  size_t max_json_;
  body_kind kind_ = body_kind::unknown;
  /// The body of a JSON answer.
  std::string json_;
  std::string text_;
  std::string error_type_;
  std::string error_message_;
  int64_t prompt_tokens_ = -1;
  int64_t completion_tokens_ = -1;
  bool done_ = false;
  bool finished_ = false;
  bool error_ = false;
  bool malformed_ = false;
};

} // namespace zaki
