// Checks that a backend answers an option mistake with the expected code, given either way an
// option can come: in the URL query and as a backend.<key> elector option.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tenure/elector.hpp"

namespace tenure::testing {

struct OptionCase {
  std::string base;  // backend URL without a query
  std::string key, value;
  Errc want;
  std::string needle;  // the message must contain it
};

// The status of Elector::create for backend_url with these backend.<key> options.
inline Status create_status(const std::string& backend_url,
                            std::map<std::string, std::string> backend_opts) {
  ElectorOptions o;
  o.backend_url = backend_url;
  o.election = "opts";
  o.identity = "a";
  o.backend_options = std::move(backend_opts);
  return Elector::create(o).status;
}

// The case twice: as a URL query key and as a backend.<key> elector option.
inline void expect_both_ways(const OptionCase& c) {
  const Status q = create_status(c.base + "?" + c.key + "=" + c.value, {});
  EXPECT_EQ(q.code, c.want) << c.base << "?" << c.key << "=" << c.value << ": " << q.message;
  EXPECT_NE(q.message.find(c.needle), std::string::npos) << q.message;
  const Status b = create_status(c.base, {{c.key, c.value}});
  EXPECT_EQ(b.code, c.want) << c.base << " backend." << c.key << "=" << c.value << ": "
                            << b.message;
  EXPECT_NE(b.message.find(c.needle), std::string::npos) << b.message;
}

}  // namespace tenure::testing
