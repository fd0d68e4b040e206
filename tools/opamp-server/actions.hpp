// What an operator (web page or JSON API) can do to an agent. Each action updates the
// agent's desired state or queues a one-shot message, then pushes at once to a connected
// WebSocket agent; plain-HTTP and offline agents get it with their next message.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent_registry.hpp"
#include "json_requests.hpp"
#include "opamp.pb.h"

namespace opsup::opamp_server {

class OpampEndpoint;
class PackageSigner;
class PackageStore;
struct StoredPackage;

class Actions {
 public:
  // `package_base_url` gives "http://host:port" for packages' download_url.
  // `signer` signs offered packages that come without a signature.
  Actions(AgentRegistry &registry, OpampEndpoint &endpoint, PackageStore &packages,
          const PackageSigner &signer, std::function<std::string()> package_base_url);

  const PackageSigner &package_signer() const { return signer_; }

  // Each returns true when a message went out to the agent now.
  bool set_remote_config(AgentRecord &agent, proto::AgentConfigMap config);
  bool restart(AgentRecord &agent);
  bool set_opamp_settings(AgentRecord &agent, proto::OpAMPConnectionSettings settings);
  bool set_own_telemetry(AgentRecord &agent,
                         std::map<std::string, proto::TelemetryConnectionSettings> parts);
  // Replaces the other_connections part, or merges into it by name (see
  // OtherConnectionsChange): a merge keeps what was set earlier, TLS material included.
  bool set_other_connections(AgentRecord &agent, OtherConnectionsChange change);
  bool send_custom_message(AgentRecord &agent, proto::CustomMessage message);
  bool request_full_state(AgentRecord &agent);

  struct PackagesOutcome {
    std::optional<proto::PackagesAvailable> offer;  // nullopt on error
    bool sent_now = false;
    std::string error;
  };
  // Stores uploaded content and registered files first (off the io thread), then replaces
  // the agent's offered package set, or merges into it by name (see PackagesChange): a
  // merge keeps the other offered packages exactly as they were offered. `done` runs on the
  // io_context thread.
  void offer_packages(const std::string &uid_key, PackagesChange change,
                      std::function<void(PackagesOutcome)> done);
  // Stores one package (content or file path) without offering it.
  void store_package(PackageRequest request,
                     std::function<void(const StoredPackage *, const std::string &error)> done);

 private:
  // The packages in `requests` added to (or replacing by name) those of `base`, with the
  // package hashes and all_packages_hash.
  proto::PackagesAvailable build_packages_offer(const std::vector<PackageRequest> &requests,
                                                proto::PackagesAvailable base);

  AgentRegistry &registry_;
  OpampEndpoint &endpoint_;
  PackageStore &packages_;
  const PackageSigner &signer_;
  std::function<std::string()> package_base_url_;
};

}  // namespace opsup::opamp_server
