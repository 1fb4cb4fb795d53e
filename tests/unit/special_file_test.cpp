// A TLS file option naming a FIFO (or a directory, a device) is refused at creation, instead of
// blocking tenure_elector_new forever in open() (issue 14, item 4).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "tenure/elector.hpp"
#include "tenure/local_file.hpp"

namespace tenure {
namespace {

std::string make_fifo() {
  char tmpl[] = "/tmp/tenure-fifo-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/ca.pem";
  EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
  return path;
}

// Elector::create on a thread of its own: a hang fails the test instead of the whole run.
Status create_within(const std::string& url, std::chrono::seconds limit) {
  auto result = std::make_shared<std::promise<Status>>();
  auto fut = result->get_future();
  std::thread([url, result] {
    ElectorOptions o;
    o.backend_url = url;
    o.election = "fifo";
    auto e = Elector::create(o);
    result->set_value(e.status);
  }).detach();
  if (fut.wait_for(limit) != std::future_status::ready)
    return make_error(Errc::timeout, "Elector::create blocked for " +
                                         std::to_string(limit.count()) + " s on " + url);
  return fut.get();
}

TEST(SpecialFile, TlsOptionNamingAFifoIsRefused) {
  const std::string fifo = make_fifo();
  for (const std::string& url :
       {"rediss://127.0.0.1:1?tls_ca=" + fifo,
        "rediss://127.0.0.1:1?tls_cert=" + fifo + "&tls_key=" + fifo,
        "postgres://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=" + fifo,
        "postgres://u@127.0.0.1:1/db?sslmode=require&sslkey=" + fifo}) {
    Status s = create_within(url, std::chrono::seconds(5));
    EXPECT_EQ(s.code, Errc::invalid_argument) << url << ": " << s.message;
    EXPECT_NE(s.message.find("FIFO"), std::string::npos) << s.message;
    EXPECT_NE(s.message.find(fifo), std::string::npos) << s.message;
  }
}

TEST(SpecialFile, ReadRegularFileRefusesAnythingElse) {
  EXPECT_EQ(read_regular_file("tls_ca", make_fifo()).status.code, Errc::invalid_argument);
  EXPECT_NE(read_regular_file("tls_ca", "/tmp").status.message.find("directory"),
            std::string::npos);
  EXPECT_NE(read_regular_file("tls_ca", "/dev/zero").status.message.find("device"),
            std::string::npos);
  EXPECT_EQ(read_regular_file("tls_ca", "/nonexistent/x").status.code, Errc::invalid_argument);
  const std::string big = "/tmp/tenure-big-" + std::to_string(::getpid());
  FILE* f = std::fopen(big.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("pem", f);
  std::fclose(f);
  auto ok = read_regular_file("tls_ca", big);
  ASSERT_TRUE(ok.ok()) << ok.status.message;
  EXPECT_EQ(ok.value, "pem");
  EXPECT_FALSE(read_regular_file("tls_ca", big, 2).ok()) << "larger than the limit";
  ::unlink(big.c_str());
}

}  // namespace
}  // namespace tenure
