// The opamp extension's orphan detection: is the process `ppid` still alive?
#pragma once

#include <sys/types.h>

namespace opsup::fakeotelcol {

// False when no such process exists or it is a zombie (it died and awaits its reaper).
bool parent_alive(pid_t ppid);

}  // namespace opsup::fakeotelcol
