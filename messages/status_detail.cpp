#include "messages/status_detail.hpp"

#include <caf/atom.hpp>

namespace zaki {

namespace {

constexpr auto null_atom = caf::atom("null");

} // namespace

caf::config_value& status_detail::next_slot() {
  if (open_.empty())
    return root_;
  auto& data = open_.back()->get_data();
  if (auto list = caf::get_if<caf::config_value::list>(&data)) {
    list->emplace_back();
    return list->back();
  }
  auto& dict = caf::get<caf::settings>(data);
  return dict[key_];
}

status_detail& status_detail::put(caf::config_value x) {
  next_slot() = std::move(x);
  return *this;
}

status_detail& status_detail::begin_object() {
  auto& slot = next_slot();
  slot = caf::settings{};
  open_.push_back(&slot);
  return *this;
}

status_detail& status_detail::end_object() {
  open_.pop_back();
  return *this;
}

status_detail& status_detail::begin_array() {
  auto& slot = next_slot();
  slot = caf::config_value::list{};
  open_.push_back(&slot);
  return *this;
}

status_detail& status_detail::end_array() {
  open_.pop_back();
  return *this;
}

status_detail& status_detail::key(std::string_view k) {
  key_.assign(k.data(), k.size());
  return *this;
}

status_detail& status_detail::value(std::string_view v) {
  return put(caf::config_value{std::string{v}});
}

status_detail& status_detail::value(const char* v) {
  return put(caf::config_value{std::string{v}});
}

status_detail& status_detail::value(const std::string& v) {
  return put(caf::config_value{v});
}

status_detail& status_detail::value(int64_t v) {
  return put(caf::config_value{caf::config_value::integer{v}});
}

status_detail& status_detail::value(uint64_t v) {
  return value(static_cast<int64_t>(v));
}

status_detail& status_detail::value(int v) {
  return value(int64_t{v});
}

status_detail& status_detail::value(uint32_t v) {
  return value(int64_t{v});
}

status_detail& status_detail::value(double v) {
  return put(caf::config_value{v});
}

status_detail& status_detail::value(bool v) {
  return put(caf::config_value{v});
}

status_detail& status_detail::null() {
  return put(caf::config_value{null_atom});
}

caf::settings status_detail::take() {
  open_.clear();
  key_.clear();
  auto result = std::move(root_);
  root_ = caf::config_value{};
  if (auto dict = caf::get_if<caf::settings>(&result.get_data()))
    return std::move(*dict);
  return {};
}

bool is_null(const caf::config_value& x) {
  auto atom = caf::get_if<caf::atom_value>(&x.get_data());
  return atom != nullptr && *atom == null_atom;
}

const caf::config_value* detail_member(const caf::settings& d,
                                       std::string_view key) {
  auto i = d.find(caf::string_view{key.data(), key.size()});
  return i != d.end() ? &i->second : nullptr;
}

int64_t detail_int(const caf::settings& d, std::string_view key,
                   int64_t fallback) {
  auto x = detail_member(d, key);
  if (x == nullptr)
    return fallback;
  auto v = caf::get_if<caf::config_value::integer>(&x->get_data());
  return v != nullptr ? *v : fallback;
}

bool detail_bool(const caf::settings& d, std::string_view key, bool fallback) {
  auto x = detail_member(d, key);
  if (x == nullptr)
    return fallback;
  auto v = caf::get_if<bool>(&x->get_data());
  return v != nullptr ? *v : fallback;
}

std::string detail_string(const caf::settings& d, std::string_view key) {
  auto x = detail_member(d, key);
  if (x == nullptr)
    return {};
  auto v = caf::get_if<std::string>(&x->get_data());
  return v != nullptr ? *v : std::string{};
}

const caf::config_value::list* detail_list(const caf::settings& d,
                                           std::string_view key) {
  auto x = detail_member(d, key);
  return x != nullptr ? caf::get_if<caf::config_value::list>(&x->get_data())
                      : nullptr;
}

const caf::settings* as_object(const caf::config_value& x) {
  return caf::get_if<caf::settings>(&x.get_data());
}

} // namespace zaki
