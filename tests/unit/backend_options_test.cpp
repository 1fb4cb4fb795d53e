// The backend options toolkit: value parsers, the reader, and the codes the file and memory
// backends give (the Redis and PostgreSQL codes: backend_option_errors_test.cpp).
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>

#include "tenure/backend_options.hpp"
#include "tenure/elector.hpp"

namespace tenure {
namespace {

using namespace std::chrono_literals;

TEST(OptionValues, ParseBool) {
  for (const char* t : {"1", "true", "yes", "on"}) EXPECT_EQ(parse_bool(t), true) << t;
  for (const char* f : {"0", "false", "no", "off"}) EXPECT_EQ(parse_bool(f), false) << f;
  for (const char* bad : {"", "TRUE", "y", "2", " true", "true "})
    EXPECT_FALSE(parse_bool(bad).has_value()) << bad;
}

TEST(OptionValues, ParseInt) {
  EXPECT_EQ(parse_int("0"), 0);
  EXPECT_EQ(parse_int("+42"), 42);
  EXPECT_EQ(parse_int("-7"), -7);
  EXPECT_EQ(parse_int("9223372036854775807"), INT64_MAX);
  for (const char* bad :
       {"", "+", "-", "++1", "1.5", "12a", " 1", "1 ", "0x10", "99999999999999999999"})
    EXPECT_FALSE(parse_int(bad).has_value()) << bad;
}

TEST(OptionValues, PrintableValueEscapesAndTruncates) {
  EXPECT_EQ(printable_value("a\x1b[31mb"), "a\\x1b[31mb");
  EXPECT_EQ(printable_value(std::string(100, 'x')), std::string(64, 'x') + "...");
}

Url url(const std::string& text) {
  auto u = parse_url(text);
  EXPECT_TRUE(u.ok()) << u.status.message;
  return u.value;
}

TEST(BackendOptions, ElectorOptionsWinOverTheUrlQuery) {
  BackendOptions o("Test", url("x://h/?a=url&b=url"), {{"b", "option"}});
  std::string a, b;
  o.read("a", a);
  o.read("b", b);
  EXPECT_TRUE(o.finish().ok());
  EXPECT_EQ(a, "url");
  EXPECT_EQ(b, "option");
}

TEST(BackendOptions, AbsentKeysKeepTheirDefaults) {
  BackendOptions o("Test", url("x://h/"), {});
  bool flag = true;
  int64_t n = 5;
  auto ms = 30ms;
  int mode = 2;
  o.read_bool("flag", flag);
  o.read_int("n", n, 0, 10);
  o.read_ms("ms", ms, 0ms, 100ms);
  o.read_enum("mode", mode, {{"one", 1}, {"two", 2}});
  EXPECT_TRUE(o.finish().ok());
  EXPECT_TRUE(flag);
  EXPECT_EQ(n, 5);
  EXPECT_EQ(ms, 30ms);
  EXPECT_EQ(mode, 2);
}

TEST(BackendOptions, OneCodePerMistake) {
  auto check = [](std::map<std::string, std::string> given, Errc want, const char* needle) {
    BackendOptions o("Test", url("x://h/"), given);
    bool flag = false;
    int64_t n = 0;
    auto ms = 0ms;
    int mode = 0;
    o.read_bool("flag", flag);
    o.read_int("n", n, 1, 10);
    o.read_ms("ms", ms, 1ms, 100ms);
    o.read_enum("mode", mode, {{"one", 1}, {"two", 2}});
    Status s = o.finish();
    EXPECT_EQ(s.code, want) << s.message;
    EXPECT_NE(s.message.find(needle), std::string::npos) << s.message;
  };
  check({{"nope", "1"}}, Errc::unknown_option, "known: flag, n, ms, mode");
  check({{"flag", "maybe"}}, Errc::invalid_argument, "true or false");
  check({{"n", "ten"}}, Errc::invalid_argument, "not valid");
  check({{"ms", "1.5"}}, Errc::invalid_argument, "whole number of milliseconds");
  check({{"mode", "three"}}, Errc::invalid_argument, "one of one, two");
  check({{"n", "11"}}, Errc::invalid_argument, "out of range: give 1 to 10");
  check({{"ms", "0"}}, Errc::invalid_argument, "out of range: give 1 to 100 milliseconds");
  // A bad value is reported before an unknown key: it names the option the user meant to set.
  check({{"flag", "maybe"}, {"nope", "1"}}, Errc::invalid_argument, "flag");
}

TEST(BackendOptions, TakenKeysAreKnown) {
  BackendOptions o("Test", url("x://h/?sslmode=require&other=1"), {});
  EXPECT_EQ(o.take("sslmode"), "require");
  EXPECT_FALSE(o.take("absent").has_value());
  Status s = o.finish("libpq's parameters");
  EXPECT_EQ(s.code, Errc::unknown_option);
  EXPECT_NE(s.message.find("'other'"), std::string::npos) << s.message;
  EXPECT_NE(s.message.find("libpq's parameters"), std::string::npos) << s.message;
}

ElectorOptions options(const std::string& backend_url) {
  ElectorOptions o;
  o.backend_url = backend_url;
  o.election = "opts";
  o.identity = "a";
  return o;
}

std::string temp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("tenure-opts-" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d.string();
}

// The file and memory backends take no options: any is refused, never silently ignored.
TEST(BackendOptions, FileAndMemoryRefuseEveryOption) {
  const std::string dir = temp_dir();
  for (const std::string& base : {"file://" + dir, std::string("memory://opts")}) {
    auto q = Elector::create(options(base + "?nope=1"));
    ASSERT_FALSE(q.ok()) << base;
    EXPECT_EQ(q.status.code, Errc::unknown_option) << q.status.message;
    EXPECT_NE(q.status.message.find("'nope'"), std::string::npos) << q.status.message;
    EXPECT_NE(q.status.message.find("takes no options"), std::string::npos) << q.status.message;
    auto o = options(base);
    o.backend_options["nope"] = "1";
    auto b = Elector::create(o);
    ASSERT_FALSE(b.ok()) << base;
    EXPECT_EQ(b.status.code, Errc::unknown_option) << b.status.message;
    EXPECT_TRUE(Elector::create(options(base)).ok()) << base;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tenure
