#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "process.hpp"

// The deployment files are code too: the compose file must lint, the one nginx template must render
// into a config nginx accepts (both the way scripts/play renders it and the way the official nginx
// image does), and scripts/play must bring the whole topology up and take it down without
// leftovers.
namespace clickrace::test {
namespace {

const std::string kSource = CLICKRACE_SOURCE_DIR;

struct Run {
  int exit_code = -1;  // -1: killed, timed out or did not exit normally
  std::string output;
};

Run run(const std::string& name, std::vector<std::string> argv,
        std::map<std::string, std::string> env = {}, std::chrono::milliseconds timeout = 60s) {
  Process p(name, std::move(argv), std::move(env));
  p.start();
  auto status = p.wait_exit(timeout);
  Run r;
  r.output = p.output();
  if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
  return r;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool port_open(int port) {
  return run("probe", {"bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port)}, {}, 5s)
             .exit_code == 0;
}

// ---- docker compose ----------------------------------------------------------------------------

TEST(Compose, ConfigLints) {
  auto r = run("compose", {"docker-compose", "-f", kSource + "/docker-compose.yml", "config", "-q"},
               {{"CLICKRACE_TOKEN_SECRET", "lint-only-secret-0123456789abcdef0123456789"}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(Compose, RefusesToStartWithoutATokenSecret) {
  auto r = run("compose", {"env", "-u", "CLICKRACE_TOKEN_SECRET", "docker-compose", "-f",
                           kSource + "/docker-compose.yml", "config", "-q"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("CLICKRACE_TOKEN_SECRET"), std::string::npos) << r.output;
}

// Invariant 8 on the compose stack: Redis fsyncs the append-only file before every reply. Read
// from the normalized config, as docker compose would run it.
TEST(Compose, RedisFsyncsEveryWrite) {
  auto r = run("compose", {"docker-compose", "-f", kSource + "/docker-compose.yml", "config"},
               {{"CLICKRACE_TOKEN_SECRET", "lint-only-secret-0123456789abcdef0123456789"}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto redis = r.output.find("\n  redis:\n");
  ASSERT_NE(redis, std::string::npos) << r.output;
  // The redis service's block ends where the next service (two-space indent) starts.
  auto end = redis + 1;
  do {
    end = r.output.find("\n  ", end + 1);
  } while (end != std::string::npos && r.output[end + 3] == ' ');
  auto command = r.output.substr(redis, end - redis);
  EXPECT_NE(command.find("- --appendonly\n    - \"yes\""), std::string::npos) << command;
  EXPECT_NE(command.find("- --appendfsync\n    - always"), std::string::npos) << command;
}

// The token secret may live in .env beside the compose file: it must reach neither git nor an
// image.
TEST(Compose, DotEnvIsIgnoredByGitAndDocker) {
  for (const char* file : {"/.gitignore", "/.dockerignore"}) {
    std::string text = "\n" + read_file(kSource + file) + "\n";
    EXPECT_NE(text.find("\n.env\n"), std::string::npos) << file;
  }
}

// ---- nginx -------------------------------------------------------------------------------------

// Renders with services/load-balancer/render, exactly as scripts/play does.
TEST(LoadBalancer, PlayRenderingIsAValidNginxConfig) {
  TempDir dir;
  int port = free_port();
  auto r = run("render", {kSource + "/services/load-balancer/render", dir.path()},
               {{"CLICKRACE_LB_LISTEN", "127.0.0.1:" + std::to_string(port)},
                {"CLICKRACE_LB_GATEWAYS", "127.0.0.1:18181 localhost:18182"}});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  std::string conf = read_file(dir.path() + "/clickrace.conf");
  EXPECT_NE(conf.find("server 127.0.0.1:18181 max_fails=2 fail_timeout=3s; "
                      "server localhost:18182 max_fails=2 fail_timeout=3s;"),
            std::string::npos)
      << conf;
  EXPECT_NE(conf.find("listen 127.0.0.1:" + std::to_string(port) + ";"), std::string::npos);
  EXPECT_EQ(conf.find("${CLICKRACE_"), std::string::npos) << "a placeholder was left";
  // nginx's own variables survive the substitution.
  EXPECT_NE(conf.find("$http_upgrade"), std::string::npos);
  EXPECT_NE(conf.find("$proxy_add_x_forwarded_for"), std::string::npos);
  EXPECT_NE(conf.find("$http_host"), std::string::npos);

  auto t = run("nginx-t", {"nginx", "-t", "-p", dir.path(), "-e",
                           dir.path() + "/logs/nginx-error.log", "-c", dir.path() + "/nginx.conf"});
  EXPECT_EQ(t.exit_code, 0) << t.output;
}

TEST(LoadBalancer, RenderRejectsABadGatewayAddress) {
  TempDir dir;
  auto r = run("render", {kSource + "/services/load-balancer/render", dir.path()},
               {{"CLICKRACE_LB_GATEWAYS", "127.0.0.1:8181 evil;host:1"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("bad gateway address"), std::string::npos) << r.output;
}

// The official nginx image substitutes EVERY defined environment variable into *.template files
// (docker-entrypoint.d/20-envsubst-on-templates.sh). The template must survive that too.
TEST(LoadBalancer, ImageStyleRenderingIsAValidNginxConfig) {
  TempDir dir;
  std::string d = dir.path();
  std::filesystem::create_directories(d + "/conf.d");
  std::filesystem::create_directories(d + "/logs");
  std::string script =
      "defined=$(printf '${%s} ' $(env | cut -d= -f1)); "
      "envsubst \"$defined\" <\"$TEMPLATE\" >\"$OUT/conf.d/default.conf\" && "
      "printf 'pid %s/nginx.pid;\\nevents {}\\nhttp {\\n client_body_temp_path %s/t1;\\n"
      " proxy_temp_path %s/t2;\\n fastcgi_temp_path %s/t3;\\n uwsgi_temp_path %s/t4;\\n"
      " scgi_temp_path %s/t5;\\n include %s/conf.d/*.conf;\\n}\\n' "
      "\"$OUT\" \"$OUT\" \"$OUT\" \"$OUT\" \"$OUT\" \"$OUT\" \"$OUT\" >\"$OUT/nginx.conf\"";
  auto r = run("render-image", {"bash", "-c", script},
               {{"TEMPLATE", kSource + "/services/load-balancer/clickrace.conf.template"},
                {"OUT", d},
                {"CLICKRACE_LB_LISTEN", "127.0.0.1:" + std::to_string(free_port())},
                {"CLICKRACE_LB_UPSTREAMS", "server 127.0.0.1:18181; server 127.0.0.1:18182;"},
                {"CLICKRACE_LB_ACCESS_LOG", d + "/logs/access.log"},
                {"CLICKRACE_LB_ERROR_LOG", d + "/logs/error.log"}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string conf = read_file(d + "/conf.d/default.conf");
  EXPECT_NE(conf.find("$http_upgrade"), std::string::npos) << conf;
  EXPECT_NE(conf.find("$clickrace_connection"), std::string::npos) << conf;

  auto t = run("nginx-t",
               {"nginx", "-t", "-p", d, "-e", d + "/logs/error.log", "-c", d + "/nginx.conf"});
  EXPECT_EQ(t.exit_code, 0) << t.output;
}

// ---- scripts/play
// --------------------------------------------------------------------------------

// The whole local topology (redis, 2 schedulers, 2 gateways, nginx) comes up, answers /readyz
// through nginx, and --check then stops every process: afterwards no port is still open.
TEST(Play, CheckModeStartsEverythingAndLeavesNothingBehind) {
  std::filesystem::path bin_dir = CLICKRACE_BIN_DIR;
  std::string build_dir = bin_dir.parent_path().string();
  ASSERT_TRUE(std::filesystem::exists(build_dir + "/web/index.html"))
      << "build the `web` target first (scripts/build builds it)";
  TempDir dir;
  int lb = free_port(), redis = free_port();
  int gw1 = free_port(), gw2 = free_port(), s1 = free_port(), s2 = free_port();
  auto r = run("play", {kSource + "/scripts/play", "--check", "--no-build"},
               {{"CLICKRACE_BUILD_DIR", build_dir},
                {"PLAY_PORT", std::to_string(lb)},
                {"PLAY_BIND", "127.0.0.1"},
                {"PLAY_REDIS_PORT", std::to_string(redis)},
                {"PLAY_GATEWAY_PORTS", std::to_string(gw1) + " " + std::to_string(gw2)},
                {"PLAY_SCHEDULER_PORTS", std::to_string(s1) + " " + std::to_string(s2)},
                {"PLAY_RUN_DIR", dir.path() + "/run"},
                {"PLAY_DATA_DIR", dir.path() + "/data"},
                {"PLAY_READY_TIMEOUT_S", "40"},
                {"CLICKRACE_ROUND_MS", "1000"},
                {"CLICKRACE_KEY_PREFIX", "deploytest:"}},
               90s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("is ready:  http://"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("play: stopped"), std::string::npos) << r.output;
  for (int port : {lb, redis, gw1, gw2, s1, s2}) {
    EXPECT_FALSE(port_open(port)) << "port " << port << " still open after --check";
  }
  // nginx removes its pid file on a clean exit; redis wrote its append-only file.
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/run/nginx.pid"));
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/data/appendonlydir"));
  std::string access = read_file(dir.path() + "/run/logs/nginx-access.log");
  EXPECT_NE(access.find("GET /readyz"), std::string::npos) << access;
}

}  // namespace
}  // namespace clickrace::test
