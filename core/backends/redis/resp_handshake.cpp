#include "redis/resp_handshake.hpp"

#include <cstdlib>

namespace tenure::backends::redis {

Handshake plan_handshake(const ConnConfig& cfg, bool command_mode) {
  Handshake h;
  auto add = [&h](HandshakeStep step, const std::vector<std::string>& argv) {
    h.steps.push_back(step);
    h.wire += format_command(argv);
  };
  if (cfg.has_password) {
    if (cfg.user.empty())
      add(HandshakeStep::auth, {"AUTH", cfg.password});
    else
      add(HandshakeStep::auth, {"AUTH", cfg.user, cfg.password});
  }
  if (cfg.db != 0) add(HandshakeStep::select, {"SELECT", std::to_string(cfg.db)});
  if (command_mode) add(HandshakeStep::info, {"INFO", "server"});
  add(HandshakeStep::ping, {"PING"});
  return h;
}

namespace {

Status refused(HandshakeStep step, const Reply& r, const ConnConfig& cfg) {
  const std::string who = "Redis at " + cfg.display;
  const std::string user = cfg.user.empty() ? "default" : cfg.user;
  if (r.starts_with("NOAUTH"))
    return make_error(Errc::auth_failed,
                      who +
                          " requires a password (NOAUTH): put it in the URL, "
                          "redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port");
  if (r.starts_with("WRONGPASS"))
    return make_error(Errc::auth_failed,
                      who + " refused the password for user '" + user +
                          "' (WRONGPASS): check the user and password in the URL, and that the "
                          "user is enabled (ACL SETUSER " +
                          user + " on)");
  if (step == HandshakeStep::info) return {};  // INFO refused or renamed: no restart guard
  if (r.starts_with("NOPERM"))
    return make_error(Errc::permission_denied,
                      who + ": user '" + user + "' may not run the handshake (" + r.str +
                          "); grant it: ACL SETUSER " + user + " +ping +select +info");
  switch (step) {
    case HandshakeStep::auth:
      if (r.str.find("without any password configured") != std::string::npos)
        return make_error(Errc::auth_failed,
                          who +
                              " has no password set, but the URL carries one: remove the "
                              "password from the URL or configure requirepass on the server");
      return make_error(Errc::auth_failed, who + " refused AUTH: " + r.str +
                                               " (Redis before 6 knows no users: use "
                                               "redis://:PASSWORD@host:port)");
    case HandshakeStep::select:
      return make_error(Errc::backend, who + " refused SELECT " + std::to_string(cfg.db) + ": " +
                                           r.str +
                                           "; use a database number the server has "
                                           "(the /DB part of the URL)");
    default:
      return make_error(Errc::backend, who + " answered PING with an error: " + r.str);
  }
}

}  // namespace

HandshakeReply check_handshake_reply(HandshakeStep step, const Reply& r, const ConnConfig& cfg) {
  HandshakeReply out;
  if (r.is_error()) {
    out.error = refused(step, r, cfg);
    return out;
  }
  if (step == HandshakeStep::info) {
    const std::string& s = r.str;
    auto p = s.find("uptime_in_seconds:");
    auto q = s.find("run_id:");
    if (p != std::string::npos && q != std::string::npos) {
      out.has_info = true;
      out.uptime_s = std::atoll(s.c_str() + p + 18);
      out.run_id = s.substr(q + 7, s.find_first_of("\r\n", q) - (q + 7));
    }
  } else if (step == HandshakeStep::ping && !(r.type == Reply::Type::status && r.str == "PONG")) {
    out.error = make_error(Errc::backend,
                           "Redis at " + cfg.display + " does not answer PING like Redis (got '" +
                               r.as_string().substr(0, 60) + "'); check the port in the URL");
  }
  return out;
}

}  // namespace tenure::backends::redis
