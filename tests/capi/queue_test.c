/* One event queue for many electors: 1,000 memory:// electors on one queue and one descriptor,
 * each event carrying its elector and opaque; drained until TENURE_E_NO_EVENT. */
#define _GNU_SOURCE
#include "capi_check.h"

#include <poll.h>
#include <stdint.h>

enum { N = 1000 };
static tenure_elector* electors[N];
static int elected[N];

int main(void) {
  char err[256];
  tenure_queue* q = NULL;
  CHECK(tenure_queue_new(&q, err, sizeof err) == TENURE_OK, "queue_new: %s", err);
  int fd = -1;
  CHECK(tenure_queue_fd(&fd, q, err, sizeof err) == TENURE_OK && fd >= 0, "fd: %s", err);
  tenure_event* ev = NULL;
  CHECK(tenure_queue_poll(&ev, q, 0, err, sizeof err) == TENURE_E_NO_EVENT, "empty");
  CHECK(tenure_queue_poll(&ev, NULL, 0, err, sizeof err) == TENURE_E_INVALID_ARGUMENT &&
            strstr(err, "queue") != NULL,
        "NULL queue: %s", err);

  for (int i = 0; i < N; ++i) {
    char election[32];
    snprintf(election, sizeof election, "shard-%d", i);
    electors[i] = make_elector("memory://queue", election, "me");
    if (!electors[i]) {
      CHECK(0, "elector %d", i);
      return report();
    }
    CHECK(tenure_elector_set_queue(electors[i], q, (void*)(intptr_t)(i + 1), err, sizeof err) ==
              TENURE_OK,
          "attach %d: %s", i, err);
  }
  /* Attach rules: not twice, not with a callback, not after start. */
  CHECK(tenure_elector_set_queue(electors[0], q, NULL, err, sizeof err) == TENURE_E_BAD_STATE,
        "attached twice");
  for (int i = 0; i < N; ++i) tenure_elector_start(electors[i], NULL, 0);
  CHECK(tenure_elector_poll_event(&ev, electors[0], 0, err, sizeof err) == TENURE_E_BAD_STATE &&
            strstr(err, "shared queue") != NULL,
        "per-elector poll refused: %s", err);

  int total = 0, wrong = 0;
  long long until = now_ms() + 30000;
  while (total < N && now_ms() < until) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 1000) != 1) continue;
    /* Drain until TENURE_E_NO_EVENT: the descriptor is reset only when the queue is empty. */
    while (tenure_queue_poll(&ev, q, 0, NULL, 0) == TENURE_OK) {
      intptr_t i = (intptr_t)tenure_event_get_opaque(ev) - 1;
      if (i < 0 || i >= N || tenure_event_get_elector(ev) != electors[i]) {
        ++wrong;
      } else if (tenure_event_get_type(ev) == TENURE_EVENT_ELECTED && !elected[i]) {
        elected[i] = 1;
        ++total;
      }
      tenure_event_free(ev);
    }
  }
  CHECK(total == N, "all %d elected through one fd: %d", N, total);
  CHECK(wrong == 0, "events with the wrong elector or opaque: %d", wrong);

  /* Destroying an elector drops its pending events; the rest keep flowing. */
  for (int i = 0; i < N; ++i) tenure_elector_resign(electors[i], NULL, 0);
  for (int i = 0; i < N; ++i)
    CHECK(tenure_elector_destroy(electors[i], NULL, 0) == TENURE_OK, "destroy");
  CHECK(tenure_queue_poll(&ev, q, 0, NULL, 0) == TENURE_E_NO_EVENT, "no events of freed electors");
  struct pollfd p = {fd, POLLIN, 0};
  CHECK(poll(&p, 1, 0) == 0, "descriptor reset");
  tenure_queue_free(q);
  tenure_queue_free(NULL);
  return report();
}
