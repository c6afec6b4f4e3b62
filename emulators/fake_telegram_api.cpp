// The test-side API of fake_telegram: lifecycle, pushing updates, reading
// what the bot sent, waits and fault injection. Request handling is in
// fake_telegram.cpp.

#include "emulators/fake_telegram_state.hpp"

#include <algorithm>

namespace zaki::fakes {

using namespace std::chrono;
using namespace detail;

fake_telegram::fake_telegram(fake_telegram_options opts)
  : runner_(std::make_unique<io_runtime>(opts.threads, io_start::deferred)) {
  auto http_opts = opts.http;
  state_ = std::make_shared<state>(runner_->context(), std::move(opts));
  std::weak_ptr<state> weak = state_;
  server_ = std::make_unique<mini_http_server>(
    runner_->context(),
    [weak](request req, std::shared_ptr<responder> res) {
      if (auto st = weak.lock())
        st->handle(req, std::move(res));
    },
    http_opts);
}

fake_telegram::~fake_telegram() {
  stop();
}

uint16_t fake_telegram::start() {
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    state_->stopped = false;
  }
  auto port = server_->start();
  runner_->start();
  return port;
}

void fake_telegram::stop() {
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    state_->stopped = true;
  }
  server_->stop();
  runner_->stop();
  // Held polls reference sessions on the stopped io_context: release them.
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->waiters.clear();
}

uint16_t fake_telegram::port() const {
  return server_->port();
}

std::string fake_telegram::api_root() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

const std::string& fake_telegram::token() const {
  return state_->opts.token;
}

// -- user side ------------------------------------------------------------------

int64_t fake_telegram::push_text(int64_t user_id, std::string text) {
  std::vector<outgoing> out;
  int64_t id;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    id = state_->next_update_id++;
    auto msg_id = state_->next_message_id++;
    state_->queue.push_back(
      {id, tg::text_update_json(id, msg_id, user_id, text)});
    state_->wake_waiters(out);
  }
  state::flush(out);
  return id;
}

int64_t fake_telegram::push_callback(int64_t user_id, std::string data,
                                     int64_t message_id) {
  std::vector<outgoing> out;
  int64_t id;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    id = state_->next_update_id++;
    auto qid = std::to_string(state_->bot_id) + "0"
      + std::to_string(state_->next_query_id++);
    state_->queries.insert(qid);
    state_->query_users[qid] = user_id;
    state_->queue.push_back(
      {id,
       tg::callback_update_json(id, state_->bot_id, qid, user_id, message_id,
                                data)});
    state_->wake_waiters(out);
  }
  state::flush(out);
  return id;
}

int64_t fake_telegram::push_raw(std::string json) {
  std::vector<outgoing> out;
  int64_t id;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    id = state_->next_update_id++;
    auto brace = json.find('{');
    if (json.find("\"update_id\"") == std::string::npos
        && brace != std::string::npos) {
      auto field = "\"update_id\":" + std::to_string(id);
      auto next = json.find_first_not_of(" \t\r\n", brace + 1);
      bool empty_obj = next != std::string::npos && json[next] == '}';
      json.insert(brace + 1, empty_obj ? field : field + ",");
    }
    state_->queue.push_back({id, std::move(json)});
    state_->wake_waiters(out);
  }
  state::flush(out);
  return id;
}

// -- files ----------------------------------------------------------------------

void fake_telegram::add_file(std::string file_id, std::string bytes,
                             std::string file_path, int64_t reported_size,
                             bool gone) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  if (file_path.empty())
    file_path = "documents/file_" + std::to_string(state_->files.size());
  state_->files[file_id] = {std::move(file_path), std::move(bytes),
                            reported_size, gone};
}

std::vector<std::string> fake_telegram::file_requests() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->file_requests;
}

// -- what the bot did -----------------------------------------------------------

std::vector<sent_message> fake_telegram::sent() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->sent;
}

std::vector<sent_message> fake_telegram::sent_to(int64_t chat_id) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  std::vector<sent_message> out;
  for (auto& m : state_->sent)
    if (m.chat_id == chat_id)
      out.push_back(m);
  return out;
}

size_t fake_telegram::sent_count() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->sent.size();
}

std::vector<api_call> fake_telegram::calls(std::string method) const {
  auto m = tg::lower(method);
  std::lock_guard<std::mutex> guard{state_->mtx};
  std::vector<api_call> out;
  for (auto& c : state_->calls)
    if (m.empty() || c.method == m)
      out.push_back(c);
  return out;
}

bool fake_telegram::wait_for_sent(size_t n, milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mtx};
  return state_->changed.wait_for(guard, timeout, [&] {
    return state_->sent.size() >= n;
  });
}

bool fake_telegram::wait_for_sent_to(int64_t chat_id, size_t n,
                                     milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mtx};
  return state_->changed.wait_for(guard, timeout, [&] {
    return static_cast<size_t>(std::count_if(state_->sent.begin(),
                                             state_->sent.end(),
                                             [&](auto& m) {
                                               return m.chat_id == chat_id;
                                             }))
      >= n;
  });
}

bool fake_telegram::wait_for_polls(uint64_t n, milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mtx};
  return state_->changed.wait_for(guard, timeout, [&] {
    return state_->polls >= n;
  });
}

bool fake_telegram::wait_for_confirmed(int64_t offset,
                                       milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mtx};
  return state_->changed.wait_for(guard, timeout, [&] {
    return state_->confirmed >= offset;
  });
}

void fake_telegram::on_send(std::function<void(const sent_message&)> f) {
  auto ptr = f
    ? std::make_shared<std::function<void(const sent_message&)>>(std::move(f))
    : nullptr;
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->on_send = std::move(ptr);
}

// -- counters -------------------------------------------------------------------

uint64_t fake_telegram::get_updates_calls() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->polls;
}

void fake_telegram::forget_history() {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->sent.clear();
  state_->sent.shrink_to_fit();
  state_->calls.clear();
  state_->calls.shrink_to_fit();
  state_->messages.clear();
}

int64_t fake_telegram::confirmed_offset() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->confirmed;
}

size_t fake_telegram::pending_updates() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->queue.size();
}

uint64_t fake_telegram::method_calls(const std::string& method) const {
  auto m = tg::lower(method);
  std::lock_guard<std::mutex> guard{state_->mtx};
  auto i = state_->method_calls.find(m);
  return i == state_->method_calls.end() ? 0 : i->second;
}

uint64_t fake_telegram::conflicts() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->conflicts;
}

// -- fault injection ------------------------------------------------------------

void fake_telegram::fail_next(const std::string& method, int status,
                              size_t count) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->faults.push_back({tg::lower(method), status, 0, count});
}

void fake_telegram::rate_limit_next(const std::string& method,
                                    int retry_after_s, size_t count) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->faults.push_back({tg::lower(method), 429, retry_after_s, count});
}

void fake_telegram::set_parse_entities_error(bool on) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->parse_error = on;
}

void fake_telegram::set_unauthorized(bool on) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->unauthorized = on;
}

void fake_telegram::set_webhook(bool on) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->webhook = on;
}

void fake_telegram::set_conflict_on_concurrent_poll(bool on) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->conflict_on_concurrent = on;
}

void fake_telegram::set_edit_flood_limit(bool on) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->edit_flood = on;
}

uint64_t fake_telegram::not_modified() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->not_modified;
}

uint64_t fake_telegram::edit_flood_429s() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->edit_429s;
}

std::optional<std::string> fake_telegram::message_text(int64_t id) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  auto i = state_->messages.find(id);
  if (i == state_->messages.end())
    return std::nullopt;
  return i->second.text;
}

int64_t fake_telegram::query_user(const std::string& query_id) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  auto i = state_->query_users.find(query_id);
  return i == state_->query_users.end() ? 0 : i->second;
}

std::string fake_telegram::message_markup(int64_t id) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  auto i = state_->messages.find(id);
  return i == state_->messages.end() ? std::string{} : i->second.markup;
}

} // namespace zaki::fakes
