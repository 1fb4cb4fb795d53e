#include "write_log.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace tenure::faults {

std::vector<Write> read_write_log(const std::string& path) {
  std::vector<Write> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    Write w;
    if (ls >> w.ns >> w.identity >> w.token) out.push_back(std::move(w));
  }
  // Each writer stamps the time just before its write(2): lines of two writers can land in the
  // file a few microseconds out of time order.
  std::stable_sort(out.begin(), out.end(),
                   [](const Write& a, const Write& b) { return a.ns < b.ns; });
  return out;
}

LogCheck check_writes(const std::vector<Write>& sorted) {
  LogCheck c;
  c.writes = sorted.size();
  uint64_t max_token = 0;
  std::vector<uint64_t> start_order;
  for (const Write& w : sorted) {
    auto [it, fresh] = c.terms.try_emplace(w.token);
    Term& t = it->second;
    if (fresh) {
      t.token = w.token;
      t.first_ns = w.ns;
      start_order.push_back(w.token);
    }
    t.last_ns = w.ns;
    ++t.writes;
    t.identities.insert(w.identity);
    if (w.token < max_token) c.stale.push_back(w);
    max_token = std::max(max_token, w.token);
  }
  for (auto& [token, t] : c.terms)
    if (t.identities.size() > 1) c.shared_tokens.push_back(token);
  uint64_t seen = 0;
  for (uint64_t token : start_order) {
    if (token < seen) ++c.regressions;
    seen = std::max(seen, token);
  }
  for (auto a = c.terms.begin(); a != c.terms.end(); ++a)
    for (auto b = std::next(a); b != c.terms.end(); ++b) {
      int64_t ov = a->second.last_ns - b->second.first_ns;
      if (ov <= 0) continue;
      ++c.overlaps;
      c.max_overlap_ms = std::max(c.max_overlap_ms, ov / 1e6);
    }
  return c;
}

}  // namespace tenure::faults
