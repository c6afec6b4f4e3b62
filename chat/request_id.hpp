#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zaki {

/// Length of every request id.
constexpr size_t request_id_length = 12;

/// Makes short ids for incoming messages: 12 characters of [0-9a-z], e.g.
/// "3kq0v7x2m9ab". The first 6 characters encode the second since 2024
/// (base 36, wrapping in 2092), so ids sort by time; the last 6 are a
/// per-process permutation of a counter, `(offset + counter * stride) mod
/// 36^6`, with a random offset and a random stride coprime to 36. Ids from one
/// process therefore never repeat (fewer than 2 billion ids per second), and
/// ids from two processes can only collide if both run in the same second and
/// hit the same permuted slot (probability about n*m / 2.2e9 for n and m ids in
/// that second).
///
/// Ids are not secrets and not capabilities: whoever acts on one (Retry,
/// Dismiss) must check that the Telegram user pressing the button owns it.
/// Thread-safe; `next` takes no lock and makes no system call (the clock is
/// read through the vDSO).
class request_id_generator {
public:
  /// Creates a generator whose permutation is derived from `seed`.
  explicit request_id_generator(uint64_t seed);

  /// Returns a fresh id stamped with the current time.
  std::string next();

  /// Returns a fresh id stamped with `unix_seconds` (deterministic tests).
  std::string next(int64_t unix_seconds);

  /// Writes a fresh id for `unix_seconds` into `out` without allocating.
  void next(int64_t unix_seconds, char (&out)[request_id_length]);

private:
  uint64_t offset_;
  uint64_t stride_;
  std::atomic<uint64_t> counter_{0};
};

/// Returns a fresh id from the process-wide generator, which is seeded once
/// from std::random_device, the clock and the pid.
std::string new_request_id();

/// Returns whether `id` has the shape of a request id: exactly 12
/// characters of [0-9a-z]. Use it on anything read back from outside
/// (callback data, disk, admin API) before using it as a key.
bool is_valid_request_id(std::string_view id);

} // namespace zaki
