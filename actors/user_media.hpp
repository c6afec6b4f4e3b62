#pragma once

#include "actors/user.hpp"
#include "gateway/codec.hpp"
#include "media/policy.hpp"

namespace zaki {

// Photos, files, unreadable kinds, edits and group chats in a user actor
// (issue 25). The decisions are media/policy.hpp; this file wires them into
// the user's queue: a photo or file is fetched when its message becomes
// current, so a text-photo-text burst keeps its order.

using user_self = user_actor::stateful_pointer<user_state>;

/// The settings of the media decisions (media/policy.hpp).
media_policy policy_of(const service_context& ctx);

/// Takes an edit on arrival: the queued original gets the new text; an edit
/// of anything else is dropped (never re-sent). Returns whether `msg` was
/// an edit.
bool take_edit(user_self self, inbound_message& msg);

/// Handles the current message when the assistant must not see it: group
/// messages (by chat.groups), kinds it cannot read (a notice once per kind)
/// and files over the limit. Returns whether it was taken care of.
bool handle_media_locally(user_self self);

/// Starts fetching the current message's photo or file, unless done;
/// returns whether a fetch is now under way (the actor continues on
/// `on_fetched`).
bool fetch_media(user_self self);

/// The fetch of sequence `seq` ended: the photo becomes an image part, a
/// file is described to the assistant, a failure an actionable error.
void on_fetched(user_self self, uint64_t seq, http_result& res);

/// Puts the current photo into the gateway request, if there is one.
void apply_image(user_self self, http_request_spec& req, bool stream);

/// The gateway refused a request with an image (400): drops the picture,
/// tells the user, and returns true so that the caller asks again with
/// the caption alone.
bool image_refused(user_self self, const http_result& res,
                   const gateway_answer& answer);

/// Goes on with the current message once its file is in (defined in
/// user.cpp): the session lock, then the gateway.
void user_media_continue(user_self self);

/// Sends the files an answer names with `[label](file:path)` as documents
/// (sendDocument, up to 50 MB; paths outside the user's data dir are
/// refused with a notice) and returns the answer with each link replaced by
/// its label.
std::string send_answer_files(user_self self, std::string answer);

/// Resets the media state of a finished message.
void reset_media(user_self self);

} // namespace zaki
