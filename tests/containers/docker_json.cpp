#define CAF_SUITE containers.docker_json

#include "containers/docker_json.hpp"

#include "caf/test/unit_test.hpp"

using namespace zaki;

namespace {

const std::string inspect_ok
  = R"({"Id":"abc","Name":"/zaki-user-1","State":{"Status":"running",)"
    R"("Running":true,"Pid":4242,"OOMKilled":false,"ExitCode":0},)"
    R"("Config":{"Labels":{"zaki.user":"1","zaki.port":"19011"}}})";

} // namespace

CAF_TEST(inspect answers decode) {
  container_info info;
  CAF_REQUIRE(parse_docker_inspect(inspect_ok, info));
  CAF_CHECK_EQUAL(info.state, "running");
  CAF_CHECK_EQUAL(info.pid, 4242);
  CAF_CHECK_EQUAL(info.name, "zaki-user-1");
}

CAF_TEST(broken inspect answers are garbage and never read on) {
  // Found by fuzz/docker_json.cpp: a bad literal inside State made the
  // on-demand parser fail there, and reading `Name` afterwards called into
  // the abandoned parser (undefined behaviour, a null dereference).
  std::string broken
    = R"({"Id":"abc","Name":"/zaki-user-1","State":{"Status":"running",)"
      R"("Running":true,"Pid":4242,"OOMKilled":fuser-1","State":{"Status":)"
      R"("running","R{"zaki.user":"1","zaki.port":"19011"}}})";
  container_info info;
  CAF_CHECK(!parse_docker_inspect(broken, info));
  CAF_CHECK(!parse_docker_inspect(inspect_ok.substr(0, 60), info));
  CAF_CHECK(
    !parse_docker_list(R"([{"Labels":{"zaki.user":"1"},"State":tru]})"));
  CAF_CHECK(!parse_docker_event(
    R"({"Action":"die","Actor":{"Attributes":{"zaki.user":"1",}}})"));
  CAF_CHECK_EQUAL(docker_error_message(R"({"message":"x",)"),
                  R"({"message":"x",)");
  CAF_CHECK_EQUAL(docker_error_message(R"({"message":"No such container"})"),
                  "No such container");
}

CAF_TEST(events of zaki containers decode) {
  auto ev = parse_docker_event(
    R"({"Type":"container","Action":"die","Actor":{"Attributes":)"
    R"({"exitCode":"137","zaki.user":"7"}}})"
    "\n");
  CAF_REQUIRE(ev);
  CAF_CHECK_EQUAL(ev->action, "die");
  CAF_CHECK_EQUAL(ev->user_id, 7);
  CAF_CHECK_EQUAL(ev->exit_code, 137);
}
