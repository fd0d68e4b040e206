#include "test_agent.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <future>
#include <random>

namespace opsup::testing {

namespace asio = boost::asio;

namespace {
constexpr uint64_t kAllCapabilities =
    proto::AgentCapabilities_ReportsStatus | proto::AgentCapabilities_AcceptsRemoteConfig |
    proto::AgentCapabilities_ReportsEffectiveConfig | proto::AgentCapabilities_AcceptsPackages |
    proto::AgentCapabilities_ReportsPackageStatuses | proto::AgentCapabilities_ReportsOwnTraces |
    proto::AgentCapabilities_ReportsOwnMetrics | proto::AgentCapabilities_ReportsOwnLogs |
    proto::AgentCapabilities_AcceptsOpAMPConnectionSettings |
    proto::AgentCapabilities_AcceptsOtherConnectionSettings |
    proto::AgentCapabilities_AcceptsRestartCommand | proto::AgentCapabilities_ReportsHealth |
    proto::AgentCapabilities_ReportsRemoteConfig | proto::AgentCapabilities_ReportsHeartbeat |
    proto::AgentCapabilities_ReportsAvailableComponents |
    proto::AgentCapabilities_ReportsConnectionSettingsStatus;

const char *kComponentsHash = "0123456789abcdef0123456789abcdef";

uint64_t now_unix_nano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void add_string_attribute(google::protobuf::RepeatedPtrField<proto::KeyValue> *list,
                          const std::string &key, const std::string &value) {
  auto *entry = list->Add();
  entry->set_key(key);
  entry->mutable_value()->set_string_value(value);
}
}  // namespace

std::string random_instance_uid() {
  static std::mutex mutex;
  static std::mt19937_64 generator{std::random_device{}()};
  std::lock_guard lock(mutex);
  std::string bytes(16, '\0');
  for (auto &byte : bytes)
    byte = static_cast<char>(generator() & 0xff);
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x70);
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);
  return bytes;
}

std::string uid_to_uuid_string(const std::string &bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes.size() == 16 && (i == 4 || i == 6 || i == 8 || i == 10))
      out.push_back('-');
    auto byte = static_cast<unsigned char>(bytes[i]);
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0x0f]);
  }
  return out;
}

struct TestAgent::Impl : transport::ClientTransportHandler,
                         std::enable_shared_from_this<TestAgent::Impl> {
  Impl(asio::io_context &io_context, TestAgentOptions agent_options)
      : io(io_context), options(std::move(agent_options)), poll_timer(io_context) {
    if (options.capabilities == 0)
      options.capabilities = kAllCapabilities;
    uid = options.instance_uid.empty() ? random_instance_uid() : options.instance_uid;
    sequence_num = options.first_sequence_num - 1;
    start_time_unix_nano = now_unix_nano();
  }

  // ---- state (io thread; `mutex` guards what other threads read) ----
  asio::io_context &io;
  TestAgentOptions options;
  std::unique_ptr<transport::ClientTransport> client;
  asio::steady_timer poll_timer;
  mutable std::mutex mutex;
  std::string uid;
  TestAgentObservations seen;
  std::deque<proto::AgentToServer> outbox;
  uint64_t sequence_num = 0;
  bool poll_due = false;
  bool stopping = false;
  uint64_t start_time_unix_nano = 0;
  std::optional<proto::AgentRemoteConfig> applied_config;
  std::optional<proto::RemoteConfigStatus> remote_config_status;
  std::optional<proto::ConnectionSettingsStatus> connection_settings_status;
  std::optional<proto::PackageStatuses> package_statuses;

  // ---- messages ----
  void fill_status(proto::AgentToServer &message) {
    auto *description = message.mutable_agent_description();
    add_string_attribute(description->mutable_identifying_attributes(), "service.name",
                         options.service_name);
    add_string_attribute(description->mutable_identifying_attributes(), "service.instance.id",
                         uid_to_uuid_string(uid));
    add_string_attribute(description->mutable_identifying_attributes(), "service.version", "1.2.3");
    add_string_attribute(description->mutable_non_identifying_attributes(), "os.type", "linux");
    add_string_attribute(description->mutable_non_identifying_attributes(), "host.name",
                         "test-host");
    auto *health = message.mutable_health();
    health->set_healthy(true);
    health->set_start_time_unix_nano(start_time_unix_nano);
    health->set_status("StatusOK");
    health->set_status_time_unix_nano(now_unix_nano());
    auto &pipeline = (*health->mutable_component_health_map())["pipeline:traces"];
    pipeline.set_healthy(true);
    pipeline.set_status("StatusOK");
    auto &receiver = (*pipeline.mutable_component_health_map())["receiver:otlp"];
    receiver.set_healthy(true);
    receiver.set_status("StatusOK");
    fill_effective_config(message);
    if (remote_config_status)
      *message.mutable_remote_config_status() = *remote_config_status;
    if (connection_settings_status) {
      *message.mutable_connection_settings_status() = *connection_settings_status;
    }
    if (package_statuses)
      *message.mutable_package_statuses() = *package_statuses;
    if (!options.custom_capabilities.empty()) {
      for (const auto &name : options.custom_capabilities) {
        message.mutable_custom_capabilities()->add_capabilities(name);
      }
    }
    if (options.report_available_components) {
      message.mutable_available_components()->set_hash(kComponentsHash);
    }
  }

  void fill_effective_config(proto::AgentToServer &message) {
    auto *files = message.mutable_effective_config()->mutable_config_map()->mutable_config_map();
    if (applied_config) {
      *files = applied_config->config().config_map();
    } else {
      auto &file = (*files)[""];
      file.set_body("receivers:\n  otlp:\n    protocols:\n      grpc:\n");
      file.set_content_type("text/yaml");
    }
  }

  void fill_full_components(proto::AgentToServer &message) {
    auto *components = message.mutable_available_components();
    components->set_hash(kComponentsHash);
    for (const char *kind : {"receivers", "processors", "exporters", "extensions", "connectors"}) {
      auto &details = (*components->mutable_components())[kind];
      auto &otlp =
          (*details
                .mutable_sub_component_map())[std::string(kind) == "extensions" ? "opamp" : "otlp"];
      auto *metadata = otlp.add_metadata();
      metadata->set_key("code.namespace");
      metadata->mutable_value()->set_string_value("go.opentelemetry.io/collector");
    }
  }

  void queue(proto::AgentToServer message) {
    outbox.push_back(std::move(message));
    if (client)
      client->notify_pending();
  }

  // ---- handling what the server sends ----
  void handle(const proto::ServerToAgent &message) {
    {
      std::lock_guard lock(mutex);
      seen.messages.push_back(message);
      if (message.has_command())
        ++seen.restarts;
    }
    if (message.has_agent_identification()) {
      std::lock_guard lock(mutex);
      uid = message.agent_identification().new_instance_uid();
    }
    if (message.has_command()) {
      // A restarted agent reports a new start time; a command carries nothing else.
      start_time_unix_nano = now_unix_nano();
      proto::AgentToServer report;
      fill_status(report);
      queue(std::move(report));
      return;
    }
    if (message.flags() & proto::ServerToAgentFlags_ReportFullState) {
      proto::AgentToServer report;
      fill_status(report);
      queue(std::move(report));
    }
    if (message.flags() & proto::ServerToAgentFlags_ReportAvailableComponents) {
      proto::AgentToServer report;
      fill_full_components(report);
      queue(std::move(report));
    }
    if (message.has_remote_config() && options.answer_remote_config) {
      applied_config = message.remote_config();
      proto::RemoteConfigStatus status;
      status.set_last_remote_config_hash(message.remote_config().config_hash());
      status.set_status(proto::RemoteConfigStatuses_APPLIED);
      remote_config_status = status;
      proto::AgentToServer report;
      *report.mutable_remote_config_status() = status;
      fill_effective_config(report);
      queue(std::move(report));
    }
    if (message.has_connection_settings()) {
      proto::ConnectionSettingsStatus status;
      status.set_last_connection_settings_hash(message.connection_settings().hash());
      status.set_status(proto::ConnectionSettingsStatuses_APPLIED);
      connection_settings_status = status;
      proto::AgentToServer report;
      *report.mutable_connection_settings_status() = status;
      queue(std::move(report));
    }
    if (message.has_packages_available()) {
      proto::PackageStatuses statuses;
      statuses.set_server_provided_all_packages_hash(
          message.packages_available().all_packages_hash());
      for (const auto &[name, package] : message.packages_available().packages()) {
        auto &status = (*statuses.mutable_packages())[name];
        status.set_name(name);
        status.set_agent_has_version(package.version());
        status.set_agent_has_hash(package.hash());
        status.set_server_offered_version(package.version());
        status.set_server_offered_hash(package.hash());
        status.set_status(proto::PackageStatusEnum_Installed);
      }
      package_statuses = statuses;
      proto::AgentToServer report;
      *report.mutable_package_statuses() = std::move(statuses);
      queue(std::move(report));
    }
    if (message.has_custom_message()) {
      const auto &custom = message.custom_message();
      proto::AgentToServer report;
      auto *reply = report.mutable_custom_message();
      reply->set_capability(custom.capability());
      reply->set_type(custom.type() + ".reply");
      reply->set_data("echo:" + custom.data());
      queue(std::move(report));
    }
  }

  // ---- ClientTransportHandler ----
  void on_connected() override {
    {
      std::lock_guard lock(mutex);
      ++seen.connects;
      seen.connected = true;
    }
    if (!client->is_http() && options.full_report_on_connect) {
      proto::AgentToServer report;
      fill_status(report);
      outbox.push_front(std::move(report));
      client->notify_pending();
    }
  }

  void on_message(std::string_view server_to_agent) override {
    proto::ServerToAgent message;
    if (!message.ParseFromArray(server_to_agent.data(), static_cast<int>(server_to_agent.size()))) {
      return;
    }
    handle(message);
    if (client && client->is_http())
      arm_poll();
  }

  void on_disconnected(const transport::DisconnectInfo &info) override {
    {
      std::lock_guard lock(mutex);
      ++seen.disconnects;
      seen.connected = false;
      seen.last_disconnect_reason = info.reason;
    }
    if (stopping)
      return;
    // Reconnect after a short pause; the first message after connecting is a full report.
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(300));
    timer->async_wait([self = shared_from_this(), timer](boost::system::error_code error) {
      if (error || self->stopping)
        return;
      self->connect_now();
    });
  }

  std::optional<std::string> next_message() override {
    proto::AgentToServer message;
    if (!outbox.empty()) {
      message = std::move(outbox.front());
      outbox.pop_front();
    } else if (!poll_due) {
      return std::nullopt;
    }
    poll_due = false;
    {
      std::lock_guard lock(mutex);
      message.set_instance_uid(uid);
    }
    message.set_sequence_num(++sequence_num);
    message.set_capabilities(options.capabilities);
    return message.SerializeAsString();
  }

  void arm_poll() {
    poll_timer.expires_after(options.http_poll_interval);
    poll_timer.async_wait([weak = weak_from_this()](boost::system::error_code error) {
      auto self = weak.lock();
      if (error || !self || self->stopping || !self->client)
        return;
      self->poll_due = true;
      self->client->notify_pending();
    });
  }

  void connect_now() {
    transport::ClientOptions client_options;
    client_options.endpoint = options.endpoint;
    client_options.tls = options.tls;
    client_options.connect_timeout = std::chrono::seconds(20);
    client_options.instance_uid_header = uid_to_uuid_string(uid);
    if (client)
      client->abort();
    client = transport::ClientTransport::create(io, client_options, *this);
    if (client->is_http() && options.full_report_on_connect) {
      // The first request of a plain-HTTP agent is its full report.
      proto::AgentToServer report;
      fill_status(report);
      outbox.push_front(std::move(report));
    }
    client->connect();
  }
};

TestAgent::TestAgent(asio::io_context &io, TestAgentOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

TestAgent::~TestAgent() {
  auto impl = impl_;
  if (impl->io.stopped()) {
    // Nothing runs on the io thread anymore: tear down here.
    impl->stopping = true;
    impl->poll_timer.cancel();
    if (impl->client)
      impl->client->abort();
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  asio::post(impl->io, [impl, done]() {
    impl->stopping = true;
    impl->poll_timer.cancel();
    if (impl->client)
      impl->client->abort();
    done->set_value();
  });
  // The io thread may already be gone in teardown; then nothing runs on it anymore.
  finished.wait_for(std::chrono::seconds(5));
}

void TestAgent::start() {
  asio::post(impl_->io, [impl = impl_]() { impl->connect_now(); });
}

void TestAgent::stop_async(std::function<void()> done) {
  asio::post(impl_->io, [impl = impl_, done = std::move(done)]() {
    impl->stopping = true;
    impl->poll_timer.cancel();
    if (!impl->client)
      return done();
    proto::AgentToServer last;
    last.set_instance_uid(impl->uid);
    last.set_sequence_num(++impl->sequence_num);
    last.set_capabilities(impl->options.capabilities);
    last.mutable_agent_disconnect();
    impl->client->shutdown(last.SerializeAsString(), std::chrono::seconds(3),
                           [impl, done]() { done(); });
  });
}

void TestAgent::stop(std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  stop_async([done]() { done->set_value(); });
  finished.wait_for(timeout);
}

std::string TestAgent::instance_uid() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->uid;
}

std::string TestAgent::instance_uid_string() const {
  return uid_to_uuid_string(instance_uid());
}

TestAgentObservations TestAgent::observations() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->seen;
}

std::size_t TestAgent::count_received(
    const std::function<bool(const proto::ServerToAgent &)> &predicate) const {
  std::lock_guard lock(impl_->mutex);
  std::size_t count = 0;
  for (const auto &message : impl_->seen.messages) {
    if (predicate(message))
      ++count;
  }
  return count;
}

void TestAgent::send(std::function<void(proto::AgentToServer &)> fill) {
  asio::post(impl_->io, [impl = impl_, fill = std::move(fill)]() {
    proto::AgentToServer message;
    fill(message);
    impl->queue(std::move(message));
  });
}

void TestAgent::skip_sequence_number() {
  asio::post(impl_->io, [impl = impl_]() { ++impl->sequence_num; });
}

void TestAgent::send_full_state() {
  asio::post(impl_->io, [impl = impl_]() {
    proto::AgentToServer report;
    impl->fill_status(report);
    impl->queue(std::move(report));
  });
}

}  // namespace opsup::testing
