/*
 * tenure.h — the stable C ABI of tenure, leader election as a library.
 *
 * Conventions
 *  - Every object is an opaque handle. Options are key/value strings, so new options never change
 *    the ABI. The backend is chosen by URL (file:///dir, memory://ns, redis://, rediss://,
 *    postgres://, postgresql://; see tenure_elector_new).
 *  - Functions that can fail return a tenure_err (TENURE_OK == 0). Where they take
 *    `char *errbuf, size_t errlen`, a human message saying what is wrong and how to fix it is
 *    written there (NUL-terminated, truncated to errlen); pass NULL/0 to skip it. No state is kept
 *    per thread: the message travels only through that buffer or an event object.
 *  - Output parameters come first and are named `out`. Whatever the library allocates, the
 *    library frees, through the matching *_free function.
 *  - No C++ exception ever crosses this boundary. All functions are thread-safe unless noted.
 *
 * Threads and callbacks
 *  - Each elector delivers its events in order. With a callback set, they run on tenure's event
 *    thread (one per process, never the I/O thread that renews leases), never while tenure holds
 *    a lock. A slow callback delays later events of every elector, never a renewal.
 *  - Inside a callback you may query any elector, and stop or resign your own. Destroying your
 *    own elector from its callback is refused with TENURE_E_IN_CALLBACK.
 *  - Without a callback, events queue: read them with tenure_elector_poll_event, and watch
 *    tenure_elector_event_fd, which is readable while events wait (for epoll/select loops and for
 *    hosts such as Go that must not be called from foreign threads).
 */
#ifndef TENURE_H
#define TENURE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TENURE_BUILDING)
#define TENURE_API __attribute__((visibility("default")))
#else
#define TENURE_API
#endif

#define TENURE_VERSION_MAJOR 0
#define TENURE_VERSION_MINOR 1
#define TENURE_VERSION_PATCH 0
#define TENURE_VERSION_STRING "0.1.0"
/* (major << 16) | (minor << 8) | patch, as returned by tenure_version_num(). */
#define TENURE_VERSION_NUM \
  ((TENURE_VERSION_MAJOR << 16) | (TENURE_VERSION_MINOR << 8) | TENURE_VERSION_PATCH)

typedef struct tenure_options tenure_options;
typedef struct tenure_elector tenure_elector;
typedef struct tenure_event tenure_event;
typedef struct tenure_status tenure_status;

/* Error codes. Values are stable; new codes are only appended. */
typedef enum tenure_err {
  TENURE_OK = 0,
  TENURE_E_INVALID_ARGUMENT = 1,    /* a NULL or malformed argument */
  TENURE_E_UNKNOWN_OPTION = 2,      /* tenure_options_set: key not known */
  TENURE_E_BAD_URL = 3,             /* the backend URL cannot be parsed or used */
  TENURE_E_UNSUPPORTED_BACKEND = 4, /* URL scheme not built into this library */
  TENURE_E_INVALID_TIMING = 5,      /* need lease_duration > renew_deadline > retry_period > 0 */
  TENURE_E_INVALID_NAME = 6,        /* election name or identity empty or illegal */
  TENURE_E_IDENTITY_IN_USE = 7,     /* another elector runs with this identity in this election */
  TENURE_E_PERMISSION_DENIED = 8,   /* the backend refused for lack of a grant */
  TENURE_E_UNREACHABLE = 9,         /* the backend cannot be reached */
  TENURE_E_AUTH_FAILED = 10,        /* wrong credentials */
  TENURE_E_BACKEND = 11,            /* the backend answered with an error */
  TENURE_E_TIMEOUT = 12,            /* an operation did not finish in time */
  TENURE_E_BAD_STATE = 13,          /* not valid in the elector's current state */
  TENURE_E_IN_CALLBACK = 14,        /* refused inside the elector's own callback */
  TENURE_E_NOT_LEADER = 15,         /* a leader-only call on an elector that does not lead */
  TENURE_E_FENCED = 16,             /* a newer fencing token exists */
  TENURE_E_LOST = 17,               /* the lease is held by someone else */
  TENURE_E_NO_EVENT = 18,           /* poll: no event within the timeout */
  TENURE_E_INTERNAL = 19            /* a bug in tenure */
} tenure_err;

typedef enum tenure_event_type {
  TENURE_EVENT_ELECTED = 1,        /* we lead; token is our fencing token */
  TENURE_EVENT_REVOKED = 2,        /* we no longer lead; see reason. Stop leader-only work now */
  TENURE_EVENT_LEADER_CHANGED = 3, /* the known leader changed; leader "" when none */
  TENURE_EVENT_ERROR = 4           /* trouble that is not (yet) a loss of leadership */
} tenure_event_type;

typedef enum tenure_revoke_reason {
  TENURE_REVOKE_NONE = 0,
  TENURE_REVOKE_RELEASED = 1, /* tenure_elector_resign */
  TENURE_REVOKE_LOST = 2,     /* the backend says another holds the lease */
  TENURE_REVOKE_RENEW_DEADLINE =
      3,                           /* no renewal within renew_deadline, or the process was paused */
  TENURE_REVOKE_BACKEND_ERROR = 4, /* a backend failure ended the leadership */
  TENURE_REVOKE_STOPPED = 5        /* tenure_elector_stop/destroy while leading */
} tenure_revoke_reason;

typedef enum tenure_role {
  TENURE_ROLE_STOPPED = 0,
  TENURE_ROLE_CANDIDATE = 1,
  TENURE_ROLE_LEADER = 2,
  TENURE_ROLE_OBSERVER = 3
} tenure_role;

typedef enum tenure_unfinished_policy {
  TENURE_UNFINISHED_RETRY = 0, /* run again a job an older leader started but never finished */
  TENURE_UNFINISHED_SKIP = 1   /* leave it; the caller sees the old record */
} tenure_unfinished_policy;

/* ---- library ---- */

/* "0.1.0"; static storage. */
TENURE_API const char* tenure_version(void);
TENURE_API int tenure_version_num(void);
/* One-line description of err; static storage, never NULL. */
TENURE_API const char* tenure_strerror(tenure_err err);
/* "TENURE_E_BAD_URL" for TENURE_E_BAD_URL; static storage, never NULL. */
TENURE_API const char* tenure_err_name(tenure_err err);
/* Frees memory tenure returned through a `char **out` (e.g. tenure_elector_metrics_json). */
TENURE_API void tenure_free(void* p);

/* ---- options ---- */

/* *out is owned by the caller: free it with tenure_options_free. */
TENURE_API tenure_err tenure_options_new(tenure_options** out);
/*
 * Keys:
 *   backend            backend URL (required), e.g. file:///var/lib/tenure
 *   election           election name (required): [A-Za-z0-9._-], 1..128 chars
 *   identity           this candidate's identity; default host-pid-random
 *   lease_duration_ms  default 15000
 *   renew_deadline_ms  default 10000
 *   retry_period_ms    default 2000
 *   observe_only       "true": watch the election without running for it
 *   stop_timeout_ms    bound on stop/destroy waiting for a release; default 5000
 *   backend.<key>      passed to the backend (see the backend's documentation)
 * Returns TENURE_E_UNKNOWN_OPTION or TENURE_E_INVALID_ARGUMENT with a message in errbuf.
 * key and value are copied.
 */
TENURE_API tenure_err tenure_options_set(tenure_options* opts, const char* key, const char* value,
                                         char* errbuf, size_t errlen);
TENURE_API void tenure_options_free(tenure_options* opts);

/* ---- elector ---- */

/*
 * Validates opts (names, timing, URL) and selects the backend; waits for no network I/O. It
 * connects to nothing yet, except postgres://, which starts its process-wide shared connection
 * in the background (creation never fails because of it; see docs/postgres.md). TLS files named
 * by options (tls_ca, sslrootcert, ...) must be regular files: a FIFO is refused, not opened.
 * opts is copied and may be freed afterwards. *out is owned by the caller: tenure_elector_destroy.
 */
TENURE_API tenure_err tenure_elector_new(tenure_elector** out, const tenure_options* opts,
                                         char* errbuf, size_t errlen);

/* Called on tenure's event thread. ev is valid only during the call. */
typedef void (*tenure_event_cb)(tenure_elector* elector, const tenure_event* ev, void* opaque);

/* Set before tenure_elector_start. Without a callback, events queue for polling. */
TENURE_API tenure_err tenure_elector_set_callback(tenure_elector* elector, tenure_event_cb cb,
                                                  void* opaque);
/* Begins running for leadership (or observing). Returns at once; events follow. */
TENURE_API tenure_err tenure_elector_start(tenure_elector* elector, char* errbuf, size_t errlen);
/*
 * Releases the lease if leading (a REVOKED event with reason STOPPED comes first) and stops.
 * Blocks for at most stop_timeout_ms; from the elector's own callback it starts the stop and
 * returns at once.
 */
TENURE_API tenure_err tenure_elector_stop(tenure_elector* elector, char* errbuf, size_t errlen);
/* A leader steps down (REVOKED, reason RELEASED), releases, and sits out one retry_period. */
TENURE_API tenure_err tenure_elector_resign(tenure_elector* elector);
/*
 * After REVOKED with reason RENEW_DEADLINE, BACKEND_ERROR or LOST the lease is not released at
 * once: it is held (without leading) until you call this to say your leader-only work has stopped,
 * or at most lease_duration - renew_deadline. So a successor never starts while you still drain. A
 * no-op at any other time. Allowed inside callbacks.
 */
TENURE_API tenure_err tenure_elector_ack_revoked(tenure_elector* elector);
/*
 * Stops (bounded by stop_timeout_ms) and frees the elector; pending events are dropped. When it
 * returns, the callback is not running and will not run again, so its user_data may be freed.
 * From the elector's own callback: TENURE_E_IN_CALLBACK, nothing is freed.
 */
TENURE_API tenure_err tenure_elector_destroy(tenure_elector* elector);

/*
 * Poll mode: waits up to timeout_ms (0: no wait) for the next event. *out is owned by the
 * caller: tenure_event_free. TENURE_E_NO_EVENT when none came; TENURE_E_BAD_STATE when a
 * callback is set.
 */
TENURE_API tenure_err tenure_elector_poll_event(tenure_event** out, tenure_elector* elector,
                                                int timeout_ms);
/* Readable while events wait in the poll queue. Owned by the elector: do not close it. */
TENURE_API int tenure_elector_event_fd(tenure_elector* elector);

/* 1 when this elector leads now, else 0. */
TENURE_API int tenure_elector_is_leader(const tenure_elector* elector);
/* A snapshot; *out owned by the caller: tenure_status_free. */
TENURE_API tenure_err tenure_elector_status(tenure_status** out, const tenure_elector* elector);
/* Metrics as one JSON object; *out owned by the caller: tenure_free. */
TENURE_API tenure_err tenure_elector_metrics_json(char** out, const tenure_elector* elector);
/* The identity in use (the default one if none was set). Valid while the elector lives. */
TENURE_API const char* tenure_elector_identity(const tenure_elector* elector);

/*
 * Runs-once: the job returns 0 on success; it may write a detail string into detail
 * (detail_len bytes). It runs on the calling thread, only if this elector leads and no leader of
 * this election finished job_key before. *out_ran is 1 when fn ran. Blocks; do not call from an
 * event callback. TENURE_E_NOT_LEADER when not leading; TENURE_E_FENCED when leadership moved on
 * while the job ran (the finish was refused).
 */
typedef int (*tenure_job_fn)(uint64_t token, char* detail, size_t detail_len, void* opaque);
TENURE_API tenure_err tenure_elector_run_once(int* out_ran, tenure_elector* elector,
                                              const char* job_key, tenure_unfinished_policy policy,
                                              tenure_job_fn fn, void* opaque, char* errbuf,
                                              size_t errlen);

/* ---- events (pointers returned are valid while the event lives) ---- */

TENURE_API tenure_event_type tenure_event_get_type(const tenure_event* ev);
TENURE_API uint64_t tenure_event_get_token(const tenure_event* ev);
TENURE_API tenure_revoke_reason tenure_event_get_reason(const tenure_event* ev);
/* LEADER_CHANGED: the leader's identity, "" when no one leads. Else "". */
TENURE_API const char* tenure_event_get_leader(const tenure_event* ev);
/* ERROR: the code. Else TENURE_OK. */
TENURE_API tenure_err tenure_event_get_error(const tenure_event* ev);
/* ERROR and REVOKED: human detail. Else "". */
TENURE_API const char* tenure_event_get_message(const tenure_event* ev);
TENURE_API void tenure_event_free(tenure_event* ev);
/* "elected", "revoked", ...; "stopped", "lost", ...: static storage. */
TENURE_API const char* tenure_event_type_name(tenure_event_type type);
TENURE_API const char* tenure_revoke_reason_name(tenure_revoke_reason reason);

/* ---- status snapshot (pointers valid while the snapshot lives) ---- */

TENURE_API tenure_role tenure_status_get_role(const tenure_status* st);
TENURE_API int tenure_status_is_leader(const tenure_status* st);
/* Ours while leading, else the known leader's; 0 when unknown. */
TENURE_API uint64_t tenure_status_get_token(const tenure_status* st);
/* Identity of the known leader; "" when none is known. */
TENURE_API const char* tenure_status_get_leader(const tenure_status* st);
/* Leader only: ms since the last successful renewal; -1 otherwise. */
TENURE_API int64_t tenure_status_get_ms_since_renewal(const tenure_status* st);
/* The backend's view of the lease's remaining time; -1 when unknown. */
TENURE_API int64_t tenure_status_get_expires_in_ms(const tenure_status* st);
/* Wall-clock times (ms since the Unix epoch) from the lease record, for people; 0 unknown. */
TENURE_API int64_t tenure_status_get_acquired_unix_ms(const tenure_status* st);
TENURE_API int64_t tenure_status_get_renewed_unix_ms(const tenure_status* st);
/* The lease duration the holder asked for; 0 when unknown. */
TENURE_API int64_t tenure_status_get_lease_duration_ms(const tenure_status* st);
TENURE_API void tenure_status_free(tenure_status* st);

/* ---- schedules: leader-only jobs keyed by fire time ----
 *
 * A schedule runs a job at the fire times of a cron expression or an interval, only while its
 * elector leads, each fire time at most once across all replicas and leaders: every fire time
 * goes through the run-once ledger under the key "<job>@<fire time in UTC>", e.g.
 * "nightly@2026-03-29T00:00:00Z". Run the same schedule on every replica. */

typedef struct tenure_schedule tenure_schedule;

/*
 * Called on the schedule's own thread (never tenure's I/O or event thread), one fire time at a
 * time. fire_unix_s: the fire time (seconds since the Unix epoch); key: its ledger key; token:
 * the fencing token the run was claimed under. Return 0 for success; write an optional short
 * detail (no secrets) into detail. A job that runs on after leadership is lost is fenced: stop
 * it on REVOKED.
 */
typedef int (*tenure_scheduled_fn)(const char* job, int64_t fire_unix_s, const char* key,
                                   uint64_t token, char* detail, size_t detail_len, void* opaque);
/* One line per decision (ran, skipped, abandoned, an error), on the schedule's thread. */
typedef void (*tenure_schedule_log_fn)(const char* line, void* opaque);

/*
 * spec: "30 2 * * *" (5 fields), "0 0/5 * * * *" (6: seconds first), "@hourly", "@daily", ...,
 * or "@every 90s". tz: an IANA zone ("Europe/Berlin"); NULL or "" for UTC. job: 1 to 150 of
 * [A-Za-z0-9._-]. The elector must outlive the schedule. *out owned by the caller:
 * tenure_schedule_destroy. A bad field is named with its allowed range in errbuf.
 */
TENURE_API tenure_err tenure_schedule_new(tenure_schedule** out, tenure_elector* elector,
                                          const char* job, const char* spec, const char* tz,
                                          char* errbuf, size_t errlen);
/*
 * Before start. Keys: "catch_up" none|latest|all (default latest), "catch_up_window" a
 * duration like "1h" (default 1h), "catch_up_max" 1..10000 (default 100, bounds "all"),
 * "misfire_threshold" a duration (default 1m; with catch_up none, a fire time later than this
 * is skipped), "on_unfinished" retry|skip (default retry: a run an old leader started and never
 * finished is run again).
 */
TENURE_API tenure_err tenure_schedule_set(tenure_schedule* s, const char* key, const char* value,
                                          char* errbuf, size_t errlen);
TENURE_API tenure_err tenure_schedule_set_log(tenure_schedule* s, tenure_schedule_log_fn fn,
                                              void* opaque);
/* Starts the schedule's thread. fn and opaque must stay valid until destroy. */
TENURE_API tenure_err tenure_schedule_start(tenure_schedule* s, tenure_scheduled_fn fn,
                                            void* opaque, char* errbuf, size_t errlen);
/* Plans again at once: call it on ELECTED so a new leader does not wait up to a second. */
TENURE_API tenure_err tenure_schedule_wake(tenure_schedule* s);
/* Stops the thread, waiting for a running job to return; frees. Not from inside fn. */
TENURE_API void tenure_schedule_destroy(tenure_schedule* s);

/* The first fire time strictly after after_unix_s (no elector needed). TENURE_E_INVALID_ARGUMENT
 * for a bad spec or zone; TENURE_E_BAD_STATE when it never fires within ten years. */
TENURE_API tenure_err tenure_schedule_next_fire(int64_t* out_unix_s, const char* spec,
                                                const char* tz, int64_t after_unix_s, char* errbuf,
                                                size_t errlen);
/* The ledger key of one fire time, "<job>@<UTC time>"; *out owned by the caller: tenure_free. */
TENURE_API tenure_err tenure_fire_key(char** out, const char* job, int64_t fire_unix_s,
                                      char* errbuf, size_t errlen);
/*
 * The ledger's records whose key starts with prefix (NULL or "": all), as a JSON array in key
 * order, the last `limit` (1..100000) when more match. Each object: job_key, status (started,
 * finished, failed), token, holder, started_unix_ms, finished_unix_ms, detail. Any elector may
 * list, leader or not. Blocks. *out owned by the caller: tenure_free.
 */
TENURE_API tenure_err tenure_elector_list_runs_json(char** out, tenure_elector* elector,
                                                    const char* prefix, size_t limit, char* errbuf,
                                                    size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* TENURE_H */
