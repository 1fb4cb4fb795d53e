#include "tenure/net/http_auth.hpp"

#include <sys/stat.h>

#include <vector>

#include "tenure/local_file.hpp"

namespace tenure::net {

namespace {

class HeaderToken : public HttpAuth {
 public:
  HeaderToken(std::string h, std::string v) : header_(std::move(h)), value_(std::move(v)) {}
  Status apply(HttpHeaders& headers) override {
    headers.emplace_back(header_, value_);
    return {};
  }

 private:
  std::string header_, value_;
};

// Re-read when the file changes: projected service-account tokens are replaced in place (an
// atomic rename of a symlinked directory), so the identity or the modification time changes.
class BearerTokenFile : public HttpAuth {
 public:
  BearerTokenFile(std::string path, std::string option)
      : path_(std::move(path)), option_(std::move(option)) {}

  Status apply(HttpHeaders& headers) override {
    std::lock_guard<std::mutex> lk(mu_);
    if (Status s = reload(false); !s.ok()) return s;
    headers.emplace_back("Authorization", "Bearer " + token_);
    return {};
  }
  // After a 401: worth one more try only when the file now holds another token.
  bool refresh(std::function<void(Status)> done) override {
    std::lock_guard<std::mutex> lk(mu_);
    const std::string old = token_;
    Status s = reload(true);
    if (!s.ok() || token_ == old) return false;
    done({});
    return true;
  }

 private:
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };

  Status reload(bool force) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0)
      return make_error(Errc::auth_failed, "cannot read the token file '" + path_ + "' (option " +
                                               option_ +
                                               "): it does not exist or is not accessible");
    const Stamp now{st.st_dev, st.st_ino, st.st_size,
                    int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
    if (!force && loaded_ && now == stamp_) return {};
    auto text = read_regular_file(option_, path_, 64 * 1024);
    if (!text.ok()) return text.status;
    std::string t = std::move(text.value);
    const auto ws = " \t\r\n";
    t.erase(t.find_last_not_of(ws) + 1);
    t.erase(0, t.find_first_not_of(ws) == std::string::npos ? t.size() : t.find_first_not_of(ws));
    if (t.empty())
      return make_error(Errc::auth_failed,
                        "the token file '" + path_ + "' (option " + option_ + ") is empty");
    token_ = std::move(t);
    stamp_ = now;
    loaded_ = true;
    return {};
  }

  std::mutex mu_;
  std::string path_, option_;
  std::string token_;
  Stamp stamp_;
  bool loaded_ = false;
};

class RefreshingToken : public HttpAuth, public std::enable_shared_from_this<RefreshingToken> {
 public:
  RefreshingToken(std::string h, TokenFetch f) : header_(std::move(h)), fetch_(std::move(f)) {}

  Status apply(HttpHeaders& headers) override {
    std::lock_guard<std::mutex> lk(mu_);
    if (!token_.empty()) headers.emplace_back(header_, token_);
    return {};
  }
  bool needs_refresh() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return token_.empty();
  }
  bool refresh(std::function<void(Status)> done) override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      waiters_.push_back(std::move(done));
      if (fetching_) return true;
      fetching_ = true;
    }
    std::weak_ptr<RefreshingToken> weak = shared_from_this();
    fetch_([weak](Result<std::string> r) {
      auto self = weak.lock();
      if (!self) return;
      std::vector<std::function<void(Status)>> waiters;
      {
        std::lock_guard<std::mutex> lk(self->mu_);
        self->fetching_ = false;
        if (r.ok()) self->token_ = std::move(r.value);
        waiters.swap(self->waiters_);
      }
      Status s =
          r.ok() && !self->needs_refresh()
              ? Status{}
              : (r.ok() ? make_error(Errc::auth_failed, "the server issued an empty auth token")
                        : r.status);
      for (auto& w : waiters) w(s);
    });
    return true;
  }

 private:
  mutable std::mutex mu_;
  std::string header_;
  TokenFetch fetch_;
  std::string token_;
  bool fetching_ = false;
  std::vector<std::function<void(Status)>> waiters_;
};

}  // namespace

std::shared_ptr<HttpAuth> header_token(std::string header, std::string value) {
  return std::make_shared<HeaderToken>(std::move(header), std::move(value));
}

std::shared_ptr<HttpAuth> bearer_token_file(std::string path, std::string option) {
  return std::make_shared<BearerTokenFile>(std::move(path), std::move(option));
}

std::shared_ptr<HttpAuth> refreshing_token(std::string header, TokenFetch fetch) {
  return std::make_shared<RefreshingToken>(std::move(header), std::move(fetch));
}

}  // namespace tenure::net
