#include "containers/container_phase.hpp"

#include <array>
#include <utility>

namespace zaki {

namespace {

constexpr std::array<std::pair<container_phase, const char*>, 11> names{{
  {container_phase::none, "none"},
  {container_phase::queued, "queued"},
  {container_phase::starting, "starting"},
  {container_phase::running, "running"},
  {container_phase::not_ready, "not_ready"},
  {container_phase::restarting, "restarting"},
  {container_phase::stopping, "stopping"},
  {container_phase::stopped, "stopped"},
  {container_phase::failed, "failed"},
  {container_phase::removing, "removing"},
  {container_phase::paused, "paused"},
}};

} // namespace

const char* to_string(container_phase x) {
  for (auto& [phase, name] : names)
    if (phase == x)
      return name;
  return "unknown";
}

std::optional<container_phase> parse_container_phase(std::string_view name) {
  for (auto& [phase, text] : names)
    if (name == text)
      return phase;
  return std::nullopt;
}

bool holds_resources(container_phase x) {
  switch (x) {
    case container_phase::starting:
    case container_phase::running:
    case container_phase::not_ready:
    case container_phase::restarting:
    case container_phase::stopping:
    case container_phase::paused: return true;
    default: return false;
  }
}

} // namespace zaki
