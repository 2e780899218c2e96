#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <list>
#include <mutex>
#include <thread>

#include "process.hpp"

// A loopback TCP forwarder for partition tests. freeze_existing() makes every connection open at
// that moment go silent in both directions WITHOUT closing it (a partition that eats the FIN);
// connections made afterwards are forwarded normally.
namespace clickrace::test {

class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(listen_fd_, 64);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~TcpProxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    for (auto& t : pipes_) t.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  void freeze_existing() { frozen_below_ = next_id_.load(); }

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      int server = connect_loopback(target_);
      if (server < 0) {
        ::close(client);
        continue;
      }
      int id = next_id_++;
      std::lock_guard<std::mutex> lock(mu_);
      pipes_.emplace_back([this, client, server, id] { pump(client, server, id); });
    }
  }
  void pump(int a, int b, int id) {
    char buf[16384];
    while (!stop_) {
      if (id < frozen_below_) {  // silent, but open
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
      // Checked again after the wait: data that arrived after freeze_existing() stays unread.
      if (::poll(p, 2, 20) <= 0 || id < frozen_below_) continue;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n <= 0 || ::write(p[1 - i].fd, buf, static_cast<size_t>(n)) != n) done = true;
      }
      if (done) break;
    }
    ::close(a);
    ::close(b);
  }

  int target_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_id_{0};
  std::atomic<int> frozen_below_{0};
  std::mutex mu_;
  std::thread acceptor_;
  std::list<std::thread> pipes_;
};

}  // namespace clickrace::test
