// The test binary's main: CAF's unit test framework provides it.
#include "caf/test/unit_test_impl.hpp"
