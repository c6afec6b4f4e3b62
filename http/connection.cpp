#include "http/connection.hpp"

#include <algorithm>
#include <array>

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace zaki {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;

http_connection::http_connection(http_client& owner)
  : owner_(&owner), resolver_(owner.exec_), timer_(owner.exec_) {
  // nop
}

http_connection::tcp::socket& http_connection::socket() {
  if (tls_)
    return tls_->next_layer();
  return *plain_;
}

void http_connection::reset_stream() {
  plain_.reset();
  tls_.reset();
  if (owner_->origin_.tls)
    tls_ = std::make_unique<tls_stream>(owner_->exec_, *owner_->opts_.tls);
  else
    plain_.emplace(owner_->exec_);
  connected_ = false;
  buffer_.clear();
}

void http_connection::set_deadline(std::chrono::milliseconds timeout) {
  deadline_ = clock::now() + timeout;
  exchange_deadline_ = deadline_;
  timed_out_ = false;
  // A wait due no later than the deadline stays: when it fires, it waits
  // again for what is left. Only an earlier deadline moves the timer.
  if (timer_due_ > deadline_)
    arm_timer();
}

void http_connection::touch_idle() {
  auto idle = job_.req.idle_timeout;
  if (idle.count() <= 0)
    return;
  // Moving the deadline later costs nothing: the pending wait, when it
  // fires, waits again for what is left (on_timer).
  deadline_ = std::min(exchange_deadline_, clock::now() + idle);
  if (timer_due_ > deadline_)
    arm_timer();
}

void http_connection::arm_timer() {
  timer_due_ = deadline_;
  auto generation = ++timer_generation_;
  // expires_at cancels a pending wait; its handler sees another generation.
  timer_.expires_at(deadline_);
  // A weak reference: a pending wait keeps neither this connection nor its
  // client alive (an idle connection's wait may be due in a minute).
  timer_.async_wait(
    [weak = weak_from_this(), generation](beast::error_code ec) {
      if (auto self = weak.lock())
        self->on_timer(generation, ec);
    });
}

void http_connection::on_timer(uint64_t generation, beast::error_code ec) {
  if (generation != timer_generation_)
    return;
  timer_due_ = clock::time_point::max();
  if (ec || !busy_)
    return; // Cancelled, or idle: the next exchange arms it again.
  if (clock::now() < deadline_)
    return arm_timer(); // A later exchange moved the deadline.
  // The pending operation completes with operation_aborted; fail() reports
  // a timeout.
  timed_out_ = true;
  resolver_.cancel();
  if ((plain_ || tls_) && socket().is_open()) {
    beast::error_code ignored;
    socket().close(ignored);
  }
  connected_ = false;
}

void http_connection::start(http_client::job j) {
  job_ = std::move(j);
  busy_ = true;
  retried_ = false;
  auto& o = owner_->origin_;
  // A retry on a fresh connection sends head_ and body_ again; job_ needs
  // no copy of the body.
  body_ = std::move(job_.req.body);
  std::string target = o.base_path + job_.req.target;
  if (!safe_header_value(target) || !safe_header_value(job_.req.authorization)
      || !safe_header_value(job_.req.content_type)) {
    // Reported from a handler, as every other failure: the caller's
    // callback never runs inside async_request.
    reused_ = false;
    return net::post(owner_->exec_, handler(&http_connection::refuse_head));
  }
  write_request_head({job_.req.method, target, o.host, job_.req.authorization,
                      job_.req.content_type, body_.size()},
                     head_);
  if (connected_) {
    reused_ = true;
    write();
  } else {
    reused_ = false;
    connect();
  }
}

void http_connection::refuse_head() {
  fail(beast::errc::make_error_code(beast::errc::invalid_argument),
       "request head (CR or LF in a value)");
}

void http_connection::connect() {
  reset_stream();
  connecting_ = true;
  set_deadline(job_.req.timeout);
  auto& o = owner_->origin_;
  // An address needs no resolver: Asio runs each resolve on a thread of its
  // own, two thread hops per new connection (the gateways are addresses).
  beast::error_code literal_ec;
  auto address = net::ip::make_address(o.host, literal_ec);
  if (!literal_ec)
    return socket().async_connect(
      tcp::endpoint{address, o.port},
      handler(&http_connection::on_connect_address));
  resolver_.async_resolve(o.host, std::to_string(o.port),
                          handler(&http_connection::on_resolve));
}

void http_connection::on_connect_address(beast::error_code ec) {
  on_connect(ec, {});
}

void http_connection::on_resolve(beast::error_code ec,
                                 tcp::resolver::results_type results) {
  if (ec)
    return fail(ec, "resolve");
  net::async_connect(socket(), results, handler(&http_connection::on_connect));
}

void http_connection::on_connect(beast::error_code ec, tcp::endpoint) {
  if (ec)
    return fail(ec, "connect");
  socket().set_option(tcp::no_delay{true}, ec);
  if (!tls_) {
    connecting_ = false;
    connected_ = true;
    return write();
  }
  auto& host = owner_->origin_.host;
  // SNI: virtual hosts (api.telegram.org behind a CDN) need the name.
  if (!SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str())) {
    beast::error_code sni_ec{static_cast<int>(::ERR_get_error()),
                             net::error::get_ssl_category()};
    return fail(sni_ec, "sni");
  }
  tls_->set_verify_mode(ssl::verify_peer);
  tls_->set_verify_callback(ssl::host_name_verification(host));
  tls_->async_handshake(ssl::stream_base::client,
                        handler(&http_connection::on_handshake));
}

void http_connection::on_handshake(beast::error_code ec) {
  if (ec)
    return fail(ec, "handshake");
  connecting_ = false;
  connected_ = true;
  write();
}

void http_connection::write() {
  if (reused_)
    set_deadline(job_.req.timeout);
  std::array<net::const_buffer, 2> buffers{net::buffer(head_),
                                           net::buffer(body_)};
  if (tls_)
    net::async_write(*tls_, buffers, handler(&http_connection::on_write));
  else
    net::async_write(*plain_, buffers, handler(&http_connection::on_write));
}

void http_connection::on_write(beast::error_code ec, size_t) {
  if (ec)
    return fail(ec, "write");
  read();
}

void http_connection::read() {
  response_bytes_ = 0;
  parser_.emplace(owner_->opts_.max_body);
  parser_->eager(true);
  if (job_.req.on_body) {
    parser_->stream_to(&job_.req.on_body);
    touch_idle();
  }
  parse_buffered();
}

// The loop of Beast's http::async_read, written out: its two layers of
// composed operations (read_op, read_some_op) cost a handler chain and
// executor copies on every read, a fifth of the client's instructions.
void http_connection::parse_buffered() {
  while (buffer_.size() > 0) {
    beast::error_code ec;
    auto used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    response_bytes_ += used;
    if (ec == http::error::need_more)
      break;
    if (ec)
      return fail(ec, "read");
    if (parser_->is_done())
      return on_read({}, 0);
    if (used == 0)
      break;
  }
  if (job_.req.read_pause && parser_->is_header_done()) {
    if (auto pause = job_.req.read_pause(); pause.count() > 0) {
      if (!pause_timer_)
        pause_timer_ = std::make_unique<net::steady_timer>(owner_->exec_);
      pause_timer_->expires_after(pause);
      return pause_timer_->async_wait(handler(&http_connection::on_read_pause));
    }
  }
  read_some();
}

void http_connection::read_some() {
  auto space = buffer_.prepare(next_read_size());
  if (tls_)
    tls_->async_read_some(space, handler(&http_connection::on_read_some));
  else
    plain_->async_read_some(space, handler(&http_connection::on_read_some));
}

// A close (shutdown, Stop) cancels the pause as it would cancel a read; a
// timeout during the pause closed the socket, so the read fails at once.
void http_connection::on_read_pause(beast::error_code ec) {
  if (ec)
    return fail(ec, "read");
  read_some();
}

// Beast's read_size (512 bytes for an empty buffer) read a 1 KB gateway
// answer in two calls and a getUpdates batch in 512-byte steps, each a
// recvmsg and a buffer growth. The first read of a response asks for as
// much as the previous response on this connection took (its answers are
// alike), with some room; once the header told the body's length, the read
// asks for all of what is left. The buffer lives only while a response is
// read (finish frees it), so an idle connection holds none of it, and a
// fixed larger first read would cost every in-flight request its size.
size_t http_connection::next_read_size() const {
  constexpr size_t max_read = 65536;
  size_t want = std::min(last_response_bytes_ + last_response_bytes_ / 4 + 128,
                         max_read);
  if (parser_->is_header_done()) {
    if (auto left = parser_->content_length_remaining())
      want = static_cast<size_t>(std::min<uint64_t>(*left, max_read));
  }
  auto spare = buffer_.capacity() - buffer_.size();
  return std::min(std::max({want, spare, size_t{512}}), max_read);
}

void http_connection::on_read_some(beast::error_code ec, size_t n) {
  buffer_.commit(n);
  if (n > 0 && job_.req.on_body)
    touch_idle();
  if (ec == net::error::eof) {
    // The server closed the connection: that ends a body without a
    // length, and is a stale keep-alive when nothing came.
    if (!parser_->got_some())
      return fail(http::error::end_of_stream, "read");
    ec = {};
    parser_->put_eof(ec);
    if (ec)
      return fail(ec, "read");
    return on_read({}, 0);
  }
  if (ec)
    return fail(ec, "read");
  parse_buffered();
}

void http_connection::on_read(beast::error_code ec, size_t) {
  if (ec)
    return fail(ec, "read");
  http_result res;
  res.status = parser_->status();
  res.retry_after = parser_->retry_after();
  res.body = std::move(parser_->body());
  auto keep = parser_->keep_alive();
  parser_.reset();
  last_response_bytes_ = response_bytes_;
  if (!keep) {
    beast::error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
    connected_ = false;
  }
  finish(std::move(res));
}

void http_connection::fail(beast::error_code ec, const char* what) {
  bool nothing_received = !parser_ || !parser_->got_some();
  bool stale_keep_alive = ec == http::error::end_of_stream
    || ec == net::error::connection_reset || ec == net::error::broken_pipe
    || ec == net::error::eof;
  if (reused_ && !retried_ && nothing_received && stale_keep_alive
      && !timed_out_ && !owner_->closed_) {
    // The server closed the idle keep-alive connection before our request
    // reached it; sending it again on a fresh connection is safe.
    retried_ = true;
    reused_ = false;
    parser_.reset();
    return connect();
  }
  bool stalled = timed_out_ && deadline_ < exchange_deadline_;
  http_result res;
  if (parser_ && parser_->sink_aborted())
    res.failure = http_failure::cancelled;
  else if (timed_out_ || ec == beast::error::timeout)
    res.failure = http_failure::timeout;
  else if (ec == http::error::body_limit)
    res.failure = http_failure::too_large;
  else if (ec == net::error::operation_aborted)
    res.failure = owner_->closed_ ? http_failure::cancelled
                                  : http_failure::timeout;
  else if (ec.category() == net::error::get_ssl_category()
           || ec == net::ssl::error::stream_truncated)
    res.failure = http_failure::tls;
  else if (connecting_)
    res.failure = http_failure::connect;
  else if (stale_keep_alive || ec == http::error::partial_message)
    res.failure = nothing_received ? http_failure::closed
                                   : http_failure::interrupted;
  else
    res.failure = http_failure::other;
  res.error = std::string{what} + ": "
    + (stalled        ? std::string{"no data for the idle timeout"}
         : timed_out_ ? std::string{"timed out"}
                      : ec.message());
  parser_.reset();
  close();
  finish(std::move(res));
}

void http_connection::finish(http_result res) {
  res.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - job_.submitted)
                     .count();
  busy_ = false;
  connecting_ = false;
  // No deadline while idle in the pool (a pending wait finds it idle).
  deadline_ = clock::time_point::max();
  exchange_deadline_ = deadline_;
  // An idle keep-alive connection keeps neither the request nor a read
  // buffer: one per active user, 10,000 of them held ~15 MB.
  head_ = {};
  body_ = {};
  if (buffer_.size() == 0)
    buffer_.shrink_to_fit();
  auto cb = std::move(job_.cb);
  job_ = {};
  // Releasing the client may destroy it (and close this connection), so the
  // reference is held until it has dispatched its next job. (finish runs
  // inside a handler, which holds the client.)
  auto owner = owner_->shared_from_this();
  cb(std::move(res));
  owner->on_idle(this);
}

void http_connection::close() {
  beast::error_code ignored;
  resolver_.cancel();
  timer_.cancel();
  if (pause_timer_)
    pause_timer_->cancel();
  timer_due_ = clock::time_point::max();
  if (plain_ || tls_) {
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }
  connected_ = false;
}

} // namespace zaki
