#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/settings.hpp>

namespace zaki {

/// What a message carries: text (or a caption-less button press), a photo,
/// a file the assistant can open, or a kind it cannot read.
enum class inbound_kind : uint8_t {
  text,
  photo,
  document,
  audio,
  video,
  voice,
  sticker,
  location,
  contact,
  poll,
  dice,
};

/// Returns the kind's name for logs ("photo", "voice", ...).
const char* to_string(inbound_kind x);

/// The chat a message was written in.
enum class chat_kind : uint8_t {
  private_chat,
  group,
  supergroup,
  channel,
};

/// One user input decoded from a Bot API update: a text message or a button
/// press. Actors never see raw JSON, only this.
struct inbound_message {
  /// Telegram's update_id; confirms the update once handled.
  int64_t update_id = 0;
  /// Sender (`from.id`): routing key, up to 52 significant bits.
  int64_t user_id = 0;
  /// Where replies go (`chat.id`).
  int64_t chat_id = 0;
  /// The message's id in its chat (or the id of the message a button is on).
  int64_t message_id = 0;
  /// Message text, or the callback data of a button press.
  std::string text;
  /// Non-empty for a button press (callback_query.id).
  std::string callback_id;
  /// Our id for this message, carried through every log line and error.
  std::string request_id;
  /// How often this message was handed to a user actor before (crash replay).
  uint32_t delivery = 0;
  /// Steady-clock time of arrival in the router, in nanoseconds.
  int64_t received_ns = 0;
  /// What the message carries; `text` holds the caption of media.
  inbound_kind kind = inbound_kind::text;
  /// Where it was written (groups are routed by `chat.groups`).
  chat_kind chat = chat_kind::private_chat;
  /// An edit of message `message_id` (edited_message): never re-sent.
  bool edited = false;
  /// The text has a mention entity, or a text_mention of a bot.
  bool mentions = false;
  /// `from.id` of the message this one replies to, or 0.
  int64_t reply_to_user_id = 0;
  /// The file of a photo (the largest size within the limit), document,
  /// audio, video or voice note; empty otherwise.
  std::string file_id;
  /// The file's name as the sender's client gave it (documents, audio).
  std::string file_name;
  /// The file's size in bytes as Telegram reported it, or 0.
  int64_t file_size = 0;
  /// The file's MIME type, or empty.
  std::string mime_type;
  /// Whether `answer` holds the gateway's answer, recorded in the inbox
  /// journal before it went to Telegram: a replay after a crash re-sends it
  /// instead of asking the assistant again.
  bool answered = false;
  /// The recorded answer (Markdown source).
  std::string answer;
  /// Chunks of `answer` whose sendMessage Telegram confirmed.
  uint32_t chunks_sent = 0;
  /// The streamed preview shown for this message (0: none known): a replay
  /// puts the final answer into it instead of sending a new message.
  int64_t preview_message_id = 0;

  /// Returns whether this input is a button press.
  bool is_callback() const {
    return !callback_id.empty();
  }
};

/// @relates inbound_message
inline bool operator==(const inbound_message& x, const inbound_message& y) {
  return x.update_id == y.update_id && x.user_id == y.user_id
    && x.chat_id == y.chat_id && x.message_id == y.message_id
    && x.text == y.text && x.callback_id == y.callback_id
    && x.request_id == y.request_id && x.delivery == y.delivery
    && x.kind == y.kind && x.chat == y.chat && x.edited == y.edited
    && x.mentions == y.mentions && x.reply_to_user_id == y.reply_to_user_id
    && x.file_id == y.file_id && x.file_name == y.file_name
    && x.file_size == y.file_size && x.mime_type == y.mime_type;
}

/// @relates inbound_message
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inbound_message& x) {
  return f(caf::meta::type_name("inbound_message"), x.update_id, x.user_id,
           x.chat_id, x.message_id, x.text, x.callback_id, x.request_id,
           x.delivery, x.received_ns, x.kind, x.chat, x.edited, x.mentions,
           x.reply_to_user_id, x.file_id, x.file_name, x.file_size, x.mime_type,
           x.answered, x.answer, x.chunks_sent, x.preview_message_id);
}

/// A batch of decoded updates from one getUpdates answer.
using inbound_batch = std::vector<inbound_message>;

/// One entry of users.json: where a user's gateway lives.
struct user_record {
  int64_t user_id = 0;
  /// Host of the gateway; users.json of the original router has none.
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  /// Bearer token of the gateway (a secret: never logged).
  std::string token;
  /// Container name, `zaki-user-{id}`.
  std::string container;
  /// Optional fields of later versions, kept when the file is rewritten.
  std::string status;
  std::string data_dir;
  std::string created_at;
};

/// @relates user_record
inline bool operator==(const user_record& x, const user_record& y) {
  return x.user_id == y.user_id && x.host == y.host && x.port == y.port
    && x.token == y.token && x.container == y.container && x.status == y.status
    && x.data_dir == y.data_dir && x.created_at == y.created_at;
}

/// @relates user_record
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_record& x) {
  return f(caf::meta::type_name("user_record"), x.user_id, x.host, x.port,
           x.token, x.container, x.status, x.data_dir, x.created_at);
}

/// The answer of the store to a lookup.
struct user_lookup {
  bool found = false;
  user_record record;
};

/// @relates user_lookup
inline bool operator==(const user_lookup& x, const user_lookup& y) {
  return x.found == y.found && x.record == y.record;
}

/// @relates user_lookup
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_lookup& x) {
  return f(caf::meta::type_name("user_lookup"), x.found, x.record);
}

/// A text for one chat; the telegram actor splits and paces it.
struct outgoing_text {
  int64_t chat_id = 0;
  /// The text, in `parse_mode` if set.
  std::string text;
  /// Empty for plain text, or "HTML".
  std::string parse_mode;
  /// Sent instead when Telegram cannot parse `text` (HTML fallback).
  std::string plain_fallback;
  /// Inline keyboard JSON for the last chunk, or empty.
  std::string reply_markup;
  /// For the log lines of this message.
  std::string request_id;
  /// The message this one answers (groups), or 0.
  int64_t reply_to = 0;
};

/// @relates outgoing_text
inline bool operator==(const outgoing_text& x, const outgoing_text& y) {
  return x.chat_id == y.chat_id && x.text == y.text
    && x.parse_mode == y.parse_mode && x.plain_fallback == y.plain_fallback
    && x.reply_markup == y.reply_markup && x.request_id == y.request_id
    && x.reply_to == y.reply_to;
}

/// @relates outgoing_text
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outgoing_text& x) {
  return f(caf::meta::type_name("outgoing_text"), x.chat_id, x.text,
           x.parse_mode, x.plain_fallback, x.reply_markup, x.request_id,
           x.reply_to);
}

/// Classifies why an HTTP exchange produced no usable answer.
enum class http_failure : uint8_t {
  none,
  connect,
  timeout,
  closed,
  too_large,
  tls,
  cancelled,
  other,
  /// The peer closed or reset the connection after part of the answer
  /// arrived (the request reached it).
  interrupted,
};

/// Returns a short name for logs and metrics.
const char* to_string(http_failure x);

/// The outcome of one HTTP exchange, reported from the I/O threads.
struct http_result {
  /// HTTP status, or 0 when the exchange failed below HTTP.
  int status = 0;
  std::string body;
  /// Transport failure (when status is 0).
  http_failure failure = http_failure::none;
  /// Human-readable transport error; never contains a secret.
  std::string error;
  /// Value of a Retry-After header, in seconds, or 0.
  int retry_after = 0;
  /// Time from submission to the end of the exchange.
  int64_t latency_us = 0;

  /// Returns whether the server answered with a 2xx status.
  bool ok() const {
    return status >= 200 && status < 300;
  }
};

/// @relates http_result
inline bool operator==(const http_result& x, const http_result& y) {
  return x.status == y.status && x.body == y.body && x.failure == y.failure
    && x.error == y.error;
}

/// @relates http_result
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_result& x) {
  return f(caf::meta::type_name("http_result"), x.status, x.body, x.failure,
           x.error, x.retry_after, x.latency_us);
}

/// One node of the supervisor tree as reported by an actor's `status`
/// handler; supervisors fill `children` by asking their children.
struct status_node {
  std::string name;
  uint64_t id = 0;
  /// running, idle, busy, restarting, failed, ...
  std::string state;
  uint64_t mailbox_size = 0;
  uint32_t restarts = 0;
  /// Actor-specific fields, built with `status_detail` and encoded to JSON
  /// only by the admin's HTTP side.
  caf::settings detail;
  std::vector<status_node> children;
};

/// @relates status_node
inline bool operator==(const status_node& x, const status_node& y) {
  return x.name == y.name && x.id == y.id && x.state == y.state
    && x.mailbox_size == y.mailbox_size && x.restarts == y.restarts
    && x.detail == y.detail && x.children == y.children;
}

/// @relates status_node
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, status_node& x) {
  return f(caf::meta::type_name("status_node"), x.name, x.id, x.state,
           x.mailbox_size, x.restarts, x.detail, x.children);
}

// -- Streamed answers (issue 22) ---------------------------------------------

/// One step of a streamed answer, from a user actor to the telegram actor,
/// which shows it growing (the edit loop) and later to other subscribers.
struct stream_update {
  /// How the stream goes on after this update.
  enum end_t : uint8_t {
    /// More text follows.
    more = 0,
    /// The answer is complete: the final text replaces the preview.
    complete = 1,
    /// The user pressed Stop: the text so far stays, marked as stopped.
    stopped = 2,
    /// The gateway failed after text was shown: the text so far stays (an
    /// error with Retry follows).
    failed = 3,
  };
  int64_t chat_id = 0;
  /// The request id of the message answered: names the stream.
  std::string request_id;
  /// Text appended since the previous update (Markdown source).
  std::string delta;
  /// Inline keyboard of the preview (the Stop button), or empty.
  std::string reply_markup;
  /// An `end_t`.
  uint8_t end = more;
  /// A preview shown before a restart (0: none): the final text replaces
  /// it, so a replayed answer sends no second message.
  int64_t preview_message_id = 0;
  /// Whether the sender (a user actor) wants the preview's message id once
  /// Telegram confirmed it (`(stream_atom, request_id, message_id)`).
  bool report_preview = false;
};

/// @relates stream_update
inline bool operator==(const stream_update& x, const stream_update& y) {
  return x.chat_id == y.chat_id && x.request_id == y.request_id
    && x.delta == y.delta && x.reply_markup == y.reply_markup && x.end == y.end;
}

/// @relates stream_update
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_update& x) {
  return f(caf::meta::type_name("stream_update"), x.chat_id, x.request_id,
           x.delta, x.reply_markup, x.end, x.preview_message_id,
           x.report_preview);
}

} // namespace zaki

// -- Store ---------------------------------------------------------------------
// Appended by the store work (storage/database.hpp, actors/store.hpp).

namespace zaki {

/// The token usage of answers of one user, added to the day's counters.
struct usage_record {
  int64_t user_id = 0;
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

/// @relates usage_record
inline bool operator==(const usage_record& x, const usage_record& y) {
  return x.user_id == y.user_id && x.requests == y.requests
    && x.prompt_tokens == y.prompt_tokens
    && x.completion_tokens == y.completion_tokens;
}

/// @relates usage_record
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, usage_record& x) {
  return f(caf::meta::type_name("usage_record"), x.user_id, x.requests,
           x.prompt_tokens, x.completion_tokens);
}

/// One entry of a user's transcript: what they wrote or the final answer.
struct transcript_entry {
  int64_t user_id = 0;
  /// Milliseconds since the epoch.
  int64_t at_ms = 0;
  /// "in" (the user's text) or "out" (the assistant's answer).
  std::string direction;
  std::string text;
  std::string request_id;
};

/// @relates transcript_entry
inline bool operator==(const transcript_entry& x, const transcript_entry& y) {
  return x.user_id == y.user_id && x.at_ms == y.at_ms
    && x.direction == y.direction && x.text == y.text
    && x.request_id == y.request_id;
}

/// @relates transcript_entry
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, transcript_entry& x) {
  return f(caf::meta::type_name("transcript_entry"), x.user_id, x.at_ms,
           x.direction, x.text, x.request_id);
}

/// One page of users, by id; `next_after` continues it (0: the last page).
struct user_page {
  std::vector<user_record> users;
  int64_t next_after = 0;
};

/// @relates user_page
inline bool operator==(const user_page& x, const user_page& y) {
  return x.users == y.users && x.next_after == y.next_after;
}

/// @relates user_page
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_page& x) {
  return f(caf::meta::type_name("user_page"), x.users, x.next_after);
}

// -- Access (issue 23) --------------------------------------------------------

/// One user's access as the store knows it: an explicit decision (status
/// "pending", "approved", "rejected", "revoked" or "" for none) and whether
/// the user has a container record.
struct access_record {
  int64_t user_id = 0;
  std::string status;
  /// The admin who decided (0: none, or the CLI / admin API).
  int64_t decided_by = 0;
  /// Unix seconds of the decision and of the request.
  int64_t decided_at = 0;
  int64_t requested_at = 0;
  bool has_container = false;
};

/// @relates access_record
inline bool operator==(const access_record& x, const access_record& y) {
  return x.user_id == y.user_id && x.status == y.status
    && x.decided_by == y.decided_by && x.decided_at == y.decided_at
    && x.requested_at == y.requested_at && x.has_container == y.has_container;
}

/// @relates access_record
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, access_record& x) {
  return f(caf::meta::type_name("access_record"), x.user_id, x.status,
           x.decided_by, x.decided_at, x.requested_at, x.has_container);
}

using access_list = std::vector<access_record>;

} // namespace zaki
