#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulators/http_names.hpp"

// What an OpenClaw gateway answers, without the I/O: shared by the in-process
// `fake_gateway` and the standalone `zaki-test-gateway`. Single messages can
// be steered by markers in the user text:
//   gw:sleep=<ms>   answer after <ms> (an async timer, never a sleeping thread)
//   gw:fail=<code>  answer <code> with an OpenClaw-shaped error body
//   gw:flaky=<k>    the first <k> requests with this exact text get 502
//   gw:long=<n>     answer with exactly <n> bytes of text
//   gw:empty        answer with empty content
//   gw:malformed    answer 200 with truncated JSON
//   gw:locked       500 "session file locked (timeout 10000ms): ..."
//   gw:hang         never answer (until the client disconnects)
//   gw:crash        drop the connection (the standalone program exits)
//   gw:noimage      400 when the message has an image part (a text-only
//                   model); image parts are recorded as "[image:<url>]"
// A request with `"stream": true` is answered with Server-Sent Events in
// OpenClaw's shape (role chunk, content chunks, finish chunk, usage chunk,
// [DONE]), each event one HTTP chunk:
//   gw:slow=<ms>    <ms> between events (default: set_stream_gap, 0)
//   gw:piece=<n>    <n> bytes of text per event (default 10)
//   gw:midfail      drop the connection after half of the text
//   gw:stall        stop sending (connection open) after half of the text
//   gw:sseerror     after half of the text, an {"error":...} event under 200
// Texts of the form "u<id>-m<seq>" are checked: per user, <seq> must grow
// and <id> must equal the request's `user`.

namespace zaki::fakes {

/// What the server does with one request.
struct gateway_reply {
  /// The kind of answer.
  enum action_t { respond, hang, crash };

  /// Respond (after `delay`), hang, or crash.
  action_t action = respond;

  /// The response to send for `respond`.
  response res;

  /// How long to hold the answer.
  std::chrono::milliseconds delay{0};

  /// Whether this is a chat request that must be closed with `finish`.
  bool tracked = false;

  /// The `user` of a chat request.
  std::string user;

  /// How a streamed answer ends after its events.
  enum stream_end_t { end_ok, stall, drop };

  /// Whether `events` are sent instead of `res` (an SSE answer).
  bool streamed = false;

  /// The SSE events, each sent as one HTTP chunk.
  std::vector<std::string> events;

  /// Time between two events.
  std::chrono::milliseconds gap{0};

  /// What follows the last event.
  stream_end_t stream_end = end_ok;

  /// Called as `events[mark_event]` goes out (set_stream_mark).
  size_t mark_event = static_cast<size_t>(-1);
  std::function<void()> on_mark;
};

/// Returns the head of a chunked `text/event-stream` 200 response.
std::string sse_head();

/// Returns `data` framed as one HTTP chunk (empty: the last chunk).
std::string http_chunk(std::string_view data);

/// Counters of a gateway, all since construction or `reset_stats`.
struct gateway_stats {
  /// Every request, health probes included.
  uint64_t requests = 0;

  /// Chat completion requests that passed authentication.
  uint64_t chat_requests = 0;

  /// Chat requests answered with 200.
  uint64_t answered_ok = 0;

  /// Requests rejected with 401 `unauthorized`.
  uint64_t unauthorized = 0;

  /// Chat requests that began while another one of the same user ran.
  uint64_t overlap_violations = 0;

  /// "u<id>-m<seq>" texts whose <seq> was lower than the user's previous.
  uint64_t order_violations = 0;

  /// "u<id>-m<seq>" texts whose <seq> equalled the previous one (retries).
  uint64_t repeats = 0;

  /// "u<id>-m<seq>" texts whose <id> differs from the request's `user`.
  uint64_t misrouted = 0;

  /// Chat requests in flight now.
  uint64_t in_flight = 0;

  /// Chat requests answered with Server-Sent Events.
  uint64_t streamed = 0;

  /// The most chat requests in flight at once, across all users.
  uint64_t max_in_flight = 0;
};

/// Decides answers and checks per-user invariants; every member function is
/// thread-safe.
class gateway_behavior {
public:
  /// Creates a gateway accepting bearer `token` (empty: any token).
  explicit gateway_behavior(std::string token = {});

  /// Sets the shared bearer token (empty: any token).
  void set_token(std::string token);

  /// Requires `token` for requests whose `user` is `user`.
  void set_user_token(std::string user, std::string token);

  /// Sets the text put before the echoed user message (default "echo: ").
  void set_prefix(std::string prefix);

  /// Sets the text put after the echoed user message (default none): long
  /// answers that still start with the user's text.
  void set_suffix(std::string suffix);

  /// Delays every chat answer by `latency`.
  void set_latency(std::chrono::milliseconds latency);

  /// Fails every chat request with `status` (0 turns it off).
  void set_fail_status(int status);

  /// Fails the next `count` chat requests with `status`.
  void fail_next(int status, size_t count);

  /// Answers every chat request with `n` bytes of text (0: echo again).
  void set_answer_size(size_t n);

  /// Answers every chat request with truncated JSON (or not).
  void set_malformed(bool on);

  /// Makes every request, health probes included, hang (or not).
  void set_hang(bool on);

  /// Makes /startupz and /readyz answer 503 "starting" for `delay` from now.
  void set_startup_delay(std::chrono::milliseconds delay);

  /// Lets the chat request after the first `n` crash (0 turns it off).
  void set_crash_after(uint64_t n);

  /// Allocates and touches `mb` MiB per chat request and never frees it.
  void set_grow_mb_per_request(size_t mb);

  /// Sets the time between the events of streamed answers.
  void set_stream_gap(std::chrono::milliseconds gap);

  /// Sets the text bytes per event of streamed answers.
  void set_stream_piece(size_t n);

  /// Answers `"stream": true` requests with one JSON body anyway (an old
  /// gateway), or with events again.
  void set_ignore_stream(bool on);

  /// Calls `f` with the user's text as the event carrying the `chars`th
  /// character of a streamed answer goes out (benches time what follows).
  void set_stream_mark(size_t chars, std::function<void(const std::string&)> f);

  /// Decides the answer to `req` and records the request.
  gateway_reply handle(const request& req);

  /// Marks the tracked chat request of `user` finished; call exactly once
  /// per tracked reply, before its answer is sent.
  void finish(const std::string& user, int status);

  /// Returns the counters.
  gateway_stats stats() const;

  /// Returns the user texts received for `user`, in arrival order.
  std::vector<std::string> received(const std::string& user) const;

  /// Returns the users seen so far.
  std::vector<std::string> users() const;

  /// Waits until `n` chat requests arrived; returns false on timeout.
  bool wait_for_chat_requests(uint64_t n,
                              std::chrono::milliseconds timeout) const;

  /// Clears counters and per-user records (not the configuration).
  void reset_stats();

private:
  struct user_state {
    uint32_t in_flight = 0;
    int64_t last_seq = -1;
    std::vector<std::string> received;
  };

  /// Returns the body of a 4xx/5xx answer in OpenClaw's shape.
  static std::string error_body(int status, bool locked = false);

  std::string chat_answer(const std::string& content, size_t long_n,
                          bool empty) const;

  std::string answer_text(const std::string& content, size_t long_n,
                          bool empty) const;

  void stream_answer(const std::string& content, const std::string& answer,
                     gateway_reply& out) const;

  void check_sequence(const std::string& user, user_state& st,
                      const std::string& content);

  mutable std::mutex mtx_;
  mutable std::condition_variable changed_;
  std::string token_;
  std::unordered_map<std::string, std::string> user_tokens_;
  std::string prefix_ = "echo: ";
  std::string suffix_;
  std::chrono::milliseconds latency_{0};
  int fail_status_ = 0;
  std::deque<int> fail_queue_;
  bool hang_ = false;
  bool malformed_ = false;
  size_t answer_size_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point ready_at_;
  uint64_t crash_after_ = 0;
  size_t grow_mb_ = 0;
  std::chrono::milliseconds stream_gap_{0};
  size_t stream_piece_ = 10;
  bool ignore_stream_ = false;
  size_t mark_chars_ = 0;
  std::function<void(const std::string&)> on_mark_;
  std::vector<std::vector<char>> ballast_;
  std::map<std::string, uint32_t> flaky_seen_;
  std::unordered_map<std::string, user_state> users_;
  gateway_stats stats_;
  uint64_t next_id_ = 0;
};

} // namespace zaki::fakes
