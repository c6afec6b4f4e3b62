#define CAF_SUITE media.file_name
#include "caf/test/unit_test.hpp"

#include "media/fetch.hpp"
#include "media/file_name.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

// Names of files users send, made safe for their inbox, and the inbox
// writes that never leave half a file behind.

using namespace zaki;

namespace {

std::string clean(std::string_view name,
                  inbound_kind kind = inbound_kind::document) {
  return sanitize_file_name(name, kind, "");
}

std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t entries(const std::string& dir) {
  size_t n = 0;
  if (auto d = ::opendir(dir.c_str())) {
    while (auto e = ::readdir(d))
      if (e->d_name[0] != '.' || (e->d_name[1] != 0 && e->d_name[1] != '.'))
        ++n;
    ::closedir(d);
  }
  return n;
}

} // namespace

CAF_TEST(ordinary names are kept) {
  CAF_CHECK_EQUAL(clean("report.pdf"), "report.pdf");
  CAF_CHECK_EQUAL(clean("Отчёт 2026 (final).docx"), "Отчёт 2026 (final).docx");
}

CAF_TEST(names never leave the inbox) {
  CAF_CHECK_EQUAL(clean("../../etc/passwd"), "etc_passwd");
  CAF_CHECK_EQUAL(clean("..\\..\\boot.ini"), "boot.ini");
  CAF_CHECK_EQUAL(clean("a/../b"), "a___b");
  CAF_CHECK_EQUAL(clean(".."), "file");
  CAF_CHECK_EQUAL(clean("."), "file");
  CAF_CHECK_EQUAL(clean(".bashrc"), "bashrc");
  CAF_CHECK_EQUAL(clean(std::string_view{"a\0b.txt", 7}), "a_b.txt");
  CAF_CHECK_EQUAL(clean("line\nbreak\r.txt"), "line_break_.txt");
  for (auto& s :
       {clean("../x"), clean("/abs/path"), clean("..."), clean("a/./b")}) {
    CAF_CHECK(s.find('/') == std::string::npos);
    CAF_CHECK(s.find("..") == std::string::npos);
    CAF_CHECK(!s.empty() && s[0] != '.');
  }
}

CAF_TEST(long names are cut at a character keeping the extension) {
  std::string name(300, 'a');
  name += ".pdf";
  auto s = clean(name);
  CAF_CHECK_LESS_OR_EQUAL(s.size(), max_inbox_name - 11);
  CAF_CHECK_EQUAL(s.substr(s.size() - 4), ".pdf");
  // Two-byte characters are never cut in half.
  std::string cyr;
  for (int i = 0; i < 150; ++i)
    cyr += "ж";
  s = clean(cyr);
  CAF_CHECK_LESS_OR_EQUAL(s.size(), max_inbox_name - 11);
  CAF_CHECK_EQUAL(s.size() % 2, 0u);
  CAF_CHECK_EQUAL(inbox_file_name(1796601600, "x.pdf").size(), 16u);
}

CAF_TEST(defaults by kind) {
  CAF_CHECK_EQUAL(sanitize_file_name("", inbound_kind::voice, "audio/ogg"),
                  "voice.ogg");
  CAF_CHECK_EQUAL(sanitize_file_name("", inbound_kind::photo, ""), "photo.jpg");
  CAF_CHECK_EQUAL(sanitize_file_name("", inbound_kind::document,
                                     "application/pdf"),
                  "document.pdf");
  CAF_CHECK_EQUAL(inbox_file_name(0, "a.txt"), "1970-01-01-a.txt");
}

CAF_TEST(getFile paths are fetched only when plain and relative) {
  CAF_CHECK(safe_file_path("photos/file_1.jpg"));
  CAF_CHECK(safe_file_path("documents/file_22.pdf"));
  CAF_CHECK(!safe_file_path(""));
  CAF_CHECK(!safe_file_path("/etc/passwd"));
  CAF_CHECK(!safe_file_path("../bot123/getUpdates"));
  CAF_CHECK(!safe_file_path("photos/../../x"));
  CAF_CHECK(!safe_file_path("a?b=c"));
  CAF_CHECK(!safe_file_path("a#frag"));
  CAF_CHECK(!safe_file_path("a%2e%2e/b"));
  CAF_CHECK(!safe_file_path("a b"));
  CAF_CHECK(!safe_file_path("a\r\nHost: x"));
}

CAF_TEST(saving goes through a temporary name and never replaces a file) {
  char tmpl[] = "/tmp/zaki-inbox-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  auto dir = root + "/users/user-7/inbox";
  std::string error;
  auto name = save_file_atomically(dir, "a.pdf", "first", error);
  CAF_CHECK_EQUAL(name, "a.pdf");
  CAF_CHECK_EQUAL(read_all(dir + "/a.pdf"), "first");
  name = save_file_atomically(dir, "a.pdf", "second", error);
  CAF_CHECK_EQUAL(name, "a-1.pdf");
  CAF_CHECK_EQUAL(read_all(dir + "/a.pdf"), "first");
  CAF_CHECK_EQUAL(read_all(dir + "/a-1.pdf"), "second");
  CAF_CHECK_EQUAL(entries(dir), 2u); // no temporary file left
  // A directory that cannot be written: told, nothing half-written.
  if (::geteuid() != 0) {
    ::chmod(dir.c_str(), 0500);
    name = save_file_atomically(dir, "b.pdf", "x", error);
    CAF_CHECK(name.empty());
    CAF_CHECK(!error.empty());
    ::chmod(dir.c_str(), 0700);
    CAF_CHECK_EQUAL(entries(dir), 2u);
  }
  CAF_CHECK_EQUAL(base64_encode("JPEG"), "SlBFRw==");
  CAF_CHECK_EQUAL(base64_encode(""), "");
  std::filesystem::remove_all(root);
}
