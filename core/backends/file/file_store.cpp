#include "file_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "tenure/fencing.hpp"
#include "tenure/options.hpp"

namespace tenure::backends::file {

namespace {

using nlohmann::json;

Result<std::optional<std::string>> slurp(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return make_error(errno == EACCES ? Errc::permission_denied : Errc::backend,
                      "cannot read " + path + ": " + errno_text(errno));
  }
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(Errc::backend, "cannot read " + path + ": " + errno_text(err));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > (1 << 20)) {
      ::close(fd);
      return make_error(Errc::backend, path + " is larger than 1 MiB: not a tenure record");
    }
  }
  ::close(fd);
  return std::optional<std::string>(std::move(data));
}

Status fsync_dir(const std::string& path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(Errc::backend, "cannot open " + dir + ": " + errno_text(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return make_error(Errc::backend, "fsync of " + dir + " failed: " + errno_text(err));
  return {};
}

Status corrupt(const std::string& path, const std::string& what) {
  return make_error(Errc::backend,
                    path + " is not a valid tenure record (" + what +
                        "). Restore it, or delete "
                        "it knowing that deleting a lease record restarts the fencing token at 1");
}

// Record fields are range-checked before conversion: nlohmann's get<int>() of 1e300 or of an
// out-of-range integer is undefined behaviour, and a wrapped token would go backwards.
constexpr int64_t kMaxUnixMs = 253402300799999;      // 9999-12-31T23:59:59.999Z
constexpr int64_t kMaxLeaseMs = 24LL * 3600 * 1000;  // validate_timing's limit
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

struct BadRecord : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string shown_value(const json& v) {
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

// A whole-number field in lo..hi; missing fields take dflt, or are an error without one.
int64_t int_field(const json& j, const char* key, int64_t lo, int64_t hi,
                  std::optional<int64_t> dflt = std::nullopt) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (dflt) return *dflt;
    throw BadRecord(std::string("the field '") + key + "' is missing");
  }
  const auto range = [&] {
    return BadRecord(std::string("the field '") + key + "' is " + shown_value(*it) + ", outside " +
                     std::to_string(lo) + ".." + std::to_string(hi));
  };
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(hi) || static_cast<int64_t>(v) < lo) throw range();
    return static_cast<int64_t>(v);
  }
  if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    if (v < lo || v > hi) throw range();
    return v;
  }
  if (it->is_number()) throw range();  // a float, or an integer too large for 64 bits
  throw BadRecord(std::string("the field '") + key + "' is " + shown_value(*it) +
                  ", not a whole number");
}

std::string string_field(const json& j, const char* key, std::optional<std::string> dflt) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (dflt) return *dflt;
    throw BadRecord(std::string("the field '") + key + "' is missing");
  }
  if (!it->is_string())
    throw BadRecord(std::string("the field '") + key + "' is " + shown_value(*it) +
                    ", not a string");
  return it->get<std::string>();
}

// A holder is shown by `tenure status` and compared with identities: it must be one.
std::string holder_field(const json& j, std::optional<std::string> dflt) {
  std::string h = string_field(j, "holder", std::move(dflt));
  if (!h.empty())
    if (Status s = validate_identity(h); !s.ok())
      throw BadRecord("the field 'holder' is not a valid identity: " + s.message);
  return h;
}

json parse_object(const std::string& data) {
  json j = json::parse(data);
  if (!j.is_object()) throw BadRecord("it is not a JSON object");
  return j;
}

}  // namespace

std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (err == EACCES || err == EPERM)
    s += " (give this process's user write permission on the directory, or choose another)";
  else if (err == EROFS)
    s += " (the file system is read-only; choose a writable directory)";
  else if (err == ENOSPC)
    s += " (the disk is full)";
  return s;
}

Status write_atomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(errno == EACCES ? Errc::permission_denied : Errc::backend,
                      "cannot create " + tmp + ": " + errno_text(errno));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return make_error(Errc::backend, "cannot write " + tmp + ": " + errno_text(err));
    }
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return make_error(Errc::backend, "fdatasync of " + tmp + " failed: " + errno_text(err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return make_error(Errc::backend,
                      "cannot rename " + tmp + " to " + path + ": " + errno_text(err));
  }
  return fsync_dir(path);
}

Result<std::optional<StoredLease>> read_lease(const std::string& path) {
  auto data = slurp(path);
  if (!data.ok()) return data.status;
  if (!data.value) return std::optional<StoredLease>();
  auto l = parse_lease(path, *data.value);
  if (!l.ok()) return l.status;
  return std::optional<StoredLease>(l.value);
}

Result<StoredLease> parse_lease(const std::string& path, const std::string& text) {
  try {
    const json j = parse_object(text);
    StoredLease l;
    l.holder = holder_field(j, std::nullopt);
    l.token = static_cast<uint64_t>(int_field(j, "token", 0, kMaxInt64));
    l.lease_duration_ms = int_field(j, "lease_duration_ms", 0, kMaxLeaseMs, 0);
    l.acquired_unix_ms = int_field(j, "acquired_unix_ms", 0, kMaxUnixMs, 0);
    l.transitions = static_cast<uint64_t>(int_field(j, "transitions", 0, kMaxInt64, 0));
    l.pid = static_cast<int>(int_field(j, "pid", 0, std::numeric_limits<int>::max(), 0));
    return l;
  } catch (const std::exception& e) {
    return corrupt(path, e.what());
  }
}

Result<uint64_t> next_token(const std::string& path, uint64_t stored) {
  if (stored >= kMaxFencingToken) return token_exhausted(path, stored);
  return stored + 1;
}

Status write_lease(const std::string& path, const StoredLease& l) {
  json j = {{"holder", l.holder},
            {"token", l.token},
            {"lease_duration_ms", l.lease_duration_ms},
            {"acquired_unix_ms", l.acquired_unix_ms},
            {"transitions", l.transitions},
            {"pid", l.pid}};
  return write_atomic(path, j.dump() + "\n");
}

Result<std::optional<RunRecord>> read_run(const std::string& path) {
  auto data = slurp(path);
  if (!data.ok()) return data.status;
  if (!data.value) return std::optional<RunRecord>();
  auto r = parse_run(path, *data.value);
  if (!r.ok()) return r.status;
  return std::optional<RunRecord>(r.value);
}

Result<RunRecord> parse_run(const std::string& path, const std::string& text) {
  try {
    const json j = parse_object(text);
    RunRecord r;
    r.job_key = string_field(j, "job_key", std::nullopt);
    if (Status s = validate_job_key(r.job_key); !s.ok())
      throw BadRecord("the field 'job_key' is not a valid job key: " + s.message);
    const std::string st = string_field(j, "status", std::nullopt);
    if (st == "finished")
      r.status = RunStatus::finished;
    else if (st == "failed")
      r.status = RunStatus::failed;
    else if (st == "started")
      r.status = RunStatus::started;
    else
      throw BadRecord("the field 'status' is " + shown_value(j.at("status")) +
                      ", not started, finished or failed");
    r.token = static_cast<uint64_t>(int_field(j, "token", 1, kMaxInt64));
    r.holder = holder_field(j, std::string());
    r.started_unix_ms = int_field(j, "started_unix_ms", 0, kMaxUnixMs, 0);
    r.finished_unix_ms = int_field(j, "finished_unix_ms", 0, kMaxUnixMs, 0);
    r.detail = string_field(j, "detail", std::string());
    return r;
  } catch (const std::exception& e) {
    return corrupt(path, e.what());
  }
}

Status write_run(const std::string& path, const RunRecord& r) {
  json j = {{"job_key", r.job_key},
            {"status", run_status_name(r.status)},
            {"token", r.token},
            {"holder", r.holder},
            {"started_unix_ms", r.started_unix_ms},
            {"finished_unix_ms", r.finished_unix_ms},
            {"detail", r.detail}};
  return write_atomic(path, j.dump() + "\n");
}

std::string encode_file_name(const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (!out.empty() && out[0] == '.') out = "%2E" + out.substr(1);
  return out;
}

Status ensure_writable_dir(const std::string& dir) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    partial = dir.substr(0, pos);
    if (partial.empty()) continue;
    if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
      return make_error(errno == EACCES ? Errc::permission_denied : Errc::backend,
                        "cannot create the directory " + partial + ": " + errno_text(errno));
    }
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return make_error(Errc::backend, "cannot stat " + dir + ": " + errno_text(errno));
  if (!S_ISDIR(st.st_mode))
    return make_error(Errc::bad_url, dir +
                                         " exists but is not a directory; the file backend "
                                         "needs a directory (file:///path/to/dir)");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return make_error(
        Errc::permission_denied,
        "the directory " + dir + " is not writable by this process: " + errno_text(errno));
  return {};
}

Result<std::vector<std::string>> list_run_files(const std::string& dir,
                                                const std::string& name_prefix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;  // no run recorded yet
    return make_error(Errc::backend, "cannot list " + dir + ": " + errno_text(errno));
  }
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0 &&
        name.compare(0, name_prefix.size(), name_prefix) == 0)
      out.push_back(name);
  }
  ::closedir(d);
  return out;
}

}  // namespace tenure::backends::file
