#include "postgres/pg_connection.hpp"

#include <cstdlib>

namespace tenure::backends::pg {

bool PgResult::is_null(int row, int col) const {
  return !r_ || row >= rows() || col >= cols() || PQgetisnull(r_.get(), row, col) != 0;
}

std::string PgResult::text(int row, int col) const {
  if (is_null(row, col)) return {};
  return std::string(PQgetvalue(r_.get(), row, col),
                     static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

int64_t PgResult::i64(int row, int col) const {
  if (is_null(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

bool PgResult::boolean(int row, int col) const {
  if (is_null(row, col)) return false;
  return PQgetvalue(r_.get(), row, col)[0] == 't';
}

}  // namespace tenure::backends::pg
