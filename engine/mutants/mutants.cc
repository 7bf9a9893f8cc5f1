#include "engine/mutants/mutants.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace metalgate::mutants {

const std::vector<MutantRow>& table() {
  static const std::vector<MutantRow> rows = {
      {Mutant::kAvoidBuggyIpsIgnored, "avoid_buggy_ips_ignored",
       "a pool with avoidBuggyIPs hands out IPv4 addresses ending in .0 and .255"},
      {Mutant::kSharingIgnoresPortClash, "sharing_ignores_port_clash",
       "Services with one allow-shared-ip key share an address even when a protocol and port clash"},
      {Mutant::kRoundRobinSkipsServer, "roundrobin_skips_server",
       "roundrobin never picks the last server while another is usable"},
      {Mutant::kLeastconnPicksBusier, "leastconn_picks_busier",
       "leastconn picks the server with the most requests in flight"},
      {Mutant::kPersistenceCookieIgnored, "persistence_cookie_ignored",
       "a request carrying the persistence cookie of an up server is balanced as if it had none"},
      {Mutant::kHealthFallOffByOne, "health_fall_off_by_one",
       "a server that was up needs fall + 1 failed checks to go down"},
      {Mutant::kHealthRiseOffByOne, "health_rise_off_by_one",
       "a down server needs rise + 1 passing checks to come back"},
      {Mutant::kPrefixAsStringPrefix, "prefix_as_string_prefix",
       "pathType Prefix /foo matches /foobar (a string prefix, not path elements)"},
      {Mutant::kExactMatchesAsPrefix, "exact_matches_as_prefix",
       "pathType Exact /foo matches every path that starts with /foo"},
      {Mutant::kWildcardMatchesSeveralLabels, "wildcard_matches_several_labels",
       "host *.example.com matches a.b.example.com (more than one label)"},
      {Mutant::kElectionPrefersSelf, "election_prefers_self",
       "every eligible node ranks itself first, so each one claims every VIP"},
      {Mutant::kOldOwnerKeepsAnswering, "old_owner_keeps_answering",
       "a node that loses a VIP keeps answering ARP and NDP for it"},
      {Mutant::kNoGratuitousArpOnTakeover, "no_gratuitous_arp_on_takeover",
       "a node that takes a VIP over sends no gratuitous ARP or unsolicited NA"},
      {Mutant::kRateLimitOffByOne, "rate_limit_off_by_one",
       "the rate a request is judged by leaves the request itself out: limit + 1 get through a period"},
      {Mutant::kReloadAppliedBeforeValidation, "reload_applied_before_validation",
       "a configuration is used as far as its manifests could be read, before their errors refuse it"},
      {Mutant::kNodeSelectorsIgnored, "node_selectors_ignored",
       "an L2Advertisement's nodeSelectors are ignored: every node may announce its pools' addresses"},
  };
  return rows;
}

namespace {

Mutant from_environment() {
  const char* name = std::getenv("METALGATE_MUTANT");
  if (!name || !*name) return Mutant::kNone;
  std::string known;
  for (const auto& row : table()) {
    if (row.name == name) {
      std::fprintf(stderr, "metalgate: mutant %s is switched on: %s\n", name,
                   std::string(row.breaks).c_str());
      return row.mutant;
    }
    known += (known.empty() ? "" : ", ") + std::string(row.name);
  }
  std::fprintf(stderr, "metalgate: METALGATE_MUTANT=%s names no mutant; known: %s\n", name, known.c_str());
  std::exit(2);
}

}  // namespace

Mutant active() {
  static const Mutant once = from_environment();
  return once;
}

}  // namespace metalgate::mutants
