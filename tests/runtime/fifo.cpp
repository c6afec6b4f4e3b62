#define CAF_SUITE runtime.fifo
#include "caf/test/unit_test.hpp"

#include "runtime/fifo.hpp"

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

// The per-user and per-chat queues: first in, first out, a retry put back
// in front, removal by predicate, and the same order as std::deque under
// any mix of operations.

using namespace zaki;

namespace {

std::vector<int> drain(fifo<int>& q) {
  std::vector<int> out;
  while (!q.empty()) {
    out.push_back(q.front());
    q.pop_front();
  }
  return out;
}

} // namespace

CAF_TEST(first in first out and a retry goes first) {
  fifo<int> q;
  CAF_CHECK(q.empty());
  q.push_back(1);
  q.push_back(2);
  q.push_back(3);
  CAF_CHECK_EQUAL(q.size(), 3u);
  CAF_CHECK_EQUAL(q.front(), 1);
  q.pop_front();
  q.push_front(7); // into the slot just consumed
  q.pop_front();
  q.pop_front();
  q.push_front(8); // again, after two pops
  q.push_front(9); // and once more: in front of 8
  CAF_CHECK_EQUAL(drain(q), (std::vector<int>{9, 8, 3}));
  q.push_front(5); // on an empty queue
  CAF_CHECK_EQUAL(drain(q), (std::vector<int>{5}));
}

CAF_TEST(a popped element releases what it owns) {
  auto owned = std::make_shared<int>(1);
  std::weak_ptr<int> watch = owned;
  fifo<std::shared_ptr<int>> q;
  q.push_back(std::move(owned));
  q.push_back(std::make_shared<int>(2));
  q.pop_front();
  CAF_CHECK(watch.expired());
  CAF_CHECK_EQUAL(*q.front(), 2);
}

CAF_TEST(a small queue run empty gives its storage back) {
  fifo<std::string> small;
  small.push_back("one");
  CAF_CHECK_GREATER(small.capacity(), 0u);
  small.pop_front();
  CAF_CHECK(small.empty());
  CAF_CHECK_EQUAL(small.capacity(), 0u);
  // A queue that held a burst keeps its storage for the next one.
  fifo<std::string> large;
  for (int i = 0; i < 100; ++i)
    large.push_back(std::to_string(i));
  auto burst = large.capacity();
  while (!large.empty())
    large.pop_front();
  CAF_CHECK_GREATER_OR_EQUAL(large.capacity(), 100u);
  CAF_CHECK_LESS_OR_EQUAL(large.capacity(), burst);
}

CAF_TEST(remove_if keeps the order of the rest) {
  fifo<int> q;
  for (int i = 0; i < 10; ++i)
    q.push_back(i);
  q.pop_front();
  q.remove_if([](int x) {
    return x % 3 == 0;
  });
  CAF_CHECK_EQUAL(drain(q), (std::vector<int>{1, 2, 4, 5, 7, 8}));
  q.push_back(3);
  q.remove_if([](int) {
    return true;
  });
  CAF_CHECK(q.empty());
  q.push_back(4);
  CAF_CHECK_EQUAL(drain(q), (std::vector<int>{4}));
}

CAF_TEST(a moved from queue is empty and usable) {
  fifo<std::string> q;
  q.push_back("a");
  q.push_back("b");
  q.pop_front();
  auto other = std::move(q);
  CAF_CHECK(q.empty());
  CAF_CHECK_EQUAL(q.size(), 0u);
  q.push_back("c");
  CAF_CHECK_EQUAL(q.front(), "c");
  CAF_CHECK_EQUAL(other.size(), 1u);
  CAF_CHECK_EQUAL(other.front(), "b");
  std::vector<std::string> seen(other.begin(), other.end());
  CAF_CHECK_EQUAL(seen, (std::vector<std::string>{"b"}));
}

CAF_TEST(same order as a deque under random operations) {
  std::mt19937 rng{42};
  fifo<int> q;
  std::deque<int> model;
  int next = 0;
  // Pushes outweigh pops at first (the consumed prefix is compacted), then
  // pops outweigh pushes (the queue runs empty again and again).
  for (int step = 0; step < 20000; ++step) {
    switch (rng() % (step < 10000 ? 5 : 9)) {
      case 0:
      case 1:
        q.push_back(next);
        model.push_back(next++);
        break;
      case 2:
        q.push_front(next);
        model.push_front(next++);
        break;
      default:
        if (!model.empty()) {
          if (q.front() != model.front()) {
            CAF_FAIL("front differs at step " << step);
          }
          q.pop_front();
          model.pop_front();
        }
    }
    if (q.size() != model.size())
      CAF_FAIL("size differs at step " << step);
  }
  std::vector<int> rest(model.begin(), model.end());
  CAF_CHECK_EQUAL(drain(q), rest);
}
