// available_components: reports AgentToServer.available_components
// (ReportsAvailableComponents, issue 10 item 6).
//
// The core routes every AgentToServer from the Collector that holds available_components
// here, starting with the one it builds from the bootstrap (or its cache) before the
// Collector connects, and every ServerToAgent that holds flags. Like opamp-go, which the
// Go supervisor uses: a new set of components goes out as its hash; the full map goes out
// when the server sets ReportAvailableComponents, and stays the reported value (a full
// report after ReportFullState repeats it) until the set changes again.
#include <opsup/module.hpp>

#include <string>

#include "component_catalog.hpp"
#include "opamp.pb.h"
#include "serialize.hpp"

namespace {

namespace ac = opsup::available_components;
namespace proto = ::opamp::proto::v1;

class AvailableComponentsModule : public opsup::Module {
 public:
  explicit AvailableComponentsModule(opsup::Host &host) : opsup::Module(host) {}

  void start() override {
    started_ = true;
    publish();  // what the bootstrap taught, if it came before the start
  }

  void on_collector_message(std::string_view agent_to_server) override {
    proto::AgentToServer message;
    if (!message.ParseFromArray(agent_to_server.data(), static_cast<int>(agent_to_server.size()))) {
      host().warn("available_components: ignoring an AgentToServer that does not parse");
      return;
    }
    if (!message.has_available_components())
      return;
    if (catalog_.update(message.available_components())) {
      // A new set goes out as its hash; the server asks for the map if it wants it.
      full_requested_ = false;
      said_map_unknown_ = false;
    }
    publish();  // also answers a request that waited for the map
  }

  void on_server_message(std::string_view server_to_agent) override {
    proto::ServerToAgent message;
    if (!message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size()))) {
      host().warn("available_components: ignoring a ServerToAgent that does not parse");
      return;
    }
    if ((message.flags() & proto::ServerToAgentFlags_ReportAvailableComponents) == 0)
      return;
    full_requested_ = true;
    if (catalog_.known() && !catalog_.has_components()) {
      // Nothing more to give. Sending the bare hash again would only make a server that
      // asks on every reply ask again, in a loop.
      if (!said_map_unknown_) {
        host().info(
            "available_components: the server asks for the full list of components, but "
            "the Collector has reported only their hash; it is sent once known");
        said_map_unknown_ = true;
      }
      return;
    }
    publish(/*resend=*/true);
  }

 private:
  // Sets the available_components field unless it is what was sent last; `resend` sends
  // it even then, because the server asked for it.
  void publish(bool resend = false) {
    if (!started_ || !catalog_.known())
      return;
    proto::AgentToServer fields;
    *fields.mutable_available_components() = catalog_.report(full_requested_);
    std::string bytes = ac::serialize_deterministic(fields);
    if (bytes == last_sent_) {
      if (!resend)
        return;
      // The server asks again for the map it was given (it may have lost it). The host
      // sends only fields that changed since its last message, so step through the hash
      // alone: both replacements land before that message, which then carries the map.
      proto::AgentToServer hash_only;
      *hash_only.mutable_available_components() = catalog_.report(false);
      set(ac::serialize_deterministic(hash_only));
    }
    if (set(bytes))
      last_sent_ = std::move(bytes);
  }

  bool set(const std::string &bytes) {
    const opsup_status status = host().set_agent_fields(bytes);
    if (status == OPSUP_OK)
      return true;
    host().error("available_components: the host refused the field (status " +
                 std::to_string(status) + ")");
    return false;
  }

  bool started_ = false;
  ac::ComponentCatalog catalog_;
  bool full_requested_ = false;    // the server asked for the map of the current set
  bool said_map_unknown_ = false;  // logged that the map is not known, for the current set
  std::string last_sent_;
};

}  // namespace

OPSUP_DEFINE_MODULE(AvailableComponentsModule,
                    {.id = "available_components",
                     .version = "0.1.0",
                     .description = "Reports the Collector's available components: their hash, "
                                    "and the full list when the server asks",
                     .capabilities = OPSUP_CAP_REPORTS_AVAILABLE_COMPONENTS,
                     .server_to_agent_fields = {OPSUP_S2A_FLAGS},
                     .agent_to_server_fields = {OPSUP_A2S_AVAILABLE_COMPONENTS}})
