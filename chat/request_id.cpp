#include "chat/request_id.hpp"

#include <chrono>
#include <ctime>
#include <random>

#include <unistd.h>

namespace zaki {

namespace {

constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

// 36^6: the range of each half of an id.
constexpr uint64_t half_range = 2176782336ull;

// 2024-01-01T00:00:00Z. Counting from here, the 6-character time part wraps
// in 2092 instead of 2038.
constexpr int64_t id_epoch = 1704067200;

// SplitMix64 finaliser: spreads a weak seed over all bits.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Both halves are below 36^6 < 2^32; 32-bit division by a constant is the
// cheapest form the compiler can emit.
void put_base36(char* out, uint32_t value) {
  for (int i = 5; i >= 0; --i) {
    out[i] = digits[value % 36];
    value /= 36;
  }
}

int64_t coarse_unix_seconds() {
  // CLOCK_REALTIME_COARSE is served from the vDSO without a system call and
  // is a few times cheaper than the precise clock; seconds are all we need.
  timespec ts;
  if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) == 0)
    return ts.tv_sec;
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

request_id_generator::request_id_generator(uint64_t seed) {
  offset_ = mix(seed) % half_range;
  // A stride coprime to 36^6 (not divisible by 2 or 3) makes
  // counter -> offset + counter * stride a bijection modulo 36^6.
  auto stride = mix(seed ^ 0xA5A5A5A5A5A5A5A5ull) % half_range;
  stride |= 1;
  while (stride % 3 == 0)
    stride += 2;
  stride_ = stride % half_range;
}

void request_id_generator::next(int64_t unix_seconds,
                                char (&out)[request_id_length]) {
  auto n = counter_.fetch_add(1, std::memory_order_relaxed) % half_range;
  // Both factors are below 2^32, so the product fits into 64 bits.
  auto low = (offset_ + n * stride_) % half_range;
  auto high = static_cast<uint64_t>(unix_seconds - id_epoch) % half_range;
  put_base36(out, static_cast<uint32_t>(high));
  put_base36(out + 6, static_cast<uint32_t>(low));
}

std::string request_id_generator::next(int64_t unix_seconds) {
  char buf[request_id_length];
  next(unix_seconds, buf);
  return std::string{buf, request_id_length};
}

std::string request_id_generator::next() {
  return next(coarse_unix_seconds());
}

std::string new_request_id() {
  static request_id_generator generator{[] {
    std::random_device rd;
    uint64_t seed = (uint64_t{rd()} << 32) ^ rd();
    seed ^= static_cast<uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
    seed ^= static_cast<uint64_t>(::getpid()) << 17;
    return seed;
  }()};
  return generator.next();
}

bool is_valid_request_id(std::string_view id) {
  if (id.size() != request_id_length)
    return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
      return false;
  return true;
}

} // namespace zaki
