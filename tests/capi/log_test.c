/* Logging through the C ABI: the queue and its descriptor, the callback (with election and
 * identity), replacing it, secrets never logged, and TENURE_LOG on stderr only when asked. */
#include "capi_check.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

struct seen {
  pthread_mutex_t mu;
  int records, elected, stepped_down, secrets, in_cb_rc;
};

static int has_secret(const char* msg) { return strstr(msg, "hunter2") != NULL; }

static void on_log(const tenure_log_record* r, void* opaque) {
  struct seen* s = opaque;
  const char* msg = tenure_log_record_get_message(r);
  pthread_mutex_lock(&s->mu);
  ++s->records;
  if (strstr(msg, "elected with fencing token") &&
      strcmp(tenure_log_record_get_election(r), "logcb") == 0 &&
      strcmp(tenure_log_record_get_identity(r), "c1") == 0 &&
      strcmp(tenure_log_record_get_facility(r), "core") == 0)
    ++s->elected;
  if (strstr(msg, "stepped down (stopped)")) ++s->stepped_down;
  if (has_secret(msg)) ++s->secrets;
  s->in_cb_rc = tenure_log_set_callback(TENURE_LOG_OFF, NULL, NULL, NULL, 0);
  pthread_mutex_unlock(&s->mu);
}

static void test_queue(void) {
  char err[256];
  tenure_log_record* r = NULL;
  CHECK(tenure_log_poll(&r, 0, err, sizeof err) == TENURE_E_BAD_STATE, "queue off: %s", err);
  CHECK(strstr(err, "tenure_log_set_queue") != NULL, "message says what to do: %s", err);
  CHECK(tenure_log_set_queue(TENURE_LOG_DEBUG, err, sizeof err) == TENURE_OK, "queue on");
  int fd = -1;
  CHECK(tenure_log_fd(&fd, err, sizeof err) == TENURE_OK && fd >= 0, "log fd: %s", err);

  tenure_elector* e = make_elector("memory://logq", "logq", "q1");
  CHECK(e && tenure_elector_start(e, err, sizeof err) == TENURE_OK, "start: %s", err);
  int found = 0;
  long long until = now_ms() + 5000;
  while (!found && now_ms() < until) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 100) != 1) continue;
    /* Drain until TENURE_E_NO_EVENT: the descriptor is reset only when the queue empties. */
    while (tenure_log_poll(&r, 0, err, sizeof err) == TENURE_OK) {
      if (strstr(tenure_log_record_get_message(r), "elected with fencing token") &&
          strcmp(tenure_log_record_get_election(r), "logq") == 0 &&
          strcmp(tenure_log_record_get_identity(r), "q1") == 0 &&
          tenure_log_record_get_level(r) == TENURE_LOG_INFO && tenure_log_record_get_unix_ms(r) > 0)
        found = 1;
      tenure_log_record_free(r);
    }
  }
  CHECK(found, "the queue carried 'elected' with election and identity");
  struct pollfd p = {fd, POLLIN, 0};
  CHECK(poll(&p, 1, 0) == 0, "drained: the descriptor is no longer readable");
  tenure_elector_destroy(e, NULL, 0);
  CHECK(tenure_log_set_queue(TENURE_LOG_OFF, err, sizeof err) == TENURE_OK, "queue off");
  CHECK(tenure_log_dropped() == 0, "nothing dropped");
}

static void test_callback(void) {
  char err[256];
  struct seen s;
  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.mu, NULL);
  s.in_cb_rc = -1;
  CHECK(tenure_log_set_callback((tenure_log_level)9, on_log, &s, err, sizeof err) ==
            TENURE_E_INVALID_ARGUMENT,
        "bad level");
  CHECK(strstr(err, "TENURE_LOG_DEBUG") != NULL, "message lists the levels: %s", err);
  CHECK(tenure_log_set_callback(TENURE_LOG_DEBUG, on_log, &s, err, sizeof err) == TENURE_OK,
        "set callback: %s", err);

  tenure_elector* e = make_elector("memory://logcb", "logcb", "c1");
  CHECK(e && tenure_elector_start(e, err, sizeof err) == TENURE_OK, "start");
  long long until = now_ms() + 5000;
  while (now_ms() < until && !tenure_elector_is_leader(e)) sleep_ms(10);
  CHECK(tenure_elector_stop(e, err, sizeof err) == TENURE_OK, "stop: %s", err);
  tenure_elector_destroy(e, NULL, 0);

  /* A password in the URL never reaches a record, even when connecting fails (port 1 refuses).
   * Skipped in builds without the Redis backend. */
  tenure_elector* r = make_elector("redis://user:hunter2@127.0.0.1:1", "logsecret", "s1");
  if (r) {
    tenure_elector_start(r, NULL, 0);
    sleep_ms(300);
    tenure_elector_destroy(r, NULL, 0);
  }

  CHECK(tenure_log_set_callback(TENURE_LOG_OFF, NULL, NULL, err, sizeof err) == TENURE_OK,
        "remove callback");
  pthread_mutex_lock(&s.mu);
  int records = s.records;
  CHECK(s.elected == 1, "'elected' with election, identity and facility: %d", s.elected);
  CHECK(s.stepped_down == 1, "step-down with its reason: %d", s.stepped_down);
  CHECK(s.secrets == 0, "a password was logged");
  CHECK(s.in_cb_rc == TENURE_E_IN_CALLBACK, "replacing from inside the callback refused: %d",
        s.in_cb_rc);
  pthread_mutex_unlock(&s.mu);
  CHECK(records >= 3, "records: %d", records); /* running, elected, stepped down */

  /* After removal the callback is never called again. */
  e = make_elector("memory://logcb", "logcb2", "c2");
  tenure_elector_start(e, NULL, 0);
  sleep_ms(100);
  tenure_elector_destroy(e, NULL, 0);
  pthread_mutex_lock(&s.mu);
  CHECK(s.records == records, "called after removal");
  pthread_mutex_unlock(&s.mu);
}

/* Runs this program as a child with TENURE_LOG set (or not) and returns what it wrote on stderr. */
static void child_stderr(const char* self, const char* level, char* buf, size_t len) {
  int p[2];
  buf[0] = '\0';
  if (pipe(p) != 0) return;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 2);
    close(p[0]);
    if (level)
      setenv("TENURE_LOG", level, 1);
    else
      unsetenv("TENURE_LOG");
    execl(self, self, "--child-elect", (char*)NULL);
    _exit(127);
  }
  close(p[1]);
  size_t n = 0;
  ssize_t k;
  while (n + 1 < len && (k = read(p[0], buf + n, len - 1 - n)) > 0) n += (size_t)k;
  buf[n] = '\0';
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
}

static int child_elect(void) {
  tenure_elector* e = make_elector("memory://child", "childlog", "k1");
  tenure_elector_start(e, NULL, 0);
  long long until = now_ms() + 5000;
  while (now_ms() < until && !tenure_elector_is_leader(e)) sleep_ms(10);
  tenure_elector_destroy(e, NULL, 0);
  return 0;
}

static void test_stderr(const char* self) {
  char out[8192];
  child_stderr(self, NULL, out, sizeof out);
  CHECK(out[0] == '\0', "without TENURE_LOG nothing is printed: '%s'", out);
  child_stderr(self, "info", out, sizeof out);
  CHECK(strstr(out, "tenure: info [core childlog/k1] elected with fencing token") != NULL,
        "TENURE_LOG=info prints: '%s'", out);
  CHECK(strstr(out, "debug") == NULL, "no debug at info: '%s'", out);
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--child-elect") == 0) return child_elect();
  test_stderr(argv[0]);
  test_queue();
  test_callback();
  return report();
}
