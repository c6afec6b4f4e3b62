#include "containers/docker_client.hpp"

#include <cctype>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace zaki {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using local = net::local::stream_protocol;
using stream_t = beast::basic_stream<local>;

http_failure failure_of(const beast::error_code& ec) {
  if (ec == beast::error::timeout)
    return http_failure::timeout;
  if (ec == http::error::body_limit)
    return http_failure::too_large;
  if (ec == net::error::operation_aborted)
    return http_failure::cancelled;
  if (ec == http::error::end_of_stream || ec == net::error::eof
      || ec == net::error::connection_reset)
    return http_failure::closed;
  if (ec == net::error::connection_refused || ec == net::error::not_found
      || ec == net::error::no_such_device)
    return http_failure::connect;
  return http_failure::other;
}

/// One request on one connection, in the shape of Beast's async client.
class session : public std::enable_shared_from_this<session> {
public:
  session(net::io_context& ioc, std::string path, docker_client::callback cb)
    : stream_(ioc), path_(std::move(path)), cb_(std::move(cb)) {
    // nop
  }

  void run(http::verb method, std::string target, std::string body,
           std::chrono::milliseconds timeout) {
    started_ = std::chrono::steady_clock::now();
    req_.method(method);
    req_.target(target);
    req_.version(11);
    req_.set(http::field::host, "docker");
    req_.set(http::field::user_agent, "zaki-router");
    if (!body.empty())
      req_.set(http::field::content_type, "application/json");
    req_.body() = std::move(body);
    req_.prepare_payload();
    parser_.body_limit(docker_client::body_limit);
    stream_.expires_after(timeout);
    stream_.async_connect(local::endpoint{path_},
                          beast::bind_front_handler(&session::on_connect,
                                                    shared_from_this()));
  }

private:
  void on_connect(beast::error_code ec) {
    if (ec)
      return fail(ec, "connect to " + path_);
    http::async_write(stream_, req_,
                      beast::bind_front_handler(&session::on_write,
                                                shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    if (ec)
      return fail(ec, "write");
    http::async_read(stream_, buffer_, parser_,
                     beast::bind_front_handler(&session::on_read,
                                               shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec)
      return fail(ec, "read");
    http_result res;
    auto& msg = parser_.get();
    res.status = static_cast<int>(msg.result_int());
    res.body = std::move(msg.body());
    finish(std::move(res));
  }

  void fail(beast::error_code ec, const std::string& what) {
    http_result res;
    res.failure = failure_of(ec);
    res.error = what + ": " + ec.message();
    finish(std::move(res));
  }

  void finish(http_result res) {
    res.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - started_)
                       .count();
    beast::error_code ignored;
    stream_.socket().shutdown(local::socket::shutdown_both, ignored);
    stream_.close();
    if (cb_)
      std::exchange(cb_, nullptr)(std::move(res));
  }

  stream_t stream_;
  std::string path_;
  docker_client::callback cb_;
  http::request<http::string_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  std::chrono::steady_clock::time_point started_;
};

/// A followed stream: reads chunks as they come and cuts them into lines.
class follower : public std::enable_shared_from_this<follower> {
public:
  follower(net::io_context& ioc, std::string path,
           docker_client::line_callback cb)
    : stream_(ioc), path_(std::move(path)), cb_(std::move(cb)) {
    // nop
  }

  void run(std::string target) {
    req_.method(http::verb::get);
    req_.target(target);
    req_.version(11);
    req_.set(http::field::host, "docker");
    parser_.body_limit(boost::none);
    chunk_cb_ = [this](std::uint64_t, beast::string_view body,
                       beast::error_code&) -> std::size_t {
      on_data(body);
      return body.size();
    };
    parser_.on_chunk_body(chunk_cb_);
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(local::endpoint{path_},
                          beast::bind_front_handler(&follower::on_connect,
                                                    shared_from_this()));
  }

  void close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closed_ = true;
      self->stream_.cancel();
      self->stream_.close();
    });
  }

private:
  void on_connect(beast::error_code ec) {
    if (ec)
      return end();
    http::async_write(stream_, req_,
                      beast::bind_front_handler(&follower::on_write,
                                                shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    if (ec)
      return end();
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read_header(stream_, buffer_, parser_,
                            beast::bind_front_handler(&follower::on_header,
                                                      shared_from_this()));
  }

  void on_header(beast::error_code ec, size_t) {
    if (ec || parser_.get().result_int() != 200)
      return end();
    // Events come whenever something happens: no deadline from here on.
    stream_.expires_never();
    read_more();
  }

  void read_more() {
    http::async_read_some(stream_, buffer_, parser_,
                          beast::bind_front_handler(&follower::on_read,
                                                    shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec || parser_.is_done())
      return end();
    read_more();
  }

  void on_data(beast::string_view data) {
    pending_.append(data.data(), data.size());
    size_t pos;
    while ((pos = pending_.find('\n')) != std::string::npos) {
      auto line = pending_.substr(0, pos);
      pending_.erase(0, pos + 1);
      if (!line.empty() && cb_)
        cb_(std::move(line));
    }
  }

  void end() {
    if (cb_ && !closed_)
      std::exchange(cb_, nullptr)(std::string{});
    cb_ = nullptr;
  }

  stream_t stream_;
  std::string path_;
  docker_client::line_callback cb_;
  http::request<http::empty_body> req_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  std::function<std::size_t(std::uint64_t, beast::string_view,
                            beast::error_code&)>
    chunk_cb_;
  std::string pending_;
  bool closed_ = false;
};

} // namespace

std::shared_ptr<docker_client> docker_client::make(net::io_context& ioc,
                                                   std::string socket_path) {
  return std::make_shared<docker_client>(ioc, std::move(socket_path));
}

docker_client::docker_client(net::io_context& ioc, std::string socket_path)
  : ioc_(ioc), socket_path_(std::move(socket_path)) {
  // nop
}

void docker_client::request(http::verb method, std::string target,
                            std::string body, std::chrono::milliseconds timeout,
                            callback cb) {
  auto s = std::make_shared<session>(ioc_, socket_path_, std::move(cb));
  s->run(method, std::move(target), std::move(body), timeout);
}

void docker_client::follow(std::string target, line_callback on_line) {
  shutdown();
  auto f = std::make_shared<follower>(ioc_, socket_path_, std::move(on_line));
  f->run(std::move(target));
  stream_ = f;
}

void docker_client::shutdown() {
  if (auto f = std::static_pointer_cast<follower>(stream_))
    f->close();
  stream_.reset();
}

std::string url_encode(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0f];
    }
  }
  return out;
}

} // namespace zaki
