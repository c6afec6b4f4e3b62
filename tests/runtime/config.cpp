#define CAF_SUITE runtime.config
#include "caf/test/unit_test.hpp"

#include "runtime/config.hpp"

#include <string>
#include <vector>

using namespace zaki;

namespace {

/// Parses `args` as the router's command line; returns the exit code CAF's
/// parse ended with (-1: parsed, go on).
int parse(config& cfg, std::vector<std::string> args) {
  std::vector<std::string> positional;
  int exit_code = -1;
  if (!parse_command_line(cfg, std::move(args), positional, exit_code))
    return exit_code;
  return -1;
}

} // namespace

CAF_TEST(a flag takes true and false as values) {
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--gateway.stream=false"}), -1);
    CAF_CHECK_EQUAL(cfg.values.stream.gateway, false);
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--gateway.stream=true"}), -1);
    CAF_CHECK_EQUAL(cfg.values.stream.gateway, true);
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--gateway.stream"}), -1);
    CAF_CHECK_EQUAL(cfg.values.stream.gateway, true);
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {}), -1);
    CAF_CHECK_EQUAL(cfg.values.stream.gateway, true);
  }
}

CAF_TEST(other values of a flag and unknown options are refused) {
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--gateway.stream=maybe"}), 2);
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--gateway.no-such-option=false"}), 2);
  }
}

CAF_TEST(both names of the gateway idle timeout work) {
  using std::chrono::seconds;
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {}), -1);
    CAF_CHECK(gateway_idle_timeout(cfg.values) == seconds(120));
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--gateway.idle-timeout=30s"}), -1);
    CAF_CHECK(gateway_idle_timeout(cfg.values) == seconds(30));
  }
  {
    // The older name overrides when set.
    config cfg;
    CAF_CHECK_EQUAL(
      parse(cfg, {"--gateway.idle-timeout=30s", "--stream.idle-timeout=45s"}),
      -1);
    CAF_CHECK(gateway_idle_timeout(cfg.values) == seconds(45));
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--gateway.idle-timeout=0s"}), 2);
  }
}

CAF_TEST(idle action and remove after are checked) {
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg,
                          {"--containers.idle-action=pause",
                           "--containers.remove-after=0.5"}),
                    -1);
    CAF_CHECK_EQUAL(cfg.values.containers.idle_action, "pause");
    CAF_CHECK_EQUAL(cfg.values.containers.remove_after, 0.5);
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {}), -1);
    CAF_CHECK_EQUAL(cfg.values.containers.idle_action, "stop");
    CAF_CHECK_EQUAL(cfg.values.containers.remove_after, 0.0);
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--containers.idle-action=sleep"}), 2);
  }
  {
    config cfg;
    CAF_CHECK_EQUAL(parse(cfg, {"--containers.remove-after=-1"}), 2);
  }
}
