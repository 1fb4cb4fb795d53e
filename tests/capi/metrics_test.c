/* Metrics through the C ABI: per-elector JSON with transitions, process JSON, and the Prometheus
 * exposition with elector labels, a histogram, and event delivery figures. */
#define _GNU_SOURCE
#include "capi_check.h"

#include <stdatomic.h>

static atomic_int delivered;
static void on_event(tenure_elector* e, const tenure_event* ev, void* opaque) {
  (void)e;
  (void)ev;
  (void)opaque;
  ++delivered;
}

int main(void) {
  char err[256];
  tenure_elector* a = make_elector("memory://metrics", "m1", "a");
  tenure_elector* b = make_elector("memory://metrics", "m1", "b");
  tenure_elector_set_callback(a, on_event, NULL, err, sizeof err);
  tenure_elector_start(a, err, sizeof err);
  long long until = now_ms() + 5000;
  while (now_ms() < until && !tenure_elector_is_leader(a)) sleep_ms(5);
  tenure_elector_start(b, err, sizeof err);
  sleep_ms(400); /* a few renewals at retry_period 100 ms */

  tenure_status* st = NULL;
  CHECK(tenure_elector_status(&st, b, err, sizeof err) == TENURE_OK, "status");
  CHECK(tenure_status_get_transitions(st) >= 1, "transitions %llu",
        (unsigned long long)tenure_status_get_transitions(st));
  CHECK(tenure_status_get_ms_since_backend_contact(st) >= 0 &&
            tenure_status_get_ms_since_backend_contact(st) < 2000,
        "backend contact %lld", (long long)tenure_status_get_ms_since_backend_contact(st));
  tenure_status_free(st);

  char* json = NULL;
  CHECK(tenure_elector_metrics_json(&json, a, err, sizeof err) == TENURE_OK, "elector json");
  CHECK(json && strstr(json, "\"transitions\":") && strstr(json, "\"renew_latency_sum_us\":"),
        "elector json: %s", json ? json : "");
  tenure_free(json);

  CHECK(tenure_metrics_json(&json, err, sizeof err) == TENURE_OK, "process json: %s", err);
  CHECK(json && strstr(json, "\"electors\":2") && strstr(json, "\"events_delivered\":"),
        "process json: %s", json ? json : "");
  tenure_free(json);

  char* text = NULL;
  CHECK(tenure_metrics_prometheus(&text, err, sizeof err) == TENURE_OK, "prometheus: %s", err);
  const char* want[] = {
      "# TYPE tenure_electors gauge\ntenure_electors 2\n",
      "tenure_elector_leader{election=\"m1\",identity=\"a\"} 1\n",
      "tenure_elector_leader{election=\"m1\",identity=\"b\"} 0\n",
      "# TYPE tenure_elector_renew_latency_seconds histogram\n",
      "tenure_elector_renew_latency_seconds_bucket{election=\"m1\",identity=\"a\",le=\"+Inf\"}",
      "tenure_elector_renew_latency_seconds_sum{election=\"m1\",identity=\"a\"}",
      "tenure_elector_step_downs_total{election=\"m1\",identity=\"a\",reason=\"lost\"} 0\n",
      "# TYPE tenure_event_lag_seconds gauge\n",
      "# TYPE tenure_events_queued gauge\n",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; ++i)
    CHECK(text && strstr(text, want[i]) != NULL, "exposition lacks: %s", want[i]);
  CHECK(delivered > 0, "callbacks ran");
  if (failed && text) fprintf(stderr, "%s", text);
  tenure_free(text);
  CHECK(tenure_metrics_prometheus(NULL, err, sizeof err) == TENURE_E_INVALID_ARGUMENT, "NULL out");

  tenure_elector_destroy(a, NULL, 0);
  tenure_elector_destroy(b, NULL, 0);
  return report();
}
