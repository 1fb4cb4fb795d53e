// A backend's options: its URL query and the elector's backend.<key> options (which win), read
// through one reader so every backend answers the same mistake with the same code and wording:
//
//   an option the backend does not know       Errc::unknown_option, naming the known ones
//   a value that does not parse (not a number,  Errc::invalid_argument
//   not true/false, not one of the choices)
//   a value out of its range                  Errc::invalid_argument, naming the range
//   a backend that needs the Asio runtime      Errc::unsupported_backend
//   on a manual executor
//
// The URL itself (no host, a bad path) stays Errc::bad_url, and a timeout that does not fit the
// timing stays Errc::invalid_timing.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tenure/backend.hpp"
#include "tenure/errors.hpp"
#include "tenure/option_values.hpp"
#include "tenure/url.hpp"

namespace tenure {

class BackendOptions {
 public:
  // name: the backend as messages call it ("Redis", "PostgreSQL", "file", "memory").
  BackendOptions(std::string name, const Url& url,
                 const std::map<std::string, std::string>& options);
  BackendOptions(std::string name, const BackendContext& ctx);

  // Each read declares `key` an option of this backend. When the key was not given, `out` keeps
  // its default. A bad value is recorded (the first mistake wins) and reported by finish().
  void read(const std::string& key, std::string& out);
  // A string that must satisfy valid(); rule says what a valid one looks like.
  void read(const std::string& key, std::string& out, bool (*valid)(const std::string&),
            const std::string& rule);
  void read_bool(const std::string& key, bool& out);
  void read_int(const std::string& key, int64_t& out, int64_t min, int64_t max);
  void read_ms(const std::string& key, std::chrono::milliseconds& out,
               std::chrono::milliseconds min, std::chrono::milliseconds max);
  template <class T>
  void read_enum(const std::string& key, T& out,
                 std::initializer_list<std::pair<std::string_view, T>> choices) {
    std::string names;
    for (const auto& c : choices) names += (names.empty() ? "" : ", ") + std::string(c.first);
    const std::string* v = lookup(key);
    if (v == nullptr) return;
    for (const auto& c : choices)
      if (*v == c.first) {
        out = c.second;
        return;
      }
    malformed(key, *v, "one of " + names);
  }

  // Hands a given key to another consumer (PostgreSQL passes libpq's keywords to libpq) and
  // counts it as known. nullopt when it was not given.
  std::optional<std::string> take(const std::string& key);
  // Every key given, read or not, with its value.
  const std::map<std::string, std::string>& given() const { return given_; }

  // The backend's own check of a value failed (a file that cannot be read, two options that
  // exclude each other): recorded like a bad value. Keeps the first mistake.
  void fail(Status s);
  // Records "option KEY='VALUE' is not valid: RULE" (Errc::invalid_argument).
  void malformed(const std::string& key, const std::string& value, const std::string& rule);
  // Records "option KEY=VALUE is out of range: RULE" (Errc::invalid_argument).
  void out_of_range(const std::string& key, const std::string& value, const std::string& rule);

  // The first recorded mistake; else an option given that no read asked for and no take()
  // claimed (Errc::unknown_option). others: keys the backend knows besides the ones it read,
  // for the message ("libpq's connection parameters (sslmode, ...)").
  Status finish(const std::string& others = "") const;

 private:
  const std::string* lookup(const std::string& key);  // marks key known; null when not given

  std::string name_;
  std::map<std::string, std::string> given_;
  std::vector<std::string> known_;  // in the order the backend read them, for messages
  Status first_error_;
};

// "the NAME backend needs the Asio runtime" (Errc::unsupported_backend) when ctx has no Asio
// executor (an elector on a ManualExecutor); ok otherwise.
Status require_asio_runtime(const BackendContext& ctx, const std::string& name);

}  // namespace tenure
