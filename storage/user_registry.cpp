#include "storage/user_registry.hpp"

#include <algorithm>
#include <string_view>

#include "json/writer.hpp"

namespace zaki {

namespace {

constexpr std::string_view default_host = "127.0.0.1";
constexpr std::string_view container_prefix = "zaki-user-";

/// Set in `entry::flags` when a field has its default and is not packed.
constexpr uint8_t host_is_default = 0x01;
constexpr uint8_t container_is_default = 0x02;

std::string default_container(int64_t id) {
  return std::string{container_prefix} + std::to_string(id);
}

void put_field(std::string& out, std::string_view field) {
  auto n = field.size();
  do {
    auto byte = static_cast<uint8_t>(n & 0x7F);
    n >>= 7;
    out += static_cast<char>(n != 0 ? byte | 0x80 : byte);
  } while (n != 0);
  out.append(field.data(), field.size());
}

/// Reads the next field of `packed` at `pos` into `out`.
void get_field(const std::string& packed, size_t& pos, std::string& out) {
  size_t n = 0;
  for (int shift = 0; pos < packed.size(); shift += 7) {
    auto byte = static_cast<uint8_t>(packed[pos++]);
    n |= static_cast<size_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0)
      break;
  }
  n = std::min(n, packed.size() - pos);
  out.assign(packed, pos, n);
  pos += n;
}

} // namespace

user_registry::user_registry(const user_map& users) {
  entries_.reserve(users.size());
  for (auto& kvp : users)
    put(kvp.second);
}

user_registry::entry user_registry::pack(const user_record& rec) {
  entry e;
  e.port = rec.port;
  if (rec.host == default_host)
    e.flags |= host_is_default;
  if (rec.container == default_container(rec.user_id))
    e.flags |= container_is_default;
  put_field(e.packed, rec.token);
  if ((e.flags & host_is_default) == 0)
    put_field(e.packed, rec.host);
  if ((e.flags & container_is_default) == 0)
    put_field(e.packed, rec.container);
  put_field(e.packed, rec.status);
  put_field(e.packed, rec.data_dir);
  put_field(e.packed, rec.created_at);
  // An exact fit: appending grew the capacity by doubling.
  e.packed.shrink_to_fit();
  return e;
}

user_record user_registry::unpack(int64_t id, const entry& e) {
  user_record rec;
  rec.user_id = id;
  rec.port = e.port;
  size_t pos = 0;
  get_field(e.packed, pos, rec.token);
  if ((e.flags & host_is_default) != 0)
    rec.host = std::string{default_host};
  else
    get_field(e.packed, pos, rec.host);
  if ((e.flags & container_is_default) != 0)
    rec.container = default_container(id);
  else
    get_field(e.packed, pos, rec.container);
  get_field(e.packed, pos, rec.status);
  get_field(e.packed, pos, rec.data_dir);
  get_field(e.packed, pos, rec.created_at);
  return rec;
}

std::optional<user_record> user_registry::find(int64_t id) const {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return std::nullopt;
  return unpack(id, i->second);
}

void user_registry::put(const user_record& rec) {
  entries_[rec.user_id] = pack(rec);
}

bool user_registry::erase(int64_t id) {
  return entries_.erase(id) != 0;
}

std::vector<int64_t> user_registry::sorted_ids() const {
  std::vector<int64_t> ids;
  ids.reserve(entries_.size());
  for (auto& kvp : entries_)
    ids.push_back(kvp.first);
  std::sort(ids.begin(), ids.end());
  return ids;
}

users_load_result load_user_registry(const std::string& path,
                                     user_registry& out) {
  // Entries go straight into a fresh registry (no user_map of the whole
  // file first): loading 100,000 users peaks at the registry's size.
  user_registry fresh;
  auto res = load_users_file(path, [&fresh](user_record&& rec) {
    fresh.put(rec);
  });
  if (res.ok)
    out = std::move(fresh);
  return res;
}

std::string format_users(const user_registry& users) {
  json_writer w;
  w.begin_object().key("users").begin_object();
  for (auto id : users.sorted_ids())
    write_user_entry(w, *users.find(id));
  w.end_object().end_object();
  auto text = w.take();
  text += '\n';
  return text;
}

std::string save_users_file(const std::string& path,
                            const user_registry& users) {
  return save_users_text(path, format_users(users));
}

} // namespace zaki
