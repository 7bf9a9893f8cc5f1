#include "check/generate/metallb.h"

#include <algorithm>
#include <array>
#include <bit>

namespace metalgate::check {

namespace {

constexpr int kMostPools = 4;
constexpr int kMostServices = 8;

enum class PoolFamilies { kV4, kDual, kV6 };

// 192.168.(16 pool + 4 entry).0: each pool's IPv4 entries own four /24s of their own.
std::uint32_t v4_block(int pool, int entry) {
  return (192u << 24) | (168u << 16) | (static_cast<std::uint32_t>(16 * pool + 4 * entry) << 8);
}

net::IpAddress v6_address(int block, std::uint8_t low) {
  std::array<std::uint8_t, 16> bytes{};
  bytes[0] = 0xfd;
  bytes[7] = static_cast<std::uint8_t>(block);
  bytes[15] = low;
  return net::IpAddress::v6(bytes);
}

// 1-6 addresses starting at .250-.255 of the block's /24 or .0-.4 of the next one: about half of them hold a
// .255 or a .0. Shrinks toward a range starting at .255, then .0, where one Service meets a buggy address.
net::AddressRange draw_v4_range(std::uint32_t block) {
  const std::uint32_t first =
      block + *rc::gen::element<std::uint32_t>(255, 256, 250, 251, 252, 253, 254, 257, 258, 259, 260);
  const std::uint32_t length = static_cast<std::uint32_t>(*rc::gen::inRange(1, 7));
  return {net::IpAddress::v4(first), net::IpAddress::v4(first + length - 1)};
}

// A /28 to /32 in the block's third /24: at its .0, ending at its .255, or in its middle.
net::AddressRange draw_v4_cidr(std::uint32_t block) {
  const int prefix = *rc::gen::element(30, 29, 31, 32, 28);
  const std::uint32_t size = 1u << (32 - prefix);
  const std::uint32_t at = *rc::gen::element<std::uint32_t>(0, 256 - size, 64);
  const std::uint32_t first = block + (2u << 8) + at;
  return {net::IpAddress::v4(first), net::IpAddress::v4(first + size - 1)};
}

// fd00:0:0:BLOCK::/125 to /128, or a range of 1-6 addresses from ::1 to ::14.
net::AddressRange draw_v6(int block) {
  if (*rc::gen::arbitrary<bool>()) {
    const int prefix = *rc::gen::element(126, 125, 127, 128);
    const auto size = static_cast<std::uint8_t>(1u << (128 - prefix));
    return {v6_address(block, 0), v6_address(block, static_cast<std::uint8_t>(size - 1))};
  }
  const auto first = static_cast<std::uint8_t>(*rc::gen::inRange(1, 9));
  const auto length = static_cast<std::uint8_t>(*rc::gen::inRange(1, 7));
  return {v6_address(block, first), v6_address(block, static_cast<std::uint8_t>(first + length - 1))};
}

// A serviceAllocation of the kinds the property's reference restates: a priority (1-3) and at most one
// selection (a namespace by name, a namespace by its kubernetes.io/metadata.name label, or Services labelled
// tier: web); at least one of the two.
config::ServiceAllocation draw_service_allocation() {
  config::ServiceAllocation a;
  const int selection = *rc::gen::inRange(0, 4);
  if (selection == 0 || *rc::gen::arbitrary<bool>()) a.priority = *rc::gen::inRange(1, 4);
  config::LabelSelector selector;
  switch (selection) {
    case 1:
      a.namespaces = {*rc::gen::element<std::string>("default", "team-a")};
      break;
    case 2:
      selector.match_labels = {{"kubernetes.io/metadata.name", "team-a"}};
      a.namespace_selectors = {selector};
      break;
    case 3:
      selector.match_labels = {{"tier", "web"}};
      a.service_selectors = {selector};
      break;
    default:
      break;
  }
  return a;
}

config::IpAddressPool draw_pool(int index, std::string name) {
  config::IpAddressPool p;
  p.meta.name = std::move(name);
  p.meta.namespace_ = "metallb-system";
  const auto families = *rc::gen::weightedElement<PoolFamilies>(
      {{3, PoolFamilies::kV4}, {1, PoolFamilies::kDual}, {1, PoolFamilies::kV6}});
  if (families != PoolFamilies::kV6) {
    const int entries = *rc::gen::weightedElement<int>({{3, 1}, {1, 2}});
    for (int entry = 0; entry < entries; ++entry) {
      const bool cidr = *rc::gen::arbitrary<bool>();
      p.addresses.push_back(cidr ? draw_v4_cidr(v4_block(index, entry))
                                 : draw_v4_range(v4_block(index, entry)));
    }
  }
  if (families != PoolFamilies::kV4) p.addresses.push_back(draw_v6(4 * index));
  p.auto_assign = *rc::gen::weightedElement<bool>({{3, true}, {1, false}});
  p.avoid_buggy_ips = *rc::gen::arbitrary<bool>();
  if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}}))
    p.service_allocation = draw_service_allocation();
  return p;
}

bool overlaps(const config::IpAddressPool& a, const config::IpAddressPool& b) {
  for (const auto& ra : a.addresses)
    for (const auto& rb : b.addresses)
      if (ra.overlaps(rb)) return true;
  return false;
}

std::vector<config::ServicePort> draw_ports() {
  std::vector<config::ServicePort> ports;
  const int count = *rc::gen::inRange(1, 4);
  for (int k = 0; k < count; ++k) {
    config::ServicePort p;
    p.protocol = *rc::gen::weightedElement<config::Protocol>(
        {{3, config::Protocol::kTcp}, {1, config::Protocol::kUdp}});
    p.port = *rc::gen::weightedElement<std::uint16_t>({{3, 80}, {1, 443}, {1, 53}});
    p.target_port.number = p.port;
    const bool repeated = std::any_of(ports.begin(), ports.end(), [&](const config::ServicePort& q) {
      return q.protocol == p.protocol && q.port == p.port;
    });
    if (repeated) continue;
    p.name = "p" + std::to_string(ports.size());
    ports.push_back(std::move(p));
  }
  return ports;
}

// The service's families in order: spec.ipFamilies and ipFamilyPolicy as Kubernetes accepts them (one family
// for SingleStack; an empty list means IPv4).
void draw_families(config::Service& s) {
  using F = net::IpFamily;
  s.ip_family_policy =
      *rc::gen::weightedElement<config::IpFamilyPolicy>({{6, config::IpFamilyPolicy::kSingleStack},
                                                         {1, config::IpFamilyPolicy::kPreferDualStack},
                                                         {1, config::IpFamilyPolicy::kRequireDualStack}});
  if (s.ip_family_policy == config::IpFamilyPolicy::kSingleStack)
    s.ip_families = *rc::gen::element(std::vector<F>{}, std::vector<F>{F::kV4}, std::vector<F>{F::kV6});
  else
    s.ip_families = *rc::gen::element(std::vector<F>{F::kV4, F::kV6}, std::vector<F>{F::kV6, F::kV4},
                                      std::vector<F>{F::kV4}, std::vector<F>{F::kV6});
}

// An address of one of the pools' ranges of `family` (one of its first or last eight), or, one time in five
// or when no pool has the family, one outside every generated pool.
net::IpAddress draw_address(const std::vector<config::IpAddressPool>& pools, net::IpFamily family) {
  std::vector<net::AddressRange> ranges;
  for (const auto& p : pools)
    for (const auto& r : p.addresses)
      if (r.first.family() == family) ranges.push_back(r);
  const bool outside = ranges.empty() || *rc::gen::weightedElement<bool>({{4, false}, {1, true}});
  if (outside)
    return family == net::IpFamily::kV4 ? net::IpAddress::v4(192, 168, 255, 1) : v6_address(0xff, 1);
  const auto& r = ranges[*rc::gen::inRange<std::size_t>(0, ranges.size())];
  const std::uint64_t size = r.size();
  const auto step = *rc::gen::inRange<std::uint64_t>(0, std::min<std::uint64_t>(size, 8));
  const bool from_end = size != UINT64_MAX && *rc::gen::arbitrary<bool>();
  return *r.first.advanced(from_end ? size - 1 - step : step);
}

std::vector<net::IpAddress> draw_requests(const std::vector<config::IpAddressPool>& pools,
                                          const config::Service& s) {
  const net::IpFamily first = s.ip_families.empty() ? net::IpFamily::kV4 : s.ip_families.front();
  std::vector<net::IpAddress> requested = {draw_address(pools, first)};
  if (s.ip_family_policy != config::IpFamilyPolicy::kSingleStack && *rc::gen::arbitrary<bool>())
    requested.push_back(
        draw_address(pools, first == net::IpFamily::kV4 ? net::IpFamily::kV6 : net::IpFamily::kV4));
  return requested;
}

// The metallb.io annotations (or their legacy metallb.universe.tf spelling) that say what the typed fields
// hold, as the loader reads them.
void annotate(config::Service& s, const std::string& prefix) {
  if (s.address_pool) s.meta.annotations[prefix + "address-pool"] = *s.address_pool;
  if (s.sharing_key) s.meta.annotations[prefix + "allow-shared-ip"] = *s.sharing_key;
  std::string ips;
  for (const auto& ip : s.requested_ips)
    ips += (ips.empty() ? "" : ",") + ip.to_string();
  if (!ips.empty()) s.meta.annotations[prefix + "loadBalancerIPs"] = ips;
}

std::string unique_name(const std::string& wanted, const std::set<std::string>& taken) {
  std::string name = wanted;
  while (taken.count(name))
    name += "-g";
  return name;
}

// YAML's double-quoted scalar.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A range as a pool entry: the CIDR when it is one (a single address as /32 or /128, which MetalLB asks
// for), else "first-last".
std::string range_text(const net::AddressRange& r) {
  const int bits = r.first.is_v4() ? 32 : 128;
  const std::uint64_t size = r.size();
  if (size != UINT64_MAX && std::has_single_bit(size)) {
    const int prefix = bits - std::countr_zero(size);
    auto cidr = net::Cidr::parse(r.first.to_string() + "/" + std::to_string(prefix));
    if (cidr && cidr->last() == r.last) return cidr->to_string();
  }
  return r.first.to_string() + "-" + r.last.to_string();
}

std::string selector_yaml(const config::LabelSelector& s, const std::string& indent) {
  static const char* const kOperators[] = {"In", "NotIn", "Exists", "DoesNotExist"};
  std::string out = indent + "- matchLabels: {";
  std::string sep;
  for (const auto& [k, v] : s.match_labels) {
    out += sep + quoted(k) + ": " + quoted(v);
    sep = ", ";
  }
  out += "}\n" + indent + "  matchExpressions:";
  if (s.match_expressions.empty()) out += " []";
  out += "\n";
  for (const auto& e : s.match_expressions) {
    out += indent + "  - {key: " + quoted(e.key) + ", operator: " + kOperators[static_cast<int>(e.op)];
    if (!e.values.empty()) {
      out += ", values: [";
      for (std::size_t i = 0; i < e.values.size(); ++i)
        out += (i ? ", " : "") + quoted(e.values[i]);
      out += "]";
    }
    out += "}\n";
  }
  return out;
}

std::string service_allocation_yaml(const config::ServiceAllocation& a) {
  std::string out = "  serviceAllocation:\n";
  if (a.priority) out += "    priority: " + std::to_string(*a.priority) + "\n";
  if (!a.namespaces.empty()) {
    out += "    namespaces:\n";
    for (const auto& n : a.namespaces)
      out += "    - " + quoted(n) + "\n";
  }
  if (!a.namespace_selectors.empty()) out += "    namespaceSelectors:\n";
  for (const auto& s : a.namespace_selectors)
    out += selector_yaml(s, "    ");
  if (!a.service_selectors.empty()) out += "    serviceSelectors:\n";
  for (const auto& s : a.service_selectors)
    out += selector_yaml(s, "    ");
  return out;
}

// The annotations' prefix a Service was written with: the legacy one only when it uses no other.
std::string annotation_prefix(const config::Service& s) {
  bool legacy = false, current = false;
  for (const auto& [key, value] : s.meta.annotations) {
    legacy = legacy || key.starts_with("metallb.universe.tf/");
    current = current || key.starts_with("metallb.io/");
  }
  return legacy && !current ? "metallb.universe.tf/" : "metallb.io/";
}

std::string family_name(net::IpFamily f) {
  return f == net::IpFamily::kV4 ? "IPv4" : "IPv6";
}

std::string policy_name(config::IpFamilyPolicy p) {
  switch (p) {
    case config::IpFamilyPolicy::kSingleStack:
      return "SingleStack";
    case config::IpFamilyPolicy::kPreferDualStack:
      return "PreferDualStack";
    case config::IpFamilyPolicy::kRequireDualStack:
      return "RequireDualStack";
  }
  return "SingleStack";
}

}  // namespace

rc::Gen<std::vector<config::IpAddressPool>> gen_pools(std::vector<config::IpAddressPool> avoid) {
  return rc::gen::exec([avoid] {
    std::set<std::string> names;
    for (const auto& p : avoid)
      names.insert(p.meta.name);
    std::vector<config::IpAddressPool> pools;
    const int count = *rc::gen::inRange(1, kMostPools + 1);
    for (int i = 0; i < count; ++i) {
      auto pool = draw_pool(i, unique_name("pool-" + std::to_string(i), names));
      if (std::any_of(avoid.begin(), avoid.end(), [&](const auto& a) { return overlaps(a, pool); })) continue;
      names.insert(pool.meta.name);
      pools.push_back(std::move(pool));
    }
    return pools;
  });
}

rc::Gen<config::Service> gen_load_balancer_service(std::vector<config::IpAddressPool> pools,
                                                   std::string name) {
  return rc::gen::exec([pools, name] {
    config::Service s;
    s.type = config::ServiceType::kLoadBalancer;
    s.meta.name = name;
    s.meta.namespace_ = *rc::gen::element<std::string>("default", "team-a");
    s.ports = draw_ports();
    s.selector = {{"app", *rc::gen::element<std::string>("a", "b")}};
    s.external_traffic_policy = *rc::gen::weightedElement<config::TrafficPolicy>(
        {{3, config::TrafficPolicy::kCluster}, {1, config::TrafficPolicy::kLocal}});
    draw_families(s);
    // Keys k1, k2, and now and then "" (written `allow-shared-ip: ""`, which shares nothing).
    if (const int key = *rc::gen::weightedElement<int>({{4, 0}, {4, 1}, {2, 2}, {1, 3}}))
      s.sharing_key = key == 3 ? std::string() : "k" + std::to_string(key);
    if (*rc::gen::weightedElement<bool>({{4, false}, {1, true}})) {
      std::vector<std::string> names;
      for (const auto& p : pools)
        names.push_back(p.meta.name);
      names.push_back("missing-pool");
      s.address_pool = names[*rc::gen::inRange<std::size_t>(0, names.size())];
    }
    if (*rc::gen::weightedElement<bool>({{3, false}, {1, true}})) s.requested_ips = draw_requests(pools, s);
    const bool legacy = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
    annotate(s, legacy ? "metallb.universe.tf/" : "metallb.io/");
    // The label serviceAllocation's serviceSelectors look for, on some.
    if (const int tier = *rc::gen::inRange(0, 3)) s.meta.labels = {{"tier", tier == 1 ? "web" : "db"}};
    return s;
  });
}

rc::Gen<std::vector<config::Service>> gen_load_balancer_services(std::vector<config::IpAddressPool> pools,
                                                                 int least, int most,
                                                                 std::set<std::string> taken_keys,
                                                                 std::string prefix) {
  // A container, so that shrinking removes any Service, not only the last ones. Its length is uniform in
  // 0..most whatever RapidCheck's size.
  auto services = rc::gen::suchThat(
      rc::gen::resize(most, rc::gen::container<std::vector<config::Service>>(
                                gen_load_balancer_service(std::move(pools), ""))),
      [least](const std::vector<config::Service>& v) { return static_cast<int>(v.size()) >= least; });
  return rc::gen::map(services, [taken_keys, prefix](std::vector<config::Service> v) {
    std::set<std::string> keys = taken_keys;
    for (std::size_t i = 0; i < v.size(); ++i) {
      auto& meta = v[i].meta;
      std::string name = prefix + std::to_string(i);
      while (keys.count(meta.namespace_ + "/" + name))
        name += "-g";
      meta.name = name;
      keys.insert(meta.key());
    }
    return v;
  });
}

rc::Gen<MetalLbSet> gen_metallb_set() {
  return rc::gen::exec([] {
    MetalLbSet set;
    set.pools = *gen_pools();
    set.services = *gen_load_balancer_services(set.pools, 1, kMostServices);
    return set;
  });
}

std::string pool_yaml(const config::IpAddressPool& pool) {
  std::string out =
      "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: " + pool.meta.name +
      "\n  namespace: " + pool.meta.namespace_ + "\nspec:\n  addresses:\n";
  for (const auto& r : pool.addresses)
    out += "  - " + quoted(range_text(r)) + "\n";
  out += std::string("  autoAssign: ") + (pool.auto_assign ? "true" : "false") + "\n";
  out += std::string("  avoidBuggyIPs: ") + (pool.avoid_buggy_ips ? "true" : "false") + "\n";
  if (pool.service_allocation) out += service_allocation_yaml(*pool.service_allocation);
  return out;
}

std::string service_yaml(const config::Service& s) {
  std::string out = "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + s.meta.name +
                    "\n  namespace: " + s.meta.namespace_ + "\n";
  if (!s.meta.labels.empty()) out += "  labels:\n";
  for (const auto& [k, v] : s.meta.labels)
    out += "    " + quoted(k) + ": " + quoted(v) + "\n";
  const std::string prefix = annotation_prefix(s);
  std::string ips;
  for (const auto& ip : s.requested_ips)
    ips += (ips.empty() ? "" : ",") + ip.to_string();
  if (s.address_pool || s.sharing_key || !ips.empty()) out += "  annotations:\n";
  if (s.address_pool) out += "    " + prefix + "address-pool: " + quoted(*s.address_pool) + "\n";
  if (!ips.empty()) out += "    " + prefix + "loadBalancerIPs: " + quoted(ips) + "\n";
  if (s.sharing_key) out += "    " + prefix + "allow-shared-ip: " + quoted(*s.sharing_key) + "\n";
  out += "spec:\n  type: LoadBalancer\n";
  if (!s.selector.empty()) out += "  selector:\n";
  for (const auto& [k, v] : s.selector)
    out += "    " + quoted(k) + ": " + quoted(v) + "\n";
  out += std::string("  externalTrafficPolicy: ") +
         (s.external_traffic_policy == config::TrafficPolicy::kLocal ? "Local" : "Cluster") + "\n";
  out += "  ipFamilyPolicy: " + policy_name(s.ip_family_policy) + "\n";
  if (!s.ip_families.empty()) out += "  ipFamilies:\n";
  for (auto f : s.ip_families)
    out += "  - " + family_name(f) + "\n";
  out += "  ports:\n";
  for (const auto& p : s.ports) {
    out += "  - ";
    if (!p.name.empty()) out += "name: " + p.name + "\n    ";
    out += "protocol: " + std::string(config::to_string(p.protocol)) +
           "\n    port: " + std::to_string(p.port) + "\n";
  }
  return out;
}

std::string metallb_yaml(const std::vector<config::IpAddressPool>& pools,
                         const std::vector<config::Service>& services) {
  std::string out;
  for (const auto& p : pools)
    out += "---\n" + pool_yaml(p);
  for (const auto& s : services)
    out += "---\n" + service_yaml(s);
  return out;
}

}  // namespace metalgate::check
