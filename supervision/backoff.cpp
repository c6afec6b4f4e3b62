#include "supervision/backoff.hpp"

#include <algorithm>
#include <random>

namespace zaki {

backoff::backoff(std::chrono::milliseconds initial,
                 std::chrono::milliseconds max)
  : initial_(initial), max_(std::max(initial, max)) {
  // nop
}

std::chrono::milliseconds backoff::next() {
  auto base = exponential_delay(initial_, max_, attempt_++);
  return std::min(with_jitter(base), max_);
}

void backoff::reset() {
  attempt_ = 0;
}

std::chrono::milliseconds exponential_delay(std::chrono::milliseconds initial,
                                            std::chrono::milliseconds max,
                                            uint32_t attempt) {
  auto delay = initial;
  for (uint32_t i = 0; i < attempt && delay < max; ++i)
    delay *= 2;
  return std::min(delay, max);
}

std::chrono::milliseconds with_jitter(std::chrono::milliseconds base,
                                      double spread) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> dist{1.0 - spread, 1.0 + spread};
  auto scaled = static_cast<double>(base.count()) * dist(rng);
  return std::chrono::milliseconds{static_cast<int64_t>(scaled)};
}

} // namespace zaki
