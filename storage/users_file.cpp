#include "storage/users_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <simdjson.h>

#include "json/members.hpp"
#include "json/writer.hpp"
#include "storage/atomic_file.hpp"

namespace zaki {

namespace od = simdjson::ondemand;

namespace {

bool parse_id(std::string_view key, int64_t& id) {
  if (key.empty() || key.size() > 18)
    return false;
  id = 0;
  for (char c : key) {
    if (c < '0' || c > '9')
      return false;
    id = id * 10 + (c - '0');
  }
  return id > 0;
}

std::string read_string(od::value v) {
  std::string_view text;
  if (v.get_string().get(text))
    return {};
  return std::string{text};
}

bool decode_record(od::object obj, user_record& rec, std::string& why) {
  bool has_port = false;
  for (auto field : obj) {
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) {
      why = simdjson::error_message(err);
      return false;
    }
    if (key == "port") {
      int64_t port = 0;
      if (field.value().get_int64().get(port) || port < 1 || port > 65535) {
        why = "port is not a number within 1..65535";
        return false;
      }
      rec.port = static_cast<uint16_t>(port);
      has_port = true;
    } else if (key == "token") {
      rec.token = read_string(field.value());
    } else if (key == "container") {
      rec.container = read_string(field.value());
    } else if (key == "host") {
      auto host = read_string(field.value());
      if (!host.empty())
        rec.host = std::move(host);
    } else if (key == "status") {
      rec.status = read_string(field.value());
    } else if (key == "data_dir") {
      rec.data_dir = read_string(field.value());
    } else if (key == "created_at") {
      rec.created_at = read_string(field.value());
    }
  }
  if (!has_port)
    why = "no port";
  return has_port;
}

/// Returns the unescaped text of the JSON string `quoted` (with its quotes).
bool unescape_key(od::parser& parser, std::string& buf, std::string_view quoted,
                  std::string& out) {
  if (quoted.find('\\') == std::string_view::npos) {
    out.assign(quoted.substr(1, quoted.size() - 2));
    return true;
  }
  buf.reserve(quoted.size() + simdjson::SIMDJSON_PADDING);
  buf.assign(quoted);
  od::document doc;
  std::string_view text;
  if (parser.iterate(buf.data(), buf.size(), buf.capacity()).get(doc)
      || doc.get_string().get(text))
    return false;
  out.assign(text);
  return true;
}

/// Runs `load` with a sink that collects the entries into the result's
/// map (kept only when the whole file loaded).
template <class Load>
users_load_result collect_users(Load load) {
  user_map users;
  auto res = load(user_sink{[&users](user_record&& rec) {
    auto id = rec.user_id;
    users[id] = std::move(rec);
  }});
  if (res.ok)
    res.users = std::move(users);
  return res;
}

} // namespace

users_load_result parse_users(std::string text) {
  return collect_users([&text](const user_sink& add) {
    return parse_users(std::move(text), add);
  });
}

users_load_result parse_users(std::string text, const user_sink& add) {
  users_load_result result;
  if (auto where = locate_json_error(text); !where.empty()) {
    result.error = "users.json is not valid JSON: " + where;
    return result;
  }
  // The file is well-formed: walk it member by member and let simdjson
  // parse one user's entry at a time. A whole-document parse of 100,000
  // users needs ~5 bytes of index per byte of the file, all at once.
  std::string_view users;
  for_each_json_member(text, [&users](const json_member& m) {
    if (m.key != "\"users\"")
      return true;
    users = m.value;
    return false;
  });
  if (users.empty() || users.front() != '{') {
    result.error = "users.json has no object \"users\"";
    return result;
  }
  od::parser parser;
  std::string buf;
  std::string key;
  std::string why;
  auto each = [&](const json_member& m) {
    user_record rec;
    if (!unescape_key(parser, buf, m.key, key)) {
      result.error = "users.json: a user id is not a valid string";
      return false;
    }
    if (!parse_id(key, rec.user_id)) {
      result.warnings.push_back("skipped user \"" + key
                                + "\": the id is not a positive number");
      return true;
    }
    if (m.value.front() != '{') {
      result.warnings.push_back("skipped user " + key
                                + ": the entry is not an object");
      return true;
    }
    buf.reserve(m.value.size() + simdjson::SIMDJSON_PADDING);
    buf.assign(m.value);
    od::document doc;
    od::object obj;
    if (auto err
        = parser.iterate(buf.data(), buf.size(), buf.capacity()).get(doc);
        err || doc.get_object().get(obj)) {
      result.warnings.push_back("skipped user " + key
                                + ": the entry does not parse");
      return true;
    }
    why.clear();
    if (!decode_record(obj, rec, why)) {
      result.warnings.push_back("skipped user " + key + ": " + why);
      return true;
    }
    if (rec.container.empty())
      rec.container = "zaki-user-" + std::to_string(rec.user_id);
    add(std::move(rec));
    return true;
  };
  if (!for_each_json_member(users, each) && result.error.empty())
    result.error = "users.json: the \"users\" object is malformed";
  if (!result.error.empty())
    return result;
  result.ok = true;
  return result;
}

users_load_result load_users_file(const std::string& path) {
  return collect_users([&path](const user_sink& add) {
    return load_users_file(path, add);
  });
}

users_load_result load_users_file(const std::string& path,
                                  const user_sink& add) {
  users_load_result result;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      result.ok = true;
      result.warnings.push_back("users file " + path
                                + " does not exist yet: no users");
    } else {
      result.error = "cannot read " + path + ": " + std::strerror(errno);
    }
    return result;
  }
  // Read straight into one buffer (a stringstream and its copy held three
  // times the file at the peak).
  std::string text;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0)
    text.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      result.error = "cannot read " + path + ": " + std::strerror(errno);
      ::close(fd);
      return result;
    }
    if (n == 0)
      break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return parse_users(std::move(text), add);
}

void write_user_entry(json_writer& w, const user_record& rec) {
  w.key(std::to_string(rec.user_id)).begin_object();
  w.field("port", static_cast<int64_t>(rec.port));
  w.field("token", rec.token).field("container", rec.container);
  if (rec.host != "127.0.0.1")
    w.field("host", rec.host);
  if (!rec.status.empty())
    w.field("status", rec.status);
  if (!rec.data_dir.empty())
    w.field("data_dir", rec.data_dir);
  if (!rec.created_at.empty())
    w.field("created_at", rec.created_at);
  w.end_object();
}

std::string format_users(const user_map& users) {
  std::vector<const user_record*> sorted;
  sorted.reserve(users.size());
  for (auto& kvp : users)
    sorted.push_back(&kvp.second);
  std::sort(sorted.begin(), sorted.end(), [](auto x, auto y) {
    return x->user_id < y->user_id;
  });
  json_writer w;
  w.begin_object().key("users").begin_object();
  for (auto rec : sorted)
    write_user_entry(w, *rec);
  w.end_object().end_object();
  auto text = w.take();
  text += '\n';
  return text;
}

std::string save_users_file(const std::string& path, const user_map& users) {
  return save_users_text(path, format_users(users));
}

std::string save_users_text(const std::string& path, std::string_view text) {
  return write_file_atomically(path, text);
}

} // namespace zaki
