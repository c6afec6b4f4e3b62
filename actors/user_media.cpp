#include "actors/user_media.hpp"

#include <chrono>
#include <ctime>

#include <caf/all.hpp>

#include "actors/user_reply.hpp"
#include "media/fetch.hpp"
#include "media/file_name.hpp"
#include "media/outbox.hpp"
#include "media/policy.hpp"
#include "messages/peer.hpp"
#include "runtime/io_runtime.hpp"
#include "runtime/logging.hpp"
#include "storage/user_paths.hpp"

namespace zaki {

media_policy policy_of(const service_context& ctx) {
  media_policy p;
  p.groups_mention = ctx.cfg.chat.groups == "mention";
  p.bot_username = ctx.cfg.chat.bot_username;
  p.bot_id = bot_id_of_token(ctx.bot_token);
  p.max_image_bytes = ctx.cfg.media.max_image_bytes;
  p.max_file_bytes = ctx.cfg.media.max_file_bytes;
  return p;
}

namespace {

/// The user's data dir as their container sees it.
std::string container_dir(const service_context& ctx, int64_t user_id) {
  if (!ctx.cfg.media.container_data_dir.empty())
    return ctx.cfg.media.container_data_dir;
  if (ctx.cfg.backend.kind == "docker")
    return ctx.cfg.containers.docker_data_mount;
  return user_data_dir(ctx.cfg.store.data_root, user_id);
}

const char* kind_phrase(inbound_kind k) {
  switch (k) {
    case inbound_kind::audio: return "an audio file";
    case inbound_kind::video: return "a video";
    case inbound_kind::voice: return "a voice note";
    default: return "a document";
  }
}

/// Sends a notice to the current chat; in a group as a reply.
void notice(user_self self, std::string text) {
  auto& msg = *self->state.current;
  outgoing_text out;
  out.chat_id = msg.chat_id;
  out.text = std::move(text);
  out.request_id = msg.request_id;
  if (msg.chat != chat_kind::private_chat)
    out.reply_to = msg.message_id;
  if (auto tg = peer<telegram_actor>(self))
    caf::anon_send(tg, send_atom_v, std::move(out));
}

} // namespace

bool take_edit(user_self self, inbound_message& msg) {
  if (!msg.edited)
    return false;
  auto& st = self->state;
  for (auto& queued : st.queue) {
    if (queued.chat_id == msg.chat_id && queued.message_id == msg.message_id
        && !queued.edited) {
      logger("user")->info("event=edit_applied user={} message_id={} "
                           "request_id={}",
                           st.user_id, msg.message_id, queued.request_id);
      queued.text = std::move(msg.text);
      break;
    }
  }
  // Handled (or not re-sent): the supervisor may forget the update.
  if (auto sup = peer<user_supervisor_actor>(self))
    self->send(sup, done_atom_v, st.user_id, msg.update_id);
  return true;
}

bool handle_media_locally(user_self self) {
  auto& st = self->state;
  auto& msg = *st.current;
  st.media_ready = !carries_file(msg.kind) || msg.is_callback();
  auto policy = policy_of(*st.ctx);
  auto verdict = decide(msg, policy);
  auto log = logger("user");
  if (verdict.action == media_action::ignore) {
    log->info("event=media_ignored user={} kind={} chat={} request_id={}",
              st.user_id, to_string(msg.kind), msg.chat_id, msg.request_id);
    user_finish(self);
    return true;
  }
  if (verdict.action == media_action::notice) {
    bool first = verdict.once_key.empty()
      || st.told.insert(verdict.once_key).second;
    log->info("event=media_notice user={} kind={} chat={} told={} "
              "request_id={}",
              st.user_id, to_string(msg.kind), msg.chat_id, first,
              msg.request_id);
    if (first)
      notice(self, std::move(verdict.text));
    user_finish(self);
    return true;
  }
  if (verdict.in_group) {
    // The group was told that it reads the answers (user_supervisor).
    msg.text = strip_bot_mention(msg.text, policy.bot_username);
    if (msg.text.empty() && !carries_file(msg.kind)) {
      notice(self, "Yes? Write your question after the mention.");
      user_finish(self);
      return true;
    }
  }
  if (carries_file(msg.kind))
    log->info("event=media_received user={} kind={} bytes={} request_id={}",
              st.user_id, to_string(msg.kind), msg.file_size, msg.request_id);
  return false;
}

bool fetch_media(user_self self) {
  auto& st = self->state;
  if (st.media_ready || !st.current)
    return false;
  auto& msg = *st.current;
  fetch_request req;
  req.api_root = st.ctx->cfg.telegram.api_root;
  req.token = st.ctx->bot_token;
  req.file_id = msg.file_id;
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.ctx->cfg.media.download_timeout);
  if (msg.kind == inbound_kind::photo) {
    req.max_bytes = st.ctx->cfg.media.max_image_bytes;
  } else {
    req.max_bytes = st.ctx->cfg.media.max_file_bytes;
    req.save_dir = user_data_dir(st.ctx->cfg.store.data_root, st.user_id)
      + "/inbox";
    req.save_name = inbox_file_name(std::time(nullptr),
                                    sanitize_file_name(msg.file_name, msg.kind,
                                                       msg.mime_type));
    // The user's storage quota covers their whole data dir.
    req.quota_bytes = st.ctx->cfg.containers.storage_mb << 20;
    req.quota_dir = user_data_dir(st.ctx->cfg.store.data_root, st.user_id);
  }
  st.session.phase = user_phase::fetching;
  ++st.seq;
  auto addr = self->address();
  auto seq = st.seq;
  fetch_file(st.ctx->io->context(), st.ctx->tls, std::move(req),
             st.ctx->cfg.media.max_concurrent_downloads,
             [addr, seq](http_result res) {
               if (auto hdl = caf::actor_cast<user_actor>(addr))
                 caf::anon_send(hdl, internal_atom_v, fetched_atom_v, seq,
                                std::move(res));
             });
  return true;
}

void on_fetched(user_self self, uint64_t seq, http_result& res) {
  auto& st = self->state;
  if (!st.current || seq != st.seq || st.session.phase != user_phase::fetching)
    return;
  auto& msg = *st.current;
  auto log = logger("user");
  if (res.status == fetch_status::too_large) {
    log->warn("event=media_too_large user={} kind={} detail={} "
              "request_id={}",
              st.user_id, to_string(msg.kind), log_value(res.error),
              msg.request_id);
    auto limit = msg.kind == inbound_kind::photo
      ? st.ctx->cfg.media.max_image_bytes
      : st.ctx->cfg.media.max_file_bytes;
    notice(self,
           "This file is too large: I can pass on files up to "
             + human_size(limit) + ". Nothing was saved.");
    return user_finish(self);
  }
  if (res.status == fetch_status::over_quota) {
    log->warn("event=media_over_quota user={} kind={} detail={} "
              "request_id={}",
              st.user_id, to_string(msg.kind), log_value(res.error),
              msg.request_id);
    notice(self,
           "Your storage is full: your files use up your "
             + human_size(st.ctx->cfg.containers.storage_mb << 20)
             + ", so this file was not saved. Ask your assistant to delete "
               "files you no longer need, then send it again.");
    return user_finish(self);
  }
  if (res.status == fetch_status::save_failed) {
    log->error("event=media_save_failed user={} error={} request_id={}",
               st.user_id, log_value(res.error), msg.request_id);
    return send_error(self, msg, error_code::media_save_failed, true,
                      res.error);
  }
  if (res.status != 200) {
    log->warn("event=media_fetch_failed user={} kind={} status={} "
              "failure={} error={} request_id={}",
              st.user_id, to_string(msg.kind), res.status,
              to_string(res.failure), log_value(res.error), msg.request_id);
    return send_error(self, msg, error_code::media_download_failed, true,
                      res.error);
  }
  st.media_ready = true;
  log->info("event=media_fetched user={} kind={} bytes={} latency_ms={:.1f} "
            "request_id={}",
            st.user_id, to_string(msg.kind),
            msg.kind == inbound_kind::photo
              ? static_cast<int64_t>(res.body.size())
              : msg.file_size,
            res.latency_us / 1000.0, msg.request_id);
  if (msg.kind == inbound_kind::photo) {
    if (res.body.empty()) {
      notice(self,
             "The picture you sent is empty (0 bytes), so I could not "
             "read it.");
      if (msg.text.empty())
        return user_finish(self);
    } else {
      st.image_url = "data:image/jpeg;base64," + base64_encode(res.body);
    }
  } else {
    auto path = container_dir(*st.ctx, st.user_id) + "/inbox/" + res.body;
    std::string text = "[The user sent you ";
    text += kind_phrase(msg.kind);
    if (!msg.file_name.empty())
      text += " \"" + sanitize_file_name(msg.file_name, msg.kind, "") + "\"";
    if (msg.file_size > 0)
      text += " (" + human_size(static_cast<uint64_t>(msg.file_size)) + ")";
    text += ". It is saved at " + path + ".]";
    if (!msg.text.empty())
      text += "\n" + msg.text;
    msg.text = std::move(text);
  }
  user_media_continue(self);
}

void apply_image(user_self self, http_request_spec& req, bool stream) {
  auto& st = self->state;
  if (st.image_url.empty())
    return;
  req.body = encode_image_request(st.ctx->cfg.gateway.model, st.user_id,
                                  st.current->text, st.image_url, stream);
}

bool image_refused(user_self self, const http_result& res,
                   const gateway_answer& answer) {
  auto& st = self->state;
  if (st.image_url.empty() || res.status != 400)
    return false;
  logger("user")->warn("event=image_refused user={} error={} request_id={}",
                       st.user_id, log_value(answer.error_message),
                       st.current->request_id);
  st.image_url.clear();
  notice(self,
         "Your assistant could not read the picture, so it only got "
         "your caption.");
  if (st.current->text.empty())
    st.current->text = "(The user sent a picture that could not be read.)";
  return true;
}

std::string send_answer_files(user_self self, std::string answer) {
  if (answer.find("](file:") == std::string::npos)
    return answer;
  auto& st = self->state;
  auto& msg = *st.current;
  std::string text;
  auto links = extract_file_links(answer, text);
  auto dir = user_data_dir(st.ctx->cfg.store.data_root, st.user_id);
  auto tg = peer<telegram_actor>(self);
  auto log = logger("user");
  for (auto& link : links) {
    std::string why;
    auto path = resolve_user_file(dir, link.path, why);
    auto name = sanitize_file_name(link.path.substr(link.path.rfind('/') + 1),
                                   inbound_kind::document, "");
    if (path.empty()) {
      log->warn("event=answer_file_refused user={} path={} reason={} "
                "request_id={}",
                st.user_id, log_value(link.path), log_value(why),
                msg.request_id);
      notice(self, "I could not send the file " + name + ": " + why + ".");
      continue;
    }
    log->info("event=answer_file user={} file={} request_id={}", st.user_id,
              log_value(name), msg.request_id);
    auto chat = msg.chat_id;
    auto request_id = msg.request_id;
    send_document(
      st.ctx->io->context(), st.ctx->tls, st.ctx->cfg.telegram.api_root,
      st.ctx->bot_token, chat, path, name, uint64_t{50} << 20,
      std::chrono::duration_cast<std::chrono::milliseconds>(
        st.ctx->cfg.media.download_timeout),
      [tg, chat, name, request_id](http_result res) {
        // Runs on an I/O thread: logs and sends messages only.
        if (res.ok()) {
          logger("user")->info("event=answer_file_sent file={} request_id={}",
                               log_value(name), request_id);
          return;
        }
        logger("user")->warn("event=answer_file_failed file={} status={} "
                             "error={} request_id={}",
                             log_value(name), res.status, log_value(res.error),
                             request_id);
        outgoing_text out;
        out.chat_id = chat;
        out.request_id = request_id;
        out.text = "I could not send the file " + name
          + (res.status == 413 ? ": it is larger than 50 MB."
                               : ". Ask your assistant again.");
        if (tg)
          caf::anon_send(tg, send_atom_v, std::move(out));
      });
  }
  return text;
}

void reset_media(user_self self) {
  self->state.image_url.clear();
  self->state.media_ready = false;
}

} // namespace zaki
