/* A module really built against ABI minor 1 (OPSUP_TARGET_ABI_MINOR=1, set by CMake): its
 * hooks struct, its view of opsup_event and of the host's table end where minor 1 ended,
 * and it declares minor 1. It reads its settings through own_settings_yaml and logs every
 * event it receives, to show that a newer host's bigger structs reach it intact. */
#include <opsup/module.h>

#include <stdio.h>

#if OPSUP_ABI_MINOR != 1
#error "minor1.c must be built with OPSUP_TARGET_ABI_MINOR=1"
#endif

static const opsup_host_api *host_api;

static opsup_status minor1_create(opsup_host *host, const char *yaml, opsup_module **out,
                                  opsup_error_buffer error) {
  (void)yaml;
  (void)error;
  char text[160];
  snprintf(text, sizeof text, "minor1 created on host minor %u with settings \"%s\"",
           (unsigned)host_api->abi_minor, host_api->own_settings_yaml(host));
  host_api->log(host, OPSUP_LOG_INFO, text);
  *out = (opsup_module *)host; /* no state of its own: keep the host handle */
  return OPSUP_OK;
}

static void minor1_on_event(opsup_module *module, const opsup_event *event) {
  char text[160];
  /* Only the fields of minor 1 are known here; the host's struct may be bigger. */
  snprintf(text, sizeof text, "minor1 event %d pid %lld message \"%s\" struct_size %u",
           (int)event->kind, (long long)event->pid, event->message, (unsigned)event->struct_size);
  host_api->log((opsup_host *)module, OPSUP_LOG_INFO, text);
}

static const opsup_module_hooks minor1_hooks = {
    .struct_size = sizeof(opsup_module_hooks),
    .create = minor1_create,
    .on_event = minor1_on_event,
};

static const opsup_module_descriptor minor1_descriptor = {
    .struct_size = sizeof(opsup_module_descriptor),
    .abi_major = OPSUP_ABI_MAJOR,
    .abi_minor = OPSUP_ABI_MINOR,
    .id = "io.opsup.test.minor1",
    .version = "0.0.1",
    .description = "test module built with OPSUP_TARGET_ABI_MINOR=1",
    .hooks = &minor1_hooks,
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  if (host->abi_minor_min > OPSUP_ABI_MINOR || !OPSUP_HOST_HAS(host->api, own_settings_yaml))
    return OPSUP_ERR_INCOMPATIBLE;
  host_api = host->api;
  *out_descriptor = &minor1_descriptor;
  return OPSUP_OK;
}
