#pragma once

// The private state of fake_telegram, shared by fake_telegram.cpp (request
// handling) and fake_telegram_api.cpp (the test-side API).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/steady_timer.hpp>

#include "emulators/fake_telegram.hpp"
#include "emulators/telegram_wire.hpp"

namespace zaki::fakes {

namespace detail {
struct queued_update {
  int64_t id;
  std::string json;
};

/// A held long poll.
struct poll_waiter {
  uint64_t id;
  std::shared_ptr<responder> res;
  size_t limit;
  std::shared_ptr<net::steady_timer> timer;
  /// Whether it waits out `poll_gather` with updates to give (new updates
  /// join it instead of waking it).
  bool gathering = false;
};

/// An injected failure.
struct fault {
  std::string method; // lower case, or "*"
  int status;
  int retry_after;
  size_t remaining;
};

/// A file served by getFile and the file endpoint.
struct stored_file {
  std::string path;
  std::string bytes;
  int64_t reported_size;
  bool gone;
};

struct stored_message {
  int64_t chat_id;
  std::string text;
  std::string markup;
};

/// A response to send once the state lock is released.
struct outgoing {
  std::shared_ptr<responder> res;
  http::status status;
  std::string body;
  int retry_after = 0;
};

} // namespace detail

/// Everything behind the mutex; request handling lives here.
struct fake_telegram::state : std::enable_shared_from_this<state> {
  state(net::io_context& ioc, fake_telegram_options opts)
    : ioc(ioc), opts(std::move(opts)) {
    next_update_id = this->opts.first_update_id;
    conflict_on_concurrent = this->opts.conflict_on_concurrent_poll;
    auto colon = this->opts.token.find(':');
    auto id = this->opts.token.substr(0, colon);
    bot_id = !id.empty() && id.find_first_not_of("0123456789") == id.npos
        && id.size() < 16
      ? std::stoll(id)
      : 123456;
  }

  void handle(const request& req, std::shared_ptr<responder> res);
  void dispatch(const std::string& method, const tg::params& ps,
                std::shared_ptr<responder> res,
                std::vector<detail::outgoing>& out,
                const sent_message** sent_now);
  void get_updates(const tg::params& ps, std::shared_ptr<responder> res,
                   std::vector<detail::outgoing>& out);
  std::string batch(size_t limit) const;
  void wake_waiters(std::vector<detail::outgoing>& out);
  void drop_waiter(uint64_t id);
  void arm_waiter_timer(detail::poll_waiter& w, std::chrono::milliseconds d);
  static void flush(std::vector<detail::outgoing>& out);

  net::io_context& ioc;
  fake_telegram_options opts;
  int64_t bot_id;

  mutable std::mutex mtx;
  mutable std::condition_variable changed;
  std::deque<detail::queued_update> queue;
  int64_t next_update_id;
  int64_t next_message_id = 1;
  uint64_t next_waiter_id = 1;
  uint64_t next_query_id = 1;
  std::vector<detail::poll_waiter> waiters;
  std::vector<sent_message> sent;
  std::vector<api_call> calls;
  std::unordered_map<int64_t, detail::stored_message> messages;
  std::unordered_set<std::string> queries;
  /// Who pressed each button (callback query id to user id).
  std::unordered_map<std::string, int64_t> query_users;
  std::unordered_map<std::string, uint64_t> method_calls;
  std::vector<detail::fault> faults;
  uint64_t polls = 0;
  uint64_t conflicts = 0;
  int64_t confirmed = 0;
  bool parse_error = false;
  bool unauthorized = false;
  bool webhook = false;
  bool conflict_on_concurrent = true;
  /// Streamed answers: the edit flood limit, its 429s, the "not modified"
  /// answers, and when each chat's last edit was accepted.
  bool edit_flood = false;
  uint64_t edit_429s = 0;
  uint64_t not_modified = 0;
  std::unordered_map<int64_t, std::chrono::steady_clock::time_point> last_edit;
  /// Files by file_id, and the file endpoint's requests (paths).
  std::unordered_map<std::string, detail::stored_file> files;
  std::vector<std::string> file_requests;
  /// Answers GET /file/bot<token>/<path>.
  void serve_file(std::string_view token, std::string_view path,
                  std::vector<detail::outgoing>& out,
                  std::shared_ptr<responder> res);
  bool stopped = false;
  std::shared_ptr<std::function<void(const sent_message&)>> on_send;
};

} // namespace zaki::fakes
