#include "containers/provisioning_queue.hpp"

namespace zaki {

provisioning_queue::admission provisioning_queue::admit(int64_t user) {
  if (in_flight_ >= max_in_flight_) {
    queue_.push_back(user);
    return admission::queued;
  }
  ++in_flight_;
  return admission::launch;
}

void provisioning_queue::finished() {
  if (in_flight_ > 0)
    --in_flight_;
}

std::optional<int64_t>
provisioning_queue::next(const std::function<bool(int64_t)>& wanted) {
  while (!queue_.empty() && in_flight_ < max_in_flight_) {
    auto user = queue_.front();
    queue_.pop_front();
    if (!wanted(user))
      continue;
    ++in_flight_;
    return user;
  }
  return std::nullopt;
}

} // namespace zaki
