/* tenure_shutdown from an atexit handler with leaders live: leases released (a new elector in a
 * fresh runtime wins at once), no callback afterwards, calls on old electors say why, twice safe.
 */
#define _GNU_SOURCE
#include "capi_check.h"

#include <stdatomic.h>
#include <unistd.h>

enum { N = 3 };
static char url[128];
static tenure_elector* electors[N];
static atomic_int events_seen, shutdown_rc_in_cb = -1;

static void on_event(tenure_elector* e, const tenure_event* ev, void* opaque) {
  (void)e;
  (void)opaque;
  ++events_seen;
  if (tenure_event_get_type(ev) == TENURE_EVENT_ELECTED)
    shutdown_rc_in_cb = tenure_shutdown(1000, NULL, 0); /* refused on tenure's thread */
}

static void at_exit(void) {
  char err[256];
  long long t0 = now_ms();
  CHECK(tenure_shutdown(5000, err, sizeof err) == TENURE_OK, "shutdown: %s", err);
  CHECK(now_ms() - t0 < 5000, "bounded");
  int seen = events_seen;
  CHECK(tenure_shutdown(5000, err, sizeof err) == TENURE_OK, "twice: %s", err);
  sleep_ms(200);
  CHECK(events_seen == seen, "a callback ran after shutdown");
  for (int i = 0; i < N; ++i) {
    CHECK(tenure_elector_is_leader(electors[i]) == 0, "not leading after shutdown");
    CHECK(tenure_elector_resign(electors[i], err, sizeof err) == TENURE_E_BAD_STATE, "resign");
    CHECK(strstr(err, "tenure_shutdown") != NULL, "says why: %s", err);
    CHECK(tenure_elector_stop(electors[i], err, sizeof err) == TENURE_OK, "stop is a no-op");
  }
  /* The leases were released: a newcomer (fresh runtime) wins well before they would expire. */
  tenure_elector* n = make_elector(url, "sd0", "newcomer");
  CHECK(n && tenure_elector_start(n, err, sizeof err) == TENURE_OK, "newcomer: %s", err);
  long long until = now_ms() + 2000; /* lease_duration is 3000 ms */
  while (now_ms() < until && !tenure_elector_is_leader(n)) sleep_ms(5);
  CHECK(tenure_elector_is_leader(n), "newcomer elected at once");
  CHECK(tenure_shutdown(5000, err, sizeof err) == TENURE_OK, "third shutdown: %s", err);
  tenure_elector_destroy(n, NULL, 0);
  for (int i = 0; i < N; ++i)
    CHECK(tenure_elector_destroy(electors[i], err, sizeof err) == TENURE_OK, "destroy: %s", err);
  fflush(stderr);
  int rc = report();
  fflush(stdout);
  _exit(rc); /* the only way an atexit handler sets the exit status */
}

int main(void) {
  char dir[] = "/tmp/tenure-shutdown-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  snprintf(url, sizeof url, "file://%s", dir);
  atexit(at_exit);
  char err[256];
  for (int i = 0; i < N; ++i) {
    char election[16];
    snprintf(election, sizeof election, "sd%d", i);
    electors[i] = make_elector(url, election, "holder");
    CHECK(electors[i] != NULL, "elector");
    tenure_elector_set_callback(electors[i], on_event, NULL, err, sizeof err);
    tenure_elector_start(electors[i], err, sizeof err);
  }
  long long until = now_ms() + 5000;
  for (int i = 0; i < N; ++i)
    while (now_ms() < until && !tenure_elector_is_leader(electors[i])) sleep_ms(5);
  for (int i = 0; i < N; ++i) CHECK(tenure_elector_is_leader(electors[i]), "leader %d", i);
  CHECK(shutdown_rc_in_cb == TENURE_E_IN_CALLBACK, "shutdown inside a callback: %d",
        (int)shutdown_rc_in_cb);
  return 0; /* leaders still live: the atexit handler shuts down */
}
