#include "access/pages.hpp"

#include <algorithm>

#include "access/texts.hpp"
#include "chat/callback_data.hpp"
#include "json/writer.hpp"
#include "telegram/html.hpp"

namespace zaki {

namespace {

/// Clamps `page` to the pages of `rows` and returns its first row.
size_t first_row(size_t rows, size_t& page, size_t per_page) {
  page = std::min(page, page_count(rows, per_page) - 1);
  return page * per_page;
}

std::string page_footer(size_t rows, size_t page, size_t per_page) {
  if (rows <= per_page)
    return {};
  return "\n\nPage " + std::to_string(page + 1) + " of "
    + std::to_string(page_count(rows, per_page));
}

} // namespace

size_t page_count(size_t rows, size_t per_page) {
  if (per_page == 0)
    return 1;
  return std::max<size_t>(1, (rows + per_page - 1) / per_page);
}

std::string users_page_html(const access_list& list, const std::string& status,
                            size_t page, size_t per_page) {
  std::string t = "\xF0\x9F\x91\xA5 <b>Users";
  if (!status.empty()) {
    t += " (";
    append_html_escaped(t, status);
    t += ")";
  }
  t += "</b>: " + std::to_string(list.size());
  auto begin = first_row(list.size(), page, per_page);
  auto end = std::min(list.size(), begin + per_page);
  for (auto i = begin; i < end; ++i) {
    auto& rec = list[i];
    t += "\n<code>" + std::to_string(rec.user_id) + "</code> ";
    append_html_escaped(t, rec.status);
    if (rec.decided_at != 0)
      t += " " + format_utc(rec.decided_at);
  }
  return t + page_footer(list.size(), page, per_page);
}

std::string containers_page_html(const std::vector<container_row>& rows,
                                 uint64_t memory_mb, size_t page,
                                 size_t per_page) {
  std::string t = "\xF0\x9F\x93\xA6 <b>Containers</b>: "
    + std::to_string(rows.size());
  if (memory_mb != 0)
    t += " \xC2\xB7 memory limit " + std::to_string(memory_mb) + " MiB each";
  auto begin = first_row(rows.size(), page, per_page);
  auto end = std::min(rows.size(), begin + per_page);
  for (auto i = begin; i < end; ++i) {
    auto& row = rows[i];
    t += "\n<code>" + std::to_string(row.user_id) + "</code> ";
    append_html_escaped(t, row.state);
    t += " \xC2\xB7 restarts " + std::to_string(row.restarts);
    if (row.port != 0)
      t += " \xC2\xB7 port " + std::to_string(row.port);
    if (!row.container.empty()) {
      t += " \xC2\xB7 ";
      append_html_escaped(t, row.container);
    }
  }
  return t + page_footer(rows.size(), page, per_page);
}

std::string page_keyboard(const std::string& prev_nonce,
                          const std::string& next_nonce) {
  if (prev_nonce.empty() && next_nonce.empty())
    return {};
  json_writer w;
  w.begin_object().key("inline_keyboard").begin_array().begin_array();
  if (!prev_nonce.empty())
    w.begin_object()
      .field("text", "\xC2\xAB Prev")
      .field("callback_data", encode_callback(callback_kind::page, prev_nonce))
      .end_object();
  if (!next_nonce.empty())
    w.begin_object()
      .field("text", "Next \xC2\xBB")
      .field("callback_data", encode_callback(callback_kind::page, next_nonce))
      .end_object();
  w.end_array().end_array().end_object();
  return w.take();
}

} // namespace zaki
