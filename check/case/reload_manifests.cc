#include "check/case/reload_manifests.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>

#include <yaml-cpp/yaml.h>

namespace metalgate::check {

namespace {

const config::Ingress* first_served_ingress(const Base& base) {
  for (const auto& key : base.model->ingresses)
    for (const auto& ingress : base.model->manifests.ingresses)
      if (ingress.meta.key() == key) return &ingress;
  return nullptr;
}

const config::IngressBackend* first_backend(const config::Ingress& ingress) {
  for (const auto& rule : ingress.rules)
    for (const auto& path : rule.paths)
      if (!path.backend.resource_kind) return &path.backend;
  if (ingress.default_backend && !ingress.default_backend->resource_kind) return &*ingress.default_backend;
  return nullptr;
}

YAML::Node service_backend(const config::IngressBackend& b) {
  YAML::Node port;
  if (b.service_port.number)
    port["number"] = *b.service_port.number;
  else
    port["name"] = b.service_port.name;
  YAML::Node backend;
  backend["service"]["name"] = b.service_name;
  backend["service"]["port"] = port;
  return backend;
}

// The first Host and path a client of the base asks the controller's HTTP(S) ports, if any.
std::optional<std::pair<std::string, std::string>> first_asked(const Base& base) {
  for (const auto& c : base.scenario.clients) {
    if (c.udp || c.target || c.port != (c.https ? 443 : 80)) continue;
    if (!c.mix.empty()) return std::make_pair(c.mix.front().host, c.mix.front().path);
    if (!c.host.empty()) return std::make_pair(c.host, c.path);
  }
  return std::nullopt;
}

YAML::Node rule(const std::string& host, const std::string& path, const std::string& type,
                YAML::Node backend) {
  YAML::Node p, r;
  p["path"] = path;
  p["pathType"] = type;
  p["backend"] = backend;
  r["host"] = host;
  r["http"]["paths"].push_back(p);
  return r;
}

// Valid: a host no client asks, Prefix /, to the Service `like` routes to first. Invalid: the same with a
// pathType Kubernetes does not have (Sideways), after a rule that would send the first asked Host and path
// (Exact beats the base's Prefix rules) to a Service that does not exist: were the document applied despite
// its error, those requests would get 503s.
YAML::Node ingress_document(const Base& base, const config::Ingress& like, const config::IngressBackend& to,
                            bool valid) {
  YAML::Node doc;
  doc["apiVersion"] = "networking.k8s.io/v1";
  doc["kind"] = "Ingress";
  doc["metadata"]["name"] = valid ? "metalgate-check-reload" : "metalgate-check-invalid-reload";
  doc["metadata"]["namespace"] = like.meta.namespace_;
  if (like.legacy_class) doc["metadata"]["annotations"]["kubernetes.io/ingress.class"] = *like.legacy_class;
  if (like.ingress_class_name) doc["spec"]["ingressClassName"] = *like.ingress_class_name;
  const auto asked = first_asked(base);
  if (!valid && asked) {
    config::IngressBackend nowhere;
    nowhere.service_name = "metalgate-check-nowhere";
    nowhere.service_port.number = 80;
    doc["spec"]["rules"].push_back(rule(asked->first, asked->second, "Exact", service_backend(nowhere)));
  }
  doc["spec"]["rules"].push_back(
      rule("reload.metalgate-check.example", "/", valid ? "Prefix" : "Sideways", service_backend(to)));
  return doc;
}

YAML::Node config_map_document(bool valid) {
  YAML::Node doc;
  doc["apiVersion"] = "v1";
  doc["kind"] = "ConfigMap";
  doc["metadata"]["name"] = "metalgate-check-reload";
  doc["metadata"]["namespace"] = "default";
  if (valid)
    doc["data"]["reloaded-by"] = "metalgate check";
  else
    doc["data"] = "not a map";  // a ConfigMap's data maps keys to strings
  return doc;
}

}  // namespace

std::string reload_addition(const Base& base, bool valid) {
  const config::Ingress* like = first_served_ingress(base);
  const config::IngressBackend* to = like ? first_backend(*like) : nullptr;
  YAML::Emitter out;
  out << (to ? ingress_document(base, *like, *to, valid) : config_map_document(valid));
  return std::string("# metalgate check's ") + (valid ? "valid" : "invalid") +
         " reload: the base's manifests and this\n" + out.c_str() + "\n";
}

bool write_reload_manifests(Base& base, const std::string& dir, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path absolute = fs::absolute(dir, ec).lexically_normal();
  for (const bool valid : {true, false}) {
    std::ofstream file(absolute / (valid ? "valid.yaml" : "invalid.yaml"));
    file << reload_addition(base, valid);
    if (!file) {
      error = "cannot write " + (absolute / (valid ? "valid.yaml" : "invalid.yaml")).string();
      return false;
    }
  }
  base.reload_dir = absolute.string();
  return true;
}

}  // namespace metalgate::check
