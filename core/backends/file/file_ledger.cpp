#include <sys/stat.h>

#include <cerrno>

#include "file_session.hpp"

namespace tenure::backends::file {

void FileSession::claim(const std::string& job, uint64_t token, const std::string& holder,
                        UnfinishedPolicy policy, Completion<ClaimResult> done) {
  run<ClaimResult>(
      [=, this]() -> Result<ClaimResult> {
        Guard g = take_guard();
        if (auto f = fenced(g, token); !f.ok()) return f;
        if (::mkdir(runs_dir_.c_str(), 0755) != 0 && errno != EEXIST)
          return make_error(Errc::backend,
                            "cannot create " + runs_dir_ + ": " + file::errno_text(errno));
        auto path = run_path(job);
        auto prev = file::read_run(path);
        if (!prev.ok()) return prev.status;
        ClaimResult out;
        if (prev.value) out.previous = *prev.value;
        if (!may_claim(out.previous, token, policy)) return out;
        if (auto s = file::write_run(path, started_run(job, token, holder)); !s.ok()) return s;
        out.claimed = true;
        return out;
      },
      std::move(done));
}

void FileSession::finish(const std::string& job, uint64_t token, bool success,
                         const std::string& detail, Completion<RunRecord> done) {
  run<RunRecord>(
      [=, this]() -> Result<RunRecord> {
        Guard g = take_guard();
        if (auto f = fenced(g, token); !f.ok()) return f;
        auto path = run_path(job);
        auto cur = file::read_run(path);
        if (!cur.ok()) return cur.status;
        if (!cur.value || cur.value->token != token)
          return make_error(Errc::fenced, "job '" + job + "' was claimed under another token");
        RunRecord r = *cur.value;
        r.status = success ? RunStatus::finished : RunStatus::failed;
        r.finished_unix_ms = unix_ms();
        r.detail = detail;
        if (auto s = file::write_run(path, r); !s.ok()) return s;
        return r;
      },
      std::move(done));
}

void FileSession::read(const std::string& job, Completion<RunRecord> done) {
  run<RunRecord>(
      [=, this]() -> Result<RunRecord> {
        auto cur = file::read_run(run_path(job));
        if (!cur.ok()) return cur.status;
        if (cur.value) return *cur.value;
        RunRecord r;
        r.job_key = job;
        return r;
      },
      std::move(done));
}

void FileSession::list(const std::string& prefix, size_t limit,
                       Completion<std::vector<RunRecord>> done) {
  run<std::vector<RunRecord>>(
      [=, this]() -> Result<std::vector<RunRecord>> {
        if (auto st = validate_job_prefix(prefix); !st.ok()) return st;
        // File names encode keys character by character, so a key's prefix is a name prefix.
        auto names = file::list_run_files(runs_dir_, file::encode_file_name(prefix));
        if (!names.ok()) return names.status;
        std::vector<RunRecord> out;
        for (const auto& name : names.value) {
          auto rec = file::read_run(runs_dir_ + "/" + name);
          if (!rec.ok()) return rec.status;
          if (rec.value && rec.value->job_key.compare(0, prefix.size(), prefix) == 0)
            out.push_back(*rec.value);
        }
        keep_last(out, limit);
        return out;
      },
      std::move(done));
}

// Ledger writes need the guard and a lock file that is still ours, so a leader that froze
// and thawed after a takeover cannot record a run under its old token.
Status FileSession::fenced(const Guard& g, uint64_t token) const {
  if (!leader_ || token != token_ || !same_file())
    return make_error(Errc::fenced, "token " + std::to_string(token) +
                                        " is not this elector's current leadership token");
  if (!g)
    return make_error(Errc::backend, "another process holds " + guard_path_ +
                                         " (it may be frozen inside a write); retry");
  return {};
}

std::string FileSession::run_path(const std::string& job) const {
  return runs_dir_ + "/" + file::encode_file_name(job) + ".json";
}
}  // namespace tenure::backends::file
