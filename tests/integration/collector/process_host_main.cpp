// A minimal host for CollectorProcess, for the test that kills the host: runs the command
// given on its command line, says the child's pid, echoes the child's lines, and exits with
// the child's exit code when it ends.
#include <boost/asio/io_context.hpp>
#include <iostream>

#include "collector/collector_process.hpp"

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: collector_process_host EXECUTABLE [ARGS...]\n";
    return 2;
  }
  boost::asio::io_context io;
  int exit_code = 1;
  opsup::collector::CollectorProcess process(
      io, [](std::string_view line) { std::cout << line << std::endl; },
      [&](const opsup::collector::ExitStatus &status) {
        std::cout << "collector ended: " << status.describe() << std::endl;
        exit_code = status.code;
        io.stop();
      });
  opsup::collector::CollectorCommand command;
  command.executable = argv[1];
  for (int i = 2; i < argc; ++i)
    command.args.emplace_back(argv[i]);
  try {
    process.start(command);
  } catch (const std::exception &error) {
    std::cerr << error.what() << std::endl;
    return 1;
  }
  std::cout << "collector pid " << process.pid() << std::endl;
  io.run();
  return exit_code;
}
