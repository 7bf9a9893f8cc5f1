#include "check/generate/generated_base.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "check/case/base.h"
#include "check/properties/properties.h"
#include "check/reference/ingress_rules.h"
#include "check/run/checker.h"
#include "engine/cli/validate.h"

namespace metalgate::check {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kSeeds = 30;

// A directory of its own under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static int made = 0;
    path_ = fs::temp_directory_path() /
            ("metalgate-generated-" + std::to_string(::getpid()) + "-" + std::to_string(++made));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

// Every file under `dir`, by its path relative to it, with its bytes.
std::map<std::string, std::string> files_under(const std::string& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    files[fs::relative(entry.path(), dir).string()] = bytes.str();
  }
  return files;
}

Base load_generated(std::uint64_t seed, const TempDir& tmp) {
  const std::string file = write_generated_base(seed, tmp.sub("seed-" + std::to_string(seed)));
  config::Diagnostics d;
  auto base = load_base(file, d);
  if (!base) throw std::runtime_error("seed " + std::to_string(seed) + ":\n" + d.to_string());
  return *base;
}

std::set<std::pair<std::string, std::string>> mix_of(const Base& base) {
  std::set<std::pair<std::string, std::string>> mix;
  for (const auto& client : base.scenario.clients)
    for (const auto& m : client.mix)
      mix.insert({m.host, m.path});
  return mix;
}

// The Prefix paths of the served Ingresses, without a trailing slash (as Prefix matching reads them).
std::set<std::string> prefix_paths(const Base& base) {
  std::set<std::string> out;
  for (const auto& ingress : base.model->manifests.ingresses)
    for (const auto& rule : ingress.rules)
      for (const auto& p : rule.paths)
        if (p.path_type == config::PathType::kPrefix)
          out.insert(p.path.size() > 1 && p.path.back() == '/' ? p.path.substr(0, p.path.size() - 1)
                                                               : p.path);
  return out;
}

TEST(GeneratedBase, LoadsWithoutAnErrorForEverySeed) {
  TempDir tmp;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::string file = write_generated_base(seed, tmp.sub("seed-" + std::to_string(seed)));
    EXPECT_EQ(file, tmp.sub("seed-" + std::to_string(seed)) + "/base.yaml");
    config::Diagnostics d;
    const auto base = load_base(file, d);
    ASSERT_TRUE(base) << "seed " << seed << ":\n" << d.to_string();
    EXPECT_FALSE(d.has_errors()) << "seed " << seed << ":\n" << d.to_string();
    ASSERT_NE(base->model->ingress_controller(), nullptr) << "seed " << seed;
    EXPECT_FALSE(base->model->ingresses.empty()) << "seed " << seed << ": the controller serves no Ingress";
  }
}

// Valid by construction: `metalgate validate` finds neither an error (a base whose manifests have one still
// loads, but none of its cases would run) nor a warning (two Ingresses at odds over a setting) in them.
TEST(GeneratedBase, ManifestsValidateWithoutAnErrorOrAWarningForEverySeed) {
  TempDir tmp;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::string dir = tmp.sub("seed-" + std::to_string(seed));
    write_generated_base(seed, dir);
    const auto outcome = cli::validate_manifests({{dir + "/manifests"}, false, ""});
    EXPECT_TRUE(outcome.valid) << "seed " << seed << ":\n" << outcome.diagnostics.to_string();
    for (const auto& item : outcome.diagnostics.items())
      EXPECT_NE(item.severity, config::Severity::kWarning) << "seed " << seed << ":\n"
                                                           << outcome.diagnostics.to_string();
  }
}

TEST(GeneratedBase, TheSameSeedWritesByteIdenticalFiles) {
  TempDir tmp;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::string a = tmp.sub("a-" + std::to_string(seed)), b = tmp.sub("b-" + std::to_string(seed));
    write_generated_base(seed, a);
    write_generated_base(seed, b);
    EXPECT_EQ(files_under(a), files_under(b)) << "seed " << seed;
  }
}

TEST(GeneratedBase, WritingASeedOverAnotherLeavesOnlyItsOwnFiles) {
  TempDir tmp;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed)
    write_generated_base(seed, tmp.sub("over"));
  write_generated_base(kSeeds, tmp.sub("fresh"));
  EXPECT_EQ(files_under(tmp.sub("over")), files_under(tmp.sub("fresh")));
}

TEST(GeneratedBase, DifferentSeedsWriteDifferentBases) {
  TempDir tmp;
  std::set<std::map<std::string, std::string>> seen;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const std::string dir = tmp.sub("seed-" + std::to_string(seed));
    write_generated_base(seed, dir);
    auto files = files_under(dir);
    files.erase("base.yaml");  // names its seed: compare what is drawn
    EXPECT_TRUE(seen.insert(files).second) << "seed " << seed << " draws the manifests of an earlier seed";
  }
}

TEST(GeneratedBase, AsksEveryPrefixPathWithItsElementAndStringPrefixNeighbours) {
  TempDir tmp;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Base base = load_generated(seed, tmp);
    const auto mix = mix_of(base);
    const std::set<std::string> hosts = [&] {
      std::set<std::string> h;
      for (const auto& [host, path] : mix)
        h.insert(host);
      return h;
    }();
    for (const auto& p : prefix_paths(base)) {
      if (p == "/") continue;
      const bool asked = std::any_of(hosts.begin(), hosts.end(), [&](const std::string& h) {
        return mix.count({h, p}) && mix.count({h, p + "/"}) && mix.count({h, p + "/x"}) &&
               mix.count({h, p + "x"});
      });
      EXPECT_TRUE(asked) << "seed " << seed << ": Prefix " << p << " is not asked with /, /x and x after it";
    }
    EXPECT_TRUE(mix.count({"a.b.example.test", "/foo/"})) << "seed " << seed;
    EXPECT_TRUE(mix.count({"example.test", "/foo/"})) << "seed " << seed;
    EXPECT_TRUE(mix.count({"nobody.invalid", "/"})) << "seed " << seed;
  }
}

// How many of the seeds' generated bases `trap` finds its trap in (the router's mutants need one to be seen).
template <typename Trap>
int seeds_with(const Trap& trap) {
  TempDir tmp;
  int seeds = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Base base = load_generated(seed, tmp);
    const ReferenceRouting reference{base.model->manifests, base.model->ingresses, base.scenario};
    seeds += trap(base, reference, mix_of(base)) ? 1 : 0;
  }
  return seeds;
}

// A router that matched Prefix P as a plain string prefix would send P + "x" where P goes; these seeds make
// that visible, because the reference sends P + "x" to other pods (or to none).
TEST(GeneratedBase, PrefixStringPrefixTrapGoesToOtherPodsThanItsPrefix) {
  const int seeds_with_trap =
      seeds_with([](const Base& base, const ReferenceRouting& reference, const auto& mix) {
        const auto prefixes = prefix_paths(base);
        return std::any_of(mix.begin(), mix.end(), [&](const auto& request) {
          const auto& [host, path] = request;
          return prefixes.count(path) && path != "/" && mix.count({host, path + "x"}) &&
                 !reference.pods_for(host, path).empty() &&
                 reference.pods_for(host, path) != reference.pods_for(host, path + "x");
        });
      });
  EXPECT_GE(seeds_with_trap, 27) << "of " << kSeeds << " seeds";
}

// A router whose *.D matched a.b.D would answer it as a.D; these seeds make that visible.
TEST(GeneratedBase, WildcardSeveralLabelsTrapGoesToOtherPodsThanOneLabel) {
  const int seeds_with_trap = seeds_with([](const Base&, const ReferenceRouting& reference, const auto& mix) {
    return std::any_of(mix.begin(), mix.end(), [&](const auto& request) {
      const auto& [host, path] = request;
      if (host.rfind("a.b.", 0) != 0 || !mix.count({"a." + host.substr(4), path})) return false;
      const auto one_label = reference.pods_for("a." + host.substr(4), path);
      return !one_label.empty() && one_label != reference.pods_for(host, path);
    });
  });
  EXPECT_GE(seeds_with_trap, 25) << "of " << kSeeds << " seeds";
}

TEST(GeneratedBase, EveryDeploymentHasPodsOfItsOwn) {
  TempDir tmp;
  for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const Base base = load_generated(seed, tmp);
    std::set<std::string> deployments;
    for (const auto& d : base.model->manifests.deployments)
      if (!d.synthesized_from_values) deployments.insert(d.meta.namespace_ + "/" + d.meta.name);
    std::set<std::string> backed;
    for (const auto& b : base.scenario.backends) {
      EXPECT_FALSE(b.addresses.empty()) << "seed " << seed << ": " << b.deployment;
      backed.insert(b.deployment);
    }
    EXPECT_EQ(deployments, backed) << "seed " << seed;
    EXPECT_EQ(std::set<std::string>(base.pods.begin(), base.pods.end()).size(), base.pods.size());
  }
}

// End to end: the routing property holds on a generated base in simulated cases (each about 1-2 s here).
TEST(GeneratedBase, RoutingHoldsOnAGeneratedBase) {
  TempDir tmp;
  const Base base = load_generated(3, tmp);
  CheckOptions options;
  options.cases = 4;
  options.seed = 11;
  options.shrink_runs = 2;
  options.out_dir = tmp.sub("check-out");
  const auto outcome = check_property(base, *find_property("routing"), options);
  EXPECT_TRUE(outcome.passed) << outcome.failure << "\n" << outcome.counterexample;
  EXPECT_EQ(outcome.cases, 4);
}

}  // namespace
}  // namespace metalgate::check
