// A stand-in Collector for the agent.run_as tests: prints who it runs as, as one line
//   pdeathsig=9 uid=65534,65534,65534 gid=65534,65534,65534 groups=65534 capeff=0 capprm=0
// then acts on its arguments:
//   featuregate                  lists probe.Uid<euid> and another gate, as the Collector does
//   validate --config FILE ...   exit 0 when FILE is readable and says `valid: true`
//   --config FILE ...            says whether FILE is readable, then exits 0
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string status_field(const std::string &key) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream value(line.substr(key.size() + 1));
      std::string hex;
      value >> hex;
      return std::to_string(std::stoull(hex, nullptr, 16));
    }
  }
  return "?";
}

// The file's text, or nullopt-like "" with `error` set.
bool read_file(const char *path, std::string &text, std::string &error) {
  FILE *file = std::fopen(path, "r");
  if (file == nullptr) {
    error = std::strerror(errno);
    return false;
  }
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;)
    text.append(buffer, n);
  std::fclose(file);
  return true;
}

const char *config_argument(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0)
      return argv[i + 1];
  }
  return nullptr;
}

}  // namespace

int main(int argc, char **argv) {
  int pdeathsig = -1;
  ::prctl(PR_GET_PDEATHSIG, &pdeathsig);
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  ::getresuid(&ruid, &euid, &suid);
  ::getresgid(&rgid, &egid, &sgid);
  std::vector<gid_t> groups(static_cast<std::size_t>(::getgroups(0, nullptr)));
  groups.resize(
      static_cast<std::size_t>(::getgroups(static_cast<int>(groups.size()), groups.data())));
  std::string group_list;
  for (gid_t gid : groups) {
    if (!group_list.empty())
      group_list.push_back(',');
    group_list.append(std::to_string(gid));
  }
  std::cout << "pdeathsig=" << pdeathsig << " uid=" << ruid << "," << euid << "," << suid
            << " gid=" << rgid << "," << egid << "," << sgid << " groups=" << group_list
            << " capeff=" << status_field("CapEff") << " capprm=" << status_field("CapPrm")
            << std::endl;

  const std::string verb = argc > 1 ? argv[1] : "";
  if (verb == "featuregate") {
    // A gate named after the uid it runs as, so the caller can tell who ran it.
    std::cout << "probe.Uid" << euid << "\tAlpha\tfalse\tthe uid the probe ran as\n"
              << "service.AllowNoPipelines\tAlpha\tfalse\tno pipelines\n";
    return 0;
  }
  const char *config = config_argument(argc, argv);
  if (config == nullptr)
    return 0;
  std::string text, error;
  if (!read_file(config, text, error)) {
    std::cout << "read " << config << ": " << error << std::endl;
    return 1;
  }
  std::cout << "read " << config << ": ok" << std::endl;
  if (verb == "validate")
    return text.find("valid: true") != std::string::npos ? 0 : 1;
  return 0;
}
