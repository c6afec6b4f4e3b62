#pragma once

#include <functional>
#include <string>

#include "actors/user.hpp"
#include "chat/callback_data.hpp"
#include "chat/error_catalogue.hpp"
#include "gateway/codec.hpp"
#include "messages/errors.hpp"

namespace zaki {

// What a user actor sends back to its chat: answers and actionable errors.
// Every error goes through `send_error`, which renders the catalogue entry
// (Telegram HTML with its buttons, the plain-text fallback, the JSON for the
// log) and keeps the original text on disk for the Retry button. Split from
// user.cpp so the gateway flow stays readable.

using user_self = user_actor::stateful_pointer<user_state>;

/// Reports the current message as handled and starts the next one.
void user_finish(user_self self);

/// Returns the catalogue code for a gateway exchange that gave no answer:
/// transport failures by kind (timeout, refused or dropped connection),
/// HTTP errors by classify_gateway_error(status, error.type), an OpenClaw
/// session lock that stayed locked as a lock timeout.
error_code gateway_failure_code(const http_result& res,
                                const gateway_answer& answer);

/// Sends the catalogue message of `code` about `msg` to its chat: HTML with
/// code, request id and buttons, the plain rendering as fallback, and one
/// log line with the JSON rendering. For codes with a Retry button the
/// original text is saved first (retry_store). Finishes the current message
/// once Telegram has it when `finish` is set.
void send_error(user_self self, const inbound_message& msg, error_code code,
                bool finish, std::string detail = {});

/// Sends the gateway's answer (Markdown, converted and split), then
/// finishes the message.
void reply_with_answer(user_self self, std::string text);

/// Records `text`, the gateway's answer of the current message, in the
/// inbox journal (through the supervisor), then runs `then` unless the
/// message was given up meanwhile.
void journal_answer_then(user_self self, const std::string& text,
                         std::function<void()> then);

/// Sends a complete answer of the current message: into the preview a
/// previous run showed when there is one, else as new messages (only the
/// chunks not confirmed before), then finishes.
void deliver_answer(user_self self, std::string text);

/// Re-sends the answer recorded for the current message (a replay after a
/// crash) without asking the gateway again.
void replay_answer(user_self self);

/// Tells the user why the gateway gave no answer, then finishes.
void reply_with_failure(user_self self, error_code code);

/// Tells the user that no assistant is set up for them, then finishes.
void reply_not_provisioned(user_self self);

/// Tells the user that their container cannot take the message now.
void reply_container_error(user_self self, errc code);

/// Tells the user that their assistant is being set up (no finish).
void send_setup_notice(user_self self);

/// Tells the user that the assistant is still working on the current
/// message (after `gateway.notice-after`).
void send_working_notice(user_self self);

/// Tells the user that their queue is full; `msg` is not queued.
void reply_queue_full(user_self self, const inbound_message& msg);

/// Tells the user about an internal error, then finishes.
void reply_internal_error(user_self self, const std::string& why);

/// Sends a plain or HTML text to the current chat and finishes the current
/// message once Telegram has it.
void send_and_finish(user_self self, outgoing_text out);

/// Sends a text to `chat_id` without waiting (command replies after the
/// message finished).
void send_text(user_self self, int64_t chat_id, std::string text,
               const std::string& request_id, bool html = false,
               std::string reply_markup = {});

/// Answers the callback query `callback_id` with the toast of `reply`.
void answer_callback(user_self self, const std::string& callback_id,
                     callback_reply reply, const std::string& request_id);

/// Handles commands and button presses that need no gateway; returns
/// whether the current message was taken care of (defined in
/// user_commands.cpp).
bool handle_locally(user_self self);

/// Returns the status node of a user actor.
status_node user_status(user_self self);

} // namespace zaki
