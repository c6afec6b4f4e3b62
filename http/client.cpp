#include "http/client.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "http/connection.hpp"
#include "runtime/io_runtime.hpp"

namespace zaki {

namespace net = boost::asio;

std::shared_ptr<http_client> http_client::make(net::io_context& ioc,
                                               origin where,
                                               http_client_options opts) {
  return std::make_shared<http_client>(ioc, std::move(where), std::move(opts));
}

http_client::http_client(net::io_context& ioc, origin where,
                         http_client_options opts)
  : ioc_(ioc), exec_(runs_on_one_thread(ioc)
                       ? net::any_io_executor{ioc.get_executor()}
                       : net::any_io_executor{net::make_strand(ioc)}),
    origin_(std::move(where)), opts_(std::move(opts)) {
  if (opts_.max_connections == 0)
    opts_.max_connections = 1;
}

http_client::~http_client() {
  // Every connection is idle here: a busy one and every handler queued on
  // the executor hold a reference to this client. Idle sockets have no
  // pending operation, so closing them from this thread races with nothing.
  for (auto& conn : connections_)
    conn->close();
}

void http_client::async_request(http_request_spec req, callback cb) {
  job j{std::move(req), std::move(cb), std::chrono::steady_clock::now()};
  // Inline when called on the client's executor (an actor on the I/O
  // thread); queued otherwise. Completions are never invoked inline.
  net::dispatch(exec_, [self = shared_from_this(), j = std::move(j)]() mutable {
    if (self->closed_) {
      http_result res;
      res.failure = http_failure::cancelled;
      res.error = "client shut down";
      j.cb(std::move(res));
      return;
    }
    if (self->origin_.tls && !self->opts_.tls) {
      http_result res;
      res.failure = http_failure::tls;
      res.error = "no TLS context for an https origin";
      j.cb(std::move(res));
      return;
    }
    self->queue_.push_back(std::move(j));
    self->dispatch();
  });
}

void http_client::shutdown() {
  net::post(exec_, [self = shared_from_this()] {
    self->closed_ = true;
    for (auto& conn : self->connections_)
      conn->close();
    self->connections_.clear();
    auto pending = std::move(self->queue_);
    self->queue_.clear();
    for (auto& j : pending) {
      http_result res;
      res.failure = http_failure::cancelled;
      res.error = "client shut down";
      j.cb(std::move(res));
    }
  });
}

void http_client::on_idle(http_connection*) {
  dispatch();
}

void http_client::dispatch() {
  while (!queue_.empty() && !closed_) {
    http_connection* idle = nullptr;
    for (auto& conn : connections_)
      if (!conn->busy()) {
        idle = conn.get();
        break;
      }
    if (idle == nullptr) {
      if (connections_.size() >= opts_.max_connections)
        return;
      connections_.push_back(std::make_shared<http_connection>(*this));
      idle = connections_.back().get();
    }
    auto j = std::move(queue_.front());
    queue_.pop_front();
    idle->start(std::move(j));
  }
}

} // namespace zaki
