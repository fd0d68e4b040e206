// opamp-test-agent: a small OpAMP agent process for end-to-end tests of opamp-server (the
// browser test drives it through the web page). Connects, reports, answers remote config
// with APPLIED and its effective config; SIGTERM/SIGINT send agent_disconnect and exit 0.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>
#include <string>

#include "test_agent.hpp"

int main(int argc, char **argv) {
  opsup::testing::TestAgentOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "opamp-test-agent: " << flag << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (flag == "--endpoint") {
      options.endpoint = value();
    } else if (flag == "--service-name") {
      options.service_name = value();
    } else if (flag == "--ca-file") {
      options.tls.ca_file = value();
    } else if (flag == "--help") {
      std::cout << "Usage: opamp-test-agent --endpoint URL [--service-name NAME] [--ca-file PEM]\n";
      return 0;
    } else {
      std::cerr << "opamp-test-agent: unknown argument " << flag << "\n";
      return 2;
    }
  }
  if (options.endpoint.empty()) {
    std::cerr << "opamp-test-agent: --endpoint is required\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io;
  opsup::testing::TestAgent agent(io, options);
  std::cout << "opamp-test-agent: instance_uid " << agent.instance_uid_string() << std::endl;
  agent.start();
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code &error, int) {
    if (error)
      return;
    agent.stop_async([&io]() { io.stop(); });
  });
  io.run();
  std::cout << "opamp-test-agent: stopped" << std::endl;
  return 0;
}
