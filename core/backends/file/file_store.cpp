#include "file_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

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
  try {
    json j = json::parse(*data.value);
    StoredLease l;
    l.holder = j.at("holder").get<std::string>();
    l.token = j.at("token").get<uint64_t>();
    l.lease_duration_ms = j.value("lease_duration_ms", int64_t{0});
    l.acquired_unix_ms = j.value("acquired_unix_ms", int64_t{0});
    l.transitions = j.value("transitions", uint64_t{0});
    l.pid = j.value("pid", 0);
    return std::optional<StoredLease>(l);
  } catch (const std::exception& e) {
    return corrupt(path, e.what());
  }
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
  try {
    json j = json::parse(*data.value);
    RunRecord r;
    r.job_key = j.at("job_key").get<std::string>();
    std::string st = j.at("status").get<std::string>();
    r.status = st == "finished"  ? RunStatus::finished
               : st == "failed"  ? RunStatus::failed
               : st == "started" ? RunStatus::started
                                 : RunStatus::none;
    r.token = j.at("token").get<uint64_t>();
    r.holder = j.value("holder", std::string());
    r.started_unix_ms = j.value("started_unix_ms", int64_t{0});
    r.finished_unix_ms = j.value("finished_unix_ms", int64_t{0});
    r.detail = j.value("detail", std::string());
    return std::optional<RunRecord>(r);
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
