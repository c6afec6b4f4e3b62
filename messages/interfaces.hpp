#pragma once

#include <memory>

#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/atoms.hpp"

namespace zaki {

/// The STATUS interface: every actor answers it, so the admin actor can walk
/// the supervisor tree by asking each actor (supervisors ask their children).
using status_client_actor = caf::typed_actor<
  // Reports this actor (and, for supervisors, its subtree).
  caf::replies_to<status_atom>::with<status_node>>;

/// A continuation of the store's database worker, run inside the store
/// actor (local only: it carries response promises).
struct store_reply;

/// A handle on a `store_reply`, sent as a message.
using store_reply_ptr = std::shared_ptr<store_reply>;

/// The STORE actor interface: users, usage and transcripts in the SQLite
/// database; users.json is imported from and exported to.
using store_actor = caf::typed_actor<
  // Looks up one user.
  caf::replies_to<get_atom, int64_t>::with<user_lookup>,
  // Adds or replaces a user (committed when the answer is true).
  caf::replies_to<put_atom, user_record>::with<bool>,
  // Removes a user with their transcript.
  caf::replies_to<remove_atom, int64_t>::with<bool>,
  // Re-imports users.json (SIGHUP); keeps the users on any error.
  caf::replies_to<reload_atom>::with<uint64_t>,
  // Pages through users: status ("" any), limit, after id.
  caf::replies_to<list_atom, std::string, uint32_t, int64_t>::with<user_page>,
  // Adds the token usage of answers (batched, kept in memory on failure).
  caf::reacts_to<usage_atom, usage_record>,
  // Both at once for one exchange: its usage, the question and the answer
  // (one message to the store per answer instead of three).
  caf::reacts_to<usage_atom, usage_record, transcript_entry, transcript_entry>,
  // Appends a transcript entry (the user's text or the final answer).
  caf::replies_to<transcript_atom, transcript_entry>::with<bool>,
  // Deletes a user's transcript; answers the number of entries removed.
  caf::replies_to<forget_atom, int64_t>::with<uint64_t>,
  // Imports a users.json file; answers the number of users imported.
  caf::replies_to<import_atom, std::string>::with<uint64_t>,
  // Exports the users to a users.json file; answers the number written.
  caf::replies_to<export_atom, std::string>::with<uint64_t>,
  // Answers whether the database takes writes, and why not.
  caf::replies_to<ready_atom>::with<bool, std::string>,
  // A completion of the database worker, run in the actor.
  caf::reacts_to<internal_atom, done_atom, store_reply_ptr>,
  // Flush timer of the usage counters.
  caf::reacts_to<internal_atom, flush_usage_atom>,
  // A user's usage from day to day (YYYY-MM-DD, inclusive), for /usage.
  caf::replies_to<usage_atom, int64_t, std::string,
                  std::string>::with<usage_record>,
  // Access (issue 23): one user's decision, recording one, listing them.
  caf::replies_to<access_atom, int64_t>::with<access_record>,
  caf::replies_to<access_atom, access_record>::with<bool>,
  caf::replies_to<access_atom, list_atom, std::string, uint32_t>::with<
    access_list>>::extend_with<status_client_actor>;

/// The TELEGRAM actor interface: every outbound Bot API call.
using telegram_actor = caf::typed_actor<
  // Splits, paces and sends a text; answers the last message id.
  caf::replies_to<send_atom, outgoing_text>::with<int64_t>,
  // Shows a chat action ("typing") in a chat; best effort.
  caf::reacts_to<chat_action_atom, int64_t, std::string>,
  // Answers a callback query with a short toast.
  caf::replies_to<answer_atom, std::string, std::string>::with<bool>,
  // Deletes a message of the bot.
  caf::replies_to<delete_atom, int64_t, int64_t>::with<bool>,
  // Replaces the HTML text of a message of the bot and drops its buttons.
  caf::replies_to<edit_atom, int64_t, int64_t, std::string>::with<bool>,
  // Replaces the HTML text and the buttons (reply_markup JSON) of a
  // message of the bot (an operator's paged listing).
  caf::replies_to<edit_atom, int64_t, int64_t, std::string,
                  std::string>::with<bool>,
  // setMyCommands: (scope JSON, commands JSON); answers whether it took.
  caf::replies_to<commands_atom, std::string, std::string>::with<bool>,
  // Completion of an HTTP request, sent from the I/O threads.
  caf::reacts_to<internal_atom, http_done_atom, uint64_t, http_result>,
  // Pacing timer: sends what the rate limits allow now.
  caf::reacts_to<internal_atom, tick_atom>,
  // Text of a streamed answer so far (a delta); shown as a growing preview.
  caf::reacts_to<stream_atom, stream_update>,
  // The end of a streamed answer; answers once the final text is delivered
  // (the id of its last message).
  caf::replies_to<stream_atom, done_atom, stream_update>::with<int64_t>,
  // The first text of a streamed answer; answers once its first preview is
  // shown, or the stream ended without one ("typing" runs until then).
  caf::replies_to<stream_atom, chat_action_atom, stream_update>::with<
    int64_t>>::extend_with<status_client_actor>;

/// The USER actor interface: one per Telegram user, owns the gateway
/// connection and the session lock; its queue serializes the user's messages.
using user_actor = caf::typed_actor<
  // Queues one message of this user.
  caf::reacts_to<route_atom, inbound_message>,
  // The user's access changed (approved, rejected, revoked).
  caf::reacts_to<access_atom, std::string>,
  // Fault injection for tests and operators: crash now.
  caf::reacts_to<crash_atom>,
  // The user's container changed state (running, starting, restarting,
  // down, failed), from the health supervisor via the user supervisor.
  caf::reacts_to<container_atom, std::string>,
  // Completion of a gateway request, sent from the I/O threads.
  caf::reacts_to<internal_atom, http_done_atom, uint64_t, http_result>,
  // Backoff timer: tries the gateway again.
  caf::reacts_to<internal_atom, retry_atom, uint64_t>,
  // Refreshes the "typing" action while the gateway works.
  caf::reacts_to<internal_atom, typing_atom, uint64_t>,
  // Retry timer of the session lock.
  caf::reacts_to<internal_atom, lock_atom, uint64_t>,
  // Text of a streamed gateway answer (a delta), from the I/O threads.
  caf::reacts_to<internal_atom, stream_atom, uint64_t, std::string>,
  // A photo or file of the current message was fetched (or not), from the
  // I/O threads (actors/user_media.hpp).
  caf::reacts_to<internal_atom, fetched_atom, uint64_t, http_result>,
  // The telegram actor sent the preview of a streamed answer (request id,
  // message id), asked for by `stream_update::report_preview`.
  caf::reacts_to<stream_atom, std::string,
                 int64_t>>::extend_with<status_client_actor>;

/// The USER_SUPERVISOR actor interface: spawns user actors lazily, routes by
/// user id, restarts crashed ones and replays their unfinished messages.
using user_supervisor_actor = caf::typed_actor<
  // Takes over a batch of decoded updates; answers once they are recorded.
  caf::replies_to<route_atom, inbound_batch>::with<ok_atom>,
  // A user actor finished a message (update id).
  caf::reacts_to<done_atom, int64_t, int64_t>,
  // A user actor holds a message until an admin decides about the user
  // (user id, update id): it stays in the journal (a restart replays it)
  // but no longer holds up a shutdown.
  caf::reacts_to<held_atom, int64_t, int64_t>,
  // Waits for in-flight work (bounded); answers the lowest unfinished
  // update id, or 0 when everything is done.
  caf::replies_to<drain_atom, caf::timespan>::with<int64_t>,
  // Crashes a user's actor (fault injection, admin).
  caf::replies_to<crash_atom, int64_t>::with<bool>,
  // Stops a user's actor; it is spawned again by the next message.
  caf::replies_to<stop_atom, int64_t>::with<bool>,
  // Reports one user's actor.
  caf::replies_to<status_atom, int64_t>::with<status_node>,
  // Forwards a container state change to the user's actor (if running).
  caf::reacts_to<container_atom, int64_t, std::string>,
  // Forwards an access change to the user's actor (if running).
  caf::reacts_to<access_atom, int64_t, std::string>,
  // Backoff timer of a user actor's restart.
  caf::reacts_to<internal_atom, restart_atom, int64_t>,
  // Checks drain deadlines.
  caf::reacts_to<internal_atom, drain_atom>,
  // A batch is on disk (inbox journal): route it and confirm it.
  caf::reacts_to<internal_atom, journal_atom, uint64_t>,
  // Records the gateway's answer of a message (user id, update id, answer)
  // in the journal; answers once it is written, before it goes to Telegram.
  caf::replies_to<journal_atom, int64_t, int64_t, std::string>::with<ok_atom>,
  // Telegram confirmed the first n chunks of a message's answer (user id,
  // update id, n).
  caf::reacts_to<journal_atom, int64_t, int64_t, uint32_t>,
  // The streamed preview of a message is message id m (user id, update id,
  // m).
  caf::reacts_to<journal_atom, stream_atom, int64_t, int64_t,
                 int64_t>>::extend_with<status_client_actor>;

/// The POLLER actor interface: getUpdates long poll.
using poller_actor = caf::typed_actor<
  // Completion of an HTTP request, sent from the I/O threads.
  caf::reacts_to<internal_atom, http_done_atom, uint64_t, http_result>,
  // Starts the next long poll (after a backoff).
  caf::reacts_to<internal_atom, poll_atom>,
  // Stops polling; answers the next offset (highest update id seen + 1).
  caf::replies_to<stop_atom>::with<int64_t>,
  // Confirms updates below the offset with a final getUpdates.
  caf::replies_to<confirm_atom,
                  int64_t>::with<bool>>::extend_with<status_client_actor>;

/// The PROVISIONER actor interface: owns the container backend. With the
/// static backend it only looks users up in the store.
using provisioner_actor = caf::typed_actor<
  // Answers the user's record once their container is up and ready:
  // provisions a new user or starts a stopped container first, and holds
  // the answer while the container restarts (bounded). Fails with a zaki
  // errc (not_provisioned, container_failed, capacity_exhausted, ...).
  caf::replies_to<ensure_atom, int64_t>::with<user_record>,
  // Restarts a user's container (admin action, health supervisor).
  caf::replies_to<restart_atom, int64_t>::with<bool>,
  // Stops a user's container (idle stop, admin action).
  caf::replies_to<stop_atom, int64_t>::with<bool>,
  // Removes a user: container, data dir, users.json entry (admin action).
  caf::replies_to<remove_atom,
                  int64_t>::with<bool>>::extend_with<status_client_actor>;

/// The ROOT supervisor interface.
using root_actor = caf::typed_actor<
  // Orderly shutdown: stop polling, drain, confirm, stop children.
  caf::reacts_to<shutdown_atom>,
  // Backoff timer of a child's restart.
  caf::reacts_to<internal_atom, restart_atom,
                 std::string>>::extend_with<status_client_actor>;

} // namespace zaki

CAF_BEGIN_TYPE_ID_BLOCK(zaki_actors, caf::id_block::zaki::end)

  CAF_ADD_TYPE_ID(zaki_actors, (zaki::store_actor))
  CAF_ADD_TYPE_ID(zaki_actors, (zaki::telegram_actor))
  CAF_ADD_TYPE_ID(zaki_actors, (zaki::user_actor))
  CAF_ADD_TYPE_ID(zaki_actors, (zaki::user_supervisor_actor))
  CAF_ADD_TYPE_ID(zaki_actors, (zaki::poller_actor))
  CAF_ADD_TYPE_ID(zaki_actors, (zaki::root_actor))
  CAF_ADD_TYPE_ID(zaki_actors, (zaki::provisioner_actor))

CAF_END_TYPE_ID_BLOCK(zaki_actors)

// -- Containers -------------------------------------------------------------------
// Appended by the containers work (actors/provisioner.*, actors/health_
// supervisor.*, runtime/backends/*). Existing interfaces are unchanged.

namespace zaki {

/// The HEALTH_SUPERVISOR actor interface: probes every watched container
/// (startup, liveness, readiness), restarts failed ones through the
/// provisioner and reports state changes to the user supervisor.
using health_actor = caf::typed_actor<
  // Watches a container from its start: runs the startup probe and answers
  // once it passed (or fails with container_starting after the grace).
  // `fresh` resets the restart history (new start, admin restart).
  caf::replies_to<watch_atom, int64_t, std::string, uint16_t, bool>::with<bool>,
  // Stops watching a container (idle stop, removal).
  caf::reacts_to<unwatch_atom, int64_t>,
  // The container exited (exit code, OOM kill, detail), from the backend.
  caf::reacts_to<exited_atom, int64_t, int32_t, bool, std::string>,
  // Probe timer of one container (user, generation).
  caf::reacts_to<internal_atom, probe_atom, int64_t, uint64_t>,
  // Completion of a probe request, sent from the I/O threads.
  caf::reacts_to<internal_atom, http_done_atom, uint64_t, http_result>,
  // Backoff timer of a restart (user, generation).
  caf::reacts_to<internal_atom, restart_atom, int64_t,
                 uint64_t>>::extend_with<status_client_actor>;

/// The full interface of the provisioner actor: the public
/// provisioner_actor plus the messages of its peers and timers.
using provisioner_impl_actor = provisioner_actor::extend<
  // A state change of a container, from the health supervisor.
  caf::reacts_to<container_atom, int64_t, std::string>,
  // Restarts a container after a failure (health supervisor): unlike an
  // admin restart it keeps the restart history.
  caf::replies_to<recover_atom, int64_t>::with<bool>,
  // Periodic check for idle containers.
  caf::reacts_to<internal_atom, idle_check_atom>,
  // Adopts containers that survived a router restart (start-up).
  caf::reacts_to<internal_atom, adopt_atom>>;

} // namespace zaki

// -- Admin ---------------------------------------------------------------------
// Appended by the admin work (actors/admin*.{hpp,cpp}). Existing interfaces
// are unchanged.

#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>

namespace zaki {

/// One admin HTTP request on its way from the I/O threads to the admin actor
/// (actors/admin_http.hpp). Local only: it carries the connection's
/// responder.
struct admin_exchange;

/// A handle on an `admin_exchange`, sent as a message.
using admin_exchange_ptr = std::shared_ptr<admin_exchange>;

/// A custom READINESS CHECK: any actor that must be ready before the router
/// takes traffic implements this and registers itself with the admin actor
/// (`register_atom`). /health/ready asks every registered check, in
/// parallel, with a deadline; no answer counts as not ready.
using readiness_check_actor = caf::typed_actor<
  // Answers whether the actor is ready, and a short reason for operators.
  caf::replies_to<ready_atom>::with<bool, std::string>>;

/// The ADMIN actor interface: runs the admin HTTP server.
using admin_actor = caf::typed_actor<
  // Registers (or replaces) the readiness check `name`. The admin monitors
  // the check and forgets it when it terminates; a restarted actor
  // registers again.
  caf::reacts_to<register_atom, std::string, readiness_check_actor>,
  // Answers the bound port of the admin HTTP server (0: not listening).
  caf::replies_to<get_atom, port_atom>::with<uint16_t>,
  // One HTTP request, sent from the I/O threads.
  caf::reacts_to<internal_atom, http_req_atom,
                 admin_exchange_ptr>>::extend_with<status_client_actor>;

} // namespace zaki

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(zaki::admin_exchange_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(zaki::store_reply_ptr)

// -- Access ----------------------------------------------------------------------
// Appended by the access work (issue 23; actors/access.*).

namespace zaki {

/// The ACCESS actor interface: who may use the bot. Decides about every
/// user's first message, keeps the pending list, asks the admins and
/// carries out their decisions.
using access_actor = caf::typed_actor<
  // Decides about a message of (user, chat): "admit", "hold" (kept until
  // an admin decides) or "refused" (the user was told why).
  caf::replies_to<admit_atom, int64_t, int64_t>::with<std::string>,
  // An admin's (or the CLI's, by 0) decision: (user, action, by) with the
  // action approve, reject, revoke or purge; answers what happened.
  caf::replies_to<decide_atom, int64_t, std::string,
                  int64_t>::with<std::string>,
  // An Approve/Reject button: (admin, approve?, nonce); answers the toast.
  caf::replies_to<press_atom, int64_t, bool, std::string>::with<std::string>,
  // Lists decisions of a status ("" any, "pending", ...).
  caf::replies_to<list_atom, std::string>::with<access_list>>::
  extend_with<status_client_actor>;

namespace names {

constexpr caf::atom_value access = caf::atom("access");

} // namespace names

} // namespace zaki
