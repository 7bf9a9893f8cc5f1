#include "engine/admin/commands.h"

#include <sstream>
#include <vector>

#include "engine/l4/tcp_service.h"
#include "engine/membership/membership.h"
#include "engine/proxy/backend.h"
#include "engine/proxy/proxy.h"
#include "engine/speaker/layer2_node.h"
#include "engine/stats/json.h"

namespace metalgate::admin {

namespace {

using Words = std::vector<std::string>;

// A command: its leading words, what follows them, what it does, and the handler (given the words after the
// command's own). As HAProxy's cli_kw tables: a new command is one row.
struct Command {
  std::vector<std::string_view> words;
  std::string_view arguments;
  std::string_view help;
  std::string (*run)(node::Node& node, const Words& args);
};

const std::vector<Command>& commands();

// Every backend of the serving proxy: the HTTP ones, then those of the TCP services (ConfigMap ports and
// other LoadBalancer Services' ports) and of ssl-passthrough, as HAProxy lists its TCP backends too.
std::vector<proxy::Backend*> all_backends(node::Node& node) {
  std::vector<proxy::Backend*> out;
  if (!node.proxy()) return out;
  for (auto& b : node.proxy()->backends())
    out.push_back(b.get());
  for (auto* services : {&node.proxy()->tcp_services(), &node.proxy()->passthrough_services()})
    for (auto& svc : *services)
      out.push_back(&svc->backend());
  return out;
}

std::string error(const std::string& what) {
  return "error: " + what + "\n";
}

std::string help(node::Node&, const Words&) {
  std::string out;
  for (const auto& c : commands()) {
    std::string usage;
    for (auto w : c.words)
      usage += std::string(usage.empty() ? "" : " ") + std::string(w);
    if (!c.arguments.empty()) usage += " " + std::string(c.arguments);
    out += "  " + usage + std::string(usage.size() < 48 ? 48 - usage.size() : 1, ' ') + std::string(c.help) +
           "\n";
  }
  return out;
}

std::string show_info(node::Node& node, const Words&) {
  const auto& c = node.configuration();
  std::ostringstream out;
  out << "Name: metalgate\nNode: " << node.name() << "\nServices: " << c.model->services.size() << "\n";
  if (node.proxy()) {
    const auto& counters = node.proxy()->counters();
    out << "Frontends: " << c.proxy_config->frontends.size()
        << "\nBackends: " << c.proxy_config->backends.size()
        << "\nCurrConns: " << node.proxy()->client_connections() << "\nCumConns: " << counters.connections
        << "\nCumReq: " << counters.requests << "\nStopping: " << (node.proxy()->draining() ? 1 : 0) << "\n";
  }
  out << "Speaker: " << (node.layer2() ? "on" : "off") << "\n";
  return out.str();
}

// HAProxy's `show stat`: the CSV of the stats page, header first.
std::string show_stat(node::Node& node, const Words&) {
  if (!node.proxy()) return error("this node runs no proxy");
  return node.stats(stats::Page::kCsv);
}

// One line of JSON: the counters a scenario's result.json keeps per node (engine/stats/json.h).
std::string show_counters(node::Node& node, const Words&) {
  return stats::to_json(node.stats_snapshot()).dump() + "\n";
}

std::string show_servers_state(node::Node& node, const Words&) {
  if (!node.proxy()) return error("this node runs no proxy");
  std::string out = "# backend server address status admin check active requests\n";
  for (proxy::Backend* backend : all_backends(node)) {
    const auto& servers = backend->servers();
    for (std::size_t i = 0; i < servers.size(); ++i) {
      const proxy::ServerState& s = servers[i];
      const bool up = s.health.up;
      out += backend->name() + " " + s.config.name + " " + s.config.address.to_string() + " " +
             (up ? "UP" : "DOWN") + " " + std::string(proxy::to_string(backend->admin(i))) + " " +
             (s.last_check.empty() ? "-" : "\"" + s.last_check + "\"") + " " +
             std::to_string(backend->load(i).active) + " " + std::to_string(s.requests) + "\n";
    }
  }
  return out;
}

std::string set_server_state(node::Node& node, const Words& args) {
  if (args.size() != 3 || args[1] != "state")
    return error("usage: set server BACKEND/SERVER state ready|drain|maint");
  const std::string& target = args[0];
  const auto slash = target.find('/');
  if (slash == std::string::npos) return error("'" + target + "' is not BACKEND/SERVER");
  proxy::AdminState state;
  if (args[2] == "ready")
    state = proxy::AdminState::kReady;
  else if (args[2] == "drain")
    state = proxy::AdminState::kDrain;
  else if (args[2] == "maint")
    state = proxy::AdminState::kMaint;
  else
    return error("'" + args[2] + "' is not ready, drain or maint");
  if (!node.proxy()) return error("this node runs no proxy");
  for (proxy::Backend* backend : all_backends(node)) {
    if (backend->name() != target.substr(0, slash)) continue;
    for (std::size_t i = 0; i < backend->servers().size(); ++i)
      if (backend->servers()[i].config.name == target.substr(slash + 1)) {
        backend->set_admin(i, state);
        return "";
      }
    return error("backend " + backend->name() + " has no server '" + target.substr(slash + 1) + "'");
  }
  return error("no backend '" + target.substr(0, slash) + "' (show servers state lists them)");
}

std::string show_vips(node::Node& node, const Words&) {
  if (!node.layer2()) return error("this node runs no speaker");
  std::string out = "# address owner here\n";
  for (const auto& [vip, owner] : node.layer2()->owners())
    out += vip.to_string() + " " + (owner.empty() ? "-" : owner) + " " +
           (owner == node.name() ? "yes" : "no") + "\n";
  return out;
}

// What this speaker claims now (answers ARP/NDP for): the addresses it owns, one a line.
std::string show_claims(node::Node& node, const Words&) {
  if (!node.layer2()) return error("this node runs no speaker");
  std::string out;
  for (const auto& address : node.layer2()->speaker().core().owned_addresses())
    out += address.to_string() + "\n";
  return out;
}

std::string show_members(node::Node& node, const Words&) {
  if (!node.layer2()) return error("this node runs no speaker");
  std::string out = "# name address state incarnation ready\n";
  for (const auto& [name, m] : node.layer2()->membership().core().members())
    out += name + " " + m.address.to_string() + " " + std::string(membership::to_string(m.state)) + " " +
           std::to_string(m.incarnation) + " " + (m.ready ? "yes" : "no") + "\n";
  return out;
}

const std::vector<Command>& commands() {
  static const std::vector<Command> k = {
      {{"help"}, "", "this list", help},
      {{"show", "info"}, "", "the node, its counts and counters", show_info},
      {{"show", "stat"}, "", "frontends, backends and servers as HAProxy's CSV", show_stat},
      {{"show", "servers", "state"},
       "",
       "every server: health, admin state, last check, load",
       show_servers_state},
      {{"set", "server"},
       "BACKEND/SERVER state ready|drain|maint",
       "take a server out of balancing, or back",
       set_server_state},
      {{"show", "vips"}, "", "every service address and the node that owns it", show_vips},
      {{"show", "members"}, "", "the membership as this node sees it", show_members},
      {{"show", "claims"}, "", "the addresses this speaker claims now, one a line", show_claims},
      {{"show", "counters"}, "", "the stats counters as one JSON object", show_counters},
  };
  return k;
}

}  // namespace

std::string run_command(node::Node& node, std::string_view line) {
  Words words;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;)
    words.push_back(w);
  if (words.empty()) return error("empty command (help lists them)");
  for (const auto& c : commands()) {
    if (words.size() < c.words.size()) continue;
    if (!std::equal(c.words.begin(), c.words.end(), words.begin())) continue;
    return c.run(node, Words(words.begin() + static_cast<std::ptrdiff_t>(c.words.size()), words.end()));
  }
  return error("unknown command '" + std::string(line) + "' (help lists them)");
}

}  // namespace metalgate::admin
