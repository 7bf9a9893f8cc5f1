#include "twin/apps/app_spec.h"

#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>

#include "engine/net/mac_address.h"

namespace metalgate::twin {

using nlohmann::json;
using scenario::observe::RequestRecord;

namespace {

// A field that is missing or wrong; `what` starts with the field's path ("client.target: ...").
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Converts one JSON value or says what it should have been.
void convert(const json& v, std::string& out) {
  if (!v.is_string()) throw std::invalid_argument("a string");
  out = v.get<std::string>();
}
void convert(const json& v, bool& out) {
  if (!v.is_boolean()) throw std::invalid_argument("true or false");
  out = v.get<bool>();
}
void convert(const json& v, double& out) {
  if (!v.is_number()) throw std::invalid_argument("a number");
  out = v.get<double>();
}
void convert(const json& v, std::int64_t& out) {
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX))
    throw std::invalid_argument("an integer");
  out = v.get<std::int64_t>();
}
void convert(const json& v, std::uint64_t& out) {
  if (!v.is_number_unsigned()) throw std::invalid_argument("an integer of at least 0");
  out = v.get<std::uint64_t>();
}
void convert(const json& v, int& out) {
  std::int64_t n = 0;
  convert(v, n);
  if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max())
    throw std::invalid_argument("an integer in int's range");
  out = static_cast<int>(n);
}
void convert(const json& v, std::uint16_t& out) {
  std::int64_t n = 0;
  convert(v, n);
  if (n < 1 || n > 65535) throw std::invalid_argument("a port number (1 to 65535)");
  out = static_cast<std::uint16_t>(n);
}
void convert(const json& v, net::IpAddress& out) {
  auto ip = v.is_string() ? net::IpAddress::parse(v.get<std::string>()) : std::nullopt;
  if (!ip) throw std::invalid_argument("an IP address as a string (\"10.0.0.5\", \"fd00::5\")");
  out = *ip;
}
void convert(const json& v, net::SocketAddress& out) {
  auto at = v.is_string() ? net::SocketAddress::parse(v.get<std::string>()) : std::nullopt;
  if (!at) throw std::invalid_argument("an address and port as a string (\"10.0.0.5:80\", \"[fd00::5]:80\")");
  out = *at;
}

// One JSON object's fields, each read once; names every field by its path in errors, unknown ones too.
class Fields {
 public:
  Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) throw FieldError(where() + ": must be an object");
  }
  // The field's path below this object ("client.mix[2]").
  std::string path_of(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const json* find(const std::string& key) {
    seen_.insert(key);
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  template <class T>
  void required(const std::string& key, T& out) {
    if (!find(key)) throw FieldError(path_of(key) + ": missing");
    optional(key, out);
  }
  template <class T>
  void optional(const std::string& key, T& out) {
    const json* v = find(key);
    if (!v) return;
    try {
      convert(*v, out);
    } catch (const std::invalid_argument& e) {
      throw FieldError(path_of(key) + ": must be " + e.what() + ", not " + v->dump());
    }
  }
  // Fails on a field no reader asked for (a misspelt one, say).
  void no_others() const {
    for (const auto& [key, value] : object_.items())
      if (!seen_.count(key)) throw FieldError(path_of(key) + ": unknown field");
  }

 private:
  std::string where() const { return path_.empty() ? "the whole" : path_; }
  const json& object_;
  std::string path_;
  std::set<std::string> seen_;
};

// Each element of the array at `key` (absent: none), read by `read(element, its path)`.
template <class Read>
void for_each_element(Fields& fields, const std::string& key, Read read) {
  const json* array = fields.find(key);
  if (!array) return;
  if (!array->is_array()) throw FieldError(fields.path_of(key) + ": must be a list");
  for (std::size_t i = 0; i < array->size(); ++i)
    read((*array)[i], fields.path_of(key) + "[" + std::to_string(i) + "]");
}

PodAppSpec pod_from_json(const json& j) {
  PodAppSpec pod;
  Fields f(j, "pod");
  f.required("name", pod.name);
  f.required("address", pod.address);
  if (!f.find("ports")) throw FieldError("pod.ports: missing");
  for_each_element(f, "ports", [&](const json& e, const std::string& path) {
    Fields p(e, path);
    PodAppSpec::Port port;
    p.required("number", port.number);
    p.optional("udp", port.udp);
    p.no_others();
    pod.ports.push_back(port);
  });
  f.optional("latency_ms", pod.latency_ms);
  if (pod.latency_ms < 0) throw FieldError("pod.latency_ms: must be at least 0");
  f.optional("control_file", pod.control_file);
  f.no_others();
  return pod;
}

std::map<std::string, std::string> node_of_mac_from_json(Fields& f) {
  std::map<std::string, std::string> out;
  const json* macs = f.find("node_of_mac");
  if (!macs) return out;
  if (!macs->is_object()) throw FieldError(f.path_of("node_of_mac") + ": must be an object (MAC -> node)");
  for (const auto& [key, value] : macs->items()) {
    auto mac = net::MacAddress::parse(key);
    const std::string path = f.path_of("node_of_mac") + "." + key;
    if (!mac) throw FieldError(path + ": not a MAC address (\"02:00:00:00:00:01\")");
    if (!value.is_string()) throw FieldError(path + ": must be a node's name, a string");
    out[mac->to_string()] = value.get<std::string>();  // canonical, as the lookup formats it
  }
  return out;
}

ClientAppSpec client_from_json(const json& j) {
  ClientAppSpec c;
  Fields f(j, "client");
  f.required("name", c.name);
  f.required("address", c.address);
  f.required("target", c.target);
  f.required("records_file", c.records_file);
  f.optional("udp", c.udp);
  f.optional("https", c.https);
  f.optional("host", c.host);
  f.optional("path", c.path);
  for_each_element(f, "mix", [&](const json& e, const std::string& path) {
    Fields m(e, path);
    ClientAppSpec::Mix mix;
    m.optional("host", mix.host);
    m.optional("path", mix.path);
    m.optional("weight", mix.weight);
    m.no_others();
    c.mix.push_back(mix);
  });
  f.optional("rate", c.rate);
  if (!(c.rate > 0)) throw FieldError("client.rate: must be more than 0");
  f.optional("concurrency", c.concurrency);
  f.optional("think_ms", c.think_ms);
  f.optional("timeout_ms", c.timeout_ms);
  f.optional("keep_alive", c.keep_alive);
  f.optional("cookies", c.cookies);
  f.optional("resume", c.resume);
  f.optional("http2", c.http2);
  f.optional("seed", c.seed);
  c.node_of_mac = node_of_mac_from_json(f);
  f.no_others();
  return c;
}

json pod_to_json(const PodAppSpec& pod) {
  json ports = json::array();
  for (const auto& p : pod.ports)
    ports.push_back({{"number", p.number}, {"udp", p.udp}});
  return {{"name", pod.name},
          {"address", pod.address.to_string()},
          {"ports", ports},
          {"latency_ms", pod.latency_ms},
          {"control_file", pod.control_file}};
}

json client_to_json(const ClientAppSpec& c) {
  json mix = json::array();
  for (const auto& m : c.mix)
    mix.push_back({{"host", m.host}, {"path", m.path}, {"weight", m.weight}});
  return {{"name", c.name},
          {"address", c.address.to_string()},
          {"target", c.target.to_string()},
          {"udp", c.udp},
          {"https", c.https},
          {"host", c.host},
          {"path", c.path},
          {"mix", mix},
          {"rate", c.rate},
          {"concurrency", c.concurrency},
          {"think_ms", c.think_ms},
          {"timeout_ms", c.timeout_ms},
          {"keep_alive", c.keep_alive},
          {"cookies", c.cookies},
          {"resume", c.resume},
          {"http2", c.http2},
          {"seed", c.seed},
          {"node_of_mac", c.node_of_mac},
          {"records_file", c.records_file}};
}

RequestRecord record_from_json(const json& j) {
  RequestRecord r;
  Fields f(j, "");
  f.required("start_us", r.start_us);
  f.required("end_us", r.end_us);
  f.required("status", r.status);
  f.optional("served_by", r.served_by);
  f.optional("client", r.client);
  f.optional("vip_node", r.vip_node);
  f.optional("host", r.host);
  f.optional("path", r.path);
  f.optional("error", r.error);
  f.optional("reused", r.reused);
  f.optional("connection_opened_us", r.connection_opened_us);
  f.optional("target", r.target);
  f.no_others();
  return r;
}

}  // namespace

json to_json(const AppSpec& spec) {
  json j = {{"epoch_ns", spec.epoch_ns}};
  if (!spec.start_file.empty()) j["start_file"] = spec.start_file;
  if (!spec.ready_file.empty()) j["ready_file"] = spec.ready_file;
  if (spec.pod) j["pod"] = pod_to_json(*spec.pod);
  if (spec.client) j["client"] = client_to_json(*spec.client);
  return j;
}

Result<AppSpec> app_spec_from_json(const json& j) {
  try {
    AppSpec spec;
    Fields f(j, "");
    f.required("epoch_ns", spec.epoch_ns);
    f.optional("start_file", spec.start_file);
    f.optional("ready_file", spec.ready_file);
    if (const json* pod = f.find("pod")) spec.pod = pod_from_json(*pod);
    if (const json* client = f.find("client")) spec.client = client_from_json(*client);
    if (!spec.pod && !spec.client) throw FieldError("pod, client: one of them is needed");
    if (spec.pod && spec.client) throw FieldError("pod, client: only one of them may be given");
    f.no_others();
    return spec;
  } catch (const FieldError& e) {
    return Failure{e.what()};
  }
}

json to_json(const RequestRecord& r) {
  return {{"start_us", r.start_us},
          {"end_us", r.end_us},
          {"status", r.status},
          {"served_by", r.served_by},
          {"client", r.client},
          {"vip_node", r.vip_node},
          {"host", r.host},
          {"path", r.path},
          {"error", r.error},
          {"reused", r.reused},
          {"connection_opened_us", r.connection_opened_us},
          {"target", r.target.to_string()}};
}

Result<std::vector<RequestRecord>> read_records(const std::string& records_file) {
  std::ifstream in(records_file);
  if (!in) return Failure{records_file + ": cannot be read"};
  std::vector<RequestRecord> records;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::string where = records_file + ":" + std::to_string(number);
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) return Failure{where + ": not JSON"};
    try {
      records.push_back(record_from_json(j));
    } catch (const FieldError& e) {
      return Failure{where + ": " + e.what()};
    }
  }
  return records;
}

}  // namespace metalgate::twin
