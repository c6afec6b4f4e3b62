#define CAF_SUITE containers.provisioning_queue

#include "containers/provisioning_queue.hpp"

#include "caf/test/unit_test.hpp"

#include <set>

using namespace zaki;

namespace {

using admission = provisioning_queue::admission;

auto everyone = [](int64_t) {
  return true;
};

/// Returns the next user to launch, or -1 for none.
int64_t next_of(provisioning_queue& q,
                const std::function<bool(int64_t)>& wanted = everyone) {
  auto user = q.next(wanted);
  return user ? *user : -1;
}

} // namespace

CAF_TEST(starts beyond the bound wait in arrival order) {
  provisioning_queue q{2};
  CAF_CHECK(q.admit(1) == admission::launch);
  CAF_CHECK(q.admit(2) == admission::launch);
  CAF_CHECK(q.admit(3) == admission::queued);
  CAF_CHECK(q.admit(4) == admission::queued);
  CAF_CHECK_EQUAL(q.in_flight(), 2u);
  CAF_CHECK_EQUAL(q.queued(), 2u);
  // No slot is free: nobody moves up.
  CAF_CHECK_EQUAL(next_of(q), -1);
  q.finished();
  CAF_CHECK_EQUAL(next_of(q, everyone), 3);
  CAF_CHECK_EQUAL(next_of(q), -1);
  q.finished();
  q.finished();
  CAF_CHECK_EQUAL(next_of(q, everyone), 4);
  CAF_CHECK_EQUAL(q.in_flight(), 1u);
  CAF_CHECK_EQUAL(q.queued(), 0u);
}

CAF_TEST(users no longer waiting leave the queue without a slot) {
  provisioning_queue q{1};
  q.admit(1);
  q.admit(2);
  q.admit(3);
  q.admit(4);
  q.finished();
  std::set<int64_t> stopped{2, 3};
  auto wanted = [&](int64_t user) {
    return stopped.count(user) == 0;
  };
  CAF_CHECK_EQUAL(next_of(q, wanted), 4);
  CAF_CHECK_EQUAL(q.queued(), 0u);
  CAF_CHECK_EQUAL(q.in_flight(), 1u);
}

CAF_TEST(a finished launch never takes the count below zero) {
  provisioning_queue q{1};
  q.finished();
  CAF_CHECK_EQUAL(q.in_flight(), 0u);
  CAF_CHECK(q.admit(1) == admission::launch);
}
