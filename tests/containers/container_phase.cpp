#define CAF_SUITE containers.container_phase

#include "containers/container_phase.hpp"

#include "caf/test/unit_test.hpp"

#include <string>
#include <vector>

using namespace zaki;

CAF_TEST(names are the ones the admin JSON and the messages carry) {
  std::vector<std::string> names;
  for (auto x : {container_phase::none, container_phase::queued,
                 container_phase::starting, container_phase::running,
                 container_phase::not_ready, container_phase::restarting,
                 container_phase::stopping, container_phase::stopped,
                 container_phase::failed, container_phase::removing}) {
    names.emplace_back(to_string(x));
    // Every name parses back to its phase.
    CAF_CHECK(parse_container_phase(names.back()) == x);
  }
  std::vector<std::string> want{"none",     "queued",    "starting",
                                "running",  "not_ready", "restarting",
                                "stopping", "stopped",   "failed",
                                "removing"};
  CAF_CHECK_EQUAL(names, want);
  CAF_CHECK(!parse_container_phase("Running"));
  CAF_CHECK(!parse_container_phase(""));
}

CAF_TEST(phases that hold resources count against the maximum) {
  CAF_CHECK(holds_resources(container_phase::starting));
  CAF_CHECK(holds_resources(container_phase::running));
  CAF_CHECK(holds_resources(container_phase::not_ready));
  CAF_CHECK(holds_resources(container_phase::restarting));
  CAF_CHECK(holds_resources(container_phase::stopping));
  CAF_CHECK(!holds_resources(container_phase::queued));
  CAF_CHECK(!holds_resources(container_phase::stopped));
  CAF_CHECK(!holds_resources(container_phase::failed));
  CAF_CHECK(!holds_resources(container_phase::removing));
  CAF_CHECK(is_down(container_phase::none));
  CAF_CHECK(is_down(container_phase::failed));
  CAF_CHECK(!is_down(container_phase::queued));
  CAF_CHECK(stopped_by_us(container_phase::removing));
  CAF_CHECK(!stopped_by_us(container_phase::failed));
}
