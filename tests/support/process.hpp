#pragma once
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

// Child processes for service tests: started with extra environment, output captured to a file,
// stopped by pid. A child dies with the test process (PR_SET_PDEATHSIG), so nothing leaks.
namespace clickrace::test {

using namespace std::chrono_literals;

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// A blocking TCP connection to 127.0.0.1:port; -1 if it cannot connect.
int connect_loopback(int port);

// A fresh directory under $TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Process {
 public:
  Process(std::string name, std::vector<std::string> argv,
          std::map<std::string, std::string> env = {});
  ~Process();  // SIGKILL if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void start();
  // Waits until the combined stdout/stderr contains `text`. Returns false on timeout or exit.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout = 10s);
  // Waits for "listening on <port>" and returns the port (0 on timeout).
  int wait_listening(std::chrono::milliseconds timeout = 10s);
  std::string output() const;

  // SIGTERM, then SIGKILL after `grace`. Returns the exit status (as from waitpid) or -1.
  int stop(std::chrono::milliseconds grace = 5s);
  void kill();  // SIGKILL, reaped
  void signal(int sig);
  bool running();
  // Waits for the child to exit by itself; returns its status or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

 private:
  std::string name_;
  std::vector<std::string> argv_;
  std::map<std::string, std::string> env_;
  TempDir dir_;
  std::string log_path_;
  pid_t pid_ = -1;
};

// Path of a built binary, e.g. bin("hub-gateway").
std::string bin(const std::string& name);

// Polls `pred` until true or timeout.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 10s,
                std::chrono::milliseconds step = 20ms);

}  // namespace clickrace::test

#include <thread>
namespace clickrace::test {
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout, std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}
}  // namespace clickrace::test
