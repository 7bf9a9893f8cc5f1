// The Python module's C++ edge (`metalgate._metalgate`): the same loaders, simulator and reports as the CLI,
// with plain Python values out. Documents cross as text (YAML in, JSON out) so the Python side holds nothing
// but data; errors come back as the diagnostics the CLI prints, and the Python layer (pybind/metalgate/)
// raises them as exceptions.
//
// The simulator (ns-3) is one per process: runs are serialized by a mutex taken with the GIL released, so a
// second Python thread runs on while a simulation does. Sweeps run cases in worker processes.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/cli/validate.h"
#include "scenario/report/html_report.h"
#include "scenario/report/junit.h"
#include "scenario/report/outputs.h"
#include "scenario/schema/loader.h"
#include "sim/scenario/runner.h"

namespace py = pybind11;

namespace {

using metalgate::config::Diagnostics;

py::list diagnostics_list(const Diagnostics& d) {
  py::list out;
  for (const auto& x : d.sorted())
    out.append(py::dict(py::arg("severity") = std::string(metalgate::config::to_string(x.severity)),
                        py::arg("file") = x.where.file, py::arg("line") = x.where.line,
                        py::arg("column") = x.where.column, py::arg("field") = x.field,
                        py::arg("message") = x.message, py::arg("text") = x.to_string()));
  return out;
}

py::dict outcome(const Diagnostics& d) {
  return py::dict(py::arg("ok") = !d.has_errors(), py::arg("diagnostics") = diagnostics_list(d),
                  py::arg("text") = d.to_string());
}

// validate(paths, state_file) -> {ok, diagnostics, text, model_json}
py::dict validate(const std::vector<std::string>& paths, const std::string& state_file) {
  metalgate::cli::ValidateOptions options;
  options.paths = paths;
  options.state_file = state_file;
  const auto o = metalgate::cli::validate_manifests(options);
  py::dict out = outcome(o.diagnostics);
  out["model_json"] = metalgate::cli::format_model_json(*o.model, o.diagnostics, o.valid, o.protocols);
  return out;
}

// check_scenario(text, path) -> {ok, diagnostics, text, duration_ms}
py::dict check_scenario(const std::string& text, const std::string& path) {
  Diagnostics d;
  const auto s = metalgate::scenario::load_scenario_text(text, path, d);
  py::dict out = outcome(d);
  out["duration_ms"] = s.duration.count();
  return out;
}

// Each request as columns (one list per field), ready for pandas.DataFrame.
py::dict request_columns(const std::vector<metalgate::scenario::observe::RequestRecord>& records) {
  py::list client, start, end, status, served_by, vip_node, host, path, error, reused, target;
  for (const auto& r : records) {
    client.append(r.client);
    start.append(static_cast<double>(r.start_us) / 1000.0);
    end.append(static_cast<double>(r.end_us) / 1000.0);
    status.append(r.status);
    served_by.append(r.served_by);
    vip_node.append(r.vip_node);
    host.append(r.host);
    path.append(r.path);
    error.append(r.error);
    reused.append(r.reused);
    target.append(r.target.is_unspecified() ? std::string() : r.target.to_string());
  }
  return py::dict(py::arg("client") = client, py::arg("start_ms") = start, py::arg("end_ms") = end,
                  py::arg("status") = status, py::arg("served_by") = served_by,
                  py::arg("vip_node") = vip_node, py::arg("host") = host, py::arg("path") = path,
                  py::arg("error") = error, py::arg("reused") = reused, py::arg("target") = target);
}

std::mutex& simulator_mutex() {
  static std::mutex m;
  return m;
}

// run_sim(text, path, seed, progress) -> {ok, diagnostics, text, result_json, passed, requests}
// `progress(simulated_seconds)` is called about every simulated second, with the GIL held; an exception it
// raises is raised again once the run has ended (ns-3 cannot be stopped from inside a callback).
py::dict run_sim(const std::string& text, const std::string& path, std::optional<std::uint64_t> seed,
                 std::optional<py::function> progress) {
  Diagnostics d;
  const auto s = metalgate::scenario::load_scenario_text(text, path, d);
  if (d.has_errors()) return outcome(d);
  metalgate::sim::RunOptions options;
  options.seed = seed;
  std::optional<py::error_already_set> raised;
  if (progress)
    options.progress = [&](double simulated_seconds) {
      py::gil_scoped_acquire gil;
      if (raised) return;
      try {
        (*progress)(simulated_seconds);
      } catch (py::error_already_set& e) {
        raised.emplace(std::move(e));
      }
    };
  metalgate::sim::RunResult r;
  {
    py::gil_scoped_release released;
    std::lock_guard lock(simulator_mutex());
    r = metalgate::sim::run_scenario(s, options, d);
  }
  if (raised) throw std::move(*raised);
  py::dict out = outcome(d);
  if (r.result.is_null()) {
    out["ok"] = false;
    return out;
  }
  out["result_json"] = r.result.dump();
  out["passed"] = r.passed;
  out["requests"] = request_columns(r.requests);
  return out;
}

std::string report_html(const std::string& result_json) {
  return metalgate::scenario::html_report(nlohmann::json::parse(result_json));
}

std::string junit_xml(const std::string& result_json) {
  return metalgate::scenario::junit_xml(nlohmann::json::parse(result_json));
}

void write_outputs(const std::string& out_dir, const std::string& result_json) {
  metalgate::scenario::write_run_outputs(out_dir, nlohmann::json::parse(result_json));
}

}  // namespace

PYBIND11_MODULE(_metalgate, m) {
  m.doc() = "metalgate's C++ engine, loaders and simulator (use the metalgate package, not this module)";
  m.def("validate", &validate, py::arg("paths"), py::arg("state_file") = "");
  m.def("check_scenario", &check_scenario, py::arg("text"), py::arg("path"));
  m.def("run_sim", &run_sim, py::arg("text"), py::arg("path"), py::arg("seed") = std::nullopt,
        py::arg("progress") = std::nullopt);
  m.def("report_html", &report_html, py::arg("result_json"));
  m.def("junit_xml", &junit_xml, py::arg("result_json"));
  m.def("write_outputs", &write_outputs, py::arg("out_dir"), py::arg("result_json"));
}
