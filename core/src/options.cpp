#include "tenure/options.hpp"

#include "tenure/option_values.hpp"

#include <unistd.h>

#include <atomic>
#include <random>

namespace tenure {

namespace {

std::string ms(milliseconds d) { return std::to_string(d.count()) + " ms"; }

Result<int64_t> parse_ms(const std::string& key, const std::string& value) {
  auto v = parse_int(value);
  if (!v)
    return make_error(Errc::invalid_argument, "option " + key +
                                                  " must be a whole number of milliseconds, got '" +
                                                  printable_value(value) + "'");
  return *v;
}

Result<bool> parse_bool_option(const std::string& key, const std::string& value) {
  if (auto b = parse_bool(value)) return *b;
  return make_error(Errc::invalid_argument, "option " + key + " must be true or false, got '" +
                                                printable_value(value) + "'");
}

}  // namespace

Status validate_timing(const Timing& t) {
  auto fail = [&](const std::string& why) {
    return make_error(Errc::invalid_timing,
                      why + " (lease_duration=" + ms(t.lease_duration) + ", renew_deadline=" +
                          ms(t.renew_deadline) + ", retry_period=" + ms(t.retry_period) +
                          "); the rule is lease_duration > renew_deadline > retry_period > 0, "
                          "for example 15000/10000/2000");
  };
  if (t.retry_period.count() <= 0) return fail("retry_period must be positive");
  if (t.renew_deadline <= t.retry_period)
    return fail(
        "renew_deadline must be greater than retry_period, so a leader can retry a "
        "failed renewal before it must step down");
  if (t.lease_duration <= t.renew_deadline)
    return fail(
        "lease_duration must be greater than renew_deadline, so a leader steps down "
        "before its lease can expire and another can take it");
  if (t.lease_duration.count() > 24LL * 3600 * 1000)
    return fail("lease_duration must be at most 24 hours");
  return {};
}

Status validate_election_name(const std::string& name) {
  if (name.empty())
    return make_error(Errc::invalid_name,
                      "the election name is empty: give a name such as 'nightly-report'");
  if (name.size() > 128)
    return make_error(Errc::invalid_name, "the election name is " + std::to_string(name.size()) +
                                              " characters long; the limit is 128");
  if (name[0] == '.')
    return make_error(Errc::invalid_name,
                      "the election name '" + name + "' must not start with '.'");
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-')) {
      return make_error(Errc::invalid_name,
                        "the election name '" + name + "' contains an illegal character (code " +
                            std::to_string(c) + "); use letters, digits, '.', '_' and '-'");
    }
  }
  return {};
}

Status validate_identity(const std::string& identity) {
  if (identity.empty())
    return make_error(Errc::invalid_name,
                      "the identity is empty: leave it unset for a default "
                      "(host-pid-random) or give one such as 'web-1'");
  if (identity.size() > 253)
    return make_error(Errc::invalid_name, "the identity is " + std::to_string(identity.size()) +
                                              " characters long; the limit is 253");
  for (unsigned char c : identity) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      return make_error(Errc::invalid_name,
                        "the identity contains an illegal character (code " + std::to_string(c) +
                            "); use printable ASCII without spaces, quotes or backslashes");
    }
  }
  return {};
}

std::string default_identity() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == 0)
    std::snprintf(host, sizeof host, "host");
  static std::atomic<uint32_t> seq{0};
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "-%d-%04x%02x", static_cast<int>(getpid()), rd() & 0xffff,
                static_cast<unsigned>(seq.fetch_add(1) & 0xff));
  std::string id = std::string(host) + buf;
  for (char& c : id)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '\\') c = '_';
  return id;
}

Status set_option(ElectorOptions& o, const std::string& key, const std::string& value) {
  if (key == "backend") {
    o.backend_url = value;
    return {};
  }
  if (key == "election") {
    o.election = value;
    return {};
  }
  if (key == "identity") {
    o.identity = value;
    return {};
  }
  auto set_ms = [&](milliseconds& field) -> Status {
    auto v = parse_ms(key, value);
    if (!v.ok()) return v.status;
    field = milliseconds(v.value);
    return {};
  };
  if (key == "lease_duration_ms") return set_ms(o.timing.lease_duration);
  if (key == "renew_deadline_ms") return set_ms(o.timing.renew_deadline);
  if (key == "retry_period_ms") return set_ms(o.timing.retry_period);
  if (key == "stop_timeout_ms") return set_ms(o.stop_timeout);
  if (key == "observe_only") {
    auto v = parse_bool_option(key, value);
    if (!v.ok()) return v.status;
    o.observe_only = v.value;
    return {};
  }
  if (key.rfind("backend.", 0) == 0 && key.size() > 8) {
    o.backend_options[key.substr(8)] = value;
    return {};
  }
  return make_error(Errc::unknown_option,
                    "unknown option '" + key +
                        "'; known: backend, election, identity, "
                        "lease_duration_ms, renew_deadline_ms, retry_period_ms, observe_only, "
                        "stop_timeout_ms, backend.<key>");
}

}  // namespace tenure
