/*
 * tenure.h — the stable C ABI of tenure, leader election as a library.
 *
 * Conventions
 *  - Every object is an opaque handle. Options are key/value strings, so new options never change
 *    the ABI. The backend is chosen by URL (file:///dir, memory://ns, redis://, rediss://,
 *    postgres://, postgresql://; see tenure_elector_new).
 *  - Every function that can fail returns a tenure_err (TENURE_OK == 0) and takes
 *    `char *errbuf, size_t errlen` last: on failure a human message saying what is wrong and how
 *    to fix it is written there (NUL-terminated, truncated to errlen); pass NULL/0 to skip it. No
 *    state is kept per thread: the message travels only through that buffer or an event object.
 *    Functions without errbuf cannot fail (getters return a documented default for NULL).
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
 *    hosts such as Go that must not be called from foreign threads). One tenure_queue serves
 *    many electors behind one descriptor. Drain every descriptor until TENURE_E_NO_EVENT.
 *  - stop, destroy, tenure_shutdown and tenure_log_set_callback wait for a callback in progress:
 *    release any lock your callbacks take (Python's GIL) before calling them.
 *  - Which thread calls what, thread hooks, shutdown and fork: see "threads, shutdown, fork".
 *    docs/binding-authors.md says it all in one place for binding authors.
 */
#ifndef TENURE_H
#define TENURE_H

#include <stddef.h>
#include <stdint.h>

/* TENURE_VERSION_MAJOR/MINOR/PATCH/STRING/NUM, generated from the build's project version. */
#include "tenure/tenure_version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TENURE_BUILDING)
#define TENURE_API __attribute__((visibility("default")))
#else
#define TENURE_API
#endif

typedef struct tenure_options tenure_options;
typedef struct tenure_elector tenure_elector;
typedef struct tenure_event tenure_event;
typedef struct tenure_status tenure_status;
typedef struct tenure_queue tenure_queue;

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
  TENURE_E_INTERNAL = 19,           /* a bug in tenure */
  TENURE_E_CONNECTION_LIMIT = 20    /* the server refuses connections: its connection limit */
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
  TENURE_REVOKE_BACKEND_ERROR = 4, /* a backend failure, not a lost race, ended the leadership
                                      (e.g. a keep-alive stream or server session failed) */
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

/*
 * The version of the library loaded at run time; "0.1.0", static storage. A binding compiled
 * against this header checks at load time that the library is at least as new as the header:
 *   if (tenure_version_num() < TENURE_VERSION_NUM) refuse to load;
 * (and, while the major version is 0, that the minor versions are equal: 0.x may break the ABI).
 */
TENURE_API const char* tenure_version(void);
TENURE_API int tenure_version_num(void);
/* One-line description of err; static storage, never NULL. */
TENURE_API const char* tenure_strerror(tenure_err err);
/* "TENURE_E_BAD_URL" for TENURE_E_BAD_URL; static storage, never NULL. */
TENURE_API const char* tenure_err_name(tenure_err err);
/* Frees memory tenure returned through a `char **out` (e.g. tenure_elector_metrics_json). */
TENURE_API void tenure_free(void* p);

/* ---- threads, shutdown, fork ---- */

/*
 * Which thread calls what:
 *  - tenure-io (one per process): backend I/O and every elector's state machine. It never calls
 *    your code except the log callback.
 *  - tenure-events (one per process): every event callback, in order per elector; also the log
 *    callback. A JVM attaches this one thread once, as a daemon.
 *  - tenure-file (two, while file:// electors exist): blocking file work (fsync). Calls only
 *    the log callback.
 *  - tenure-reaper (short-lived): tears a runtime down when the last elector was freed from a
 *    callback; it may call the log callback.
 *  - your threads: the log callback, for records logged inside the tenure call you made.
 * Boost.Asio's internal resolver thread (resolving a Redis host name) runs no tenure code and
 * calls none of yours; it gets no hooks.
 */
typedef void (*tenure_thread_cb)(const char* name, void* opaque);

/*
 * on_start runs on each thread tenure creates, before anything else there; on_exit as the last
 * thing it does; each exactly once per thread, with the thread's name ("tenure-io",
 * "tenure-events", "tenure-file", "tenure-reaper", also set with pthread_setname_np). Either may be
 * NULL. Set before the first elector is created (or after tenure_shutdown): TENURE_E_BAD_STATE
 * while tenure's threads run. opaque is the caller's and must stay valid while hooks may run.
 */
TENURE_API tenure_err tenure_threads_set_hooks(tenure_thread_cb on_start, tenure_thread_cb on_exit,
                                               void* opaque, char* errbuf, size_t errlen);

/*
 * Stops every elector of the process, releasing leases, waiting at most timeout_ms for the
 * releases, then joins tenure's threads. A REVOKED(STOPPED) may still reach a callback while it
 * waits; events still queued afterwards are dropped. When it returns no callback is running and
 * none starts again. Existing electors stay valid handles:
 * calls on them return TENURE_E_BAD_STATE saying why (stop returns TENURE_OK), and destroy frees
 * them. New electors may be created afterwards; they start a fresh runtime.
 * Safe to call twice, and from atexit or a JVM shutdown hook. Waits for a callback in progress:
 * release the GIL (or whatever lock a callback takes) first. TENURE_E_IN_CALLBACK on tenure's
 * own threads; TENURE_E_TIMEOUT when some releases did not finish in time (threads are joined
 * anyway; those leases expire on the backend).
 */
TENURE_API tenure_err tenure_shutdown(int timeout_ms, char* errbuf, size_t errlen);

/*
 * fork(): the child starts a fresh runtime on first use. Electors inherited from the parent are
 * inert there: every call returns TENURE_E_BAD_STATE saying so, and destroying them frees the
 * handle without touching the parent's connections, locks or leases (their memory and
 * descriptors are left as they are). Only async-signal-safe work happens at fork time.
 */

/* ---- logging ---- */

/*
 * What tenure logs: connects and reconnects (with the endpoint, never a password or token),
 * degraded modes, step-downs with their reason, server notices, and every exception it catches.
 * Records go to the callback, to the queue, or both; with neither set, nothing is printed unless
 * the environment variable TENURE_LOG=error|warn|info|debug asks for lines on stderr.
 */
typedef enum tenure_log_level {
  TENURE_LOG_OFF = 0,
  TENURE_LOG_ERROR = 1,
  TENURE_LOG_WARN = 2,
  TENURE_LOG_INFO = 3,
  TENURE_LOG_DEBUG = 4
} tenure_log_level;

typedef struct tenure_log_record tenure_log_record;

/*
 * Called on the thread that logs: any tenure thread, or the caller's own thread inside a tenure
 * call, possibly while tenure holds internal locks. So: return quickly, and call no tenure
 * function from it except the tenure_log_record_* getters (anything else may deadlock; a record
 * logged from inside the callback is not passed to it again). rec is valid only during the call.
 * Hosts that must not be called from foreign threads (Go) use the log queue instead.
 */
typedef void (*tenure_log_cb)(const tenure_log_record* rec, void* opaque);

/*
 * Process-wide. Records at `level` or more severe go to cb; cb NULL (or level OFF) removes it.
 * When this returns, the previous callback is not running and will not run again, so its opaque
 * may be freed. It waits for a call in progress: a binding releases locks the callback needs
 * (the GIL) first. TENURE_E_IN_CALLBACK from inside a log callback.
 */
TENURE_API tenure_err tenure_log_set_callback(tenure_log_level level, tenure_log_cb cb,
                                              void* opaque, char* errbuf, size_t errlen);
/*
 * Process-wide log queue for polling, holding up to 10,000 records (the oldest are dropped
 * beyond, counted by tenure_log_dropped). level OFF disables it and drops what waits.
 */
TENURE_API tenure_err tenure_log_set_queue(tenure_log_level level, char* errbuf, size_t errlen);
/*
 * The next record, waiting up to timeout_ms (0: no wait). *out is owned by the caller:
 * tenure_log_record_free. TENURE_E_NO_EVENT when none came; TENURE_E_BAD_STATE when the queue is
 * not enabled.
 */
TENURE_API tenure_err tenure_log_poll(tenure_log_record** out, int timeout_ms, char* errbuf,
                                      size_t errlen);
/*
 * *out: a descriptor readable while records wait; owned by tenure, do not close it. It is reset
 * only when the queue empties: drain with tenure_log_poll until TENURE_E_NO_EVENT.
 */
TENURE_API tenure_err tenure_log_fd(int* out, char* errbuf, size_t errlen);
/* Records the queue dropped because it was full. */
TENURE_API uint64_t tenure_log_dropped(void);
/* "error", "warn", "info", "debug", "off"; static storage. */
TENURE_API const char* tenure_log_level_name(tenure_log_level level);

/* Getters: strings are valid while the record lives, never NULL ("" when unknown). */
TENURE_API tenure_log_level tenure_log_record_get_level(const tenure_log_record* rec);
/* "core", "redis", "postgres", "file", "memory". */
TENURE_API const char* tenure_log_record_get_facility(const tenure_log_record* rec);
/* The election and the elector's identity the record concerns; "" when none in particular. */
TENURE_API const char* tenure_log_record_get_election(const tenure_log_record* rec);
TENURE_API const char* tenure_log_record_get_identity(const tenure_log_record* rec);
TENURE_API const char* tenure_log_record_get_message(const tenure_log_record* rec);
/* Wall clock when logged, ms since the Unix epoch. */
TENURE_API int64_t tenure_log_record_get_unix_ms(const tenure_log_record* rec);
/* Frees a record from tenure_log_poll (never one passed to a callback). */
TENURE_API void tenure_log_record_free(tenure_log_record* rec);

/* ---- options ---- */

/* *out is owned by the caller: free it with tenure_options_free. */
TENURE_API tenure_err tenure_options_new(tenure_options** out, char* errbuf, size_t errlen);
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

/*
 * Set before tenure_elector_start (TENURE_E_BAD_STATE afterwards). Without a callback, events
 * queue for polling. opaque is passed back untouched; the caller owns what it points to and may
 * free it once tenure_elector_destroy has returned.
 */
TENURE_API tenure_err tenure_elector_set_callback(tenure_elector* elector, tenure_event_cb cb,
                                                  void* opaque, char* errbuf, size_t errlen);
/* Begins running for leadership (or observing). Returns at once; events follow. */
TENURE_API tenure_err tenure_elector_start(tenure_elector* elector, char* errbuf, size_t errlen);
/*
 * Releases the lease if leading (a REVOKED event with reason STOPPED comes first) and stops.
 * Blocks for at most stop_timeout_ms; from the elector's own callback it starts the stop and
 * returns at once.
 * Waits for a callback in progress to return. A binding must release, before calling this, every
 * lock its callback may need (Python: the GIL; Java: a monitor the listener synchronizes on), or
 * both sides wait for each other forever.
 */
TENURE_API tenure_err tenure_elector_stop(tenure_elector* elector, char* errbuf, size_t errlen);
/* A leader steps down (REVOKED, reason RELEASED), releases, and sits out one retry_period. */
TENURE_API tenure_err tenure_elector_resign(tenure_elector* elector, char* errbuf, size_t errlen);
/*
 * After REVOKED with reason RENEW_DEADLINE, BACKEND_ERROR or LOST the lease is not released at
 * once: it is held (without leading) until you call this to say your leader-only work has stopped,
 * or at most lease_duration - renew_deadline. So a successor never starts while you still drain. A
 * no-op at any other time. Allowed inside callbacks.
 */
TENURE_API tenure_err tenure_elector_ack_revoked(tenure_elector* elector, char* errbuf,
                                                 size_t errlen);
/*
 * Stops (bounded by stop_timeout_ms) and frees the elector; pending events are dropped. When it
 * returns, the callback is not running and will not run again, so its opaque may be freed.
 * Like stop, it waits for a callback in progress: release the GIL (or any lock the callback
 * takes) first. From the elector's own callback: TENURE_E_IN_CALLBACK, nothing is freed.
 * NULL is a no-op returning TENURE_OK.
 */
TENURE_API tenure_err tenure_elector_destroy(tenure_elector* elector, char* errbuf, size_t errlen);

/*
 * Poll mode: waits up to timeout_ms (0: no wait) for the next event. *out is owned by the
 * caller: tenure_event_free. TENURE_E_NO_EVENT when none came; TENURE_E_BAD_STATE when a
 * callback is set.
 */
TENURE_API tenure_err tenure_elector_poll_event(tenure_event** out, tenure_elector* elector,
                                                int timeout_ms, char* errbuf, size_t errlen);
/*
 * *out: a descriptor readable while events wait in the poll queue. Owned by the elector: do not
 * close it. It is reset only when the queue empties: after it polls readable, call
 * tenure_elector_poll_event until TENURE_E_NO_EVENT (edge-triggered pollers depend on this).
 */
TENURE_API tenure_err tenure_elector_event_fd(int* out, tenure_elector* elector, char* errbuf,
                                              size_t errlen);

/* 1 when this elector leads now, else 0. */
TENURE_API int tenure_elector_is_leader(const tenure_elector* elector);
/* A snapshot; *out owned by the caller: tenure_status_free. */
TENURE_API tenure_err tenure_elector_status(tenure_status** out, const tenure_elector* elector,
                                            char* errbuf, size_t errlen);
/* Metrics as one JSON object (schema: docs/metrics.md); *out owned by the caller: tenure_free. */
TENURE_API tenure_err tenure_elector_metrics_json(char** out, const tenure_elector* elector,
                                                  char* errbuf, size_t errlen);
/* The identity in use (the default one if none was set). Valid while the elector lives. */
TENURE_API const char* tenure_elector_identity(const tenure_elector* elector);

/*
 * Runs-once: the job returns 0 on success; it may write a NUL-terminated detail string into
 * detail, a zeroed buffer of detail_len == TENURE_RUN_DETAIL_MAX bytes (snprintf tells the job
 * the size it needed). It runs on the calling thread, only if this elector leads and no leader of
 * this election finished job_key before. *out_ran is 1 when fn ran. Blocks; do not call from an
 * event callback. TENURE_E_NOT_LEADER when not leading; TENURE_E_FENCED when leadership moved on
 * while the job ran (the finish was refused). Nothing is cut silently: a detail with no NUL
 * within detail_len is not recorded; the run is recorded as failed and this returns
 * TENURE_E_INVALID_ARGUMENT saying so. The whole detail reads back with tenure_elector_read_run.
 */
#define TENURE_RUN_DETAIL_MAX 65536
typedef int (*tenure_job_fn)(uint64_t token, char* detail, size_t detail_len, void* opaque);
TENURE_API tenure_err tenure_elector_run_once(int* out_ran, tenure_elector* elector,
                                              const char* job_key, tenure_unfinished_policy policy,
                                              tenure_job_fn fn, void* opaque, char* errbuf,
                                              size_t errlen);

/* ---- one event queue for many electors ---- */

/*
 * A poll queue shared by many electors, behind one descriptor: a host with thousands of electors
 * (one per shard) watches one fd with one poller. Each event carries its elector and the opaque
 * given when attaching (tenure_event_get_elector, tenure_event_get_opaque); events of one elector
 * stay in order. Per-elector polling (tenure_elector_poll_event) remains for simple hosts.
 * *out is owned by the caller: tenure_queue_free.
 */
TENURE_API tenure_err tenure_queue_new(tenure_queue** out, char* errbuf, size_t errlen);
/*
 * Attach before tenure_elector_start, instead of a callback (TENURE_E_BAD_STATE otherwise).
 * opaque comes back with each of this elector's events; it stays the caller's. Destroying the
 * elector drops its events still in the queue.
 */
TENURE_API tenure_err tenure_elector_set_queue(tenure_elector* elector, tenure_queue* queue,
                                               void* opaque, char* errbuf, size_t errlen);
/*
 * The next event of any attached elector, waiting up to timeout_ms (0: no wait). *out is owned by
 * the caller: tenure_event_free. TENURE_E_NO_EVENT when none came. Any thread may poll. An event
 * names its elector: do not destroy an elector while another thread may still handle its events.
 */
TENURE_API tenure_err tenure_queue_poll(tenure_event** out, tenure_queue* queue, int timeout_ms,
                                        char* errbuf, size_t errlen);
/*
 * *out: a descriptor readable while events wait; owned by the queue, do not close it. It is reset
 * only when the queue empties: after it polls readable, call tenure_queue_poll until
 * TENURE_E_NO_EVENT (edge-triggered pollers such as Go's netpoller depend on this).
 */
TENURE_API tenure_err tenure_queue_fd(int* out, tenure_queue* queue, char* errbuf, size_t errlen);
/*
 * Frees the handle. Electors still attached keep delivering into the queue's storage (freed with
 * the last of them), where nobody reads: destroy them first. NULL is a no-op.
 */
TENURE_API void tenure_queue_free(tenure_queue* queue);

/* ---- runs and backend capabilities ---- */

typedef struct tenure_run tenure_run;

typedef enum tenure_run_status {
  TENURE_RUN_NONE = 0,     /* no run of this job key is recorded */
  TENURE_RUN_STARTED = 1,  /* claimed by a leader, not finished (running, or that leader died) */
  TENURE_RUN_FINISHED = 2, /* the job returned 0 */
  TENURE_RUN_FAILED = 3    /* the job returned non-zero */
} tenure_run_status;

/*
 * Reads the ledger's record of job_key (any elector, leader or not). Blocks up to
 * renew_deadline_ms. *out is owned by the caller: tenure_run_free. A job key never run gives a
 * record with status TENURE_RUN_NONE.
 */
TENURE_API tenure_err tenure_elector_read_run(tenure_run** out, tenure_elector* elector,
                                              const char* job_key, char* errbuf, size_t errlen);
TENURE_API tenure_run_status tenure_run_get_status(const tenure_run* run);
/* The fencing token and identity of the leader that ran it; 0 / "" when none. */
TENURE_API uint64_t tenure_run_get_token(const tenure_run* run);
TENURE_API const char* tenure_run_get_holder(const tenure_run* run);
/* Wall clock, ms since the Unix epoch; 0 when not (yet) known. */
TENURE_API int64_t tenure_run_get_started_unix_ms(const tenure_run* run);
TENURE_API int64_t tenure_run_get_finished_unix_ms(const tenure_run* run);
/* The job's detail text, whole; valid while the record lives. */
TENURE_API const char* tenure_run_get_detail(const tenure_run* run);
TENURE_API void tenure_run_free(tenure_run* run);
/* "none", "started", "finished", "failed"; static storage. */
TENURE_API const char* tenure_run_status_name(tenure_run_status status);

/* What the elector's backend offers, as bits of *out. */
typedef enum tenure_capability {
  TENURE_CAP_SESSION_BOUND = 1,      /* a crashed holder loses the lease when its session closes */
  TENURE_CAP_PUSH_WAKEUP = 2,        /* releases and expiries wake followers without polling */
  TENURE_CAP_SERVER_SIDE_EXPIRY = 4, /* the server itself enforces lease_duration */
  TENURE_CAP_LEDGER = 8              /* run_once and read_run are available */
} tenure_capability;
TENURE_API tenure_err tenure_elector_capabilities(uint32_t* out, const tenure_elector* elector,
                                                  char* errbuf, size_t errlen);

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
/* The elector the event is about (polled or delivered); valid while that elector lives. */
TENURE_API tenure_elector* tenure_event_get_elector(const tenure_event* ev);
/* The opaque given to tenure_elector_set_queue or tenure_elector_set_callback; else NULL. */
TENURE_API void* tenure_event_get_opaque(const tenure_event* ev);
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
/* Leadership changes of the election, from the lease record; 0 when unknown. */
TENURE_API uint64_t tenure_status_get_transitions(const tenure_status* st);
/* ms since the backend last answered this elector; -1 before it ever did. */
TENURE_API int64_t tenure_status_get_ms_since_backend_contact(const tenure_status* st);
TENURE_API void tenure_status_free(tenure_status* st);

/* ---- process metrics ---- */

/*
 * The Prometheus text exposition (format 0.0.4) of the process metrics and of every live
 * elector's (labels election and identity); names, types and units in docs/metrics.md.
 * *out owned by the caller: tenure_free.
 */
TENURE_API tenure_err tenure_metrics_prometheus(char** out, char* errbuf, size_t errlen);
/*
 * Process metrics as one JSON object: electors, events_queued, event_lag_last_us,
 * event_lag_max_us, events_delivered, callback_exceptions, log_dropped, and backends (by name:
 * open, connects, reconnects, losses). *out owned by the caller: tenure_free.
 */
TENURE_API tenure_err tenure_metrics_json(char** out, char* errbuf, size_t errlen);

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
/* Before start. fn may be NULL (no log). */
TENURE_API tenure_err tenure_schedule_set_log(tenure_schedule* s, tenure_schedule_log_fn fn,
                                              void* opaque, char* errbuf, size_t errlen);
/* Starts the schedule's thread. fn and opaque must stay valid until destroy. */
TENURE_API tenure_err tenure_schedule_start(tenure_schedule* s, tenure_scheduled_fn fn,
                                            void* opaque, char* errbuf, size_t errlen);
/* Plans again at once: call it on ELECTED so a new leader does not wait up to a second. */
TENURE_API tenure_err tenure_schedule_wake(tenure_schedule* s, char* errbuf, size_t errlen);
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
