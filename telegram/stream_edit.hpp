#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace zaki {

/// The edit loop of one streamed answer in Telegram, without I/O: when the
/// first preview goes out (sendMessage), when it is edited
/// (editMessageText) and when the final text replaces it. The clock is
/// passed in, so tests drive it by hand. Rules (notes/streaming.md, after
/// OpenClaw's draft-stream loop):
/// - the first preview once `min_chars` arrived, or after `first_preview`
///   with any text;
/// - at most one call per `edit_interval`, counted from the previous call's
///   answer, the final edit included (a Bot API that allows one edit per
///   second in a chat never sees two, whatever the network's jitter), and
///   never two calls in flight (single-flight);
/// - the newest text overwrites a pending one, identical text is skipped;
/// - a 429 pauses the loop for `retry_after`, at most `max_pause`; beyond
///   that the preview is abandoned and the final goes out as new messages;
/// - after `max_failures` consecutive failures the preview is abandoned too.
class stream_edit {
public:
  using clock = std::chrono::steady_clock;

  /// Tunables (`stream.*` options).
  struct options {
    clock::duration edit_interval = std::chrono::seconds(1);
    clock::duration first_preview = std::chrono::seconds(1);
    size_t min_chars = 30;
    clock::duration max_pause = std::chrono::seconds(60);
    uint32_t max_failures = 3;
    /// Previews longer than this (UTF-16 units) show only their beginning.
    size_t max_preview = 4000;
  };

  /// What the caller should do now.
  enum class call_kind {
    /// Nothing; ask again at `due()` or after the next event.
    none,
    /// sendMessage with `text` (the first preview).
    send_preview,
    /// editMessageText of `message_id()` with `text`.
    edit_preview,
    /// Deliver the final answer: edit the preview in place when
    /// `message_id()` is set, otherwise send it as new messages.
    final,
  };

  /// One call to make; `text` is the preview text (plain).
  struct call {
    call_kind kind = call_kind::none;
    std::string text;
  };

  stream_edit(options opts, clock::time_point started);

  /// The answer so far is `text` (all of it, not a delta).
  void update(std::string_view text);

  /// The answer so far grew by `delta` (no copy of what came before).
  void append(std::string_view delta);

  /// The answer is complete (or stopped, or failed after text).
  void finish();

  /// Returns the call to make at `now` and marks it in flight; `none` while
  /// a call is in flight, the interval runs, or nothing changed.
  call next(clock::time_point now);

  /// Returns when `next` may return a call without a new event (max when
  /// only an event or the in-flight call's end can change that).
  clock::time_point due() const;

  /// The call in flight succeeded ("message is not modified" included);
  /// `message_id` is the preview's id for a send.
  void on_success(clock::time_point now, int64_t message_id = 0);

  /// The call in flight got 429 with `retry_after`.
  void on_rate_limited(clock::time_point now, clock::duration retry_after);

  /// The call in flight failed otherwise.
  void on_failure(clock::time_point now);

  /// Returns the preview's message id (0: none, or abandoned).
  int64_t message_id() const {
    return abandoned_ ? 0 : message_id_;
  }

  /// Returns the options the loop runs with.
  const options& options_used() const {
    return opts_;
  }

  /// Returns the preview text of the last call.
  const std::string& last_sent() const {
    return last_sent_;
  }

  /// Returns whether a call is in flight.
  bool in_flight() const {
    return in_flight_;
  }

  /// Returns whether the final call was handed out.
  bool done() const {
    return final_out_;
  }

  /// Returns when the first preview went out (epoch: not yet).
  clock::time_point first_preview_at() const {
    return first_at_;
  }

  /// Edits (and the first send) made, and updates that changed nothing
  /// visible (skipped).
  uint64_t calls = 0;
  uint64_t skipped = 0;

private:
  /// Returns the preview text for the answer so far.
  std::string preview_of(std::string_view text) const;

  /// Returns the preview of `text_`, computed once per change of it:
  /// `due` and `next` ask for it after every update.
  const std::string& preview() const;

  /// Counts an update that changed nothing visible.
  void count_skipped();

  /// Returns whether the preview equals the text last sent, compared once
  /// per change of either.
  bool shows_last_sent() const;

  /// Returns the code points of UTF-8 `text`.
  static size_t count_chars(std::string_view text);

  options opts_;
  clock::time_point started_;
  std::string text_;
  mutable std::string preview_;
  mutable bool preview_valid_ = false;
  /// shows_last_sent(): -1 not known, 0 no, 1 yes.
  mutable int same_ = -1;
  size_t chars_ = 0;
  std::string last_sent_;
  clock::time_point last_call_at_;
  clock::time_point paused_until_;
  clock::time_point first_at_;
  int64_t message_id_ = 0;
  uint32_t failures_ = 0;
  bool sent_any_ = false;
  bool in_flight_ = false;
  bool finished_ = false;
  bool final_out_ = false;
  bool abandoned_ = false;
};

/// Returns the JSON body of an editMessageText call (`reply_markup` empty:
/// no keyboard, which removes a Stop button).
std::string encode_edit_message_text(int64_t chat_id, int64_t message_id,
                                     std::string_view text,
                                     std::string_view parse_mode,
                                     std::string_view reply_markup);

/// Returns the JSON body of a sendMessageDraft call (Bot API 9.x; private
/// chats only, `draft_id` non-zero).
std::string encode_message_draft(int64_t chat_id, uint64_t draft_id,
                                 std::string_view text);

} // namespace zaki
