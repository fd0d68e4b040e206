// The stand-in's `opamp` extension and signal handling against the real Collector's, each
// run under the same conditions and compared aspect by aspect.
#include <gtest/gtest.h>

#include <iostream>

#include "opamp_probe.hpp"

namespace opsup::testing {
namespace {

using Observer = Shape (*)(CollectorKind, std::string &);

void expect_same(Observer observe, const char *must_have_aspect) {
  std::string real_output, stand_in_output;
  const Shape real = observe(CollectorKind::kReal, real_output);
  const Shape stand_in = observe(CollectorKind::kStandIn, stand_in_output);
  ASSERT_EQ(real.count(must_have_aspect), 1u) << "the real Collector did not get that far:\n"
                                              << real_output;
  for (const auto &[aspect, value] : real)
    std::cout << "real " << aspect << " = " << value << "\n";
  EXPECT_EQ(shape_differences(real, stand_in), "") << "real output:\n"
                                                   << real_output << "\nstand-in output:\n"
                                                   << stand_in_output;
}

TEST(CollectorConformance, OpampSessionAgrees) {
  expect_same(observe_opamp_session, "sigterm.exit_code");
}

TEST(CollectorConformance, SighupAgrees) {
  expect_same(observe_sighup, "sighup.then_sigterm_exit_code");
}

TEST(CollectorConformance, ParentDeathAgrees) {
  expect_same(observe_parent_death, "orphan.exits");
}

}  // namespace
}  // namespace opsup::testing
