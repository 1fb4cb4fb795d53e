// Ledger calls for run_once. They run on the strand, which checks leadership, so a claim can
// never carry a stale token.
#include "elector_core.hpp"

namespace tenure {

void ElectorCore::ledger_claim(const std::string& key, UnfinishedPolicy policy,
                               Completion<ClaimResult> done) {
  exec->post([self = shared_from_this(), key, policy, done = std::move(done)]() mutable {
    Ledger* ledger = self->caps.ledger ? self->backend->ledger() : nullptr;
    if (!ledger) {
      done(make_error(Errc::bad_state, "this backend has no run-once ledger"));
      return;
    }
    if (self->phase_ != Phase::leader) {
      done(make_error(Errc::not_leader, "run_once('" + key + "') needs leadership of election '" +
                                            self->opts.election + "'; this elector does not lead"));
      return;
    }
    uint64_t token = self->token_;
    ledger->claim(key, token, self->opts.identity, policy,
                  [token, done = std::move(done)](Result<ClaimResult> r) {
                    if (r.ok()) r.value.token = token;
                    done(std::move(r));
                  });
  });
}

void ElectorCore::ledger_finish(const std::string& key, uint64_t token, bool ok,
                                const std::string& detail, Completion<RunRecord> done) {
  exec->post([self = shared_from_this(), key, token, ok, detail, done = std::move(done)]() mutable {
    Ledger* ledger = self->caps.ledger ? self->backend->ledger() : nullptr;
    if (!ledger || self->phase_ == Phase::stopped) {
      done(make_error(Errc::bad_state, "the elector was stopped before the run could be recorded"));
      return;
    }
    ledger->finish(key, token, ok, detail, std::move(done));
  });
}

void ElectorCore::ledger_read(const std::string& key, Completion<RunRecord> done) {
  exec->post([self = shared_from_this(), key, done = std::move(done)]() mutable {
    Ledger* ledger = self->caps.ledger ? self->backend->ledger() : nullptr;
    if (!ledger || self->phase_ == Phase::stopped) {
      done(make_error(Errc::bad_state, "no ledger available (backend without one, or stopped)"));
      return;
    }
    ledger->read(key, std::move(done));
  });
}

void ElectorCore::ledger_list(const std::string& prefix, size_t limit,
                              Completion<std::vector<RunRecord>> done) {
  exec->post([self = shared_from_this(), prefix, limit, done = std::move(done)]() mutable {
    Ledger* ledger = self->caps.ledger ? self->backend->ledger() : nullptr;
    if (!ledger || self->phase_ == Phase::stopped) {
      done(make_error(Errc::bad_state, "no ledger available (backend without one, or stopped)"));
      return;
    }
    ledger->list(prefix, limit, std::move(done));
  });
}

}  // namespace tenure
