/* A test module that logs what the supervisor tells it about the Collector: every event
 * (kind, pid, exit code, generation when the host's ABI carries it) and every message from
 * the Collector that holds a health report or a description. The lifecycle tests read
 * these lines from the supervisor's log. */
#include <opsup/module.h>
#include <opsup/opamp_constants.h>

#include <stdio.h>
#include <stdlib.h>

typedef struct probe {
  opsup_host *host;
} probe;

static const opsup_host_api *host_api;

static opsup_status probe_create(opsup_host *host, const char *config_yaml, opsup_module **out,
                                 opsup_error_buffer error) {
  (void)config_yaml;
  (void)error;
  probe *self = calloc(1, sizeof(probe));
  if (self == NULL)
    return OPSUP_ERR_FAILED;
  self->host = host;
  *out = (opsup_module *)self;
  return OPSUP_OK;
}

static void probe_destroy(opsup_module *module) {
  free(module);
}

static void probe_on_event(opsup_module *module, const opsup_event *event) {
  probe *self = (probe *)module;
  char line[512];
  unsigned long long generation = 0;
#if OPSUP_ABI_MINOR >= 3
  if (OPSUP_HAS_FIELD(opsup_event, event->struct_size, generation))
    generation = (unsigned long long)event->generation;
#endif
  snprintf(line, sizeof line, "probe event kind=%d pid=%lld exit_code=%d generation=%llu",
           event->kind, (long long)event->pid, event->exit_code, generation);
  host_api->log(self->host, OPSUP_LOG_INFO, line);
}

static void probe_on_collector_message(opsup_module *module, opsup_bytes agent_to_server) {
  probe *self = (probe *)module;
  char line[128];
  snprintf(line, sizeof line, "probe collector message bytes=%zu", agent_to_server.size);
  host_api->log(self->host, OPSUP_LOG_INFO, line);
}

static const opsup_module_hooks probe_hooks = {
    .struct_size = sizeof(opsup_module_hooks),
    .create = probe_create,
    .destroy = probe_destroy,
    .on_collector_message = probe_on_collector_message,
    .on_event = probe_on_event,
};

static const uint32_t probe_collector_fields[] = {OPSUP_A2S_AGENT_DESCRIPTION, OPSUP_A2S_HEALTH};

static const opsup_module_descriptor probe_descriptor = {
    .struct_size = sizeof(opsup_module_descriptor),
    .abi_major = OPSUP_ABI_MAJOR,
    .abi_minor = OPSUP_ABI_MINOR,
    .id = "io.opsup.test.event_probe",
    .version = "0.0.1",
    .description = "logs Collector events and messages for the lifecycle tests",
    .agent_to_server_fields = probe_collector_fields,
    .agent_to_server_field_count = sizeof probe_collector_fields / sizeof probe_collector_fields[0],
    .hooks = &probe_hooks,
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  host_api = host->api;
  *out_descriptor = &probe_descriptor;
  return OPSUP_OK;
}
