// One end of a host's link shaped on its egress: netem (delay, loss) as the root qdisc with tbf (rate) as its
// child, or tbf alone. Both ends of a veth get the same shape, so each direction sees it once, as in the
// simulator.
//
// Kernels built without sch_netem (this project's CI VM has CONFIG_NET_SCH_NETEM unset, and no sch_fq either,
// so no kernel queue can hold a frame back) cannot delay; a delay there is refused with the reason. Loss
// still works there: a 6-instruction BPF program on the device's clsact egress hook drops the given share of
// frames with bpf_get_prandom_u32 (as netem's loss does, uncorrelated), loaded with bpf(2) and attached
// through rtnetlink (libnl has no cls_bpf object, so the message is built by hand).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "twin/lan/netns_internal.h"

namespace metalgate::twin::detail {
namespace {

constexpr std::uint32_t kNetemHandle = 0x00010000;   // 1:
constexpr std::uint32_t kTbfHandle = 0x000a0000;     // 10:
constexpr std::uint32_t kClsactHandle = 0xffff0000;  // ffff:, the clsact qdisc's fixed handle

// Whether the kernel has sch_netem: unknown until the first try, then remembered for the process.
enum class Netem { kUnknown, kPresent, kAbsent };
std::atomic<Netem> netem_support{Netem::kUnknown};

std::string failure(const std::string& where, const std::string& step, int err) {
  return where + ": " + step + ": " + nl_error(err);
}

// RTM_NEWQDISC / RTM_DELQDISC / RTM_NEWTFILTER with a kind and, for cls_bpf, the program's options.
int send_tc(nl_sock* sock, int type, int flags, const tcmsg& header, const char* kind, int bpf_fd) {
  nl_msg* msg = nlmsg_alloc_simple(type, flags);
  if (msg == nullptr) return -NLE_NOMEM;
  // No kind on a delete by position: the kernel compares a given kind with the qdisc's.
  if (nlmsg_append(msg, const_cast<tcmsg*>(&header), sizeof header, NLMSG_ALIGNTO) < 0 ||
      (*kind != '\0' && nla_put_string(msg, TCA_KIND, kind) < 0)) {
    nlmsg_free(msg);
    return -NLE_MSGSIZE;
  }
  if (bpf_fd >= 0) {
    nlattr* options = nla_nest_start(msg, TCA_OPTIONS);
    nla_put_u32(msg, TCA_BPF_FD, static_cast<std::uint32_t>(bpf_fd));
    nla_put_string(msg, TCA_BPF_NAME, "metalgate_loss");
    nla_put_u32(msg, TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
    nla_nest_end(msg, options);
  }
  return nl_send_sync(sock, msg);  // frees msg, waits for the kernel's answer
}

tcmsg tc_header(int ifindex, std::uint32_t parent, std::uint32_t handle) {
  tcmsg header{};
  header.tcm_family = AF_UNSPEC;
  header.tcm_ifindex = ifindex;
  header.tcm_parent = parent;
  header.tcm_handle = handle;
  return header;
}

bpf_insn instruction(std::uint8_t code, std::uint8_t dst, std::int16_t off, std::int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}

// A sched_cls program: drop (TC_ACT_SHOT) when a random u32 is below loss * 2^32, else pass (TC_ACT_OK).
int load_loss_program(double loss) {
  std::vector<bpf_insn> program;
  if (loss >= 1) {
    program = {instruction(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, TC_ACT_SHOT),
               instruction(BPF_JMP | BPF_EXIT, 0, 0, 0)};
  } else {
    auto threshold = static_cast<std::uint32_t>(std::ldexp(loss, 32));
    program = {instruction(BPF_JMP | BPF_CALL, 0, 0, BPF_FUNC_get_prandom_u32),
               instruction(BPF_JMP32 | BPF_JGE | BPF_K, BPF_REG_0, 2, static_cast<std::int32_t>(threshold)),
               instruction(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, TC_ACT_SHOT),
               instruction(BPF_JMP | BPF_EXIT, 0, 0, 0),
               instruction(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, TC_ACT_OK),
               instruction(BPF_JMP | BPF_EXIT, 0, 0, 0)};
  }
  static const char kLicense[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_SCHED_CLS;
  attr.insns = reinterpret_cast<std::uint64_t>(program.data());
  attr.insn_cnt = static_cast<std::uint32_t>(program.size());
  attr.license = reinterpret_cast<std::uint64_t>(kLicense);
  return static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
}

Result<bool> add_loss_program(nl_sock* sock, int ifindex, double loss, const std::string& where) {
  int err = send_tc(sock, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL,
                    tc_header(ifindex, TC_H_CLSACT, kClsactHandle), "clsact", -1);
  if (err < 0) return Failure{failure(where, "adding clsact for the loss program", err)};
  int fd = load_loss_program(loss);
  if (fd < 0) return Failure{where + ": " + sys_error("loading the loss program (bpf)")};
  tcmsg header = tc_header(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS), 0);
  header.tcm_info = TC_H_MAKE(1U << 16, htons(ETH_P_ALL));  // priority 1, every protocol
  err = send_tc(sock, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, header, "bpf", fd);
  ::close(fd);  // the filter holds the program
  if (err < 0) return Failure{failure(where, "attaching the loss program", err)};
  return true;
}

// Removes what apply_shape installed before; a qdisc already gone is no error.
Result<bool> clear_shape(nl_sock* sock, int ifindex, ShapeState& state, const std::string& where) {
  if (state.root) {
    int err = send_tc(sock, RTM_DELQDISC, 0, tc_header(ifindex, TC_H_ROOT, 0), "", -1);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND) return Failure{failure(where, "removing the root qdisc", err)};
    state.root = false;
  }
  if (state.clsact) {
    int err = send_tc(sock, RTM_DELQDISC, 0, tc_header(ifindex, TC_H_CLSACT, kClsactHandle), "clsact", -1);
    if (err < 0 && err != -NLE_OBJ_NOTFOUND) return Failure{failure(where, "removing clsact", err)};
    state.clsact = false;
  }
  return true;
}

int add_netem(nl_sock* sock, int ifindex, const LinkShape& shape) {
  rtnl_qdisc* qdisc = rtnl_qdisc_alloc();
  rtnl_tc_set_ifindex(TC_CAST(qdisc), ifindex);
  rtnl_tc_set_parent(TC_CAST(qdisc), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(qdisc), kNetemHandle);
  int err = rtnl_tc_set_kind(TC_CAST(qdisc), "netem");
  if (err == 0) {
    rtnl_netem_set_limit(qdisc, 10000);  // packets held while delayed; netem's 1000 drops at line rate
    rtnl_netem_set_delay(qdisc, static_cast<int>(shape.delay.count()));
    // netem's loss is a probability scaled to 2^32 - 1; libnl takes its bits as an int.
    auto scaled = static_cast<std::uint32_t>(std::min(1.0, shape.loss) * 4294967295.0);
    rtnl_netem_set_loss(qdisc, static_cast<int>(scaled));
    err = rtnl_qdisc_add(sock, qdisc, NLM_F_CREATE | NLM_F_EXCL);
  }
  rtnl_qdisc_put(qdisc);
  return err;
}

int add_tbf(nl_sock* sock, int ifindex, std::uint64_t bits_per_second, std::uint32_t parent) {
  const auto bytes = static_cast<int>(bits_per_second / 8);
  // A bucket of at least 64 KiB: a GSO frame of a veth fits whole, and one timer tick (4 ms at HZ=250) of
  // rate.
  const int bucket = std::max(bytes / 250, 64 * 1024);
  rtnl_qdisc* qdisc = rtnl_qdisc_alloc();
  rtnl_tc_set_ifindex(TC_CAST(qdisc), ifindex);
  rtnl_tc_set_parent(TC_CAST(qdisc), parent);
  rtnl_tc_set_handle(TC_CAST(qdisc), kTbfHandle);
  int err = rtnl_tc_set_kind(TC_CAST(qdisc), "tbf");
  if (err == 0) {
    rtnl_qdisc_tbf_set_rate(qdisc, bytes, bucket, 0);
    err = rtnl_qdisc_tbf_set_limit_by_latency(qdisc, 50000);  // 50 ms of queue
  }
  if (err == 0) err = rtnl_qdisc_add(sock, qdisc, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_qdisc_put(qdisc);
  return err;
}

// netem for delay and loss where the kernel has it; false when it has not (remembered for later calls).
Result<bool> try_netem(nl_sock* sock, int ifindex, const LinkShape& shape, const std::string& where) {
  if (netem_support.load() == Netem::kAbsent) return false;
  int err = add_netem(sock, ifindex, shape);
  if (err == -NLE_OBJ_NOTFOUND) {  // ENOENT: "Specified qdisc kind is unknown"
    netem_support.store(Netem::kAbsent);
    return false;
  }
  if (err < 0) return Failure{failure(where, "adding netem", err)};
  netem_support.store(Netem::kPresent);
  return true;
}

}  // namespace

Result<std::uint64_t> parse_rate(const std::string& text) {
  double number = 0;
  auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  const std::string_view unit(rest, static_cast<std::size_t>(text.data() + text.size() - rest));
  // The simulator's (ns-3 DataRate) units: SI or binary prefix, then b (bits) or B (bytes), "ps" or "/s".
  static const std::pair<std::string_view, double> kPrefixes[] = {
      {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"k", 1e3}, {"K", 1e3},
      {"M", 1e6},     {"G", 1e9},        {"T", 1e12},          {"", 1.0}};
  double factor = 0;
  for (const auto& [prefix, scale] : kPrefixes) {
    if (unit.substr(0, prefix.size()) != prefix) continue;
    std::string_view base = unit.substr(prefix.size());
    if (base == "bps" || base == "b/s") factor = scale;
    if (base == "Bps" || base == "B/s") factor = scale * 8;
    if (factor != 0) break;
  }
  if (ec != std::errc() || factor == 0 || !(number > 0)) {
    return Failure{"rate \"" + text + "\" is not a data rate such as 1Gbps or 100Mbps"};
  }
  const double bits = number * factor;
  if (bits / 8 > INT_MAX || bits < 8)
    return Failure{"rate \"" + text + "\" is outside 8bps..17Gbps (tbf's range)"};
  return static_cast<std::uint64_t>(bits);
}

Result<bool> apply_shape(nl_sock* sock, int ifindex, const LinkShape& shape, ShapeState& state,
                         const std::string& where) {
  std::uint64_t bits = 0;
  if (!shape.rate.empty()) {
    auto rate = parse_rate(shape.rate);
    if (!rate) return Failure{where + ": " + rate.error()};
    bits = *rate;
  }
  if (auto cleared = clear_shape(sock, ifindex, state, where); !cleared) return cleared;
  bool netem = false;
  if (shape.delay.count() > 0 || shape.loss > 0) {
    auto added = try_netem(sock, ifindex, shape, where);
    if (!added) return added;
    netem = *added;
    state.root = netem;
    if (!netem && shape.delay.count() > 0) {
      return Failure{where +
                     ": a link delay needs sch_netem, which this kernel lacks (CONFIG_NET_SCH_NETEM)"};
    }
  }
  if (bits != 0) {
    int err = add_tbf(sock, ifindex, bits, netem ? TC_H_MAKE(kNetemHandle, 1) : TC_H_ROOT);
    if (err < 0) return Failure{failure(where, "adding tbf for rate " + shape.rate, err)};
    state.root = true;
  }
  if (!netem && shape.loss > 0) {
    state.clsact = true;  // from here on there may be a clsact to remove, even if the filter fails
    return add_loss_program(sock, ifindex, shape.loss, where);
  }
  return true;
}

}  // namespace metalgate::twin::detail
