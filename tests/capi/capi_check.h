/* What every C test of the ABI shares: CHECK counting, a monotonic clock, memory:// options. */
#ifndef TENURE_CAPI_CHECK_H
#define TENURE_CAPI_CHECK_H

#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tenure/tenure.h"

static atomic_int passed, failed; /* hooks and callbacks check on tenure's threads too */
#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (cond) {                                                                \
      ++passed;                                                                \
    } else {                                                                   \
      ++failed;                                                                \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
    }                                                                          \
  } while (0)

static inline long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Options for an elector on `url` with short timings; NULL on failure (printed). */
static inline tenure_options* make_opts(const char* url, const char* election,
                                        const char* identity) {
  tenure_options* o = NULL;
  char err[256];
  if (tenure_options_new(&o, err, sizeof err) != TENURE_OK ||
      tenure_options_set(o, "backend", url, err, sizeof err) != TENURE_OK ||
      tenure_options_set(o, "election", election, err, sizeof err) != TENURE_OK ||
      tenure_options_set(o, "identity", identity, err, sizeof err) != TENURE_OK ||
      tenure_options_set(o, "lease_duration_ms", "3000", err, sizeof err) != TENURE_OK ||
      tenure_options_set(o, "renew_deadline_ms", "2000", err, sizeof err) != TENURE_OK ||
      tenure_options_set(o, "retry_period_ms", "100", err, sizeof err) != TENURE_OK) {
    fprintf(stderr, "options: %s\n", err);
    tenure_options_free(o);
    return NULL;
  }
  return o;
}

static inline tenure_elector* make_elector(const char* url, const char* election,
                                           const char* identity) {
  char err[256];
  tenure_options* o = make_opts(url, election, identity);
  tenure_elector* e = NULL;
  if (o && tenure_elector_new(&e, o, err, sizeof err) != TENURE_OK)
    fprintf(stderr, "elector_new: %s\n", err);
  tenure_options_free(o);
  return e;
}

static inline int report(void) {
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

#endif
