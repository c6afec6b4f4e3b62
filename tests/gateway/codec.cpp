#define CAF_SUITE gateway.codec
#include "caf/test/unit_test.hpp"

#include "gateway/codec.hpp"

#include <string>

// The gateway exchange: the request body (only the newest message, the
// Telegram user id as `user`) and the classification of answers into
// answered / retryable / not retryable.

using namespace zaki;

namespace {

http_result status(int code, std::string body = {}) {
  http_result res;
  res.status = code;
  res.body = std::move(body);
  return res;
}

gateway_answer classify(http_result res) {
  return classify_gateway_result(res);
}

} // namespace

CAF_TEST(request body) {
  CAF_CHECK_EQUAL(encode_chat_request("openclaw", 7012345678,
                                      "Привет \"там\"\n🌊"),
                  R"({"model":"openclaw","user":"7012345678","messages":[)"
                  R"({"role":"user","content":"Привет \"там\"\n🌊"}]})");
}

CAF_TEST(a photo goes as content parts) {
  CAF_CHECK_EQUAL(
    encode_image_request("openclaw", 7, "what is it?",
                         "data:image/jpeg;base64,SlBFRw==", false),
    R"({"model":"openclaw","user":"7","messages":[{"role":"user","content":)"
    R"([{"type":"text","text":"what is it?"},{"type":"image_url",)"
    R"("image_url":{"url":"data:image/jpeg;base64,SlBFRw=="}}]}]})");
  // Without a caption only the image part; streamed like a text request.
  CAF_CHECK_EQUAL(
    encode_image_request("openclaw", 7, "", "data:x", true),
    R"({"model":"openclaw","user":"7","stream":true,"stream_options":)"
    R"({"include_usage":true},"messages":[{"role":"user","content":)"
    R"([{"type":"image_url","image_url":{"url":"data:x"}}]}]})");
}

CAF_TEST(answers) {
  auto a = classify(
    status(200,
           R"({"id":"chatcmpl-1","object":"chat.completion",)"
           R"("created":1,"model":"openclaw","choices":[{"index":0,)"
           R"("message":{"role":"assistant","content":"Hi 👋\nthere"},)"
           R"("finish_reason":"stop"}],"usage":{"prompt_tokens":1}})"));
  CAF_CHECK(a.outcome == gateway_outcome::answered);
  CAF_CHECK_EQUAL(a.content, "Hi 👋\nthere");
  // The usage goes with the answer (records of usage).
  CAF_CHECK_EQUAL(a.prompt_tokens, 1);
  CAF_CHECK_EQUAL(a.completion_tokens, -1);
  // Key order does not matter.
  a = classify(status(200,
                      R"({"choices":[{"finish_reason":"stop","message":)"
                      R"({"content":"x","role":"assistant"}}]})"));
  CAF_CHECK(a.outcome == gateway_outcome::answered);
  CAF_CHECK_EQUAL(a.content, "x");
  a = classify(status(200, R"({"choices":[{"message":{"content":""}}]})"));
  CAF_CHECK(a.outcome == gateway_outcome::answered);
  CAF_CHECK_EQUAL(a.content, "");
}

CAF_TEST(bad responses) {
  for (auto body : {"", "{", R"({"choices":[]})", R"({"choices":{}})",
                    R"({"choices":[{"message":{"content":null}}]})",
                    R"({"choices":[{"message":{}}]})", R"({"id":"x"})",
                    R"({"choices":[{"message":{"content":"trunc)"}) {
    auto a = classify(status(200, body));
    CAF_CHECK(a.outcome == gateway_outcome::bad_response);
  }
}

CAF_TEST(retryable failures) {
  http_result refused;
  refused.failure = http_failure::connect;
  refused.error = "connect: Connection refused";
  auto a = classify(refused);
  CAF_CHECK(a.outcome == gateway_outcome::retryable);
  CAF_CHECK_EQUAL(a.error_message, "connect: Connection refused");
  for (int code : {500, 502, 503, 504, 408, 429})
    CAF_CHECK(classify(status(code, "")).outcome == gateway_outcome::retryable);
  a = classify(
    status(503, R"({"error":{"message":"overloaded","type":"server_error"}})"));
  CAF_CHECK(a.outcome == gateway_outcome::retryable);
  CAF_CHECK_EQUAL(a.error_message, "overloaded");
  CAF_CHECK_EQUAL(a.error_type, "server_error");
}

CAF_TEST(failures another attempt cannot fix) {
  CAF_CHECK(
    classify(
      status(400,
             R"({"error":{"message":"bad","type":"invalid_request_error"}})"))
      .outcome
    == gateway_outcome::rejected);
  CAF_CHECK(classify(status(404)).outcome == gateway_outcome::rejected);
  CAF_CHECK(classify(status(413, "too large")).outcome
            == gateway_outcome::rejected);
  auto u = classify(status(
    401, R"({"error":{"message":"Unauthorized","type":"unauthorized"}})"));
  CAF_CHECK(u.outcome == gateway_outcome::unauthorized);
  auto p = classify(status(401,
                           R"({"error":{"type":"authentication_error",)"
                           R"("message":"invalid x-api-key"}})"));
  CAF_CHECK(p.outcome == gateway_outcome::provider_auth);
  auto l
    = classify(status(500,
                      R"({"error":{"message":"session file locked )"
                      R"((timeout 10000ms): pid=1","type":"server_error"}})"));
  CAF_CHECK(l.outcome == gateway_outcome::session_locked);
  // A 401 without a body is the gateway's own refusal.
  CAF_CHECK(classify(status(401)).outcome == gateway_outcome::unauthorized);
}

// Found by fuzz/gateway.cpp: the text of choices[0] was read before the
// body turned out broken; the answer is a bad response and carries none of
// that text to the user.
CAF_TEST(a broken body carries no text) {
  auto answer = classify(status(
    200,
    R"({"id":"chattion","reated":1,"model":"openclaw","choices":[{"index":0,"message":{"r":"assistant","content":"Hi 👋\nthere"},"finish_reason"pid"op"}],"usa)"
    R"(ge":;"promcmpl-1","object":"chat.completion","reated":1,"model":"openclaw","choices":,{"index":0,"message":{"r":"assistant","content":"Hi 👋\nthere"},"finish_reason"pid"op"}],"usage":;"prompt_tokens":1}})"));
  CAF_CHECK(answer.outcome != gateway_outcome::answered);
  CAF_CHECK(answer.content.empty());
}
