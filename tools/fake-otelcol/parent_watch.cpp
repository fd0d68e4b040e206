#include "parent_watch.hpp"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <string>

namespace opsup::fakeotelcol {

bool parent_alive(pid_t ppid) {
  if (::kill(ppid, 0) != 0 && errno == ESRCH)
    return false;
  // /proc/<pid>/stat is "pid (comm) state ..."; comm may contain spaces or parentheses.
  std::ifstream stat("/proc/" + std::to_string(ppid) + "/stat");
  std::string content;
  if (!std::getline(stat, content))
    return true;  // no procfs: trust kill()
  auto close = content.rfind(')');
  if (close == std::string::npos || close + 2 >= content.size())
    return true;
  char state = content[close + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace opsup::fakeotelcol
