#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include <caf/typed_response_promise.hpp>

#include "http/client.hpp"
#include "messages/interfaces.hpp"
#include "runtime/context.hpp"
#include "telegram/pacer.hpp"
#include "telegram/stream_edit.hpp"

namespace zaki {

/// A multi-chunk reply: answered once every chunk is sent (or one failed).
struct telegram_send_group {
  caf::typed_response_promise<int64_t> promise;
  size_t remaining = 0;
  int64_t last_message_id = 0;
  bool failed = false;
};

/// One Bot API call waiting for its turn.
struct telegram_op {
  std::string method;
  std::string body;
  int64_t chat_id = 0;
  std::string request_id;
  /// Plain text to send instead when Telegram cannot parse the HTML.
  std::string plain_fallback;
  std::string reply_markup;
  uint32_t attempts = 0;
  /// When the call was queued (paced calls), and whether its wait beyond
  /// telegram.max-wait was reported already.
  std::chrono::steady_clock::time_point queued_at;
  bool held_long = false;
  /// Set for sendMessage chunks.
  std::shared_ptr<telegram_send_group> group;
  /// Set for answerCallbackQuery and deleteMessage.
  caf::typed_response_promise<bool> bool_promise;
  bool has_bool_promise = false;
  /// Set for a preview call of a streamed answer (its request id).
  std::string stream_key;
  /// The message an editMessageText changes (its plain fallback is an edit
  /// too); 0 for other calls.
  int64_t edit_message_id = 0;
};

/// A streamed answer shown growing in one chat (`stream_edit` decides when
/// its preview is sent and edited).
struct telegram_stream {
  telegram_stream(stream_edit::options opts, stream_edit::clock::time_point t)
    : edit(opts, t), started(t) {
    // nop
  }
  stream_edit edit;
  stream_edit::clock::time_point started;
  /// When the last update arrived (streams of a user actor that died
  /// mid-answer are forgotten after a while).
  stream_edit::clock::time_point last_update;
  int64_t chat_id = 0;
  std::string request_id;
  /// The Markdown source received so far.
  std::string text;
  /// The preview's keyboard (Stop button).
  std::string reply_markup;
  /// A stream_update::end_t once the end arrived.
  uint8_t end = 0;
  /// `stream.mode=draft` in a private chat: previews are sendMessageDraft
  /// calls under `draft_id`, and the final answer is a new message.
  bool draft = false;
  uint64_t draft_id = 0;
  caf::typed_response_promise<int64_t> promise;
  /// Answered once the first preview is shown (or the stream ends).
  caf::typed_response_promise<int64_t> first_shown;
  bool first_pending = false;
  /// A preview shown before a restart of the router: the final text
  /// replaces it (`stream_update::preview_message_id`).
  int64_t known_preview = 0;
  /// Who gets the preview's message id once it is sent (a user actor that
  /// journals it), or none.
  caf::actor_addr reporter;
};

/// State of the TELEGRAM actor.
struct telegram_state {
  static inline const char* name = "telegram";
  context_ptr ctx;
  std::shared_ptr<http_client> client;
  /// Per-chat queues and the chat and bot rate limits of paced calls.
  std::optional<telegram_pacer<telegram_op>> pacer;
  /// Calls in flight by sequence number; chat 0 marks unpaced calls.
  std::unordered_map<uint64_t, telegram_op> in_flight;
  /// Paced calls handed to the client and not finished, and how many may
  /// be (a few per connection): the rest wait in the pacer, compact and in
  /// their chats' turns, not in the client's queue as encoded requests.
  size_t paced_in_flight = 0;
  size_t max_paced_in_flight = 16;
  uint64_t next_seq = 1;
  token_bucket::clock::time_point tick_due;
  uint64_t sent = 0;
  uint64_t failed = 0;
  uint64_t rate_limited = 0;
  uint64_t retries = 0;
  /// Replies held by retry_after beyond telegram.max-wait.
  uint64_t held_long = 0;
  /// Chats whose sendMessageDraft failed: they stream by edits instead.
  std::unordered_set<int64_t> no_draft_chats;
  /// Streamed answers in progress, by request id.
  std::unordered_map<std::string, telegram_stream> streams;
  /// When each stream's edit loop wants to be asked again (earliest
  /// first; an entry may be stale, asking again is harmless). A tick
  /// drives only the streams due, not every stream.
  using stream_due = std::pair<stream_edit::clock::time_point, std::string>;
  std::priority_queue<stream_due, std::vector<stream_due>,
                      std::greater<stream_due>>
    stream_dues;
  uint64_t stream_answers = 0;
  uint64_t stream_edits = 0;
  uint64_t stream_skipped = 0;
  uint64_t stream_rate_limited = 0;

  ~telegram_state();
};

/// Spawns the Bot API client actor.
telegram_actor::behavior_type
telegram(telegram_actor::stateful_pointer<telegram_state> self,
         context_ptr ctx);

} // namespace zaki
