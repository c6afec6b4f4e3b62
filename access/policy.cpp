#include "access/policy.hpp"

#include <charconv>

namespace zaki {

std::optional<access_policy> parse_access_policy(std::string_view text) {
  if (text == "open")
    return access_policy::open;
  if (text == "approval")
    return access_policy::approval;
  if (text == "allowlist")
    return access_policy::allowlist;
  if (text == "closed")
    return access_policy::closed;
  return std::nullopt;
}

const char* to_string(access_policy x) {
  switch (x) {
    case access_policy::open: return "open";
    case access_policy::approval: return "approval";
    case access_policy::allowlist: return "allowlist";
    case access_policy::closed: return "closed";
  }
  return "?";
}

access_status parse_access_status(std::string_view text) {
  if (text == "pending")
    return access_status::pending;
  if (text == "approved")
    return access_status::approved;
  if (text == "rejected")
    return access_status::rejected;
  if (text == "revoked")
    return access_status::revoked;
  return access_status::unknown;
}

const char* to_string(access_status x) {
  switch (x) {
    case access_status::unknown: return "";
    case access_status::pending: return "pending";
    case access_status::approved: return "approved";
    case access_status::rejected: return "rejected";
    case access_status::revoked: return "revoked";
  }
  return "";
}

std::optional<std::vector<int64_t>> parse_admin_ids(std::string_view text,
                                                    std::string& bad) {
  std::vector<int64_t> result;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
      s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
      s.remove_suffix(1);
    return s;
  };
  if (trim(text).empty())
    return result;
  while (true) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    int64_t id = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(),
                                     id);
    if (item.empty() || ec != std::errc{} || end != item.data() + item.size()
        || id <= 0) {
      bad = std::string{item};
      return std::nullopt;
    }
    result.push_back(id);
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  return result;
}

const char* to_string(admission x) {
  switch (x) {
    case admission::admit: return "admit";
    case admission::ask_admins: return "ask_admins";
    case admission::hold: return "hold";
    case admission::try_later: return "try_later";
    case admission::not_allowed: return "not_allowed";
    case admission::closed: return "closed";
    case admission::rejected: return "rejected";
    case admission::revoked: return "revoked";
  }
  return "?";
}

admission decide(access_policy policy, const access_facts& facts) {
  if (facts.is_admin || policy == access_policy::open)
    return admission::admit;
  switch (facts.status) {
    case access_status::approved: return admission::admit;
    case access_status::rejected: return admission::rejected;
    case access_status::revoked: return admission::revoked;
    case access_status::pending:
      // A decision made offline may have given the user a container.
      if (facts.has_container)
        return admission::admit;
      return policy == access_policy::approval ? admission::hold
                                               : admission::not_allowed;
    case access_status::unknown: break;
  }
  if (facts.has_container)
    return admission::admit;
  switch (policy) {
    case access_policy::approval:
      return facts.pending < facts.max_pending ? admission::ask_admins
                                               : admission::try_later;
    case access_policy::allowlist: return admission::not_allowed;
    default: return admission::closed;
  }
}

} // namespace zaki
