#pragma once

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/type_id.hpp>

#include "messages/types.hpp"

// One type ID block for every message type of zaki-router. Atom texts stay
// within 10 characters and use only [A-Za-z0-9_] (CAF 0.17 maps anything
// else to a space).

CAF_BEGIN_TYPE_ID_BLOCK(zaki, caf::first_custom_type_id)

  CAF_ADD_TYPE_ID(zaki, (zaki::inbound_message))
  CAF_ADD_TYPE_ID(zaki, (zaki::inbound_batch))
  CAF_ADD_TYPE_ID(zaki, (zaki::user_record))
  CAF_ADD_TYPE_ID(zaki, (zaki::user_lookup))
  CAF_ADD_TYPE_ID(zaki, (zaki::outgoing_text))
  CAF_ADD_TYPE_ID(zaki, (zaki::http_result))
  CAF_ADD_TYPE_ID(zaki, (zaki::status_node))
  CAF_ADD_TYPE_ID(zaki, (zaki::stream_update))

CAF_END_TYPE_ID_BLOCK(zaki)

namespace zaki::atom {

// -- Generic atoms (CAF's built-ins, re-exported) ----------------------------
using get = caf::get_atom;
using put = caf::put_atom;
using ok = caf::ok_atom;
using tick = caf::tick_atom;
using timeout = caf::timeout_atom;
using reset = caf::reset_atom;

} // namespace zaki::atom

// -- Routing -------------------------------------------------------------------
CAF_ADD_ATOM(zaki, zaki, route_atom, "route")
CAF_ADD_ATOM(zaki, zaki, done_atom, "done")
CAF_ADD_ATOM(zaki, zaki, held_atom, "held")
CAF_ADD_ATOM(zaki, zaki, drain_atom, "drain")
CAF_ADD_ATOM(zaki, zaki, crash_atom, "crash")

// -- Life cycle ----------------------------------------------------------------
CAF_ADD_ATOM(zaki, zaki, status_atom, "status")
CAF_ADD_ATOM(zaki, zaki, shutdown_atom, "shutdown")
CAF_ADD_ATOM(zaki, zaki, restart_atom, "restart")
CAF_ADD_ATOM(zaki, zaki, stop_atom, "stop")
CAF_ADD_ATOM(zaki, zaki, reload_atom, "reload")
CAF_ADD_ATOM(zaki, zaki, remove_atom, "remove")

// -- Containers ----------------------------------------------------------------
CAF_ADD_ATOM(zaki, zaki, ensure_atom, "ensure")
CAF_ADD_ATOM(zaki, zaki, container_atom, "container")
CAF_ADD_ATOM(zaki, zaki, probe_atom, "probe")

// -- Telegram ------------------------------------------------------------------
CAF_ADD_ATOM(zaki, zaki, send_atom, "send")
CAF_ADD_ATOM(zaki, zaki, chat_action_atom, "chatAction")
CAF_ADD_ATOM(zaki, zaki, answer_atom, "answer")
CAF_ADD_ATOM(zaki, zaki, delete_atom, "delete")
CAF_ADD_ATOM(zaki, zaki, poll_atom, "poll")
CAF_ADD_ATOM(zaki, zaki, confirm_atom, "confirm")

// -- Internal continuations (timers, I/O completions) ---------------------------
CAF_ADD_ATOM(zaki, zaki, internal_atom, "internal")
CAF_ADD_ATOM(zaki, zaki, http_done_atom, "httpDone")
CAF_ADD_ATOM(zaki, zaki, retry_atom, "retry")
CAF_ADD_ATOM(zaki, zaki, typing_atom, "typing")
CAF_ADD_ATOM(zaki, zaki, lock_atom, "lock")
CAF_ADD_ATOM(zaki, zaki, journal_atom, "journal")

namespace zaki {

using caf::get_atom;
using caf::get_atom_v;
using caf::ok_atom;
using caf::ok_atom_v;
using caf::put_atom;
using caf::put_atom_v;
using caf::tick_atom;
using caf::tick_atom_v;
using caf::timeout_atom;
using caf::timeout_atom_v;

/// Names under which the long-lived actors are found in CAF's registry.
/// Handles change when the root supervisor restarts a child, so actors look
/// their peers up by name instead of caching a handle.
namespace names {

constexpr caf::atom_value root = caf::atom("root");
constexpr caf::atom_value store = caf::atom("store");
constexpr caf::atom_value telegram = caf::atom("telegram");
constexpr caf::atom_value poller = caf::atom("poller");
constexpr caf::atom_value user_supervisor = caf::atom("usersup");
constexpr caf::atom_value provisioner = caf::atom("provision");
constexpr caf::atom_value health = caf::atom("health");
constexpr caf::atom_value admin = caf::atom("admin");

} // namespace names

} // namespace zaki

// -- Containers: backends, provisioner, health supervisor -----------------------
// (appended by the containers work; see actors/provisioner.hpp)
CAF_ADD_ATOM(zaki, zaki, start_atom, "start")
CAF_ADD_ATOM(zaki, zaki, inspect_atom, "inspect")
CAF_ADD_ATOM(zaki, zaki, list_atom, "list")
CAF_ADD_ATOM(zaki, zaki, exited_atom, "exited")
CAF_ADD_ATOM(zaki, zaki, watch_atom, "watch")
CAF_ADD_ATOM(zaki, zaki, unwatch_atom, "unwatch")
CAF_ADD_ATOM(zaki, zaki, recover_atom, "recover")
CAF_ADD_ATOM(zaki, zaki, event_atom, "event")
CAF_ADD_ATOM(zaki, zaki, idle_check_atom, "idleCheck")
CAF_ADD_ATOM(zaki, zaki, adopt_atom, "adopt")

// -- Admin ---------------------------------------------------------------------
// (appended by the admin work; see actors/admin.hpp)
CAF_ADD_ATOM(zaki, zaki, register_atom, "register")
CAF_ADD_ATOM(zaki, zaki, ready_atom, "ready")
CAF_ADD_ATOM(zaki, zaki, http_req_atom, "httpReq")
CAF_ADD_ATOM(zaki, zaki, port_atom, "port")

// -- Streamed answers ------------------------------------------------------------
// (appended by the streaming work; see telegram/stream_edit.hpp)
CAF_ADD_ATOM(zaki, zaki, stream_atom, "stream")
// -- Store ---------------------------------------------------------------------
// (appended by the store work; see actors/store.hpp)
CAF_ADD_ATOM(zaki, zaki, usage_atom, "usage")
CAF_ADD_ATOM(zaki, zaki, transcript_atom, "transcript")
CAF_ADD_ATOM(zaki, zaki, forget_atom, "forget")
CAF_ADD_ATOM(zaki, zaki, import_atom, "import")
CAF_ADD_ATOM(zaki, zaki, export_atom, "export")
CAF_ADD_ATOM(zaki, zaki, flush_usage_atom, "flushUsage")
// -- Media ---------------------------------------------------------------------
// (appended by the media work; see actors/user_media.hpp)
CAF_ADD_ATOM(zaki, zaki, fetched_atom, "fetched")
// -- Access ----------------------------------------------------------------------
// (appended by the access work; see actors/access.hpp)
CAF_ADD_ATOM(zaki, zaki, access_atom, "access")
CAF_ADD_ATOM(zaki, zaki, admit_atom, "admit")
CAF_ADD_ATOM(zaki, zaki, decide_atom, "decide")
CAF_ADD_ATOM(zaki, zaki, press_atom, "press")
CAF_ADD_ATOM(zaki, zaki, edit_atom, "edit")
CAF_ADD_ATOM(zaki, zaki, commands_atom, "commands")
