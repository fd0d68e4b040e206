/* Declares a custom capability and never sends custom_capabilities: its start hook sets
 * its fields to an empty AgentToServer, which clears every field the module owns. The
 * supervisor must still advertise the capability, from the descriptor. */
#include <opsup/module.h>

#include <stddef.h>

static const opsup_host_api *silent_api;

static opsup_status silent_create(opsup_host *host, const char *supervisor_config_yaml,
                                  opsup_module **out_module, opsup_error_buffer error) {
  (void)supervisor_config_yaml;
  (void)error;
  *out_module = (opsup_module *)host;
  return OPSUP_OK;
}

static opsup_status silent_start(opsup_module *module, opsup_error_buffer error) {
  (void)error;
  const opsup_bytes nothing = {NULL, 0};
  return silent_api->set_agent_fields((opsup_host *)module, nothing);
}

static const opsup_module_hooks silent_hooks = {
    .struct_size = sizeof(opsup_module_hooks),
    .create = silent_create,
    .start = silent_start,
};

static const char *const silent_custom_capabilities[] = {"io.opsup.test.silent", NULL};

static const opsup_module_descriptor silent_descriptor = {
    .struct_size = sizeof(opsup_module_descriptor),
    .abi_major = OPSUP_ABI_MAJOR,
    .abi_minor = OPSUP_ABI_MINOR,
    .id = "io.opsup.test.silent",
    .version = "0.0.1",
    .description = "test module that never sends its custom capabilities",
    .custom_capabilities = silent_custom_capabilities,
    .hooks = &silent_hooks,
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  silent_api = host->api;
  *out_descriptor = &silent_descriptor;
  return OPSUP_OK;
}
