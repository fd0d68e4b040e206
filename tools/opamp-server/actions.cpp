#include "actions.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "common/sha256.hpp"
#include "encoding.hpp"
#include "opamp_endpoint.hpp"
#include "package_signer.hpp"
#include "package_store.hpp"
#include "protocol_names.hpp"

namespace opsup::opamp_server {

Actions::Actions(AgentRegistry &registry, OpampEndpoint &endpoint, PackageStore &packages,
                 const PackageSigner &signer, std::function<std::string()> package_base_url)
    : registry_(registry),
      endpoint_(endpoint),
      packages_(packages),
      signer_(signer),
      package_base_url_(std::move(package_base_url)) {}

bool Actions::set_remote_config(AgentRecord &agent, proto::AgentConfigMap config) {
  agent.desired.set_remote_config(std::move(config));
  spdlog::info("action: remote config {} for agent {}",
               to_hex(agent.desired.remote_config()->config_hash()), agent.uid_key);
  return endpoint_.push(agent);
}

bool Actions::restart(AgentRecord &agent) {
  agent.pending.restart = true;
  spdlog::info("action: restart command for agent {}", agent.uid_key);
  return endpoint_.push(agent);
}

bool Actions::set_opamp_settings(AgentRecord &agent, proto::OpAMPConnectionSettings settings) {
  agent.desired.set_opamp_settings(std::move(settings));
  spdlog::info("action: OpAMP connection settings for agent {}", agent.uid_key);
  return endpoint_.push(agent);
}

bool Actions::set_own_telemetry(AgentRecord &agent,
                                std::map<std::string, proto::TelemetryConnectionSettings> parts) {
  for (auto &[part, settings] : parts) {
    if (part == kOfferOwnMetrics) {
      agent.desired.set_own_telemetry(kOfferOwnMetrics, std::move(settings));
    } else if (part == kOfferOwnTraces) {
      agent.desired.set_own_telemetry(kOfferOwnTraces, std::move(settings));
    } else {
      agent.desired.set_own_telemetry(kOfferOwnLogs, std::move(settings));
    }
  }
  spdlog::info("action: own telemetry settings for agent {}", agent.uid_key);
  return endpoint_.push(agent);
}

bool Actions::set_other_connections(AgentRecord &agent, OtherConnectionsChange change) {
  google::protobuf::Map<std::string, proto::OtherConnectionSettings> connections;
  if (change.merge) {
    connections = agent.desired.offers().other_connections();
    for (const auto &name : change.remove)
      connections.erase(name);
    for (auto &[name, settings] : change.connections)
      connections[name] = std::move(settings);
  } else {
    connections = std::move(change.connections);
  }
  agent.desired.set_other_connections(std::move(connections));
  spdlog::info("action: other connection settings for agent {} ({})", agent.uid_key,
               change.merge ? "merged" : "replaced");
  return endpoint_.push(agent);
}

bool Actions::send_custom_message(AgentRecord &agent, proto::CustomMessage message) {
  spdlog::info("action: custom message {}/{} for agent {}", message.capability(), message.type(),
               agent.uid_key);
  agent.pending.custom_messages.push_back(std::move(message));
  return endpoint_.push(agent);
}

bool Actions::request_full_state(AgentRecord &agent) {
  agent.pending.report_full_state = true;
  spdlog::info("action: full state request for agent {}", agent.uid_key);
  return endpoint_.push(agent);
}

void Actions::store_package(
    PackageRequest request,
    std::function<void(const StoredPackage *, const std::string &error)> done) {
  if (request.content) {
    packages_.add_content(request.name, std::move(*request.content), request.signature.value_or(""),
                          std::move(done));
  } else if (request.file_path) {
    packages_.add_file(request.name, *request.file_path, request.signature.value_or(""),
                       std::move(done));
  } else {
    done(nullptr, "package " + request.name + ": give content_base64 or file_path");
  }
}

void Actions::offer_packages(const std::string &uid_key, PackagesChange change,
                             std::function<void(PackagesOutcome)> done) {
  struct Join {
    std::size_t remaining = 0;
    std::string first_error;
    std::vector<PackageRequest> requests;
    bool merge = false;
    std::vector<std::string> remove;
    std::function<void(PackagesOutcome)> done;
  };
  auto join = std::make_shared<Join>();
  join->requests = std::move(change.packages);
  join->merge = change.merge;
  join->remove = std::move(change.remove);
  join->done = std::move(done);

  auto finish = [this, uid_key, join]() {
    PackagesOutcome outcome;
    AgentRecord *agent = registry_.find(uid_key);
    if (!join->first_error.empty()) {
      outcome.error = join->first_error;
    } else if (agent == nullptr) {
      outcome.error = "agent " + uid_key + " is no longer known";
    } else {
      // A merge starts from the offer as it is now (not as it was when the request came
      // in): the kept packages are copied unchanged, hashes and download details included.
      proto::PackagesAvailable base;
      if (join->merge && agent->desired.packages()) {
        base = *agent->desired.packages();
        for (const auto &name : join->remove)
          base.mutable_packages()->erase(name);
      }
      agent->desired.set_packages(build_packages_offer(join->requests, std::move(base)));
      outcome.offer = agent->desired.packages();
      spdlog::info(
          "action: {} package(s) offered to agent {} ({}; {} in the offer, "
          "all_packages_hash {})",
          join->requests.size(), uid_key, join->merge ? "merged" : "replaced",
          outcome.offer->packages().size(), to_hex(outcome.offer->all_packages_hash()));
      outcome.sent_now = endpoint_.push(*agent);
    }
    join->done(std::move(outcome));
  };

  for (const auto &request : join->requests) {
    if (!request.content && !request.file_path && packages_.find(request.name) == nullptr) {
      join->first_error = "package " + request.name +
                          " is not stored on this server: give content_base64 or file_path";
      finish();
      return;
    }
    if (request.content || request.file_path)
      ++join->remaining;
  }
  if (join->remaining == 0) {
    finish();
    return;
  }
  for (auto &request : join->requests) {
    if (!request.content && !request.file_path)
      continue;
    PackageRequest to_store = request;
    request.content.reset();  // keep only one copy of large uploads
    store_package(std::move(to_store),
                  [join, finish](const StoredPackage *package, const std::string &error) {
                    if (package == nullptr && join->first_error.empty())
                      join->first_error = error;
                    if (--join->remaining == 0)
                      finish();
                  });
  }
}

proto::PackagesAvailable Actions::build_packages_offer(const std::vector<PackageRequest> &requests,
                                                       proto::PackagesAvailable base) {
  proto::PackagesAvailable offer = std::move(base);
  std::string base_url = package_base_url_();
  for (const auto &request : requests) {
    StoredPackage *stored = packages_.find(request.name);
    if (stored == nullptr)
      continue;  // checked before storing; replaced concurrently at worst
    proto::PackageAvailable &package = (*offer.mutable_packages())[request.name];
    package.Clear();  // a merge replaces a package of the same name entirely
    package.set_type(request.type);
    package.set_version(request.version);
    auto *file = package.mutable_file();
    file->set_download_url(base_url + PackageStore::download_path(request.name));
    file->set_content_hash(stored->content_hash);
    // A signature given with the offer wins, even an empty one (an unsigned offer); then
    // one given when the package was stored; else the server signs the package itself.
    if (request.signature) {
      file->set_signature(*request.signature);
    } else if (!stored->signature.empty()) {
      file->set_signature(stored->signature);
    } else {
      if (stored->server_signature.empty())
        stored->server_signature = signer_.sign_digest(stored->content_hash);
      file->set_signature(stored->server_signature);
    }
    *file->mutable_headers() = request.download_headers;
    std::string identity = request.name + '\0' + package_type_name(request.type) + '\0' +
                           request.version + '\0' + stored->content_hash + '\0' + file->signature();
    package.set_hash(common::sha256(identity));
  }
  std::vector<std::string> names;
  for (const auto &[name, package] : offer.packages())
    names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string all;
  for (const auto &name : names) {
    all += name;
    all.push_back('\0');
    all += offer.packages().at(name).hash();
    all.push_back('\0');
  }
  offer.set_all_packages_hash(common::sha256(all));
  return offer;
}

}  // namespace opsup::opamp_server
