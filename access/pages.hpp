#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/types.hpp"

namespace zaki {

// The long listings of the operator commands, /users and /containers, one
// page at a time with "« Prev" / "Next »" buttons. Pure functions: the user
// actor fetches the rows and keeps the button nonces (actors/
// operator_commands.cpp), this renders them.

/// Rows per page: 20 short lines stay well below Telegram's 4096
/// characters and fit a phone screen.
constexpr size_t operator_page_size = 20;

/// One container as /containers shows it.
struct container_row {
  int64_t user_id = 0;
  std::string container;
  /// The health supervisor's state, or "stopped" when it watches none.
  std::string state;
  uint64_t restarts = 0;
  uint16_t port = 0;
};

/// Returns the number of pages of `rows` rows (at least 1).
size_t page_count(size_t rows, size_t per_page = operator_page_size);

/// Returns page `page` (0-based, clamped to the last) of /users as HTML;
/// `status` is the filter ("" for all).
std::string users_page_html(const access_list& list, const std::string& status,
                            size_t page, size_t per_page = operator_page_size);

/// Returns page `page` (0-based, clamped) of /containers as HTML;
/// `memory_mb` is the configured limit per container (0: none).
std::string containers_page_html(const std::vector<container_row>& rows,
                                 uint64_t memory_mb, size_t page,
                                 size_t per_page = operator_page_size);

/// Returns the inline keyboard (reply_markup JSON) with a "« Prev" and a
/// "Next »" button carrying `z1:p:<nonce>`; a button whose nonce is empty
/// is left out, and with both empty the result is empty (no keyboard).
std::string page_keyboard(const std::string& prev_nonce,
                          const std::string& next_nonce);

} // namespace zaki
