// The run-once ledger as a table (default tenure_runs), one row per (election, job key). Claim and
// finish are single statements that share-lock the lease row and check the fencing token.
#pragma once

#include <memory>

#include "postgres/pg_sql.hpp"
#include "tenure/ledger.hpp"

namespace tenure::backends::pg {

struct SessionCtx;

class PgLedger final : public Ledger {
 public:
  explicit PgLedger(std::shared_ptr<SessionCtx> sc);
  void claim(const std::string& job_key, uint64_t token, const std::string& holder,
             UnfinishedPolicy policy, Completion<ClaimResult> done) override;
  void finish(const std::string& job_key, uint64_t token, bool success, const std::string& detail,
              Completion<RunRecord> done) override;
  void read(const std::string& job_key, Completion<RunRecord> done) override;
  void list(const std::string& prefix, size_t limit,
            Completion<std::vector<RunRecord>> done) override;

 private:
  std::shared_ptr<SessionCtx> sc_;
  LedgerSql sql_;
};

}  // namespace tenure::backends::pg
