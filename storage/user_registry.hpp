#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "messages/types.hpp"
#include "storage/users_file.hpp"

namespace zaki {

/// The store's copy of users.json: every registered user, by id, in about
/// 100 bytes each. A `user_record` is seven strings (240 bytes) before its
/// token and container name allocate their own; 100,000 users held ~30 MB
/// that way. Here a user is its port and one string that packs the fields
/// that differ from their defaults (the host 127.0.0.1 and the container
/// `zaki-user-{id}` cost nothing). Lookups unpack a `user_record`.
class user_registry {
public:
  user_registry() = default;

  /// Copies the records of `users`.
  explicit user_registry(const user_map& users);

  /// Returns the record of `id`, if registered.
  std::optional<user_record> find(int64_t id) const;

  /// Adds or replaces the record of `rec.user_id`.
  void put(const user_record& rec);

  /// Removes `id`; returns whether it was registered.
  bool erase(int64_t id);

  size_t size() const noexcept {
    return entries_.size();
  }

  bool empty() const noexcept {
    return entries_.empty();
  }

  /// Returns the registered ids in ascending order.
  std::vector<int64_t> sorted_ids() const;

private:
  struct entry {
    uint16_t port = 0;
    uint8_t flags = 0;
    /// The other fields, each as a length (LEB128) and its bytes.
    std::string packed;
  };

  static entry pack(const user_record& rec);
  static user_record unpack(int64_t id, const entry& e);

  std::unordered_map<int64_t, entry> entries_;
};

/// Reads a users.json file into `out`. `out` changes only when the file
/// loads (a file that does not parse keeps the registry as it was).
users_load_result load_user_registry(const std::string& path,
                                     user_registry& out);

/// Returns the JSON text of the registry (sorted by id, as format_users).
std::string format_users(const user_registry& users);

/// Writes the registry atomically, as save_users_file does for a user_map.
std::string save_users_file(const std::string& path,
                            const user_registry& users);

} // namespace zaki
