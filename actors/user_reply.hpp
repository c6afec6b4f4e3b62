#pragma once

#include <string>

#include "actors/user.hpp"
#include "messages/errors.hpp"
#include "runtime/gateway_codec.hpp"

namespace zaki {

// What a user actor sends back to its chat: answers, actionable errors,
// command replies. Split from user.cpp so the gateway flow stays readable.

using user_self = user_actor::stateful_pointer<user_state>;

/// Reports the current message as handled and starts the next one.
void user_finish(user_self self);

/// Sends the gateway's answer, then finishes the message.
void reply_with_answer(user_self self, std::string text);

/// Tells the user why the gateway gave no answer, then finishes.
void reply_with_failure(user_self self, gateway_outcome outcome,
                        http_failure failure);

/// Tells the user that no assistant is set up for them, then finishes.
void reply_not_provisioned(user_self self);

/// Tells the user that their container cannot take the message now.
void reply_container_error(user_self self, errc code);

/// Tells the user that their assistant is being set up (no finish).
void send_setup_notice(user_self self);

/// Tells the user that their queue is full; `msg` is not queued.
void reply_queue_full(user_self self, const inbound_message& msg);

/// Tells the user about an internal error, then finishes.
void reply_internal_error(user_self self, const std::string& why);

/// Handles commands and button presses that need no gateway; returns
/// whether the current message was taken care of.
bool handle_locally(user_self self);

/// Returns the status node of a user actor.
status_node user_status(user_self self);

} // namespace zaki
