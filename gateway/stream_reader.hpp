#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "gateway/codec.hpp"
#include "gateway/sse.hpp"
#include "messages/types.hpp"

namespace zaki {

/// Turns the body of a streamed chat completion into text deltas and, at
/// the end, into a `gateway_answer` like a non-streamed one. Fed on the I/O
/// thread (by the HTTP client's body callback); the answer is read by the
/// user actor only after the exchange's completion arrived, which the same
/// thread sends after the last feed. The text not yet handed over (the
/// pending deltas) is the one part both sides touch, under a mutex taken
/// once per read and once per take.
///
/// Hand-over is on demand, so that a gateway sending 20 events a second
/// costs the actors a few messages a second, not one per event: `feed`
/// asks its caller to notify the actor only when the actor said it waits
/// for text (`take` found nothing) or when the text just reached `urgent`
/// characters (the first preview's threshold: it must not wait for a poll).
class gateway_stream {
public:
  /// Creates a reader refusing events above `max_event` bytes. A gateway
  /// that ignores `"stream": true` and answers one JSON body (up to
  /// `max_json` bytes) is understood as well.
  explicit gateway_stream(size_t max_event = 1 << 20,
                          size_t max_json = 4 << 20);

  /// Consumes body bytes on the I/O thread; the text they complete becomes
  /// pending. Moves the pending text into `delta` when the actor waits for
  /// text or the text reached the urgent size with these bytes: the caller
  /// then notifies the actor. Returns false to abort the exchange (an
  /// event over the limit, an error event, or bytes after [DONE]).
  bool feed(std::string_view bytes, std::string& delta);

  /// Moves the pending text into `out` (the actor's poll). Returns false
  /// when there was none: the next text is then handed over at once.
  bool take(std::string& out);

  /// Sets the characters (code points) whose arrival is handed over at
  /// once whatever the poll (0: none).
  void urgent_at(size_t chars) {
    urgent_at_ = chars;
  }

  /// Classifies the finished exchange: 2xx with [DONE] (or a finish reason)
  /// and no error event is an answer with the whole text; an error event
  /// under 200 is retryable (as a 502 would be); a 2xx that ends early is a
  /// bad response; anything else as classify_gateway_result says.
  gateway_answer finish(http_result& res);

  /// Returns the text received so far, in bytes (any thread).
  size_t received() const {
    return received_.load(std::memory_order_relaxed);
  }

  /// Returns whether an error event arrived.
  bool failed() const {
    return error_;
  }

  /// Returns whether the answer's text is complete ([DONE], a finish
  /// reason or an error event arrived; any thread): the completion of the
  /// exchange follows, so a preview now would be edited a moment later.
  bool ended() const {
    return ended_.load(std::memory_order_acquire);
  }

  /// Returns whether the next bytes can wait in the socket a while (I/O
  /// thread): the first preview's text is in (or none is wanted) and the
  /// answer has not ended. Until then every byte is read at once.
  bool can_wait() const {
    return chars_ >= urgent_at_ && !ended();
  }

  /// Puts text handed over by `feed` back in front of the pending text
  /// (the actor chose to leave it to the end of the stream).
  void give_back(const std::string& text);

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
  /// Characters (code points) so far, for the urgent threshold.
  size_t chars_ = 0;
  size_t urgent_at_ = 0;
  std::atomic<size_t> received_{0};
  std::atomic<bool> ended_{false};
  /// Shared with the actor (guarded by mtx_).
  std::mutex mtx_;
  std::string pending_;
  bool waiting_ = true;
};

} // namespace zaki
