// Minimal test harness (no external framework, so the suite builds offline on the GPU machine).
// Each test binary registers TEST cases; `binary [name-substring]` runs the matching ones.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"

namespace check {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> r;
  return r;
}

struct Failure {
  std::string msg;
};

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

inline int run_all(int argc, char** argv) {
  int failed = 0, ran = 0;
  for (auto& c : registry()) {
    if (argc > 1 && std::strstr(c.name, argv[1]) == nullptr) continue;
    ++ran;
    try {
      c.fn();
      std::printf("[ OK ] %s\n", c.name);
    } catch (const Failure& f) {
      ++failed;
      std::printf("[FAIL] %s: %s\n", c.name, f.msg.c_str());
    } catch (const std::exception& e) {
      ++failed;
      std::printf("[FAIL] %s: unexpected exception: %s\n", c.name, e.what());
    }
    std::fflush(stdout);
  }
  if (ran == 0) {
    std::printf("no test matched\n");
    return 1;
  }
  std::printf("%d/%d passed\n", ran - failed, ran);
  return failed ? 1 : 0;
}

}  // namespace check

#define CHECK_CAT2(a, b) a##b
#define CHECK_CAT(a, b) CHECK_CAT2(a, b)
#define TEST(name)                                                                      \
  static void name();                                                                   \
  static check::Registrar CHECK_CAT(reg_, name)(#name, name);                            \
  static void name()

#define FAILMSG(stream_expr)                                                            \
  do {                                                                                  \
    std::ostringstream os_;                                                             \
    os_ << __FILE__ << ":" << __LINE__ << ": " << stream_expr;                          \
    throw check::Failure{os_.str()};                                                    \
  } while (0)

#define CHECK(cond) \
  do {              \
    if (!(cond)) FAILMSG("CHECK(" #cond ") failed"); \
  } while (0)

#define CHECK_EQ(a, b)                                                                  \
  do {                                                                                  \
    auto va_ = (a);                                                                     \
    auto vb_ = (b);                                                                     \
    if (!(va_ == vb_)) FAILMSG(#a " == " #b " failed: " << va_ << " vs " << vb_);        \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                           \
  do {                                                                                  \
    double va_ = (a), vb_ = (b);                                                        \
    if (!(std::fabs(va_ - vb_) <= (tol)))                                               \
      FAILMSG(#a " ~ " #b " failed: " << va_ << " vs " << vb_ << " (tol " << (tol) << ")"); \
  } while (0)

// Expects `expr` to throw dse::EngineError of `kind` whose message contains `needle`.
#define CHECK_THROWS(expr, ekind, needle)                                                \
  do {                                                                                  \
    bool thrown_ = false;                                                               \
    try {                                                                               \
      expr;                                                                             \
    } catch (const dse::EngineError& e_) {                                              \
      thrown_ = true;                                                                   \
      if (e_.kind() != (ekind)) FAILMSG("wrong error kind for: " << e_.what());           \
      if (std::string(e_.what()).find(needle) == std::string::npos)                     \
        FAILMSG("message lacks '" << (needle) << "': " << e_.what());                   \
    }                                                                                   \
    if (!thrown_) FAILMSG(#expr " did not throw");                                      \
  } while (0)

#define TEST_MAIN() \
  int main(int argc, char** argv) { return check::run_all(argc, argv); }
