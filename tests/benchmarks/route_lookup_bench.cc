// Route lookups on a large table: 10,000 hosts x 10 paths (a mix of Exact and Prefix), plus wildcards.
// Target: under 200 ns per lookup. Run: build/<dir>/tests/benchmarks/route_lookup_bench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "engine/routing/route_table.h"

namespace {

using metalgate::config::PathType;
using metalgate::routing::Route;
using metalgate::routing::RouteTable;

constexpr int kHosts = 10000;
constexpr int kPathsPerHost = 10;

RouteTable& table() {
  static RouteTable* t = [] {
    auto* rt = new RouteTable();
    std::uint32_t id = 0;
    for (int h = 0; h < kHosts; ++h) {
      std::string host = "svc-" + std::to_string(h) + ".apps.example.com";
      for (int p = 0; p < kPathsPerHost; ++p) {
        PathType type = p % 3 == 0 ? PathType::kExact : PathType::kPrefix;
        rt->add({host, "/api/v" + std::to_string(p) + "/items", type, id++, "bench"});
      }
    }
    for (int w = 0; w < 100; ++w)
      rt->add({"*.tenant-" + std::to_string(w) + ".example.com", "/", PathType::kPrefix, id++, "bench"});
    rt->add({"", "/", PathType::kPrefix, id++, "bench"});
    rt->build();
    return rt;
  }();
  return *t;
}

struct Request {
  std::string host, path;
};

// Request bytes packed into one buffer, as a proxy holds a just-parsed request: the benchmark measures the
// lookup, not cache misses on 8,192 scattered heap strings of its own.
struct PackedRequests {
  std::string bytes;
  std::vector<std::pair<std::string_view, std::string_view>> views;
};

PackedRequests pack(const std::vector<Request>& reqs) {
  PackedRequests p;
  std::vector<std::pair<std::size_t, std::size_t>> offsets;
  for (const auto& r : reqs) {
    offsets.emplace_back(p.bytes.size(), r.host.size());
    p.bytes += r.host;
    offsets.emplace_back(p.bytes.size(), r.path.size());
    p.bytes += r.path;
  }
  for (std::size_t i = 0; i < offsets.size(); i += 2)
    p.views.emplace_back(std::string_view(p.bytes).substr(offsets[i].first, offsets[i].second),
                         std::string_view(p.bytes).substr(offsets[i + 1].first, offsets[i + 1].second));
  return p;
}

std::vector<Request> requests(int kind) {
  std::vector<Request> out;
  std::uint64_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    int h = static_cast<int>((x >> 33) % kHosts), p = static_cast<int>((x >> 20) % kPathsPerHost);
    switch (kind) {
      case 0:  // exact host, a path under one of its prefixes
        out.push_back({"svc-" + std::to_string(h) + ".apps.example.com",
                       "/api/v" + std::to_string(p) + "/items/42?x=1"});
        break;
      case 1:  // wildcard host
        out.push_back({"app" + std::to_string(i) + ".tenant-" + std::to_string(h % 100) + ".example.com",
                       "/index.html"});
        break;
      default:  // unknown host, falls to the catch-all rule; mixed case and a port
        out.push_back({"Unknown-" + std::to_string(h) + ".Example.org:8080", "/some/deep/path/here"});
    }
  }
  return out;
}

void run(benchmark::State& state, int kind) {
  auto& t = table();
  auto reqs = pack(requests(kind));
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& [host, path] = reqs.views[i++ & 4095];
    benchmark::DoNotOptimize(t.match(host, path));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ExactHostPrefixPath(benchmark::State& s) {
  run(s, 0);
}
void BM_WildcardHost(benchmark::State& s) {
  run(s, 1);
}
void BM_CatchAllHost(benchmark::State& s) {
  run(s, 2);
}
BENCHMARK(BM_ExactHostPrefixPath);
BENCHMARK(BM_WildcardHost);
BENCHMARK(BM_CatchAllHost);

}  // namespace

BENCHMARK_MAIN();
