#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulators/http_names.hpp"

namespace zaki::fakes {

/// A message the bot sent (sendMessage), as the fake recorded it.
struct sent_message {
  /// The target chat.
  int64_t chat_id = 0;

  /// The id the fake assigned; ids increase across all chats.
  int64_t message_id = 0;

  /// The text as sent (decoded).
  std::string text;

  /// `parse_mode`, or empty.
  std::string parse_mode;

  /// `reply_markup` as raw JSON text, or empty.
  std::string reply_markup;

  /// When the request arrived.
  std::chrono::steady_clock::time_point at;

  /// `reply_to_message_id`, or 0.
  int64_t reply_to = 0;
};

/// Any other recorded call: editMessageText, deleteMessage,
/// answerCallbackQuery, sendChatAction, sendDocument (`text` is the file
/// name, `data` the file's bytes).
struct api_call {
  /// The method in lower case, e.g. "editmessagetext".
  std::string method;

  /// `chat_id`, if given.
  int64_t chat_id = 0;

  /// `message_id`, if given.
  int64_t message_id = 0;

  /// `text` of an edit or a callback answer.
  std::string text;

  /// `action` of sendChatAction or `callback_query_id`.
  std::string data;

  /// When the request arrived.
  std::chrono::steady_clock::time_point at;
};

/// Settings of a `fake_telegram`.
struct fake_telegram_options {
  /// The only accepted bot token.
  std::string token = "123456:TEST-token";

  /// io threads of the fake's own io_context.
  size_t threads = 1;

  /// Address, port, body limit and deadlines of the HTTP server.
  server_options http;

  /// The first update_id handed out.
  int64_t first_update_id = 100000;

  /// Long polls are held at most this long, whatever `timeout` says.
  std::chrono::milliseconds max_poll{std::chrono::seconds(50)};

  /// A long poll with updates to give is answered this long after the
  /// first one is there, with every update that arrived meanwhile: the
  /// round trip to api.telegram.org, which makes real batches hold several
  /// updates at a moderate rate. 0 (the default): answered at once.
  std::chrono::milliseconds poll_gather{0};

  /// A getUpdates while another one is held gets 409 (Telegram's
  /// behaviour); when false the newer poll simply waits as well.
  bool conflict_on_concurrent_poll = true;

  /// Checks HTML texts (parse_mode HTML) like Telegram: unknown tags and
  /// bare `<` or `&` get 400 "can't parse entities".
  bool validate_html = true;
};

/// A Bot API emulator on 127.0.0.1 with real getUpdates semantics (offset
/// confirmation, limit, long poll, 409 on a concurrent poll), recording
/// everything the bot sends, with fault injection. All public member
/// functions are thread-safe.
class fake_telegram {
public:
  /// Creates the fake; nothing listens until `start`.
  explicit fake_telegram(fake_telegram_options opts = {});

  ~fake_telegram();

  fake_telegram(const fake_telegram&) = delete;
  fake_telegram& operator=(const fake_telegram&) = delete;

  /// Binds, starts the io threads and returns the bound port.
  uint16_t start();

  /// Stops serving, answers nothing further and joins the threads.
  void stop();

  /// Returns the bound port, or 0 before `start`.
  uint16_t port() const;

  /// Returns "http://127.0.0.1:<port>", the api_root for the router.
  std::string api_root() const;

  /// Returns the accepted token.
  const std::string& token() const;

  // -- user side ----------------------------------------------------------------

  /// Queues a text message from `user_id` in their private chat; returns its
  /// update_id (update_ids increase).
  int64_t push_text(int64_t user_id, std::string text);

  /// Queues a button press of `user_id` on the bot's message `message_id`.
  int64_t push_callback(int64_t user_id, std::string data, int64_t message_id);

  /// Queues an update given as raw JSON (stickers, edits, malformed data).
  /// If it has no "update_id", `"update_id":<next>,` is inserted after the
  /// first `{`; offsets confirm it by that assigned id in any case.
  int64_t push_raw(std::string json);

  // -- files (getFile and the file endpoint) ------------------------------------

  /// Serves `bytes` as the file `file_id`: getFile answers `file_path`
  /// (default "documents/file_<n>") with `reported_size` as file_size (the
  /// byte count when negative), and GET /file/bot<token>/<file_path>
  /// answers the bytes, or 404 when `gone` is set. An unknown file_id gets
  /// 400 "Bad Request: invalid file_id" from getFile.
  void add_file(std::string file_id, std::string bytes,
                std::string file_path = {}, int64_t reported_size = -1,
                bool gone = false);

  /// Returns the paths requested at the file endpoint, in order.
  std::vector<std::string> file_requests() const;

  // -- what the bot did ---------------------------------------------------------

  /// Returns every recorded sendMessage, in arrival order.
  std::vector<sent_message> sent() const;

  /// Returns the recorded sendMessage calls to `chat_id`.
  std::vector<sent_message> sent_to(int64_t chat_id) const;

  /// Returns the number of recorded sendMessage calls.
  size_t sent_count() const;

  /// Returns the other recorded calls, optionally of one method (any case).
  std::vector<api_call> calls(std::string method = {}) const;

  /// Waits until `n` messages were sent in total; false on timeout.
  bool wait_for_sent(size_t n, std::chrono::milliseconds timeout) const;

  /// Waits until `n` messages were sent to `chat_id`; false on timeout.
  bool wait_for_sent_to(int64_t chat_id, size_t n,
                        std::chrono::milliseconds timeout) const;

  /// Waits until `n` getUpdates calls arrived; false on timeout.
  bool wait_for_polls(uint64_t n, std::chrono::milliseconds timeout) const;

  /// Waits until a getUpdates has confirmed every update below `offset`.
  bool wait_for_confirmed(int64_t offset,
                          std::chrono::milliseconds timeout) const;

  /// Calls `f` for every sendMessage after recording it, on an io thread.
  void on_send(std::function<void(const sent_message&)> f);

  // -- counters -----------------------------------------------------------------

  /// Returns the number of getUpdates calls (including rejected ones).
  uint64_t get_updates_calls() const;

  /// Drops the record of sent messages and calls (the counters stay), so
  /// that an hour-long bench does not grow; only while nothing is in flight
  /// (an edit of a dropped message gets 400).
  void forget_history();

  /// Returns the highest offset a getUpdates confirmed (0: none yet).
  int64_t confirmed_offset() const;

  /// Returns the number of queued, unconfirmed updates.
  size_t pending_updates() const;

  /// Returns the number of calls of `method` (any case), failed ones too.
  uint64_t method_calls(const std::string& method) const;

  /// Returns how many getUpdates were answered with 409.
  uint64_t conflicts() const;

  // -- fault injection ----------------------------------------------------------

  /// Answers the next `count` calls of `method` ("*" for any) with `status`
  /// and a Bot API error body.
  void fail_next(const std::string& method, int status, size_t count = 1);

  /// Answers the next `count` calls of `method` with 429 and
  /// `parameters.retry_after` = `retry_after_s`.
  void rate_limit_next(const std::string& method, int retry_after_s,
                       size_t count = 1);

  /// Makes every sendMessage/editMessageText with a parse_mode fail with 400
  /// "can't parse entities" (texts containing "tg:badentities" always do).
  void set_parse_entities_error(bool on);

  /// Answers every call with 401, as for a revoked token.
  void set_unauthorized(bool on);

  /// Simulates a set webhook: getUpdates gets 409 until deleteWebhook.
  void set_webhook(bool on);

  /// Switches 409 on concurrent getUpdates on or off at runtime.
  void set_conflict_on_concurrent_poll(bool on);

  // -- streamed answers -------------------------------------------------------

  /// Answers 429 (retry_after 1) to an editMessageText that comes within a
  /// second of the previous accepted edit in its chat: Telegram's per-chat
  /// limit, applied strictly.
  void set_edit_flood_limit(bool on);

  /// Returns how many edits were answered "message is not modified".
  uint64_t not_modified() const;

  /// Returns how many edits got 429 from the flood limit.
  uint64_t edit_flood_429s() const;

  /// Returns the current text of the bot's message `message_id` (after its
  /// edits), or nothing if there is none.
  std::optional<std::string> message_text(int64_t message_id) const;

  /// Returns the current reply markup of the bot's message `message_id`.
  std::string message_markup(int64_t message_id) const;

  /// Returns the user who pressed the button of callback query `query_id`
  /// (0: unknown), e.g. to attribute an answerCallbackQuery to a chat.
  int64_t query_user(const std::string& query_id) const;

private:
  struct state;

  std::unique_ptr<io_runtime> runner_;
  std::shared_ptr<state> state_;
  std::unique_ptr<mini_http_server> server_;
};

} // namespace zaki::fakes
