// The search, on the seed's base with a few cases: a property that holds passes; the deliberately failing one
// fails, its smallest case is written, and that file alone fails the same way again.
#include "check/run/checker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include "tests/check/seed_base.h"

namespace metalgate::check {
namespace {

std::string out_dir(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("metalgate-check-test-" + name + "-" + std::to_string(::getpid())))
      .string();
}

TEST(CheckProperty, VipSafetyHoldsOnTheFirstCasesOfTheSeed) {
  CheckOptions o;
  o.cases = 3;
  o.seed = 11;
  o.out_dir = out_dir("safety");
  const PropertyOutcome out = check_property(seed_base(), *find_property("vip_safety"), o);
  EXPECT_TRUE(out.passed) << out.failure << "\n" << out.counterexample;
  EXPECT_EQ(out.cases, 3);
  EXPECT_TRUE(out.counterexample.empty());
}

TEST(CheckProperty, AFailureIsShrunkAndItsFileWithItsManifestsBesideReplaysTheSameFailure) {
  CheckOptions o;
  o.cases = 3;
  o.seed = 7;
  o.shrink_runs = 8;
  o.out_dir = out_dir("failing");
  const Property& p = *find_property("test_every_request_succeeds");
  EXPECT_TRUE(p.deliberately_failing);
  const PropertyOutcome out = check_property(seed_base(), p, o);
  ASSERT_FALSE(out.passed);
  EXPECT_LE(out.shrink_runs, 8);
  EXPECT_THAT(out.failure, ::testing::StartsWith("success_ratio: measured "));
  ASSERT_TRUE(std::filesystem::exists(out.counterexample));
  std::ifstream in(out.counterexample);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), ::testing::HasSubstr("--seed 7"));
  EXPECT_THAT(text.str(), ::testing::HasSubstr("\n  - manifests/0-seed\n")) << "manifests beside the case";
  EXPECT_TRUE(std::filesystem::exists(o.out_dir + "/manifests/0-seed/web-ingress.yaml"));
  const CaseRun again = run_case_document(text.str(), out.counterexample);
  EXPECT_TRUE(again.ran);
  EXPECT_FALSE(again.held);
  EXPECT_EQ(again.failure, out.failure) << "the same failure, measured the same";
  std::filesystem::remove_all(o.out_dir);
}

TEST(CheckProperty, ACaseThatDoesNotLoadSaysWhy) {
  const CaseRun r = run_case_document("name: x\nnodes: nonsense\n", "/tmp/bad-case.yaml");
  EXPECT_FALSE(r.ran);
  EXPECT_THAT(r.failure, ::testing::HasSubstr("/tmp/bad-case.yaml:"));
}

}  // namespace
}  // namespace metalgate::check
