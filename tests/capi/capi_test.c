/* The C ABI driven end to end from plain C11: options, errors, poll mode with the wake-up fd,
 * callbacks (stop and destroy from inside), status, metrics and run-once, on the file backend. */
#include "capi_check.h" /* CHECK, passed/failed, sleep_ms */

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

static char dir[64];

static tenure_options* opts_for(const char* election, const char* identity) {
  tenure_options* o = NULL;
  char url[128], err[256];
  snprintf(url, sizeof url, "file://%s", dir);
  tenure_options_new(&o, NULL, 0);
  tenure_options_set(o, "backend", url, err, sizeof err);
  tenure_options_set(o, "election", election, err, sizeof err);
  tenure_options_set(o, "identity", identity, err, sizeof err);
  tenure_options_set(o, "lease_duration_ms", "3000", err, sizeof err);
  tenure_options_set(o, "renew_deadline_ms", "2000", err, sizeof err);
  tenure_options_set(o, "retry_period_ms", "100", err, sizeof err);
  return o;
}

static void test_library_and_errors(void) {
  CHECK(strcmp(tenure_version(), TENURE_VERSION_STRING) == 0, "version %s", tenure_version());
  CHECK(tenure_version_num() == TENURE_VERSION_NUM, "version num");
  /* The load-time check a binding makes: the library is at least as new as the header. */
  CHECK(tenure_version_num() >= TENURE_VERSION_NUM, "library older than header");
  CHECK(TENURE_VERSION_NUM ==
            ((TENURE_VERSION_MAJOR << 16) | (TENURE_VERSION_MINOR << 8) | TENURE_VERSION_PATCH),
        "generated macros agree");
  CHECK(strcmp(tenure_err_name(TENURE_E_BAD_URL), "TENURE_E_BAD_URL") == 0, "err name");
  CHECK(strlen(tenure_strerror(TENURE_E_INVALID_TIMING)) > 0, "strerror");
  CHECK(strlen(tenure_strerror((tenure_err)999)) > 0, "strerror of an unknown code");

  tenure_options* o = NULL;
  char err[256] = {0};
  CHECK(tenure_options_new(&o, err, sizeof err) == TENURE_OK, "options_new");
  CHECK(tenure_options_set(o, "no_such_key", "1", err, sizeof err) == TENURE_E_UNKNOWN_OPTION,
        "unknown option");
  CHECK(strstr(err, "no_such_key") != NULL, "message names the key: %s", err);
  CHECK(tenure_options_set(o, "retry_period_ms", "fast", err, sizeof err) ==
            TENURE_E_INVALID_ARGUMENT,
        "non-numeric timing");
  CHECK(tenure_options_set(NULL, "a", "b", err, sizeof err) == TENURE_E_INVALID_ARGUMENT, "NULL");
  /* A tiny buffer is truncated, NUL-terminated. */
  char tiny[8];
  memset(tiny, 'x', sizeof tiny);
  tenure_options_set(o, "no_such_key", "1", tiny, sizeof tiny);
  CHECK(tiny[7] == '\0', "truncated message is terminated");

  tenure_elector* e = NULL;
  tenure_options_set(o, "election", "e1", err, sizeof err);
  tenure_options_set(o, "backend", "gopher://x", err, sizeof err);
  CHECK(tenure_elector_new(&e, o, err, sizeof err) == TENURE_E_UNSUPPORTED_BACKEND, "scheme");
  CHECK(e == NULL && strstr(err, "gopher") != NULL, "message: %s", err);
  tenure_options_set(o, "backend", "redis://u:hunter2@h:notaport", err, sizeof err);
  CHECK(tenure_elector_new(&e, o, err, sizeof err) == TENURE_E_BAD_URL, "malformed URL");
  CHECK(strstr(err, "hunter2") == NULL, "password leaked: %s", err);
  tenure_options_set(o, "backend", "memory://c", err, sizeof err);
  tenure_options_set(o, "lease_duration_ms", "100", err, sizeof err);
  CHECK(tenure_elector_new(&e, o, err, sizeof err) == TENURE_E_INVALID_TIMING, "timing");
  CHECK(strstr(err, "lease_duration") != NULL, "timing message: %s", err);
  tenure_options_set(o, "lease_duration_ms", "15000", err, sizeof err);
  tenure_options_set(o, "election", "bad name", err, sizeof err);
  CHECK(tenure_elector_new(&e, o, err, sizeof err) == TENURE_E_INVALID_NAME, "name");
  tenure_options_free(o);
}

static tenure_event* wait_event(tenure_elector* e, tenure_event_type type, int timeout_ms) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    tenure_event* ev = NULL;
    if (tenure_elector_poll_event(&ev, e, 50, NULL, 0) == TENURE_OK) {
      if (tenure_event_get_type(ev) == type) return ev;
      tenure_event_free(ev);
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > timeout_ms)
      return NULL;
  }
}

static int job_runs;
static int job(uint64_t token, char* detail, size_t len, void* opaque) {
  (void)opaque;
  ++job_runs;
  snprintf(detail, len, "token %llu", (unsigned long long)token);
  return 0;
}

/* A detail longer than the old 1 KiB limit, and one with no NUL at all. */
static int long_job(uint64_t token, char* detail, size_t len, void* opaque) {
  (void)token;
  (void)opaque;
  CHECK(len == TENURE_RUN_DETAIL_MAX, "detail_len %zu", len);
  memset(detail, 'x', 2000);
  return 0;
}
static int unterminated_job(uint64_t token, char* detail, size_t len, void* opaque) {
  (void)token;
  (void)opaque;
  memset(detail, 'y', len);
  return 0;
}

static void on_noop(tenure_elector* e, const tenure_event* ev, void* opaque) {
  (void)e;
  (void)ev;
  (void)opaque;
}

static void test_poll_mode_and_handover(void) {
  char err[256];
  tenure_options* oa = opts_for("poll", "alpha");
  tenure_options* ob = opts_for("poll", "beta");
  tenure_elector *a = NULL, *b = NULL;
  CHECK(tenure_elector_new(&a, oa, err, sizeof err) == TENURE_OK, "new a: %s", err);
  CHECK(tenure_elector_new(&b, ob, err, sizeof err) == TENURE_OK, "new b: %s", err);
  tenure_options_free(oa); /* the elector copied them */
  tenure_options_free(ob);
  CHECK(strcmp(tenure_elector_identity(a), "alpha") == 0, "identity");

  int fd = -1;
  CHECK(tenure_elector_event_fd(&fd, a, err, sizeof err) == TENURE_OK && fd >= 0, "event fd");
  CHECK(tenure_elector_start(a, err, sizeof err) == TENURE_OK, "start a: %s", err);
  struct pollfd pfd = {fd, POLLIN, 0};
  CHECK(poll(&pfd, 1, 5000) == 1, "event fd became readable");
  tenure_event* ev = wait_event(a, TENURE_EVENT_ELECTED, 5000);
  CHECK(ev != NULL, "a elected");
  uint64_t t1 = ev ? tenure_event_get_token(ev) : 0;
  CHECK(t1 > 0, "token");
  tenure_event_free(ev);
  CHECK(tenure_elector_is_leader(a) == 1, "is_leader");

  tenure_status* st = NULL;
  CHECK(tenure_elector_status(&st, a, err, sizeof err) == TENURE_OK, "status");
  CHECK(tenure_status_get_role(st) == TENURE_ROLE_LEADER, "role");
  CHECK(tenure_status_get_token(st) == t1, "status token");
  CHECK(strcmp(tenure_status_get_leader(st), "alpha") == 0, "status leader");
  CHECK(tenure_status_get_ms_since_renewal(st) >= 0, "renewal age");
  tenure_status_free(st);

  char* json = NULL;
  CHECK(tenure_elector_metrics_json(&json, a, err, sizeof err) == TENURE_OK, "metrics");
  CHECK(json && strstr(json, "\"acquisitions\":1") != NULL, "metrics json: %s", json ? json : "");
  tenure_free(json);

  int ran = -1;
  CHECK(tenure_elector_run_once(&ran, a, "nightly:1", TENURE_UNFINISHED_RETRY, job, NULL, err,
                                sizeof err) == TENURE_OK,
        "run_once: %s", err);
  CHECK(ran == 1 && job_runs == 1, "ran once");
  CHECK(tenure_elector_run_once(&ran, a, "nightly:1", TENURE_UNFINISHED_RETRY, job, NULL, err,
                                sizeof err) == TENURE_OK,
        "run_once again");
  CHECK(ran == 0 && job_runs == 1, "not twice");
  tenure_run* run = NULL;
  CHECK(tenure_elector_read_run(&run, b, "nightly:1", err, sizeof err) == TENURE_OK,
        "read_run (a follower may read): %s", err);
  CHECK(tenure_run_get_status(run) == TENURE_RUN_FINISHED, "finished: %s",
        tenure_run_status_name(tenure_run_get_status(run)));
  CHECK(tenure_run_get_token(run) == t1 && strcmp(tenure_run_get_holder(run), "alpha") == 0,
        "run's leader");
  CHECK(strncmp(tenure_run_get_detail(run), "token ", 6) == 0, "detail: %s",
        tenure_run_get_detail(run));
  CHECK(tenure_run_get_started_unix_ms(run) > 0 &&
            tenure_run_get_finished_unix_ms(run) >= tenure_run_get_started_unix_ms(run),
        "times");
  tenure_run_free(run);
  CHECK(tenure_elector_read_run(&run, a, "never-ran", err, sizeof err) == TENURE_OK &&
            tenure_run_get_status(run) == TENURE_RUN_NONE,
        "a key never run");
  tenure_run_free(run);
  CHECK(tenure_elector_read_run(&run, a, NULL, err, sizeof err) == TENURE_E_INVALID_ARGUMENT,
        "NULL key");
  CHECK(tenure_elector_run_once(&ran, a, "long", TENURE_UNFINISHED_RETRY, long_job, NULL, err,
                                sizeof err) == TENURE_OK &&
            ran == 1,
        "long detail: %s", err);
  CHECK(tenure_elector_read_run(&run, a, "long", err, sizeof err) == TENURE_OK &&
            strlen(tenure_run_get_detail(run)) == 2000,
        "the whole detail comes back");
  tenure_run_free(run);
  CHECK(tenure_elector_run_once(&ran, a, "unterminated", TENURE_UNFINISHED_RETRY, unterminated_job,
                                NULL, err, sizeof err) == TENURE_E_INVALID_ARGUMENT &&
            ran == 1,
        "unterminated detail refused");
  CHECK(strstr(err, "NUL") != NULL, "says why: %s", err);
  CHECK(tenure_elector_read_run(&run, a, "unterminated", err, sizeof err) == TENURE_OK &&
            tenure_run_get_status(run) == TENURE_RUN_FAILED,
        "recorded as failed");
  tenure_run_free(run);
  uint32_t caps = 0;
  CHECK(tenure_elector_capabilities(&caps, a, err, sizeof err) == TENURE_OK, "caps: %s", err);
  CHECK((caps & TENURE_CAP_LEDGER) && (caps & TENURE_CAP_SESSION_BOUND), "file caps: %u", caps);
  CHECK(tenure_elector_run_once(&ran, b, "nightly:2", TENURE_UNFINISHED_RETRY, job, NULL, err,
                                sizeof err) == TENURE_E_NOT_LEADER,
        "follower refused");

  CHECK(tenure_elector_start(b, err, sizeof err) == TENURE_OK, "start b");
  ev = wait_event(b, TENURE_EVENT_LEADER_CHANGED, 5000);
  CHECK(ev && strcmp(tenure_event_get_leader(ev), "alpha") == 0, "b sees alpha");
  tenure_event_free(ev);
  CHECK(tenure_elector_stop(a, err, sizeof err) == TENURE_OK, "stop a: %s", err);
  ev = wait_event(a, TENURE_EVENT_REVOKED, 1000);
  CHECK(ev && tenure_event_get_reason(ev) == TENURE_REVOKE_STOPPED, "a revoked(stopped)");
  CHECK(ev && strcmp(tenure_revoke_reason_name(tenure_event_get_reason(ev)), "stopped") == 0,
        "reason name");
  tenure_event_free(ev);
  ev = wait_event(b, TENURE_EVENT_ELECTED, 5000);
  CHECK(ev && tenure_event_get_token(ev) > t1, "b elected with a larger token");
  tenure_event_free(ev);
  CHECK(tenure_elector_run_once(&ran, b, "nightly:1", TENURE_UNFINISHED_RETRY, job, NULL, err,
                                sizeof err) == TENURE_OK &&
            ran == 0,
        "new leader does not re-run");
  CHECK(tenure_elector_destroy(a, NULL, 0) == TENURE_OK, "destroy a");
  CHECK(tenure_elector_destroy(b, NULL, 0) == TENURE_OK, "destroy b");
  CHECK(tenure_elector_destroy(NULL, NULL, 0) == TENURE_OK, "destroy NULL");
}

/* Every call that can fail says why, in the caller's buffer. */
static void test_every_call_reports(void) {
  char err[256];
#define FAILS_WITH(code, call, needle)                                                       \
  do {                                                                                       \
    err[0] = '\0';                                                                           \
    tenure_err rc_ = (call);                                                                 \
    CHECK(rc_ == (code), "%s returned %s", #call, tenure_err_name(rc_));                     \
    CHECK(strstr(err, (needle)) != NULL, "%s: message '%s' lacks '%s'", #call, err, needle); \
  } while (0)
  tenure_options* o = NULL;
  tenure_elector* e = NULL;
  tenure_event* ev = NULL;
  tenure_status* st = NULL;
  char* json = NULL;
  int fd = 0, ran = 0;
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_options_new(NULL, err, sizeof err), "out");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_new(&e, NULL, err, sizeof err), "opts");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT,
             tenure_elector_set_callback(NULL, on_noop, NULL, err, sizeof err), "elector");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_start(NULL, err, sizeof err), "elector");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_stop(NULL, err, sizeof err), "elector");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_resign(NULL, err, sizeof err), "elector");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_ack_revoked(NULL, err, sizeof err),
             "elector");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_poll_event(&ev, NULL, 0, err, sizeof err),
             "elector");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_event_fd(&fd, NULL, err, sizeof err),
             "elector");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_status(&st, NULL, err, sizeof err),
             "elector");
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_metrics_json(&json, NULL, err, sizeof err),
             "elector");
  FAILS_WITH(
      TENURE_E_INVALID_ARGUMENT,
      tenure_elector_run_once(&ran, NULL, "k", TENURE_UNFINISHED_RETRY, job, NULL, err, sizeof err),
      "elector");

  o = opts_for("errors", "delta");
  CHECK(tenure_elector_new(&e, o, err, sizeof err) == TENURE_OK, "new: %s", err);
  tenure_options_free(o);
  FAILS_WITH(TENURE_E_INVALID_ARGUMENT, tenure_elector_set_callback(e, NULL, NULL, err, sizeof err),
             "cb");
  FAILS_WITH(TENURE_E_NO_EVENT, tenure_elector_poll_event(&ev, e, 0, err, sizeof err), "no event");
  CHECK(tenure_elector_start(e, err, sizeof err) == TENURE_OK, "start: %s", err);
  FAILS_WITH(TENURE_E_BAD_STATE, tenure_elector_start(e, err, sizeof err), "already started");
  FAILS_WITH(TENURE_E_BAD_STATE, tenure_elector_set_callback(e, on_noop, NULL, err, sizeof err),
             "before start");
  CHECK(tenure_elector_resign(e, err, sizeof err) == TENURE_OK, "resign: %s", err);
  CHECK(tenure_elector_ack_revoked(e, err, sizeof err) == TENURE_OK, "ack: %s", err);
  CHECK(tenure_elector_destroy(e, err, sizeof err) == TENURE_OK, "destroy: %s", err);
#undef FAILS_WITH
}

struct cb_state {
  atomic_int elected, revoked, destroy_rc, stop_rc;
};

static void on_event(tenure_elector* e, const tenure_event* ev, void* opaque) {
  struct cb_state* s = opaque;
  if (tenure_event_get_type(ev) == TENURE_EVENT_ELECTED) {
    s->destroy_rc = tenure_elector_destroy(e, NULL, 0); /* refused: we are inside its callback */
    s->stop_rc = tenure_elector_stop(e, NULL, 0);
    s->elected = 1;
  } else if (tenure_event_get_type(ev) == TENURE_EVENT_REVOKED) {
    s->revoked = 1;
  }
}

static void test_callbacks(void) {
  char err[256];
  struct cb_state s = {0, 0, -1, -1};
  tenure_options* o = opts_for("callbacks", "gamma");
  tenure_elector* e = NULL;
  CHECK(tenure_elector_new(&e, o, err, sizeof err) == TENURE_OK, "new");
  tenure_options_free(o);
  CHECK(tenure_elector_set_callback(e, on_event, &s, err, sizeof err) == TENURE_OK, "set callback");
  CHECK(tenure_elector_start(e, err, sizeof err) == TENURE_OK, "start");
  struct timespec ten_ms = {0, 10 * 1000 * 1000};
  for (int i = 0; i < 500 && !s.revoked; ++i) nanosleep(&ten_ms, NULL);
  CHECK(s.elected == 1, "elected by callback");
  CHECK(s.destroy_rc == TENURE_E_IN_CALLBACK, "destroy inside callback refused: %d",
        (int)s.destroy_rc);
  CHECK(s.stop_rc == TENURE_OK, "stop inside callback: %d", (int)s.stop_rc);
  CHECK(s.revoked == 1, "revoked after stop from callback");
  tenure_event* ev = NULL;
  CHECK(tenure_elector_poll_event(&ev, e, 0, NULL, 0) == TENURE_E_BAD_STATE,
        "poll with a callback set");
  CHECK(tenure_elector_destroy(e, NULL, 0) == TENURE_OK, "destroy");
}

int main(void) {
  strcpy(dir, "/tmp/tenure-capi-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  test_library_and_errors();
  test_poll_mode_and_handover();
  test_callbacks();
  test_every_call_reports();
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
