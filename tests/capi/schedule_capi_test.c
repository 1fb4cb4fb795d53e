/* The schedule part of the C ABI from plain C11: pure helpers, bad input, and a schedule that
 * fires every second on a file-backend leader and shows up in the ledger listing. */
#include "capi_check.h" /* CHECK, passed/failed, sleep_ms */

#include <unistd.h>

static void test_helpers(void) {
  char err[512] = {0};
  int64_t next = 0;
  /* 2026-01-10T00:00:00Z = 1768003200; 02:00 in Berlin (CET) is 01:00Z. */
  CHECK(tenure_schedule_next_fire(&next, "0 2 * * *", "Europe/Berlin", 1768003200, err,
                                  sizeof err) == TENURE_OK,
        "next_fire: %s", err);
  CHECK(next == 1768003200 + 3600, "next fire %lld", (long long)next);
  CHECK(tenure_schedule_next_fire(&next, "0 25 * * *", NULL, 0, err, sizeof err) ==
            TENURE_E_INVALID_ARGUMENT,
        "bad hour");
  CHECK(strstr(err, "hour field '25'") && strstr(err, "0-23"), "names field and range: %s", err);
  CHECK(tenure_schedule_next_fire(&next, "@daily", "Nowhere/City", 0, err, sizeof err) ==
            TENURE_E_INVALID_ARGUMENT,
        "bad zone");
  CHECK(strstr(err, "unknown time zone 'Nowhere/City'") != NULL, "names the zone: %s", err);
  char* key = NULL;
  CHECK(tenure_fire_key(&key, "nightly", 1768006800, err, sizeof err) == TENURE_OK, "fire_key");
  CHECK(key && strcmp(key, "nightly@2026-01-10T01:00:00Z") == 0, "key %s", key ? key : "(null)");
  tenure_free(key);
  CHECK(tenure_fire_key(&key, "bad job", 0, err, sizeof err) == TENURE_E_INVALID_ARGUMENT,
        "bad job name");
}

static atomic_int runs;
static atomic_llong last_fire;
static atomic_int log_lines;
static void on_log(const char* line, void* opaque) {
  (void)line;
  (void)opaque;
  atomic_fetch_add(&log_lines, 1);
}
static int job(const char* name, int64_t fire, const char* key, uint64_t token, char* detail,
               size_t len, void* opaque) {
  (void)opaque;
  (void)name;
  snprintf(detail, len, "ran %s under %llu", key, (unsigned long long)token);
  atomic_store(&last_fire, fire);
  atomic_fetch_add(&runs, 1);
  return 0;
}

static void test_schedule_runs(const char* dir) {
  char url[128], err[512] = {0};
  snprintf(url, sizeof url, "file://%s", dir);
  tenure_options* o = NULL;
  tenure_options_new(&o, err, sizeof err);
  tenure_options_set(o, "backend", url, err, sizeof err);
  tenure_options_set(o, "election", "sched", err, sizeof err);
  tenure_options_set(o, "identity", "c1", err, sizeof err);
  tenure_elector* e = NULL;
  CHECK(tenure_elector_new(&e, o, err, sizeof err) == TENURE_OK, "elector: %s", err);
  tenure_options_free(o);
  CHECK(tenure_elector_start(e, err, sizeof err) == TENURE_OK, "start: %s", err);
  for (int i = 0; i < 500 && !tenure_elector_is_leader(e); ++i) sleep_ms(10);
  CHECK(tenure_elector_is_leader(e), "leads");

  tenure_schedule* s = NULL;
  CHECK(tenure_schedule_new(&s, e, "tick", "* * * * * *", NULL, err, sizeof err) == TENURE_OK,
        "schedule_new: %s", err);
  CHECK(
      tenure_schedule_set(s, "catch_up", "sometimes", err, sizeof err) == TENURE_E_INVALID_ARGUMENT,
      "bad catch_up");
  CHECK(tenure_schedule_set(s, "colour", "red", err, sizeof err) == TENURE_E_UNKNOWN_OPTION,
        "unknown key");
  CHECK(tenure_schedule_set(s, "catch_up", "latest", err, sizeof err) == TENURE_OK, "%s", err);
  CHECK(tenure_schedule_set(s, "on_unfinished", "skip", err, sizeof err) == TENURE_OK, "%s", err);
  CHECK(tenure_schedule_set_log(s, on_log, NULL, err, sizeof err) == TENURE_OK, "%s", err);
  CHECK(tenure_schedule_start(s, job, NULL, err, sizeof err) == TENURE_OK, "start: %s", err);
  CHECK(tenure_schedule_set_log(s, on_log, NULL, err, sizeof err) == TENURE_E_BAD_STATE &&
            strstr(err, "before tenure_schedule_start") != NULL,
        "set_log after start: %s", err);
  CHECK(tenure_schedule_wake(s, err, sizeof err) == TENURE_OK, "wake: %s", err);
  CHECK(tenure_schedule_wake(NULL, err, sizeof err) == TENURE_E_INVALID_ARGUMENT &&
            strstr(err, "schedule is NULL") != NULL,
        "wake(NULL): %s", err);
  for (int i = 0; i < 500 && atomic_load(&runs) < 2; ++i) sleep_ms(10);
  CHECK(atomic_load(&runs) >= 2, "runs %d", atomic_load(&runs));
  CHECK(atomic_load(&log_lines) >= 1, "the schedule logged its runs");
  tenure_schedule_destroy(s);

  char* json = NULL;
  CHECK(tenure_elector_list_runs_json(&json, e, "tick@", 100, err, sizeof err) == TENURE_OK,
        "list: %s", err);
  char* want = NULL;
  tenure_fire_key(&want, "tick", (int64_t)atomic_load(&last_fire), err, sizeof err);
  CHECK(json && want && strstr(json, want) != NULL, "listing has %s: %s", want,
        json ? json : "(null)");
  CHECK(json && strstr(json, "\"status\":\"finished\"") != NULL, "finished: %s", json);
  tenure_free(json);
  tenure_free(want);
  CHECK(tenure_elector_list_runs_json(&json, e, "bad prefix", 10, err, sizeof err) ==
            TENURE_E_INVALID_ARGUMENT,
        "bad prefix");
  tenure_elector_destroy(e, err, sizeof err);
}

int main(void) {
  char dir[] = "/tmp/tenure-sched-capi-XXXXXX";
  if (!mkdtemp(dir)) return 1;
  test_helpers();
  test_schedule_runs(dir);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
