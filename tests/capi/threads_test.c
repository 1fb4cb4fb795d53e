/* Thread hooks: called once on start and once on exit of every thread tenure creates, on that
 * thread, with its name; refused while tenure's threads run; callbacks arrive on tenure-events. */
#define _GNU_SOURCE
#include "capi_check.h"

#include <pthread.h>
#include <stdatomic.h>

enum { MAX = 64 };
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char name[16];
  pthread_t thread;
  int started, exited, name_ok;
} threads[MAX];
static int nthreads;
static char callback_thread[16];

static void on_start(const char* name, void* opaque) {
  CHECK(opaque == &mu, "opaque passed back");
  char os_name[16] = {0};
  pthread_getname_np(pthread_self(), os_name, sizeof os_name);
  pthread_mutex_lock(&mu);
  if (nthreads < MAX) {
    snprintf(threads[nthreads].name, sizeof threads[nthreads].name, "%s", name);
    threads[nthreads].thread = pthread_self();
    threads[nthreads].started = 1;
    threads[nthreads].name_ok = strcmp(os_name, name) == 0;
    ++nthreads;
  }
  pthread_mutex_unlock(&mu);
}

static void on_exit_hook(const char* name, void* opaque) {
  (void)opaque;
  pthread_mutex_lock(&mu);
  for (int i = 0; i < nthreads; ++i)
    if (pthread_equal(threads[i].thread, pthread_self()) && strcmp(threads[i].name, name) == 0)
      ++threads[i].exited;
  pthread_mutex_unlock(&mu);
}

static atomic_int elected;
static void on_event(tenure_elector* e, const tenure_event* ev, void* opaque) {
  (void)e;
  (void)opaque;
  if (tenure_event_get_type(ev) == TENURE_EVENT_ELECTED) {
    pthread_getname_np(pthread_self(), callback_thread, sizeof callback_thread);
    elected = 1;
  }
}

static int count(const char* name, int exited_too) {
  int n = 0;
  pthread_mutex_lock(&mu);
  for (int i = 0; i < nthreads; ++i)
    if (strcmp(threads[i].name, name) == 0 && threads[i].started && threads[i].name_ok &&
        (!exited_too || threads[i].exited == 1))
      ++n;
  pthread_mutex_unlock(&mu);
  return n;
}

int main(void) {
  char err[256];
  CHECK(tenure_threads_set_hooks(on_start, on_exit_hook, &mu, err, sizeof err) == TENURE_OK,
        "set hooks: %s", err);
  tenure_elector* e = make_elector("memory://threads", "threads", "t1");
  CHECK(e != NULL, "elector");
  CHECK(tenure_threads_set_hooks(NULL, NULL, NULL, err, sizeof err) == TENURE_E_BAD_STATE,
        "refused while running");
  CHECK(strstr(err, "before the first elector") != NULL, "says when: %s", err);
  tenure_elector_set_callback(e, on_event, NULL, err, sizeof err);
  tenure_elector_start(e, err, sizeof err);
  long long until = now_ms() + 5000;
  while (!elected && now_ms() < until) sleep_ms(10);
  CHECK(elected, "elected");
  CHECK(strcmp(callback_thread, "tenure-events") == 0, "callback on tenure-events: '%s'",
        callback_thread);
  CHECK(count("tenure-io", 0) == 1 && count("tenure-events", 0) == 1, "one start each");
  /* Destroying the last elector tears the runtime down and joins its threads. */
  CHECK(tenure_elector_destroy(e, err, sizeof err) == TENURE_OK, "destroy");
  /* Normally joined inside destroy; if a runtime thread dropped the last reference, a reaper
   * thread joins them a moment later. */
  long long until1 = now_ms() + 5000;
  while (now_ms() < until1 && (count("tenure-io", 1) < 1 || count("tenure-events", 1) < 1))
    sleep_ms(5);
  CHECK(count("tenure-io", 1) == 1 && count("tenure-events", 1) == 1, "one exit each, same thread");

  /* A second runtime (after the first was torn down) calls the hooks again, then shutdown. */
  e = make_elector("memory://threads", "threads", "t2");
  tenure_elector_start(e, NULL, 0);
  long long until2 = now_ms() + 5000; /* on_start runs on the new thread, soon after */
  while (now_ms() < until2 && count("tenure-io", 0) < 2) sleep_ms(5);
  CHECK(count("tenure-io", 0) == 2, "second runtime's io thread hooked");
  CHECK(tenure_shutdown(5000, err, sizeof err) == TENURE_OK, "shutdown: %s", err);
  CHECK(count("tenure-io", 1) == 2 && count("tenure-events", 1) == 2, "joined by shutdown");
  CHECK(tenure_threads_set_hooks(NULL, NULL, NULL, err, sizeof err) == TENURE_OK,
        "allowed after shutdown: %s", err);
  tenure_elector_destroy(e, NULL, 0);
  pthread_mutex_lock(&mu);
  for (int i = 0; i < nthreads; ++i)
    CHECK(threads[i].exited == 1, "thread %s exited %d times", threads[i].name, threads[i].exited);
  pthread_mutex_unlock(&mu);
  return report();
}
