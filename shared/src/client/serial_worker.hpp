#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

// One background thread running jobs in order: the hub client's blocking steps (token factory,
// negotiate over HTTP) run here so they never stall the I/O thread.
namespace clickrace::client {

class SerialWorker {
 public:
  SerialWorker();
  ~SerialWorker();  // finishes the running job, drops queued ones, joins
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  void post(std::function<void()> job);

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace clickrace::client
