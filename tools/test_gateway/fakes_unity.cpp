// Compiles the shared gateway code of tests/fakes/ into zaki-test-gateway.
// The target only globs tools/test_gateway/*.cpp and has no include path to
// the repository root, so the sources are included by relative path; they
// include each other by file name only and depend on nothing but Boost
// (no CAF, spdlog or simdjson: the program is linked statically).

#include "../../tests/fakes/mini_json.cpp"
#include "../../runtime/http_server.cpp"
#include "../../tests/fakes/gateway_behavior.cpp"
#include "../../tests/fakes/fake_gateway.cpp"
