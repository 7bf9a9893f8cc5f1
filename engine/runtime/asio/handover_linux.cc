// Handing a service address over (Runtime::hand_over), live: nftables rules through libnftables, the library
// nft itself is built on. For each address handed over, a rule in the prerouting hook, after conntrack:
//   ip daddr VIP tcp flags & syn == 0 ct state { new, invalid } dup to PREVIOUS_OWNER drop
// A segment that opens no connection (no SYN) and that conntrack has not seen before (new: picked up
// mid-stream; invalid: where pick-up is off) belongs to a connection of the node that left: it goes on to
// that node, whose stack still holds the address and the connection, instead of reaching our stack, which
// would answer it with a reset. Connections opened here (their SYN came here) are tracked, so they stay here.
#include <nftables/libnftables.h>

#include <memory>
#include <string>

#include "engine/runtime/asio/asio_runtime.h"

namespace metalgate::runtime::asio_live {

namespace {

struct NftContext {
  NftContext() : ctx(nft_ctx_new(NFT_CTX_DEFAULT)) {
    if (ctx) {
      nft_ctx_buffer_output(ctx);
      nft_ctx_buffer_error(ctx);
    }
  }
  ~NftContext() {
    if (ctx) nft_ctx_free(ctx);
  }
  nft_ctx* ctx;
};

}  // namespace

std::string handover_ruleset(const std::map<net::IpAddress, net::IpAddress>& handovers) {
  std::string out;
  for (const char* family : {"ip", "ip6"})  // create-then-delete removes a table whether it exists or not
    out += std::string("table ") + family + " metalgate_handover\ndelete table " + family +
           " metalgate_handover\n";
  for (const bool v4 : {true, false}) {
    std::string rules;
    for (const auto& [address, to] : handovers)
      if (address.is_v4() == v4 && to.is_v4() == v4)
        rules += std::string("    ") + (v4 ? "ip" : "ip6") + " daddr " + address.to_string() +
                 " tcp flags & syn == 0 ct state { new, invalid } dup to " + to.to_string() + " drop\n";
    if (rules.empty()) continue;
    out += std::string("table ") + (v4 ? "ip" : "ip6") +
           " metalgate_handover {\n  chain strays {\n    type filter hook prerouting priority 0; policy "
           "accept;\n" +
           rules + "  }\n}\n";
  }
  return out;
}

Handovers::~Handovers() {
  if (!installed_) return;
  to_.clear();
  apply();
}

std::error_code Handovers::set(const net::IpAddress& address, std::optional<net::IpAddress> previous_owner) {
  if (previous_owner && previous_owner->is_v4() != address.is_v4())
    return std::make_error_code(std::errc::address_family_not_supported);  // dup stays in one family
  if (previous_owner)
    to_[address] = *previous_owner;
  else if (!to_.erase(address))
    return {};
  return apply();
}

std::error_code Handovers::apply() {
  NftContext nft;
  if (!nft.ctx) return std::make_error_code(std::errc::not_enough_memory);
  const std::string ruleset = handover_ruleset(to_);
  if (nft_run_cmd_from_buffer(nft.ctx, ruleset.c_str()) != 0) {
    const char* why = nft_ctx_get_error_buffer(nft.ctx);
    error_ = why ? why : "nftables refused the rules";
    return std::make_error_code(std::errc::operation_not_permitted);
  }
  installed_ = !to_.empty();
  return {};
}

std::error_code AsioRuntime::hand_over(const net::IpAddress& address, const net::IpAddress& previous_owner) {
  if (!handovers_) handovers_ = std::make_unique<Handovers>();
  auto ec = handovers_->set(address, previous_owner);
  if (ec && !handovers_->error().empty())
    logger_.log(LogLevel::kWarning, "runtime", "handover-rules-refused", {{"error", handovers_->error()}});
  return ec;
}

void AsioRuntime::stop_handing_over(const net::IpAddress& address) {
  if (handovers_) handovers_->set(address, std::nullopt);
}

}  // namespace metalgate::runtime::asio_live
