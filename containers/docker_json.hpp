#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/backend.hpp"

namespace zaki {

/// Everything that goes into POST /containers/create.
struct docker_create_options {
  std::string image;
  std::vector<std::string> cmd;
  /// Gateway port inside the container.
  uint16_t inner_port = 18789;
  /// Where the data dir is mounted inside.
  std::string data_mount = "/data";
  /// Absolute host path of the user's data dir.
  std::string host_data_dir;
  uint64_t memory_mb = 0;
  double cpus = 0;
  uint64_t pids = 0;
  /// Writable layer size in MiB (StorageOpt), 0 for none.
  uint64_t storage_mb = 0;
  /// Value of the zaki.test label, or empty.
  std::string test_label;
};

/// Returns the JSON body of POST /v1.41/containers/create for `spec`.
std::string docker_create_body(const container_spec& spec,
                               const docker_create_options& opts);

/// Returns the `message` of an Engine API error body, or the body itself
/// (shortened) when it is not JSON.
std::string docker_error_message(const std::string& body);

/// Parses GET /containers/{id}/json into `info`; false on garbage.
bool parse_docker_inspect(const std::string& body, container_info& info);

/// Parses GET /containers/json (zaki containers only); nullopt on garbage.
std::optional<std::vector<container_info>>
parse_docker_list(const std::string& body);

/// One event of the Engine's /events stream that matters to us.
struct docker_event {
  /// die, oom, start, ... (Action).
  std::string action;
  int64_t user_id = 0;
  int32_t exit_code = -1;
};

/// Parses one line of /events; nullopt for garbage or foreign containers.
std::optional<docker_event> parse_docker_event(const std::string& line);

} // namespace zaki
