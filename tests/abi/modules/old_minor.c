/* A module as built against an older ABI minor: its descriptor ends before `reserved`
 * and its hooks struct ends before on_event. The hooks past that size are filled in
 * here with functions that complain, to prove the host treats them as absent. */
#include <opsup/module.h>
#include <opsup/opamp_constants.h>

#include <stdio.h>

static const opsup_host_api *host_api;

static opsup_status old_create(opsup_host *host, const char *yaml, opsup_module **out,
                               opsup_error_buffer error) {
  (void)yaml;
  (void)error;
  *out = (opsup_module *)host; /* no state of its own: keep the host handle */
  return OPSUP_OK;
}

static void old_on_server_message(opsup_module *module, opsup_bytes message) {
  char text[80];
  snprintf(text, sizeof text, "old_minor received %zu bytes", message.size);
  host_api->log((opsup_host *)module, OPSUP_LOG_INFO, text);
}

static void old_on_event(opsup_module *module, const opsup_event *event) {
  (void)event;
  host_api->log((opsup_host *)module, OPSUP_LOG_ERROR, "on_event called beyond struct_size");
}

static opsup_status old_validate(opsup_module *module, const char *yaml,
                                 opsup_error_buffer reason) {
  (void)module;
  (void)yaml;
  snprintf(reason.data, reason.capacity, "validate called beyond struct_size");
  return OPSUP_ERR_VETO;
}

static const opsup_module_hooks old_hooks = {
    .struct_size = offsetof(opsup_module_hooks, on_event),
    .create = old_create,
    .on_server_message = old_on_server_message,
    .on_event = old_on_event,
    .validate_collector_config = old_validate,
};

static const char *const old_custom_capabilities[] = {"io.opsup.test.old_minor", NULL};
static const uint32_t old_server_fields[] = {OPSUP_S2A_CUSTOM_MESSAGE};

static const opsup_module_descriptor old_descriptor = {
    .struct_size = offsetof(opsup_module_descriptor, reserved),
    .abi_major = OPSUP_ABI_MAJOR,
    .abi_minor = 0,
    .id = "io.opsup.test.old_minor",
    .version = "0.0.1",
    .description = "test module with short descriptor and hooks structs",
    .custom_capabilities = old_custom_capabilities,
    .server_to_agent_fields = old_server_fields,
    .server_to_agent_field_count = 1,
    .hooks = &old_hooks,
    .reserved = {(void *)1, (void *)2, (void *)3, (void *)4},
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  host_api = host->api;
  *out_descriptor = &old_descriptor;
  return OPSUP_OK;
}
