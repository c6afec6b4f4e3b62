#pragma once

// The simulated world of the load bench: one fake Bot API and a few fake
// gateways in the bench process, a users.json naming every simulated user,
// and the gateway-side invariant counters (overlap, order, misrouting).
// Many users share one gateway port, as the gateway accepts one shared token.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "emulators/fake_gateway.hpp"
#include "emulators/fake_telegram.hpp"
#include "runtime/io_runtime.hpp"
#include "storage/users_file.hpp"

namespace zaki::bench {

/// Settings of a `load_world`.
struct world_options {
  /// Users in users.json (the active ones are the first of them).
  size_t registered = 1000;

  /// Fake gateways; user i talks to gateway i % gateways.
  size_t gateways = 4;

  /// Delay of every gateway answer.
  std::chrono::milliseconds gateway_latency{0};

  /// io threads of the fake Bot API and of the gateways.
  size_t telegram_threads = 1;
  size_t gateway_threads = 1;

  /// Streamed answers: this many characters (0: the short echo), one SSE
  /// event of 10 characters per `stream_gap`.
  size_t stream_chars = 0;
  std::chrono::milliseconds stream_gap{50};

  /// The fake Bot API answers 429 to a second edit within a second in a
  /// chat.
  bool edit_flood = false;

  /// The fake Bot API answers a poll this long after its first update (the
  /// round trip to Telegram): batches as real traffic has them (0: at once).
  std::chrono::milliseconds poll_gather{0};
};

/// The gateway counters summed over every fake gateway.
struct gateway_totals {
  uint64_t chat_requests = 0;
  uint64_t answered_ok = 0;
  uint64_t unauthorized = 0;
  uint64_t overlap_violations = 0;
  uint64_t order_violations = 0;
  uint64_t repeats = 0;
  uint64_t misrouted = 0;
  uint64_t max_in_flight = 0;
  /// Chat requests under way now.
  uint64_t in_flight = 0;
};

/// The fakes of one bench scenario.
class load_world {
public:
  /// Telegram user ids of the simulated users start here (above 2^32, as
  /// many real ids are today).
  static constexpr int64_t first_user_id = 7000000000;

  explicit load_world(world_options opts) : opts_(std::move(opts)) {
    fakes::fake_telegram_options topts;
    topts.threads = opts_.telegram_threads;
    // The poll is held at most 30 s; the router polls with timeout 30.
    topts.max_poll = std::chrono::seconds(30);
    topts.poll_gather = opts_.poll_gather;
    telegram_ = std::make_unique<fakes::fake_telegram>(topts);
    telegram_->set_edit_flood_limit(opts_.edit_flood);
    gateway_io_ = std::make_unique<io_runtime>(opts_.gateway_threads,
                                               io_start::deferred);
    for (size_t g = 0; g < std::max<size_t>(1, opts_.gateways); ++g) {
      fakes::fake_gateway_options gopts;
      gopts.token = "gw-bench-token-" + std::to_string(g);
      auto gw = std::make_unique<fakes::fake_gateway>(gateway_io_->context(),
                                                      gopts);
      gw->behavior().set_prefix("re: ");
      gw->behavior().set_latency(opts_.gateway_latency);
      if (opts_.stream_chars > 0) {
        // The answer starts with the user's text (the driver finds its
        // marker in the first preview) and grows to stream_chars.
        std::string filler;
        while (filler.size() + 60 < opts_.stream_chars)
          filler += " and the answer flows on";
        gw->behavior().set_suffix(std::move(filler));
        gw->behavior().set_stream_gap(opts_.stream_gap);
        gw->behavior().set_stream_piece(10);
      }
      tokens_.push_back(gopts.token);
      gateways_.push_back(std::move(gw));
    }
  }

  ~load_world() {
    stop();
  }

  load_world(const load_world&) = delete;
  load_world& operator=(const load_world&) = delete;

  /// Binds every fake and starts their threads.
  void start() {
    telegram_->start();
    for (auto& gw : gateways_)
      ports_.push_back(gw->start());
    gateway_io_->start();
  }

  /// Stops the fakes; safe to call twice.
  void stop() {
    for (auto& gw : gateways_)
      gw->stop();
    if (gateway_io_)
      gateway_io_->stop();
    if (telegram_)
      telegram_->stop();
  }

  /// Returns the Telegram user id of simulated user `i`.
  static int64_t user_id(size_t i) {
    return first_user_id + static_cast<int64_t>(i);
  }

  /// Returns the index of `user_id`, or -1 when it is no simulated user.
  int64_t user_index(int64_t user_id) const {
    auto i = user_id - first_user_id;
    return i >= 0 && i < static_cast<int64_t>(opts_.registered) ? i : -1;
  }

  /// Returns the gateway port of user `i`.
  uint16_t port_of(size_t i) const {
    return ports_.at(i % ports_.size());
  }

  /// Returns the gateway token of user `i`.
  const std::string& token_of(size_t i) const {
    return tokens_.at(i % tokens_.size());
  }

  /// Returns the registry of every registered user.
  user_map users() const {
    user_map out;
    out.reserve(opts_.registered);
    for (size_t i = 0; i < opts_.registered; ++i) {
      user_record rec;
      rec.user_id = user_id(i);
      rec.port = port_of(i);
      rec.token = token_of(i);
      rec.container = "zaki-user-" + std::to_string(rec.user_id);
      out.emplace(rec.user_id, std::move(rec));
    }
    return out;
  }

  /// Returns the command line of `router run` against this world, with
  /// `users_file` and `data_root`: the static backend, an admin port of its
  /// own, the Bot API pacing out of the way (the fake has no flood limits;
  /// pacing would measure the buckets) and no per-user rate limit
  /// (throughput is measured). Every other setting is the router's default.
  std::vector<std::string> router_argv(const std::string& router,
                                       const std::string& users_file,
                                       const std::string& data_root) const {
    return {router,
            "run",
            "--store.users-file=" + users_file,
            "--store.data-root=" + data_root,
            "--telegram.api-root=" + telegram_->api_root(),
            "--backend.kind=static",
            "--admin.address=127.0.0.1:0",
            "--telegram.global-rate=1000000",
            "--telegram.global-burst=1000000",
            "--telegram.chat-rate=1000000",
            "--telegram.chat-burst=1000000",
            "--access.rate=0"};
  }

  /// Returns the fake Bot API.
  fakes::fake_telegram& telegram() {
    return *telegram_;
  }

  /// Returns the settings.
  const world_options& options() const {
    return opts_;
  }

  /// Calls `f` with the user's text whenever a gateway sends the event
  /// carrying the `chars`th character of a streamed answer.
  void on_stream_mark(size_t chars, std::function<void(const std::string&)> f) {
    for (auto& gw : gateways_)
      gw->behavior().set_stream_mark(chars, f);
  }

  /// Clears the gateways' counters and per-user sequences between phases.
  void reset_gateways() {
    for (auto& gw : gateways_)
      gw->behavior().reset_stats();
  }

  /// Returns the gateways' counters summed.
  gateway_totals gateway_stats() const {
    gateway_totals t;
    for (auto& gw : gateways_) {
      auto s = gw->stats();
      t.chat_requests += s.chat_requests;
      t.answered_ok += s.answered_ok;
      t.unauthorized += s.unauthorized;
      t.overlap_violations += s.overlap_violations;
      t.order_violations += s.order_violations;
      t.repeats += s.repeats;
      t.misrouted += s.misrouted;
      t.max_in_flight += s.max_in_flight;
      t.in_flight += s.in_flight;
    }
    return t;
  }

private:
  world_options opts_;
  std::unique_ptr<fakes::fake_telegram> telegram_;
  std::unique_ptr<io_runtime> gateway_io_;
  std::vector<std::unique_ptr<fakes::fake_gateway>> gateways_;
  std::vector<uint16_t> ports_;
  std::vector<std::string> tokens_;
};

} // namespace zaki::bench
