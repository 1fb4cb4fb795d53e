/* A lost Redis connection and its reconnect reach the log callback (facility "redis", with the
 * endpoint). The connection runs through a relay in this test, which cuts it on demand, so no
 * other client of the shared server is disturbed. Needs TENURE_TEST_REDIS_URL's server. */
#define _GNU_SOURCE
#include "capi_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

enum { PAIRS = 16 };
static int listen_fd, redis_port, relay_port;
static int pairs[PAIRS][2]; /* client side, server side; -1 when free */
static atomic_int cut, stop_relay;

static int connect_redis(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)redis_port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void close_pair(int i) {
  close(pairs[i][0]);
  close(pairs[i][1]);
  pairs[i][0] = pairs[i][1] = -1;
}

static void* relay(void* arg) {
  (void)arg;
  while (!stop_relay) {
    if (cut) {
      for (int i = 0; i < PAIRS; ++i)
        if (pairs[i][0] >= 0) close_pair(i);
      cut = 0;
    }
    struct pollfd fds[1 + 2 * PAIRS];
    int n = 0;
    fds[n++] = (struct pollfd){listen_fd, POLLIN, 0};
    for (int i = 0; i < PAIRS; ++i) {
      fds[n++] = (struct pollfd){pairs[i][0], POLLIN, 0}; /* -1 entries are ignored by poll */
      fds[n++] = (struct pollfd){pairs[i][1], POLLIN, 0};
    }
    if (poll(fds, (nfds_t)n, 50) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
      int s = c >= 0 ? connect_redis() : -1;
      int placed = 0;
      for (int i = 0; i < PAIRS && c >= 0 && s >= 0 && !placed; ++i)
        if (pairs[i][0] < 0) {
          pairs[i][0] = c;
          pairs[i][1] = s;
          placed = 1;
        }
      if (!placed) {
        if (c >= 0) close(c);
        if (s >= 0) close(s);
      }
    }
    for (int i = 0; i < PAIRS; ++i)
      for (int side = 0; side < 2; ++side) {
        if (pairs[i][0] < 0 || !fds[1 + 2 * i + side].revents) continue;
        char buf[16384];
        ssize_t k = read(pairs[i][side], buf, sizeof buf);
        if (k <= 0 || write(pairs[i][1 - side], buf, (size_t)k) != k) close_pair(i);
      }
  }
  for (int i = 0; i < PAIRS; ++i)
    if (pairs[i][0] >= 0) close_pair(i);
  return NULL;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int lost, reconnected;
static char endpoint[64];

static void on_log(const tenure_log_record* r, void* opaque) {
  (void)opaque;
  if (strcmp(tenure_log_record_get_facility(r), "redis") != 0) return;
  const char* m = tenure_log_record_get_message(r);
  pthread_mutex_lock(&mu);
  if (strstr(m, "reconnected to ") && strstr(m, endpoint))
    ++reconnected;
  else if (strstr(m, endpoint) && tenure_log_record_get_level(r) == TENURE_LOG_WARN)
    ++lost;
  pthread_mutex_unlock(&mu);
}

int main(void) {
  const char* port = getenv("TENURE_TEST_REDIS_PORT");
  if (!port) {
    if (getenv("CI")) {
      fprintf(stderr, "TENURE_TEST_REDIS_PORT is not set: start tests/servers/redis.sh\n");
      return 1;
    }
    printf("skipped: no Redis (source STATEDIR/redis.env from tests/servers/redis.sh)\n");
    return 0;
  }
  redis_port = atoi(port);
  for (int i = 0; i < PAIRS; ++i) pairs[i][0] = pairs[i][1] = -1;
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(listen_fd, (struct sockaddr*)&a, sizeof a) != 0 || listen(listen_fd, 16) != 0) return 1;
  getsockname(listen_fd, (struct sockaddr*)&a, &len);
  relay_port = ntohs(a.sin_port);
  pthread_t t;
  pthread_create(&t, NULL, relay, NULL);

  char err[256], url[64], election[64];
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", relay_port);
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", relay_port);
  snprintf(election, sizeof election, "reconnect-log-%d", (int)getpid());
  CHECK(tenure_log_set_callback(TENURE_LOG_INFO, on_log, NULL, err, sizeof err) == TENURE_OK,
        "log callback: %s", err);
  tenure_elector* e = make_elector(url, election, "r1");
  CHECK(e && tenure_elector_start(e, err, sizeof err) == TENURE_OK, "start: %s", err);
  long long until = now_ms() + 10000;
  while (now_ms() < until && !tenure_elector_is_leader(e)) sleep_ms(10);
  CHECK(tenure_elector_is_leader(e), "elected through the relay");

  cut = 1; /* drop every connection; tenure reconnects through the relay */
  until = now_ms() + 10000;
  int done = 0;
  while (!done && now_ms() < until) {
    sleep_ms(20);
    pthread_mutex_lock(&mu);
    done = reconnected > 0;
    pthread_mutex_unlock(&mu);
  }
  pthread_mutex_lock(&mu);
  CHECK(lost > 0, "the loss was logged as a warning naming %s", endpoint);
  CHECK(reconnected > 0, "the reconnect was logged naming %s", endpoint);
  pthread_mutex_unlock(&mu);

  tenure_elector_destroy(e, NULL, 0);
  tenure_log_set_callback(TENURE_LOG_OFF, NULL, NULL, NULL, 0);
  stop_relay = 1;
  pthread_join(t, NULL);
  close(listen_fd);
  return report();
}
