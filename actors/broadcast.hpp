#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "messages/interfaces.hpp"
#include "messages/peer.hpp"
#include "runtime/logging.hpp"

namespace zaki {

// A broadcast (issue 23): one text to every approved user, sent through the
// telegram actor, whose global bucket paces it within Telegram's limits.
// Run by an admin's user actor (/broadcast, with a progress message edited
// as it goes) and by the admin actor (POST /admin/broadcast, counted in the
// log); a template over the running actor so both share it.

/// A broadcast on its way: the recipients and the progress message.
struct broadcast_job {
  std::string text;
  std::vector<int64_t> ids;
  size_t sent = 0;
  size_t failed = 0;
  /// The admin's chat and the progress message in it (0: none, the admin
  /// API).
  int64_t chat_id = 0;
  int64_t progress_id = 0;
  /// Who asked (0: the admin API), for the log.
  int64_t by = 0;
  /// Called once the recipients are known, with their number (or with
  /// -1 when they could not be collected).
  std::function<void(int64_t)> on_collected;
};

using broadcast_job_ptr = std::shared_ptr<broadcast_job>;

namespace detail {

template <class Self>
void edit_broadcast_progress(Self* self, const broadcast_job_ptr& job,
                             bool final) {
  auto tg = peer<telegram_actor>(self);
  if (!tg || job->progress_id == 0)
    return;
  auto done = job->sent + job->failed;
  std::string t = final ? "\xF0\x9F\x93\xA3 Broadcast done: "
                        : "\xF0\x9F\x93\xA3 Broadcasting: ";
  t += std::to_string(job->sent) + " of " + std::to_string(job->ids.size())
    + " delivered";
  if (job->failed > 0)
    t += ", " + std::to_string(job->failed) + " failed";
  if (!final)
    t += " (" + std::to_string(done) + " handled)";
  self
    ->request(tg, std::chrono::seconds(60), edit_atom_v, job->chat_id,
              job->progress_id, t)
    .then([](bool) {}, [](caf::error&) {});
}

/// Sends the text to every recipient; the progress message is edited every
/// 25 deliveries and at the end.
template <class Self>
void send_to_recipients(Self* self, broadcast_job_ptr job) {
  auto tg = peer<telegram_actor>(self);
  if (!tg)
    return;
  for (auto user : job->ids) {
    outgoing_text out;
    out.chat_id = user;
    out.text = job->text;
    auto step = [self, job](bool ok) {
      ++(ok ? job->sent : job->failed);
      auto done = job->sent + job->failed;
      if (done == job->ids.size()) {
        logger("user")->info("event=broadcast_done by={} sent={} failed={}",
                             job->by, job->sent, job->failed);
        edit_broadcast_progress(self, job, true);
      } else if (done % 25 == 0) {
        edit_broadcast_progress(self, job, false);
      }
    };
    self->request(tg, std::chrono::minutes(30), send_atom_v, std::move(out))
      .then(
        [step](int64_t) {
          step(true);
        },
        [step](caf::error&) {
          step(false);
        });
  }
  if (job->ids.empty()) {
    logger("user")->info("event=broadcast_done by={} sent=0 failed=0", job->by);
    edit_broadcast_progress(self, job, true);
  }
}

template <class Self>
void start_sending(Self* self, broadcast_job_ptr job) {
  logger("user")->info("event=broadcast_started by={} recipients={}", job->by,
                       job->ids.size());
  if (job->on_collected)
    job->on_collected(static_cast<int64_t>(job->ids.size()));
  auto tg = peer<telegram_actor>(self);
  if (!tg)
    return;
  if (job->chat_id == 0)
    return send_to_recipients(self, job);
  outgoing_text head;
  head.chat_id = job->chat_id;
  head.text = "\xF0\x9F\x93\xA3 Broadcasting to "
    + std::to_string(job->ids.size()) + " users\xE2\x80\xA6";
  self->request(tg, std::chrono::minutes(5), send_atom_v, std::move(head))
    .then(
      [self, job](int64_t id) {
        job->progress_id = id;
        send_to_recipients(self, job);
      },
      [](caf::error&) {});
}

inline void collect_failed(const broadcast_job_ptr& job) {
  logger("user")->warn("event=broadcast_failed by={} reason=\"recipients "
                       "unavailable\"",
                       job->by);
  if (job->on_collected)
    job->on_collected(-1);
}

} // namespace detail

/// Collects the recipients, every user with a container (the store's
/// pages) and every approved one without, except the revoked and rejected,
/// then sends. `after` is the store's paging position (0 to start).
template <class Self>
void run_broadcast(Self* self, broadcast_job_ptr job, int64_t after = 0) {
  auto store = peer<store_actor>(self);
  auto gate = peer<access_actor>(self);
  if (!store || !gate)
    return detail::collect_failed(job);
  self
    ->request(store, std::chrono::seconds(30), list_atom_v, std::string{},
              uint32_t{1000}, after)
    .then(
      [self, job, gate](const user_page& page) {
        for (auto& rec : page.users)
          job->ids.push_back(rec.user_id);
        if (page.next_after != 0)
          return run_broadcast(self, job, page.next_after);
        self
          ->request(gate, std::chrono::seconds(30), list_atom_v, std::string{})
          .then(
            [self, job](const access_list& list) {
              std::vector<int64_t> excluded;
              for (auto& rec : list) {
                if (rec.status == "approved")
                  job->ids.push_back(rec.user_id);
                else if (rec.status == "revoked" || rec.status == "rejected")
                  excluded.push_back(rec.user_id);
              }
              std::sort(job->ids.begin(), job->ids.end());
              job->ids.erase(std::unique(job->ids.begin(), job->ids.end()),
                             job->ids.end());
              std::sort(excluded.begin(), excluded.end());
              std::vector<int64_t> ids;
              std::set_difference(job->ids.begin(), job->ids.end(),
                                  excluded.begin(), excluded.end(),
                                  std::back_inserter(ids));
              job->ids = std::move(ids);
              detail::start_sending(self, job);
            },
            [job](caf::error&) {
              detail::collect_failed(job);
            });
      },
      [job](caf::error&) {
        detail::collect_failed(job);
      });
}

} // namespace zaki
