#pragma once

#include <cstdint>
#include <string>

#include "actors/user.hpp"
#include "chat/error_catalogue.hpp"
#include "gateway/codec.hpp"

namespace zaki {

// The streaming path of a user actor (issue 22): the gateway's SSE answer
// arrives as deltas, which go on to the telegram actor as they come (the
// telegram actor's edit loop shows them growing), and the end of the
// exchange either completes the stream or keeps its text and reports the
// failure. Split from user.cpp so the per-message flow stays readable.

using user_self = user_actor::stateful_pointer<user_state>;

/// Returns whether the answers of this user actor are streamed.
bool streaming_enabled(const user_self& self);

/// Makes `req` a streamed request of the current message (body, body
/// callback, idle timeout) for gateway call `seq`.
void prepare_stream_request(user_self self, http_request_spec& req,
                            uint64_t seq);

/// A delta of the streamed answer of call `seq` arrived.
void on_stream_delta(user_self self, uint64_t seq, std::string& delta);

/// Classifies the finished exchange of the current call (streamed or not).
gateway_answer classify_current(user_self self, http_result& res);

/// Returns whether text of the current answer reached Telegram already: a
/// failure is then not retried silently.
bool stream_shown(const user_self& self);

/// Completes a shown stream with the whole answer, then finishes.
void finish_stream(user_self self, gateway_answer answer);

/// Puts the complete answer `text` into the preview a previous run showed
/// (`current->preview_message_id`), then finishes.
void finish_into_preview(user_self self, std::string text);

/// The telegram actor sent the preview of `request_id` as `message_id`:
/// journaled, so a replay edits it instead of sending a new message.
void on_preview_sent(user_self self, const std::string& request_id,
                     int64_t message_id);

/// Keeps the shown text (marked as failed), then sends the error `code`
/// with Retry and finishes.
void fail_stream(user_self self, error_code code);

/// Returns the catalogue code of a failed exchange (an error event under
/// HTTP 200 counts as the gateway error it reports).
error_code stream_failure_code(user_self self, const http_result& res,
                               const gateway_answer& answer);

/// Takes a Stop press or /stop before the queue: the answer it stops is
/// the message in flight. Returns whether `msg` was taken.
bool intercept_stop(user_self self, const inbound_message& msg);

/// Forgets the stream of the previous call (a new attempt or message).
void reset_stream(user_self self);

} // namespace zaki
