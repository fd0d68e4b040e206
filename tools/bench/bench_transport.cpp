// Transport benchmarks.
//   bench_transport throughput [--transport ws|http] [--messages N] [--size BYTES] [--window W]
//       An echo server and a client in one process, each on its own io_context thread;
//       W messages in flight (1 = strict round trips). Prints messages per second.
//   bench_transport server
//       An echo OpAMP server on 127.0.0.1:<free port>; prints its ws URL, runs until SIGTERM.
//   bench_transport idle-clients --endpoint URL [--count K]
//       K WebSocket clients that connect and stay idle; prints "connected K" once all are
//       up, then waits for SIGTERM. With K=1 its VmRSS is the idle client's footprint.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "transport/client_transport.hpp"
#include "transport/server_transport.hpp"

namespace {

namespace asio = boost::asio;
using namespace opsup::transport;

using Arguments = std::map<std::string, std::string>;

Arguments parse_arguments(int argc, char **argv, int first) {
  Arguments arguments;
  for (int i = first; i + 1 < argc; i += 2)
    arguments[argv[i]] = argv[i + 1];
  return arguments;
}

std::string argument(const Arguments &arguments, const std::string &name,
                     const std::string &fallback) {
  auto found = arguments.find(name);
  return found == arguments.end() ? fallback : found->second;
}

class EchoServer : public ServerHandler {
 public:
  void on_connected(const std::shared_ptr<ServerConnection> &) override {}
  void on_message(const std::shared_ptr<ServerConnection> &connection,
                  std::string_view message) override {
    connection->send(std::string(message));
  }
  void on_closed(const std::shared_ptr<ServerConnection> &, std::string_view) override {}
};

// Keeps `window` messages in flight until `total` have come back.
class LoadClient : public ClientTransportHandler {
 public:
  LoadClient(std::size_t total, std::size_t size, std::size_t window, std::function<void()> done)
      : total_(total), window_(window), payload_(size, 'x'), done_(std::move(done)) {}

  void set_transport(ClientTransport *transport) { transport_ = transport; }
  void on_connected() override {
    started_ = std::chrono::steady_clock::now();
    transport_->notify_pending();
  }
  void on_message(std::string_view) override {
    ++received_;
    if (received_ == total_) {
      elapsed_ = std::chrono::steady_clock::now() - started_;
      return done_();
    }
    transport_->notify_pending();
  }
  void on_disconnected(const DisconnectInfo &info) override {
    std::cerr << "disconnected: " << info.reason << "\n";
    std::exit(1);
  }
  std::optional<std::string> next_message() override {
    if (sent_ >= total_ || sent_ - received_ >= window_)
      return std::nullopt;
    ++sent_;
    return payload_;
  }
  std::chrono::duration<double> elapsed() const { return elapsed_; }

 private:
  std::size_t total_;
  std::size_t window_;
  std::string payload_;
  std::function<void()> done_;
  ClientTransport *transport_ = nullptr;
  std::size_t sent_ = 0;
  std::size_t received_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::chrono::duration<double> elapsed_{};
};

int run_throughput(const Arguments &arguments) {
  const std::string kind = argument(arguments, "--transport", "ws");
  const std::size_t messages = std::stoul(argument(arguments, "--messages", "20000"));
  const std::size_t size = std::stoul(argument(arguments, "--size", "200"));
  std::size_t window = std::stoul(argument(arguments, "--window", "1"));
  if (kind == "http")
    window = 1;  // one request in flight by design

  asio::io_context server_io;
  EchoServer echo;
  auto server = ServerTransport::create(server_io, {}, echo);
  server->start();
  auto server_work = asio::make_work_guard(server_io);
  std::thread server_thread([&] { server_io.run(); });

  asio::io_context client_io;
  LoadClient load(messages, size, window, [&] { client_io.stop(); });
  ClientOptions options;
  options.endpoint = kind == "http" ? server->http_url() : server->websocket_url();
  auto client = ClientTransport::create(client_io, options, load);
  load.set_transport(client.get());
  client->connect();
  client_io.run();

  const double seconds = load.elapsed().count();
  std::printf("RESULT transport=%s messages=%zu size=%zu window=%zu seconds=%.3f rate=%.0f\n",
              kind.c_str(), messages, size, window, seconds, messages / seconds);
  client->abort();
  asio::post(server_io, [&] {
    server->stop();
    server_work.reset();
    server_io.stop();
  });
  server_thread.join();
  return 0;
}

void wait_for_termination(asio::io_context &io) {
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code &, int) { io.stop(); });
  io.run();
}

int run_server() {
  asio::io_context io;
  EchoServer echo;
  auto server = ServerTransport::create(io, {}, echo);
  server->start();
  std::printf("URL %s\n", server->websocket_url().c_str());
  std::fflush(stdout);
  wait_for_termination(io);
  return 0;
}

class IdleClient : public ClientTransportHandler {
 public:
  explicit IdleClient(std::function<void()> connected) : connected_(std::move(connected)) {}
  void on_connected() override { connected_(); }
  void on_message(std::string_view) override {}
  void on_disconnected(const DisconnectInfo &info) override {
    std::cerr << "disconnected: " << info.reason << "\n";
    std::exit(1);
  }
  std::optional<std::string> next_message() override { return std::nullopt; }

 private:
  std::function<void()> connected_;
};

int run_idle_clients(const Arguments &arguments) {
  const std::string endpoint = argument(arguments, "--endpoint", "");
  const int count = std::stoi(argument(arguments, "--count", "1"));
  if (endpoint.empty()) {
    std::cerr << "idle-clients needs --endpoint\n";
    return 2;
  }
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);

  asio::io_context io;
  int connected = 0;
  std::vector<std::unique_ptr<IdleClient>> handlers;
  std::vector<std::unique_ptr<ClientTransport>> clients;
  ClientOptions options;
  options.endpoint = endpoint;
  for (int i = 0; i < count; ++i) {
    handlers.push_back(std::make_unique<IdleClient>([&] {
      if (++connected == count) {
        std::printf("connected %d\n", connected);
        std::fflush(stdout);
      }
    }));
    clients.push_back(ClientTransport::create(io, options, *handlers.back()));
    clients.back()->connect();
  }
  wait_for_termination(io);
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  spdlog::set_level(spdlog::level::warn);
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "throughput")
      return run_throughput(parse_arguments(argc, argv, 2));
    if (mode == "server")
      return run_server();
    if (mode == "idle-clients")
      return run_idle_clients(parse_arguments(argc, argv, 2));
  } catch (const std::exception &error) {
    std::cerr << "bench_transport: " << error.what() << "\n";
    return 1;
  }
  std::cerr << "usage: bench_transport throughput|server|idle-clients [options]\n";
  return 2;
}
