// The lock file's contents: who holds the lock and when it last renewed, on the host's monotonic
// clock. CLOCK_MONOTONIC is shared by every process of one host (containers too), so a standby
// can tell that a holder which still owns its kernel lock (it is frozen: SIGSTOP, a paused
// container) has not renewed for longer than its lease, without comparing wall clocks.
// The stamp lives in the lock file itself, so it belongs to one inode: replacing the lock file
// replaces the stamp with it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tenure/errors.hpp"

namespace tenure::backends::file {

struct LockStamp {
  std::string boot_id;   // monotonic times only compare within one boot of one host
  int64_t mono_ms = 0;   // host CLOCK_MONOTONIC (time-namespace offset removed) of the renewal
  int64_t lease_ms = 0;  // the holder's lease_duration: expired after mono_ms + lease_ms
  int pid = 0;
  std::string identity;
};

// The host's CLOCK_MONOTONIC in ms, with this process's time-namespace offset removed.
int64_t host_monotonic_ms();
// /proc/sys/kernel/random/boot_id, read once; empty when unreadable.
const std::string& this_boot_id();

// Overwrites the record at offset 0 with one pwrite of fixed size (never shrinks the file, so
// readers never see a truncated record; a torn read fails its checksum).
Status write_stamp(int fd, const LockStamp& stamp);
// nullopt when the file holds no valid stamp (empty, torn by a concurrent write, older format).
std::optional<LockStamp> read_stamp(int fd);

}  // namespace tenure::backends::file
