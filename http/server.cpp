#include "http/server.hpp"

#include <cerrno>
#include <condition_variable>
#include <optional>
#include <unordered_map>
#include <vector>

#include <sys/socket.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace zaki {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace beast = boost::beast;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace detail {

/// State shared by the server object, its acceptor loop and its sessions, so
/// that late completions never touch a destroyed server.
struct http_server_core : std::enable_shared_from_this<http_server_core> {
  http_server_core(net::io_context& ioc, http_handler h,
                   http_server_options opts)
    : ioc(ioc), on_request(std::move(h)), opts(std::move(opts)),
      acceptor(net::make_strand(ioc)) {
    // nop
  }

  void do_accept();

  /// Marks session `id` as waiting for a request head (`waiting`) or busy
  /// with a request; caller holds no lock.
  void set_reading(uint64_t id, bool waiting);

  /// Picks the session that has waited longest for a request head, takes
  /// it off the candidates and returns it (null when there is none). The
  /// caller holds `mtx`.
  std::shared_ptr<http_session> pick_idle_victim();

  net::io_context& ioc;
  http_handler on_request;
  http_server_options opts;
  tcp::acceptor acceptor;
  std::atomic<bool> stopped{false};
  std::atomic<uint16_t> port{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> evicted{0};

  // Open connections, so that `stop` can close them.
  mutable std::mutex mtx;
  std::condition_variable all_closed;
  std::unordered_map<uint64_t, std::weak_ptr<http_session>> sessions;
  /// Sessions waiting for a request head, by when they started waiting
  /// (a stamp from `next_stamp`); the eviction candidates.
  std::unordered_map<uint64_t, uint64_t> waiting_since;
  uint64_t next_stamp = 1;
  uint64_t next_id = 0;
  size_t open = 0;
};

/// One connection: reads a request, hands it to the handler, writes the
/// answer when the http_responder delivers it, and repeats while keep-alive.
/// Everything runs on the socket's strand, so no member needs a lock.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket&& socket, std::shared_ptr<http_server_core> core,
               uint64_t id)
    : stream_(std::move(socket)), core_(std::move(core)), id_(id) {
    // nop
  }

  void run() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&http_session::do_read,
                                            shared_from_this()));
  }

  void deliver(uint64_t seq, std::shared_ptr<http_response> res) {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this(), seq, res] {
                    self->on_deliver(seq, res);
                  });
  }

  void deliver_part(uint64_t seq, std::shared_ptr<std::string> part,
                    bool last) {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this(), seq, part, last] {
                    self->on_part(seq, part, last);
                  });
  }

  void abort(uint64_t seq) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), seq] {
      if (seq == self->seq_ && self->waiting_) {
        self->waiting_ = false;
        self->do_close();
      }
    });
  }

  void close() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->do_close();
    });
  }

private:
  void do_read() {
    if (closed_)
      return;
    if (core_->stopped) {
      do_close();
      return;
    }
    core_->set_reading(id_, true);
    parser_.emplace();
    parser_->body_limit(core_->opts.body_limit);
    parser_->header_limit(core_->opts.header_limit);
    stream_.expires_after(core_->opts.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read,
                                               shared_from_this()));
  }

  void on_read(error_code ec, size_t) {
    if (ec == http::error::body_limit) {
      fail_with(http::status::payload_too_large, "request body too large");
      return;
    }
    if (ec == http::error::header_limit) {
      fail_with(http::status::request_header_fields_too_large,
                "request headers too large");
      return;
    }
    if (ec) {
      // Garbage that is not HTTP gets a 400 first, like real servers; a
      // closed or idle connection is just closed.
      static const auto& http_category
        = http::make_error_code(http::error::bad_target).category();
      if (ec.category() == http_category && ec != http::error::end_of_stream
          && parser_->got_some())
        fail_with(http::status::bad_request, "bad request");
      else
        do_close();
      return;
    }
    core_->set_reading(id_, false);
    auto req = parser_->release();
    ++seq_;
    waiting_ = true;
    stream_.expires_never();
    auto res = std::make_shared<http_responder>(
      shared_from_this(), seq_, req.version(), req.keep_alive());
    current_ = res;
    try {
      core_->on_request(std::move(req), res);
    } catch (const std::exception&) {
      res->send(
        json_error(http::status::internal_server_error, "handler failed"));
    }
    // Watch for the client going away while the answer is pending, so that
    // fakes can release held requests (a disconnect cancels a gateway run).
    if (waiting_ && buffer_.size() == 0)
      watch_disconnect();
  }

  void watch_disconnect() {
    stream_.socket().async_wait(
      tcp::socket::wait_read,
      beast::bind_front_handler(&http_session::on_watch, shared_from_this(),
                                seq_));
  }

  void on_watch(uint64_t seq, error_code ec) {
    if (ec || seq != seq_ || !waiting_ || closed_)
      return;
    // Never a blocking receive here: the reactor may report readiness that
    // is gone by now, and a blocking peek would then stall this connection
    // (and its strand) until the client gives up.
    char c;
    auto n = ::recv(stream_.socket().native_handle(), &c, 1,
                    MSG_PEEK | MSG_DONTWAIT);
    if (n > 0)
      return; // a pipelined request; read once this one is answered
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      watch_disconnect(); // nothing to read after all: keep watching
      return;
    }
    do_close(); // orderly close (0) or a socket error
  }

  void on_deliver(uint64_t seq, std::shared_ptr<http_response> res) {
    if (seq != seq_ || !waiting_ || closed_)
      return;
    waiting_ = false;
    current_.reset();
    error_code ignored;
    stream_.socket().cancel(ignored); // ends the disconnect watch
    if (core_->stopped)
      res->keep_alive(false);
    res->set(http::field::server, core_->opts.server_name);
    res_ = std::move(res);
    stream_.expires_after(core_->opts.write_timeout);
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&http_session::on_write,
                                                shared_from_this()));
  }

  // Parts of a streamed answer go out one write at a time, in order; the
  // disconnect watch stays, so a client going away cancels the stream.
  void on_part(uint64_t seq, std::shared_ptr<std::string> part, bool last) {
    if (seq != seq_ || !waiting_ || closed_)
      return;
    parts_.push_back(std::move(part));
    parts_done_ = last;
    if (!writing_part_)
      write_part();
  }

  void write_part() {
    if (parts_.empty()) {
      if (!parts_done_)
        return;
      parts_done_ = false;
      waiting_ = false;
      current_.reset();
      error_code ignored;
      stream_.socket().cancel(ignored); // ends the disconnect watch
      if (core_->stopped)
        do_close();
      else
        do_read();
      return;
    }
    writing_part_ = true;
    auto part = parts_.front();
    parts_.erase(parts_.begin());
    net::async_write(stream_, net::buffer(*part),
                     [self = shared_from_this(), part](error_code ec, size_t) {
                       self->writing_part_ = false;
                       if (ec)
                         return self->do_close();
                       self->write_part();
                     });
  }

  void fail_with(http::status status, std::string_view message) {
    auto res = std::make_shared<http_response>(json_error(status, message));
    res->set(http::field::server, core_->opts.server_name);
    res->keep_alive(false);
    res_ = std::move(res);
    stream_.expires_after(core_->opts.write_timeout);
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&http_session::on_write,
                                                shared_from_this()));
  }

  void on_write(error_code ec, size_t) {
    bool close = ec || res_->need_eof();
    res_.reset();
    if (close)
      do_close();
    else
      do_read();
  }

  void do_close() {
    if (closed_)
      return;
    closed_ = true;
    if (waiting_) {
      waiting_ = false;
      if (auto r = current_.lock())
        r->cancel();
    }
    current_.reset();
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    std::lock_guard<std::mutex> guard{core_->mtx};
    core_->sessions.erase(id_);
    core_->waiting_since.erase(id_);
    if (--core_->open == 0)
      core_->all_closed.notify_all();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http_server_core> core_;
  uint64_t id_;
  uint64_t seq_ = 0;
  bool waiting_ = false;
  bool closed_ = false;
  std::weak_ptr<http_responder> current_;
  std::shared_ptr<http_response> res_;
  std::vector<std::shared_ptr<std::string>> parts_;
  bool writing_part_ = false;
  bool parts_done_ = false;
};

void http_server_core::do_accept() {
  acceptor.async_accept(
    net::make_strand(ioc),
    [self = shared_from_this()](error_code ec, tcp::socket socket) {
      if (self->stopped)
        return;
      if (!ec) {
        error_code ignored;
        socket.set_option(tcp::no_delay{true}, ignored);
        std::shared_ptr<http_session> s;
        std::shared_ptr<http_session> victim;
        {
          std::lock_guard<std::mutex> guard{self->mtx};
          auto limit = self->opts.max_connections;
          if (limit > 0 && self->open >= limit
              && self->opts.evict_idle_at_limit)
            victim = self->pick_idle_victim();
          if (victim) {
            // The victim closes on its own strand (below, outside the
            // lock its close takes); until then the count runs over.
            ++self->evicted;
          } else if (limit > 0 && self->open >= limit) {
            // Over the limit: close at once instead of queueing the socket,
            // so idle connections cannot pile up.
            ++self->refused;
            socket.close(ignored);
            self->do_accept();
            return;
          }
          auto id = self->next_id++;
          s = std::make_shared<http_session>(std::move(socket), self, id);
          self->sessions.emplace(id, s);
          ++self->open;
        }
        if (victim)
          victim->close();
        s->run();
      }
      // Errors such as EMFILE are transient: keep accepting.
      self->do_accept();
    });
}

void http_server_core::set_reading(uint64_t id, bool waiting) {
  if (!opts.evict_idle_at_limit)
    return;
  std::lock_guard<std::mutex> guard{mtx};
  if (waiting)
    waiting_since[id] = next_stamp++;
  else
    waiting_since.erase(id);
}

std::shared_ptr<http_session> http_server_core::pick_idle_victim() {
  // A linear scan: the map holds at most `max_connections` entries, and it
  // runs only when the server is full.
  while (!waiting_since.empty()) {
    auto oldest = waiting_since.begin();
    for (auto i = waiting_since.begin(); i != waiting_since.end(); ++i)
      if (i->second < oldest->second)
        oldest = i;
    auto id = oldest->first;
    waiting_since.erase(oldest);
    if (auto i = sessions.find(id); i != sessions.end())
      if (auto s = i->second.lock())
        return s;
  }
  return nullptr;
}

} // namespace detail

// -- http_responder ------------------------------------------------------------

http_responder::http_responder(std::shared_ptr<detail::http_session> owner,
                               uint64_t seq, unsigned version, bool keep_alive)
  : owner_(std::move(owner)), seq_(seq), version_(version),
    keep_alive_(keep_alive) {
  // nop
}

http_responder::~http_responder() {
  // nop: an unanswered request stays open, which models a hang
}

bool http_responder::send(http_response res) {
  if (done_.exchange(true))
    return false;
  res.version(version_);
  res.keep_alive(keep_alive_);
  res.prepare_payload();
  owner_->deliver(seq_, std::make_shared<http_response>(std::move(res)));
  return true;
}

bool http_responder::send(http::status status, std::string body,
                          std::string_view content_type) {
  return send(make_http_response(status, std::move(body), content_type));
}

bool http_responder::send_part(std::string bytes, bool last) {
  if (last ? done_.exchange(true) : done_.load())
    return false;
  owner_->deliver_part(seq_, std::make_shared<std::string>(std::move(bytes)),
                       last);
  return true;
}

void http_responder::abort() {
  if (done_.exchange(true))
    return;
  owner_->abort(seq_);
}

void http_responder::on_cancel(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!cancelled_) {
      on_cancel_ = std::move(f);
      return;
    }
  }
  f();
}

void http_responder::cancel() {
  if (done_.exchange(true))
    return;
  std::function<void()> f;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    cancelled_ = true;
    f.swap(on_cancel_);
  }
  if (f)
    f();
}

// -- http_server ---------------------------------------------------------------

http_server::http_server(net::io_context& ioc, http_handler h,
                         http_server_options opts)
  : core_(std::make_shared<detail::http_server_core>(ioc, std::move(h),
                                                     std::move(opts))) {
  // nop
}

http_server::~http_server() {
  stop();
}

uint16_t http_server::start() {
  auto& acc = core_->acceptor;
  // A numeric address only: no resolver, so static binaries avoid NSS.
  tcp::endpoint ep{net::ip::make_address(core_->opts.address),
                   core_->opts.port};
  acc.open(ep.protocol());
  acc.set_option(net::socket_base::reuse_address(true));
  acc.bind(ep);
  acc.listen(net::socket_base::max_listen_connections);
  core_->port = acc.local_endpoint().port();
  net::dispatch(acc.get_executor(), [core = core_] {
    core->do_accept();
  });
  return core_->port;
}

void http_server::stop() {
  if (core_->stopped.exchange(true))
    return;
  net::dispatch(core_->acceptor.get_executor(), [core = core_] {
    error_code ignored;
    core->acceptor.close(ignored);
  });
  std::vector<std::shared_ptr<detail::http_session>> live;
  {
    std::lock_guard<std::mutex> guard{core_->mtx};
    for (auto& [id, weak] : core_->sessions)
      if (auto s = weak.lock())
        live.emplace_back(std::move(s));
  }
  for (auto& s : live)
    s->close();
  live.clear();
  // Give the io threads a moment to send FINs, unless we are one of them
  // (waiting there would deadlock) or nothing runs the context.
  if (core_->ioc.get_executor().running_in_this_thread()
      || core_->ioc.stopped())
    return;
  std::unique_lock<std::mutex> guard{core_->mtx};
  core_->all_closed.wait_for(guard, std::chrono::seconds(1), [this] {
    return core_->open == 0;
  });
}

uint16_t http_server::port() const {
  return core_->port;
}

size_t http_server::connections() const {
  std::lock_guard<std::mutex> guard{core_->mtx};
  return core_->open;
}

uint64_t http_server::refused() const {
  return core_->refused;
}

uint64_t http_server::evicted() const {
  return core_->evicted;
}

// -- helpers -------------------------------------------------------------------

http_response make_http_response(http::status status, std::string body,
                                 std::string_view content_type) {
  http_response res{status, 11};
  res.set(http::field::server, "zaki");
  if (!content_type.empty())
    res.set(http::field::content_type,
            beast::string_view{content_type.data(), content_type.size()});
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

http_response json_error(http::status status, std::string_view message) {
  // A tiny escaper of its own: this file must not depend on the core's JSON
  // writer (zaki-test-gateway compiles it alone).
  std::string body = "{\"error\":\"";
  for (char c : message) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      body += '\\';
      body += c;
    } else if (u < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      body += "\\u00";
      body += hex[u >> 4];
      body += hex[u & 0xf];
    } else {
      body += c;
    }
  }
  body += "\"}";
  return make_http_response(status, std::move(body));
}

http_response not_found(std::string_view target) {
  // Only the path: a query string may carry anything.
  auto path = target.substr(0, target.find('?'));
  if (path.size() > 200)
    path = path.substr(0, 200);
  return json_error(http::status::not_found,
                    "no such endpoint: " + std::string{path});
}

http_response method_not_allowed(std::string_view allowed) {
  auto res = json_error(http::status::method_not_allowed,
                        "method not allowed; use " + std::string{allowed});
  res.set(http::field::allow,
          beast::string_view{allowed.data(), allowed.size()});
  return res;
}

} // namespace zaki
