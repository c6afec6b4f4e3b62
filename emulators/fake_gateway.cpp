#include "emulators/fake_gateway.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

#include <boost/asio/steady_timer.hpp>

namespace zaki::fakes {

/// The gateway's state shared with the request handler. The handler holds it
/// weakly, so a late request after destruction finds nothing to call.
struct fake_gateway::impl {
  impl(net::io_context& ioc, std::shared_ptr<gateway_behavior> b,
       fake_gateway_options opts)
    : ioc(ioc), behavior(std::move(b)), opts(std::move(opts)) {
    // nop
  }

  void serve(const request& req, std::shared_ptr<responder> res);

  /// Sends a streamed answer: the head, then one event per `gap`, then its
  /// end (last chunk, a stall or a dropped connection).
  void stream(gateway_reply reply, std::shared_ptr<responder> res,
              std::function<void(int)> finish);

  void hold(std::shared_ptr<responder> res);

  void log(const request& req, const gateway_reply& reply) const;

  net::io_context& ioc;
  std::shared_ptr<gateway_behavior> behavior;
  fake_gateway_options opts;
  std::unique_ptr<mini_http_server> server;
  // Hanging requests stay referenced here so their cancel hooks run when the
  // client disconnects, and so that `stop` can release them.
  std::mutex mtx;
  std::vector<std::shared_ptr<responder>> hung;
};

void fake_gateway::impl::log(const request& req,
                             const gateway_reply& reply) const {
  std::string line{to_sv(req.method_string())};
  auto target = to_sv(req.target());
  line += ' ';
  line += target.substr(0, target.find('?'));
  if (reply.tracked) {
    line += " user=";
    line += reply.user;
  }
  switch (reply.action) {
    case gateway_reply::hang: line += " hang"; break;
    case gateway_reply::crash: line += " crash"; break;
    default:
      line += " status=";
      line += std::to_string(reply.res.result_int());
      line += " delay_ms=";
      line += std::to_string(reply.delay.count());
      line += " bytes=";
      line += std::to_string(reply.res.body().size());
  }
  opts.log(line);
}

void fake_gateway::impl::serve(const request& req,
                               std::shared_ptr<responder> res) {
  auto reply = behavior->handle(req);
  if (opts.log)
    log(req, reply);
  auto b = behavior;
  auto user = reply.user;
  auto tracked = reply.tracked;
  // A tracked request ends exactly once: answered, or cancelled by the
  // client going away (OpenClaw cancels the run on disconnect).
  auto done = std::make_shared<std::atomic<bool>>(false);
  auto finish = [b, user, tracked, done](int status) {
    if (tracked && !done->exchange(true))
      b->finish(user, status);
  };
  switch (reply.action) {
    case gateway_reply::crash:
      finish(0);
      if (opts.on_crash)
        opts.on_crash();
      else
        res->abort();
      return;
    case gateway_reply::hang: {
      res->on_cancel([finish] {
        finish(0);
      });
      hold(std::move(res));
      return;
    }
    case gateway_reply::respond: break;
  }
  if (reply.streamed)
    return stream(std::move(reply), std::move(res), finish);
  auto status = reply.res.result_int();
  if (reply.delay.count() <= 0) {
    finish(static_cast<int>(status));
    res->send(std::move(reply.res));
    return;
  }
  res->on_cancel([finish] {
    finish(0);
  });
  auto timer = std::make_shared<net::steady_timer>(ioc, reply.delay);
  timer->async_wait([timer, res, finish, status, r = std::move(reply.res)](
                      boost::system::error_code) mutable {
    finish(static_cast<int>(status));
    res->send(std::move(r));
  });
}

void fake_gateway::impl::hold(std::shared_ptr<responder> res) {
  std::lock_guard<std::mutex> guard{mtx};
  // Drop finished entries so a long run does not accumulate them.
  hung.erase(std::remove_if(hung.begin(), hung.end(),
                            [](auto& r) {
                              return r->answered();
                            }),
             hung.end());
  hung.emplace_back(std::move(res));
}

namespace {

/// One streamed answer in progress; each timer tick sends the next event.
struct sse_sender : std::enable_shared_from_this<sse_sender> {
  sse_sender(net::io_context& ioc, gateway_reply r,
             std::shared_ptr<responder> res, std::function<void(int)> finish)
    : timer(ioc), reply(std::move(r)), res(std::move(res)),
      finish(std::move(finish)) {
    // nop
  }

  void next() {
    if (res->answered())
      return; // the client went away (cancel hook ran)
    if (pos < reply.events.size()) {
      // The mark is taken as the event goes out, before the write: taken
      // after it, a router answering before this thread ran on lost the
      // sample (the fastest ones).
      if (pos == reply.mark_event && reply.on_mark)
        reply.on_mark();
      res->send_part(http_chunk(reply.events[pos++]), false);
      if (reply.gap.count() <= 0)
        return next();
      timer.expires_after(reply.gap);
      timer.async_wait([self = shared_from_this()](boost::system::error_code) {
        self->next();
      });
      return;
    }
    switch (reply.stream_end) {
      case gateway_reply::end_ok:
        finish(200);
        res->send_part(http_chunk({}), true);
        return;
      case gateway_reply::drop:
        finish(0);
        res->abort();
        return;
      case gateway_reply::stall: return; // held open until the client gives up
    }
  }

  net::steady_timer timer;
  gateway_reply reply;
  std::shared_ptr<responder> res;
  std::function<void(int)> finish;
  size_t pos = 0;
};

} // namespace

void fake_gateway::impl::stream(gateway_reply reply,
                                std::shared_ptr<responder> res,
                                std::function<void(int)> finish) {
  res->on_cancel([finish] {
    finish(0);
  });
  if (reply.stream_end == gateway_reply::stall)
    hold(res);
  auto delay = reply.delay;
  auto sender = std::make_shared<sse_sender>(ioc, std::move(reply), res,
                                             std::move(finish));
  res->send_part(sse_head(), false);
  if (delay.count() <= 0)
    return sender->next();
  sender->timer.expires_after(delay);
  sender->timer.async_wait([sender](boost::system::error_code) {
    sender->next();
  });
}

fake_gateway::fake_gateway(fake_gateway_options opts)
  : runner_(std::make_unique<io_runtime>(opts.threads, io_start::deferred)) {
  init(runner_->context(), std::move(opts));
}

fake_gateway::fake_gateway(net::io_context& ioc, fake_gateway_options opts) {
  init(ioc, std::move(opts));
}

void fake_gateway::init(net::io_context& ioc, fake_gateway_options opts) {
  behavior_ = std::make_shared<gateway_behavior>(opts.token);
  auto http_opts = opts.http;
  impl_ = std::make_shared<impl>(ioc, behavior_, std::move(opts));
  std::weak_ptr<impl> weak = impl_;
  impl_->server = std::make_unique<mini_http_server>(
    ioc,
    [weak](request req, std::shared_ptr<responder> res) {
      if (auto self = weak.lock())
        self->serve(req, std::move(res));
    },
    http_opts);
}

fake_gateway::~fake_gateway() {
  stop();
}

uint16_t fake_gateway::start() {
  auto port = impl_->server->start();
  if (runner_)
    runner_->start();
  return port;
}

void fake_gateway::stop() {
  impl_->server->stop();
  std::vector<std::shared_ptr<responder>> hung;
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    hung.swap(impl_->hung);
  }
  for (auto& r : hung)
    r->cancel();
  hung.clear();
  if (runner_)
    runner_->stop();
}

uint16_t fake_gateway::port() const {
  return impl_->server->port();
}

} // namespace zaki::fakes
