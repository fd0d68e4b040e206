#include "telemetry_layer.hpp"

#include "shared/redact_endpoint.hpp"

#include <cctype>
#include <cstdio>

namespace opsup::own_telemetry {
namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size())
    return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i])
      return false;
  }
  return true;
}

// The scheme when `endpoint` is an http:// or https:// URL with a host, else nullopt. The
// Collector parses it with Go's url.ParseRequestURI and exports over TLS unless the scheme
// is http.
std::optional<std::string> endpoint_scheme(std::string_view endpoint) {
  for (std::string_view scheme : {"https", "http"}) {
    const std::string prefix = std::string(scheme) + "://";
    if (!starts_with_ignoring_case(endpoint, prefix))
      continue;
    const std::string_view rest = endpoint.substr(prefix.size());
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    const size_t at = authority.rfind('@');
    const std::string_view host =
        at == std::string_view::npos ? authority : authority.substr(at + 1);
    if (host.empty() || host.front() == ':')
      return std::nullopt;
    for (char c : endpoint) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
        return std::nullopt;
    }
    return std::string(scheme);
  }
  return std::nullopt;
}

// PEM blocks joined one per line, in order, each once.
std::string join_pems(const std::vector<std::string_view> &pems) {
  std::string joined;
  std::vector<std::string_view> seen;
  for (std::string_view pem : pems) {
    if (pem.empty())
      continue;
    bool repeated = false;
    for (std::string_view other : seen)
      repeated = repeated || other == pem;
    if (repeated)
      continue;
    seen.push_back(pem);
    joined.append(pem);
    if (joined.back() != '\n')
      joined.push_back('\n');
  }
  return joined;
}

struct Indent {
  int spaces;
  std::string operator()(int more = 0) const { return std::string(spaces + more, ' '); }
};

// The `otlp:` exporter map of one signal, its keys at `indent`.
class ExporterWriter {
 public:
  ExporterWriter(Signal signal, const LayerOptions &options, Layer &layer)
      : name_(signal_name(signal)), options_(options), layer_(layer) {}

  // The exporter's keys, or nullopt when the offer cannot be exported at all.
  std::optional<std::string> write(const proto::TelemetryConnectionSettings &offer, Indent at) {
    const auto scheme = endpoint_scheme(offer.destination_endpoint());
    if (!scheme) {
      problem("the endpoint \"" + opsup::plugins::redact_endpoint(offer.destination_endpoint()) +
              "\" is not an http:// or https:// URL with a host; " + name_ + " are not exported");
      return std::nullopt;
    }
    std::string out;
    out += at() + "protocol: " + yaml_quoted("http/protobuf") + "\n";
    out += at() + "endpoint: " + yaml_quoted(offer.destination_endpoint()) + "\n";
    std::string headers;
    for (const proto::Header &header : offer.headers().headers()) {
      if (header.key().empty()) {
        problem("a header without a name is left out");
        continue;
      }
      headers += at(2) + "- name: " + yaml_quoted(header.key()) + "\n";
      headers += at(4) + "value: " + yaml_quoted(header.value()) + "\n";
    }
    if (!headers.empty())
      out += at() + "headers:\n" + headers;
    out += tls(offer, *scheme == "https", at);
    if (offer.has_proxy() && !offer.proxy().url().empty())
      problem("the proxy is not applied: the Collector's internal telemetry has no proxy setting");
    return out;
  }

 private:
  std::string tls(const proto::TelemetryConnectionSettings &offer, bool over_tls, Indent at) {
    const proto::TLSCertificate &certificate = offer.certificate();
    const proto::TLSConnectionSettings &settings = offer.tls();
    const std::string ca = join_pems({settings.ca_pem_contents(), certificate.ca_cert()});
    const bool client_pair = !certificate.cert().empty() && !certificate.private_key().empty();
    const bool any_material =
        !ca.empty() || !certificate.cert().empty() || !certificate.private_key().empty();
    if (!over_tls) {
      if (any_material || settings.insecure_skip_verify())
        problem("TLS settings are not used with an http:// endpoint");
      return {};
    }
    if (settings.insecure_skip_verify()) {
      problem(
          "tls.insecure_skip_verify is not applied: the Collector's internal telemetry always "
          "verifies the server's certificate");
    }
    if (!settings.min_version().empty() || !settings.max_version().empty() ||
        settings.cipher_suites_size() > 0) {
      problem(
          "tls.min_version, max_version and cipher_suites are not applied: the Collector's "
          "internal telemetry has no such settings");
    }
    if (certificate.cert().empty() != certificate.private_key().empty()) {
      problem(
          "certificate.cert and certificate.private_key come together; the one given alone "
          "is not used");
    }
    if (!any_material)
      return {};
    if (options_.storage_directory.empty()) {
      problem("the TLS material is not applied: the storage directory is not known");
      return {};
    }
    std::string out;
    if (!ca.empty()) {
      std::string trusted = ca;
      if (settings.include_system_ca_certs_pool()) {
        // The Collector trusts only the named file once one is named.
        if (options_.system_ca_bundle)
          trusted = join_pems({*options_.system_ca_bundle, ca});
        else
          problem(
              "tls.include_system_ca_certs_pool: no system CA bundle was found; only the "
              "offered CA is trusted");
      }
      out += at() + "certificate: " + yaml_quoted(file("ca", trusted)) + "\n";
    }
    if (client_pair) {
      out += at() + "client_certificate: " + yaml_quoted(file("cert", certificate.cert())) + "\n";
      out += at() + "client_key: " + yaml_quoted(file("key", certificate.private_key())) + "\n";
    }
    return out;
  }

  // Records a PEM file and returns its absolute path.
  std::string file(std::string_view kind, std::string_view contents) {
    const std::string name = "own_telemetry_" + name_ + "_" + std::string(kind) + ".pem";
    layer_.files[name] = std::string(contents);
    std::string path = options_.storage_directory;
    if (path.back() != '/')
      path.push_back('/');
    return path + name;
  }

  void problem(const std::string &text) { layer_.problems.push_back(name_ + ": " + text); }

  std::string name_;
  const LayerOptions &options_;
  Layer &layer_;
};

}  // namespace

std::string_view signal_name(Signal signal) {
  switch (signal) {
    case Signal::kMetrics:
      return "metrics";
    case Signal::kLogs:
      return "logs";
    case Signal::kTraces:
      return "traces";
  }
  return "?";
}

bool has_part(const proto::ConnectionSettingsOffers &offers, Signal signal) {
  switch (signal) {
    case Signal::kMetrics:
      return offers.has_own_metrics();
    case Signal::kLogs:
      return offers.has_own_logs();
    case Signal::kTraces:
      return offers.has_own_traces();
  }
  return false;
}

const proto::TelemetryConnectionSettings &part(const proto::ConnectionSettingsOffers &offers,
                                               Signal signal) {
  switch (signal) {
    case Signal::kMetrics:
      return offers.own_metrics();
    case Signal::kLogs:
      return offers.own_logs();
    case Signal::kTraces:
      break;
  }
  return offers.own_traces();
}

proto::TelemetryConnectionSettings *mutable_part(proto::ConnectionSettingsOffers &offers,
                                                 Signal signal) {
  switch (signal) {
    case Signal::kMetrics:
      return offers.mutable_own_metrics();
    case Signal::kLogs:
      return offers.mutable_own_logs();
    case Signal::kTraces:
      break;
  }
  return offers.mutable_own_traces();
}

void clear_part(proto::ConnectionSettingsOffers &offers, Signal signal) {
  switch (signal) {
    case Signal::kMetrics:
      offers.clear_own_metrics();
      return;
    case Signal::kLogs:
      offers.clear_own_logs();
      return;
    case Signal::kTraces:
      offers.clear_own_traces();
      return;
  }
}

Layer render_layer(const proto::ConnectionSettingsOffers &offers,
                   const std::array<bool, 3> &enabled, const LayerOptions &options) {
  Layer layer;
  std::string telemetry;
  for (Signal signal : kSignals) {
    if (!enabled[static_cast<size_t>(signal)] || !has_part(offers, signal))
      continue;
    const proto::TelemetryConnectionSettings &offer = part(offers, signal);
    if (offer.destination_endpoint().empty())
      continue;
    ExporterWriter writer(signal, options, layer);
    if (signal == Signal::kMetrics) {
      const auto exporter = writer.write(offer, Indent{16});
      if (!exporter)
        continue;
      telemetry += "    metrics:\n      readers:\n        - periodic:\n";
      if (options.metrics_interval_ms)
        telemetry += "            interval: " + std::to_string(*options.metrics_interval_ms) + "\n";
      telemetry += "            exporter:\n              otlp:\n" + *exporter;
    } else {
      const auto exporter = writer.write(offer, Indent{16});
      if (!exporter)
        continue;
      telemetry += "    " + std::string(signal_name(signal)) +
                   ":\n      processors:\n        - batch:\n"
                   "            exporter:\n              otlp:\n" +
                   *exporter;
    }
  }
  if (!telemetry.empty())
    layer.yaml = "service:\n  telemetry:\n" + telemetry;
  return layer;
}

std::string yaml_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
          out += escaped;
        } else {
          out.push_back(c);  // UTF-8 passes through
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace opsup::own_telemetry
