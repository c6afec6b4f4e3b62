// Measures the session lock: the cost of an uncontended acquire+release pair,
// the cost of an attempt that finds the lock held, and acquisitions per
// second when 2 and 4 processes compete for one user's lock in a loop.
// Usage: zaki-lock_bench [data_root]   (default: a fresh dir under /tmp)

#include "locks/session_lock.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ftw.h>
#include <new>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono;
using zaki::acquire_state;
using zaki::session_lock;

namespace {

double micros_per(steady_clock::duration d, int n) {
  return duration<double, std::micro>(d).count() / n;
}

void uncontended(const std::string& root) {
  session_lock lk{root, 1};
  constexpr int n = 20000;
  for (int i = 0; i < 1000; ++i) { // Warm up caches and the dentry.
    lk.try_acquire();
    lk.release();
  }
  auto start = steady_clock::now();
  for (int i = 0; i < n; ++i) {
    if (lk.try_acquire().state != acquire_state::acquired)
      std::abort();
    lk.release();
  }
  std::printf("uncontended acquire+release: %.2f us per pair (%d pairs)\n",
              micros_per(steady_clock::now() - start, n), n);
  session_lock holder{root, 2};
  session_lock other{root, 2};
  holder.try_acquire();
  start = steady_clock::now();
  for (int i = 0; i < n; ++i)
    if (other.try_acquire().state != acquire_state::held)
      std::abort();
  std::printf("attempt on a held lock (read, judge, probe): %.2f us\n",
              micros_per(steady_clock::now() - start, n));
}

struct counters {
  std::atomic<uint64_t> acquisitions{0};
  std::atomic<uint64_t> held{0};
};

void contended(const std::string& root, int procs, milliseconds span) {
  void* mem = ::mmap(nullptr, sizeof(counters), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    std::abort();
  auto* c = new (mem) counters;
  auto end = steady_clock::now() + span;
  for (int i = 0; i < procs; ++i) {
    if (::fork() == 0) {
      session_lock lk{root, 3};
      while (steady_clock::now() < end) {
        if (lk.try_acquire().state == acquire_state::acquired) {
          c->acquisitions.fetch_add(1, std::memory_order_relaxed);
          lk.release();
        } else {
          c->held.fetch_add(1, std::memory_order_relaxed);
          ::sched_yield();
        }
      }
      ::_exit(0);
    }
  }
  for (int i = 0; i < procs; ++i)
    ::wait(nullptr);
  double secs = duration<double>(span).count();
  std::printf("%d processes competing: %.0f acquisitions/s, %.0f held "
              "results/s\n",
              procs, c->acquisitions.load() / secs, c->held.load() / secs);
  ::munmap(mem, sizeof(counters));
}

} // namespace

int main(int argc, char** argv) {
  std::string root;
  bool own_root = argc < 2;
  if (own_root) {
    char tmpl[] = "/tmp/zaki-lock-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      return 1;
    root = tmpl;
  } else {
    root = argv[1];
  }
  std::printf("data root: %s\n", root.c_str());
  uncontended(root);
  for (int procs : {1, 2, 4})
    contended(root, procs, seconds{1});
  if (own_root)
    ::nftw(
      root.c_str(),
      [](const char* path, const struct stat*, int, struct FTW*) {
        return ::remove(path);
      },
      16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
