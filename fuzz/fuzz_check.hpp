#pragma once

#include <cstdio>
#include <cstdlib>

// A fuzz target's invariant: a violated one aborts, so libFuzzer records the
// input as a crash (assert() would vanish under NDEBUG).
#define ZAKI_FUZZ_CHECK(cond)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,          \
                   __LINE__, #cond);                                           \
      std::abort();                                                            \
    }                                                                          \
  } while (false)
