#include "containers/docker_json.hpp"

#include <simdjson.h>

#include "json/writer.hpp"
#include "storage/user_paths.hpp"
#include "storage/users_file.hpp"

namespace zaki {

namespace {

namespace od = simdjson::ondemand;

od::parser& parser() {
  thread_local od::parser p{1 << 20};
  return p;
}

/// Returns whether `body` is well-formed JSON. On-demand parsing reports
/// some syntax errors only when it reaches them, and a document read on
/// after such an error is undefined behaviour (found by
/// fuzz/docker_json.cpp: a null parser dereferenced): the Engine's answers
/// are small, so each is validated before it is read.
bool well_formed(const std::string& body) {
  return locate_json_error(body).empty();
}

std::string str(od::value v) {
  std::string_view sv;
  if (v.get_string().get(sv))
    return {};
  return std::string{sv};
}

/// Reads the zaki labels of a container; false when zaki.user is missing.
bool read_labels(od::object labels, container_info& info) {
  for (auto field : labels) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    od::value v;
    if (field.value().get(v))
      return false;
    if (key == "zaki.user") {
      auto id = parse_user_id(str(v));
      if (!id)
        return false;
      info.user_id = *id;
    } else if (key == "zaki.port") {
      auto text = str(v);
      auto port = parse_user_id(text);
      if (port && *port < 65536)
        info.port = static_cast<uint16_t>(*port);
    }
  }
  return info.user_id != 0;
}

} // namespace

std::string docker_create_body(const container_spec& spec,
                               const docker_create_options& o) {
  auto inner = std::to_string(o.inner_port) + "/tcp";
  json_writer w;
  w.begin_object().field("Image", o.image);
  if (!o.cmd.empty()) {
    w.key("Cmd").begin_array();
    for (auto& c : o.cmd)
      w.value(c);
    w.end_array();
  }
  w.key("Env").begin_array();
  w.value("OPENCLAW_GATEWAY_TOKEN=" + spec.token);
  w.value("OPENCLAW_GATEWAY_PORT=" + std::to_string(o.inner_port));
  w.value("HOME=" + o.data_mount);
  w.end_array();
  w.key("Labels").begin_object();
  w.field("zaki.user", std::to_string(spec.user_id));
  w.field("zaki.port", std::to_string(spec.port));
  if (!o.test_label.empty())
    w.field("zaki.test", o.test_label);
  w.end_object();
  w.key("ExposedPorts").begin_object().key(inner).begin_object().end_object();
  w.end_object();
  w.key("HostConfig").begin_object();
  w.key("Binds").begin_array().value(o.host_data_dir + ":" + o.data_mount);
  w.end_array();
  if (o.memory_mb > 0) {
    auto bytes = static_cast<int64_t>(o.memory_mb << 20);
    // MemorySwap equal to Memory: no swap on top of the quota.
    w.field("Memory", bytes).field("MemorySwap", bytes);
  }
  if (o.cpus > 0)
    w.field("NanoCpus", static_cast<int64_t>(o.cpus * 1e9));
  if (o.pids > 0)
    w.field("PidsLimit", static_cast<int64_t>(o.pids));
  // Init reaps the gateway's children (pids quota); zaki-router, not
  // Docker, restarts containers.
  w.field("Init", true);
  w.key("RestartPolicy").begin_object().field("Name", "no").end_object();
  w.key("PortBindings").begin_object().key(inner).begin_array();
  w.begin_object().field("HostIp", "127.0.0.1");
  w.field("HostPort", std::to_string(spec.port)).end_object();
  w.end_array().end_object();
  if (o.storage_mb > 0) {
    w.key("StorageOpt").begin_object();
    w.field("size", std::to_string(o.storage_mb) + "m").end_object();
  }
  w.end_object();
  return w.end_object().take();
}

std::string docker_error_message(const std::string& body) {
  simdjson::padded_string padded{body};
  od::document doc;
  std::string_view msg;
  if (well_formed(body) && !parser().iterate(padded).get(doc)
      && !doc["message"].get(msg))
    return std::string{msg};
  auto text = body.substr(0, 200);
  return text.empty() ? "(empty answer)" : text;
}

bool parse_docker_inspect(const std::string& body, container_info& info) {
  simdjson::padded_string padded{body};
  od::document doc;
  if (!well_formed(body) || parser().iterate(padded).get(doc))
    return false;
  od::object state;
  if (doc["State"].get_object().get(state))
    return false;
  std::string_view status;
  if (state["Status"].get_string().get(status))
    return false;
  info.state = status == "running" ? "running" : std::string{status};
  int64_t pid = 0;
  if (!state["Pid"].get_int64().get(pid))
    info.pid = pid;
  bool oom = false;
  if (!state["OOMKilled"].get_bool().get(oom))
    info.oom_killed = oom;
  int64_t code = -1;
  if (!state["ExitCode"].get_int64().get(code))
    info.exit_code = static_cast<int32_t>(code);
  std::string_view name;
  if (!doc["Name"].get_string().get(name))
    info.name = std::string{name.substr(name.rfind('/') + 1)};
  od::object labels;
  if (!doc["Config"]["Labels"].get_object().get(labels))
    read_labels(labels, info);
  return true;
}

std::optional<std::vector<container_info>>
parse_docker_list(const std::string& body) {
  simdjson::padded_string padded{body};
  od::document doc;
  od::array arr;
  if (!well_formed(body) || parser().iterate(padded).get(doc)
      || doc.get_array().get(arr))
    return std::nullopt;
  std::vector<container_info> result;
  for (auto item : arr) {
    od::object obj;
    if (item.get_object().get(obj))
      return std::nullopt;
    container_info info;
    od::object labels;
    if (obj["Labels"].get_object().get(labels) || !read_labels(labels, info))
      continue;
    std::string_view state;
    if (!obj["State"].get_string().get(state))
      info.state = std::string{state};
    od::array names;
    if (!obj["Names"].get_array().get(names))
      for (auto n : names) {
        std::string_view sv;
        if (!n.get_string().get(sv))
          info.name = std::string{sv.substr(sv.rfind('/') + 1)};
        break;
      }
    result.push_back(std::move(info));
  }
  return result;
}

std::optional<docker_event> parse_docker_event(const std::string& line) {
  simdjson::padded_string padded{line};
  od::document doc;
  if (!well_formed(line) || parser().iterate(padded).get(doc))
    return std::nullopt;
  docker_event ev;
  std::string_view action;
  if (doc["Action"].get_string().get(action))
    return std::nullopt;
  ev.action = std::string{action};
  od::object attrs;
  if (doc["Actor"]["Attributes"].get_object().get(attrs))
    return std::nullopt;
  for (auto field : attrs) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return std::nullopt;
    od::value v;
    if (field.value().get(v))
      return std::nullopt;
    if (key == "zaki.user") {
      auto id = parse_user_id(str(v));
      if (!id)
        return std::nullopt;
      ev.user_id = *id;
    } else if (key == "exitCode") {
      auto text = str(v);
      try {
        ev.exit_code = std::stoi(text);
      } catch (...) {
        ev.exit_code = -1;
      }
    }
  }
  if (ev.user_id == 0)
    return std::nullopt;
  return ev;
}

} // namespace zaki
