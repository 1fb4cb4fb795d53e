/* The command the fault suite's `tenure run` candidates run while they lead: every PERIOD_US
 * microseconds it appends one line "<CLOCK_MONOTONIC ns> <TENURE_IDENTITY> <TENURE_TOKEN>" to
 * LOG, one write(2) per line on an O_APPEND descriptor, so lines of concurrent writers never
 * interleave. The suite checks the log afterwards (write_log.hpp). It stops on SIGTERM/SIGKILL.
 * Usage: tenure_fault_writer LOG [PERIOD_US]   (default 2000) */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s LOG [PERIOD_US]\n", argv[0]);
    return 2;
  }
  const char* id = getenv("TENURE_IDENTITY");
  const char* token = getenv("TENURE_TOKEN");
  if (!id || !token) {
    fprintf(stderr, "%s: TENURE_IDENTITY and TENURE_TOKEN must be set (run it under tenure run)\n",
            argv[0]);
    return 2;
  }
  long period_us = argc > 2 ? atol(argv[2]) : 2000;
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  struct timespec period = {period_us / 1000000, (period_us % 1000000) * 1000};
  char line[256];
  for (;;) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int n = snprintf(line, sizeof line, "%lld %s %s\n",
                     (long long)now.tv_sec * 1000000000LL + now.tv_nsec, id, token);
    if (n <= 0 || n >= (int)sizeof line || write(fd, line, (size_t)n) != n) return 1;
    nanosleep(&period, NULL);
  }
}
