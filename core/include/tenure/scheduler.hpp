// Leader-only scheduled jobs. Every replica runs the same Scheduler over its own Elector; only the
// leader fires, and each fire time runs through the run-once ledger under the key
// "<job>@<fire time in UTC>", so a fire time is run at most once across replicas and leaders
// (or retried after a crash, by policy). The ledger, not this process's memory, decides what has
// run: a new leader, a restarted process or a clock step all see the same records.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tenure/elector.hpp"
#include "tenure/schedule.hpp"

namespace tenure {

// Which fire times a leader runs when it finds them due (on election, after a long run, after
// the wall clock jumped forward):
//  none:   only the newest, and only if it is at most misfire_threshold old;
//  latest: only the newest, if it is inside the catch-up window (the default);
//  all:    every one inside the catch-up window since the newest fire time the ledger has a
//          record of (a job with no record yet starts with its newest fire time, not a backlog),
//          oldest first, at most catch_up_max.
// Older fire times that are not run are skipped (and logged); a fire time with a finished record
// is never run again.
enum class CatchUp : int { none = 0, latest = 1, all = 2 };
const char* catch_up_name(CatchUp c) noexcept;
Result<CatchUp> parse_catch_up(const std::string& text);

struct JobSchedule {
  std::string job;  // validate_job_name()
  Schedule schedule;
  CatchUp catch_up = CatchUp::latest;
  std::chrono::seconds catch_up_window{3600};
  size_t catch_up_max = 100;
  std::chrono::seconds misfire_threshold{60};
  UnfinishedPolicy on_unfinished = UnfinishedPolicy::retry;
};
Status validate_job_schedule(const JobSchedule& js);

// The fire times a leader considers at wall time `now`, oldest first. Pure, so tests drive it
// with any clock; the ledger then says which of them still need a run.
std::vector<SysSeconds> due_fire_times(const JobSchedule& js, SysSeconds now);

struct FireContext {
  std::string job;
  SysSeconds fire_time;
  std::string key;               // the ledger key
  uint64_t token = 0;            // the fencing token the run was claimed under
  std::chrono::seconds late{0};  // how long after the fire time the run starts
};
// Returns success; `detail` goes into the ledger record (keep it short; no secrets).
using ScheduledJob = std::function<bool(const FireContext& ctx, std::string& detail)>;

struct SchedulerHooks {
  // The wall clock (milliseconds, so sleeps end on the fire time, not up to a second after it);
  // tests substitute a fake one. Default: system_clock.
  std::function<std::chrono::sys_time<std::chrono::milliseconds>()> now;
  // One line per decision (ran, skipped, abandoned, errors), without time stamp. Default: none.
  std::function<void(const std::string&)> log;
  // The wall clock is read again at least this often, so a clock step is noticed quickly.
  std::chrono::milliseconds max_sleep{1000};
};

class Scheduler {
 public:
  // The elector must outlive the scheduler. Nothing runs before start().
  static Result<std::unique_ptr<Scheduler>> create(Elector& elector, JobSchedule js,
                                                   ScheduledJob fn, SchedulerHooks hooks = {});
  ~Scheduler();  // stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the scheduler's thread; the job runs on it, one fire time at a time.
  Status start();
  // Stops the thread; waits for a running job to return (make it return: the CLI kills its
  // child on revocation and on stop).
  void stop();
  // Plans again at once; call it on `elected` so a new leader does not wait up to max_sleep.
  void wake();

  // How many runs this scheduler started (for tests and metrics).
  uint64_t runs_started() const;

 private:
  Scheduler(Elector& elector, JobSchedule js, ScheduledJob fn, SchedulerHooks hooks);
  void loop();
  // One look at the due fire times; true when a job ran (time passed: look again at once).
  bool pass(uint64_t token);
  void log(const std::string& line) const;
  bool wait_for(std::chrono::milliseconds d);  // false when stopping

  Elector& elector_;
  JobSchedule js_;
  ScheduledJob fn_;
  SchedulerHooks hooks_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, woken_ = false;
  uint64_t runs_ = 0;
  std::thread thread_;
  // Per leadership term: fire times the ledger has settled (run, finished, abandoned), and the
  // wall time of the last pass, to report fire times skipped between two passes.
  uint64_t term_token_ = 0;
  std::set<SysSeconds> settled_;
  std::optional<SysSeconds> last_pass_;
  std::optional<SysSeconds> all_floor_;  // catch-up all: nothing older than this runs
};

}  // namespace tenure
