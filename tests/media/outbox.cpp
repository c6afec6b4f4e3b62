#define CAF_SUITE media.outbox
#include "caf/test/unit_test.hpp"

#include "media/outbox.hpp"

// Files an assistant names in its answer: the links found and replaced,
// the paths that stay inside the user's data dir, the upload body.

using namespace zaki;

CAF_TEST(file links are found and replaced by their labels) {
  std::string text;
  auto links = extract_file_links(
    "Done: [report](file:outbox/report.pdf) and [](file:a.txt), "
    "not [this](https://x.org).",
    text);
  CAF_REQUIRE_EQUAL(links.size(), 2u);
  CAF_CHECK_EQUAL(links[0].label, "report");
  CAF_CHECK_EQUAL(links[0].path, "outbox/report.pdf");
  CAF_CHECK_EQUAL(links[1].path, "a.txt");
  CAF_CHECK_EQUAL(text, "Done: report and a.txt, not [this](https://x.org).");
  links = extract_file_links("no links here", text);
  CAF_CHECK(links.empty());
  CAF_CHECK_EQUAL(text, "no links here");
  // A marker without its brackets stays text.
  links = extract_file_links("odd ](file:x", text);
  CAF_CHECK(links.empty());
  CAF_CHECK_EQUAL(text, "odd ](file:x");
}

CAF_TEST(paths outside the data dir are refused) {
  std::string why;
  CAF_CHECK(resolve_user_file("/nonexistent/u", "/etc/passwd", why).empty());
  CAF_CHECK_EQUAL(why, "it is not a path inside your data directory");
  CAF_CHECK(resolve_user_file("/nonexistent/u", "../x", why).empty());
  CAF_CHECK_EQUAL(why, "it is outside your data directory");
  CAF_CHECK(resolve_user_file("/nonexistent/u", "a/../../x", why).empty());
  CAF_CHECK(resolve_user_file("/nonexistent/u", "outbox/r.pdf", why).empty());
  CAF_CHECK_EQUAL(why, "there is no such file");
}

CAF_TEST(upload bodies are multipart with a safe file name) {
  auto body = encode_document_upload("a\"b.pdf", "PDF");
  CAF_CHECK(body.find("filename=\"a_b.pdf\"") != std::string::npos);
  CAF_CHECK(body.find("\r\n\r\nPDF\r\n--") != std::string::npos);
  CAF_CHECK(
    body.rfind(std::string{"--"} + std::string{upload_boundary} + "--\r\n")
    != std::string::npos);
  CAF_CHECK(encode_document_upload("x", upload_boundary).empty());
}
