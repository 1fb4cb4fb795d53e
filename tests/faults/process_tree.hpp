// The fault suite's process handling: candidates in process groups of their own, and the tree
// below a process (to freeze a leader with its command, as a frozen pod is frozen).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tenure::faults {

// Starts argv[0] (a path) with stdin from /dev/null and stdout+stderr appended to logfile.
pid_t spawn_in_own_group(const std::vector<std::string>& argv, const std::string& logfile);
// The processes below root (children, their children, ...), from /proc.
std::vector<pid_t> descendants(pid_t root);
void signal_tree(const std::vector<pid_t>& pids, int sig);

}  // namespace tenure::faults
