#pragma once

// The floor of the load bench: the same HTTP work as the router (a long
// poll for updates, one gateway exchange and one sendMessage per message),
// done by a minimal Beast client on one io thread, with no actors, no
// logging, no session lock and no pacing. It uses the router's own codecs
// (simdjson update decoding, JSON encoding, answer classification), so the
// difference to the router is what the actor system and the router's
// bookkeeping cost. It keeps the gateway's invariants: one exchange per user
// at a time, in order. Its CPU time is that of its io thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "benches/load_proc.hpp"
#include "gateway/codec.hpp"
#include "telegram/codec.hpp"

namespace zaki::bench {

namespace floor_detail {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

/// One keep-alive HTTP/1.1 connection doing one POST at a time, in the
/// shape of Beast's async client example.
class connection : public std::enable_shared_from_this<connection> {
public:
  /// Receives the status (0: transport failure) and the body.
  using done_fn = std::function<void(int status, std::string& body)>;

  connection(net::io_context& ioc, tcp::endpoint ep) : stream_(ioc), ep_(ep) {
    // nop
  }

  /// POSTs `body` to `target`; connects first if needed.
  void post(const std::string& target, std::string body,
            const std::string& authorization, done_fn done) {
    req_ = {};
    req_.method(http::verb::post);
    req_.target(target);
    req_.version(11);
    req_.set(http::field::host, "127.0.0.1");
    req_.set(http::field::content_type, "application/json");
    if (!authorization.empty())
      req_.set(http::field::authorization, authorization);
    req_.keep_alive(true);
    req_.body() = std::move(body);
    req_.prepare_payload();
    done_ = std::move(done);
    stream_.expires_after(std::chrono::seconds(60));
    if (open_)
      return write();
    stream_.async_connect(ep_,
                          beast::bind_front_handler(&connection::on_connect,
                                                    shared_from_this()));
  }

private:
  void on_connect(beast::error_code ec) {
    if (ec)
      return fail();
    open_ = true;
    stream_.socket().set_option(tcp::no_delay{true});
    write();
  }

  void write() {
    http::async_write(stream_, req_,
                      beast::bind_front_handler(&connection::on_write,
                                                shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    if (ec)
      return fail();
    res_ = {};
    http::async_read(stream_, buffer_, res_,
                     beast::bind_front_handler(&connection::on_read,
                                               shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec)
      return fail();
    if (!res_.keep_alive())
      close();
    auto done = std::move(done_);
    done(res_.result_int(), res_.body());
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
    open_ = false;
  }

  void fail() {
    close();
    auto done = std::move(done_);
    std::string empty;
    done(0, empty);
  }

  beast::tcp_stream stream_;
  tcp::endpoint ep_;
  bool open_ = false;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  done_fn done_;
};

} // namespace floor_detail

/// The gateway of one user, as the floor client needs it.
struct floor_route {
  uint16_t port = 0;
  std::string token;
};

/// The minimal client; `run` handles `expected` messages, then confirms the
/// offset and returns.
class floor_client {
public:
  /// Returns the gateway of a user id.
  using route_fn = std::function<floor_route(int64_t user_id)>;

  floor_client(uint16_t telegram_port, std::string bot_token, route_fn route,
               uint64_t expected, size_t send_connections = 4)
    : telegram_ep_(floor_detail::net::ip::make_address("127.0.0.1"),
                   telegram_port),
      bot_prefix_("/bot" + std::move(bot_token) + "/"),
      route_(std::move(route)), expected_(expected) {
    poll_conn_ = make_conn(telegram_ep_);
    for (size_t i = 0; i < send_connections; ++i)
      idle_senders_.push_back(make_conn(telegram_ep_));
  }

  ~floor_client() {
    ioc_.stop();
    if (thread_.joinable())
      thread_.join();
  }

  floor_client(const floor_client&) = delete;
  floor_client& operator=(const floor_client&) = delete;

  /// Starts the io thread and the first long poll.
  void start() {
    thread_ = std::thread{[this] {
      auto guard = boost::asio::make_work_guard(ioc_);
      floor_detail::net::post(ioc_, [this] {
        poll();
      });
      ioc_.run();
    }};
  }

  /// Waits until every message was handled and the offset confirmed.
  bool wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> guard{mtx_};
    auto ok = cv_.wait_for(guard, timeout, [&] {
      return finished_;
    });
    guard.unlock();
    ioc_.stop();
    if (thread_.joinable())
      thread_.join();
    return ok;
  }

  /// Returns the CPU time of the io thread up to the end of the work.
  double cpu_seconds() const {
    return cpu_seconds_;
  }

  /// Returns failed exchanges (transport errors or non-2xx answers).
  uint64_t errors() const {
    return errors_;
  }

private:
  using conn_ptr = std::shared_ptr<floor_detail::connection>;

  struct user_slot {
    conn_ptr gateway;
    std::string authorization;
    std::deque<inbound_message> queue;
    bool busy = false;
  };

  struct pending_send {
    std::string body;
    std::function<void()> then;
  };

  conn_ptr make_conn(floor_detail::tcp::endpoint ep) {
    return std::make_shared<floor_detail::connection>(ioc_, ep);
  }

  void poll() {
    poll_conn_->post(bot_prefix_ + "getUpdates",
                     encode_get_updates(offset_, 100, 30), {},
                     [this](int status, std::string& body) {
                       on_updates(status, body);
                     });
  }

  void on_updates(int status, std::string& body) {
    if (status != 200) {
      ++errors_;
      auto timer = std::make_shared<floor_detail::net::steady_timer>(
        ioc_, std::chrono::milliseconds(100));
      timer->async_wait([this, timer](auto) {
        poll();
      });
      return;
    }
    auto decoded = decode_updates(body);
    if (decoded.max_update_id > 0)
      offset_ = std::max(offset_, decoded.max_update_id + 1);
    for (auto& msg : decoded.messages) {
      ++received_;
      auto user_id = msg.user_id;
      auto& slot = users_[user_id];
      slot.queue.push_back(std::move(msg));
      if (!slot.busy)
        next(user_id, slot);
    }
    if (received_ < expected_)
      poll();
  }

  void next(int64_t user_id, user_slot& slot) {
    if (slot.queue.empty()) {
      slot.busy = false;
      return;
    }
    slot.busy = true;
    if (!slot.gateway) {
      auto route = route_(user_id);
      slot.gateway = make_conn(
        {floor_detail::net::ip::make_address("127.0.0.1"), route.port});
      slot.authorization = "Bearer " + route.token;
    }
    auto& msg = slot.queue.front();
    slot.gateway->post("/v1/chat/completions",
                       encode_chat_request("openclaw", user_id, msg.text),
                       slot.authorization,
                       [this, user_id](int status, std::string& body) {
                         on_answer(user_id, status, body);
                       });
  }

  void on_answer(int64_t user_id, int status, std::string& body) {
    auto& slot = users_[user_id];
    http_result res;
    res.status = status;
    res.body = std::move(body);
    auto answer = classify_gateway_result(res);
    if (answer.outcome != gateway_outcome::answered) {
      ++errors_;
      answer.content = "floor: gateway failed";
    }
    auto chat_id = slot.queue.front().chat_id;
    send(encode_send_message(chat_id, answer.content, "", ""), [this, user_id] {
      auto& s = users_[user_id];
      s.queue.pop_front();
      if (++handled_ == expected_)
        confirm();
      next(user_id, s);
    });
  }

  void send(std::string body, std::function<void()> then) {
    pending_.push_back({std::move(body), std::move(then)});
    pump();
  }

  void pump() {
    while (!pending_.empty() && !idle_senders_.empty()) {
      auto conn = idle_senders_.back();
      idle_senders_.pop_back();
      auto job = std::move(pending_.front());
      pending_.pop_front();
      conn->post(bot_prefix_ + "sendMessage", std::move(job.body), {},
                 [this, conn, then = std::move(job.then)](int status,
                                                          std::string& body) {
                   if (status != 200 || decode_sent_message_id(body) == 0)
                     ++errors_;
                   idle_senders_.push_back(conn);
                   then();
                   pump();
                 });
    }
  }

  /// Confirms the offset (as the router does at shutdown), then finishes.
  void confirm() {
    cpu_seconds_ = thread_cpu_seconds();
    poll_conn_->post(bot_prefix_ + "getUpdates",
                     encode_get_updates(offset_, 1, 0), {},
                     [this](int, std::string&) {
                       std::lock_guard<std::mutex> guard{mtx_};
                       finished_ = true;
                       cv_.notify_all();
                     });
  }

  floor_detail::net::io_context ioc_{1};
  floor_detail::tcp::endpoint telegram_ep_;
  std::string bot_prefix_;
  route_fn route_;
  uint64_t expected_;
  conn_ptr poll_conn_;
  std::vector<conn_ptr> idle_senders_;
  std::deque<pending_send> pending_;
  std::unordered_map<int64_t, user_slot> users_;
  int64_t offset_ = 0;
  uint64_t received_ = 0;
  uint64_t handled_ = 0;
  std::atomic<uint64_t> errors_{0};
  double cpu_seconds_ = 0;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool finished_ = false;
};

} // namespace zaki::bench
