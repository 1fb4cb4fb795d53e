#include "tenure/backend_options.hpp"

#include <algorithm>

namespace tenure {

namespace {

std::string where(const std::string& key) {
  return " (in the URL query or as elector option backend." + key + ")";
}

}  // namespace

BackendOptions::BackendOptions(std::string name, const Url& url,
                               const std::map<std::string, std::string>& options)
    : name_(std::move(name)), given_(url.query) {
  for (const auto& [k, v] : options) given_[k] = v;  // backend.<key> wins over the URL
}

BackendOptions::BackendOptions(std::string name, const BackendContext& ctx)
    : BackendOptions(std::move(name), ctx.url, ctx.options) {}

const std::string* BackendOptions::lookup(const std::string& key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  auto it = given_.find(key);
  return it == given_.end() ? nullptr : &it->second;
}

void BackendOptions::read(const std::string& key, std::string& out) {
  if (const std::string* v = lookup(key)) out = *v;
}

void BackendOptions::read(const std::string& key, std::string& out,
                          bool (*valid)(const std::string&), const std::string& rule) {
  const std::string* v = lookup(key);
  if (v == nullptr) return;
  if (!valid(*v)) return malformed(key, *v, rule);
  out = *v;
}

void BackendOptions::read_bool(const std::string& key, bool& out) {
  const std::string* v = lookup(key);
  if (v == nullptr) return;
  if (auto b = parse_bool(*v)) {
    out = *b;
    return;
  }
  malformed(key, *v, "true or false (also 1/0, yes/no, on/off)");
}

void BackendOptions::read_int(const std::string& key, int64_t& out, int64_t min, int64_t max) {
  const std::string* v = lookup(key);
  if (v == nullptr) return;
  const std::string range = std::to_string(min) + " to " + std::to_string(max);
  auto n = parse_int(*v);
  if (!n) return malformed(key, *v, "a whole number, " + range);
  if (*n < min || *n > max) return out_of_range(key, *v, range);
  out = *n;
}

void BackendOptions::read_ms(const std::string& key, std::chrono::milliseconds& out,
                             std::chrono::milliseconds min, std::chrono::milliseconds max) {
  const std::string* v = lookup(key);
  if (v == nullptr) return;
  const std::string range =
      std::to_string(min.count()) + " to " + std::to_string(max.count()) + " milliseconds";
  auto n = parse_int(*v);
  if (!n) return malformed(key, *v, "a whole number of milliseconds, " + range);
  if (*n < min.count() || *n > max.count()) return out_of_range(key, *v, range);
  out = std::chrono::milliseconds(*n);
}

std::optional<std::string> BackendOptions::take(const std::string& key) {
  const std::string* v = lookup(key);
  if (v == nullptr) return std::nullopt;
  return *v;
}

void BackendOptions::fail(Status s) {
  if (first_error_.ok()) first_error_ = std::move(s);
}

void BackendOptions::malformed(const std::string& key, const std::string& value,
                               const std::string& rule) {
  fail(make_error(Errc::invalid_argument, name_ + " backend option " + key + "='" +
                                              printable_value(value) + "' is not valid: give " +
                                              rule + where(key)));
}

void BackendOptions::out_of_range(const std::string& key, const std::string& value,
                                  const std::string& rule) {
  fail(make_error(Errc::invalid_argument, name_ + " backend option " + key + "=" +
                                              printable_value(value) + " is out of range: give " +
                                              rule + where(key)));
}

Status BackendOptions::finish(const std::string& others) const {
  if (!first_error_.ok()) return first_error_;
  for (const auto& [key, value] : given_) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string known;
    for (const auto& k : known_) known += (known.empty() ? "" : ", ") + k;
    if (!others.empty()) known += (known.empty() ? "" : "; and ") + others;
    const std::string what = "unknown " + name_ + " backend option '" + printable_value(key) + "'" +
                             where(printable_value(key));
    if (known.empty())
      return make_error(Errc::unknown_option,
                        what + ": the " + name_ + " backend takes no options");
    return make_error(Errc::unknown_option, what + "; known: " + known);
  }
  return {};
}

Status require_asio_runtime(const BackendContext& ctx, const std::string& name) {
  if (ctx.io) return {};
  return make_error(Errc::unsupported_backend,
                    "the " + name +
                        " backend needs the Asio runtime: create the elector with "
                        "Elector::create, not on a manual executor");
}

}  // namespace tenure
