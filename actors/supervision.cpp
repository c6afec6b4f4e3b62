#include "actors/supervision.hpp"

namespace zaki {

namespace {

std::chrono::milliseconds ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x);
}

} // namespace

restart_policy root_restart_policy(const settings& s) {
  // A constant delay: the root's children are few and long-lived, and a
  // failure beyond the intensity stops the router anyway.
  restart_policy p;
  p.max_restarts = static_cast<uint32_t>(s.root.max_restarts);
  p.window = ms(s.root.restart_window);
  p.backoff_initial = ms(s.root.restart_delay);
  p.backoff_max = p.backoff_initial;
  return p;
}

restart_policy user_restart_policy(const settings& s) {
  // User actors have no health signal: a restart window without a crash is
  // the stable run that starts the backoff over. Jitter keeps the actors
  // of many users that crashed together (a bad gateway release) apart.
  restart_policy p;
  p.max_restarts = static_cast<uint32_t>(s.supervisor.max_restarts);
  p.window = ms(s.supervisor.restart_window);
  p.backoff_initial = ms(s.supervisor.backoff_initial);
  p.backoff_max = ms(s.supervisor.backoff_max);
  p.backoff_reset = p.window;
  p.quiet_resets_backoff = true;
  p.jitter = 0.2;
  return p;
}

restart_policy health_restart_policy(const settings& s) {
  restart_policy p;
  p.backoff_initial = ms(s.health.backoff_initial);
  p.backoff_max = ms(s.health.backoff_max);
  p.backoff_reset = ms(s.health.backoff_reset);
  p.max_restarts = static_cast<uint32_t>(s.health.max_restarts);
  p.window = ms(s.health.restart_window);
  return p;
}

} // namespace zaki
