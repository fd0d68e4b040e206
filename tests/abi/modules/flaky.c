/* Fails create when the supervisor config contains "flaky: fail_create", and start when
 * it contains "flaky: fail_start"; otherwise does nothing. */
#include <opsup/module.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct flaky_module {
  int fail_start;
} flaky_module;

static opsup_status flaky_create(opsup_host *host, const char *yaml, opsup_module **out,
                                 opsup_error_buffer error) {
  (void)host;
  if (strstr(yaml, "flaky: fail_create") != NULL) {
    snprintf(error.data, error.capacity, "plugins.flaky: told to fail create");
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  flaky_module *module = calloc(1, sizeof *module);
  if (module == NULL)
    return OPSUP_ERR_FAILED;
  module->fail_start = strstr(yaml, "flaky: fail_start") != NULL;
  *out = (opsup_module *)module;
  return OPSUP_OK;
}

static opsup_status flaky_start(opsup_module *instance, opsup_error_buffer error) {
  if (((flaky_module *)instance)->fail_start) {
    snprintf(error.data, error.capacity, "told to fail start");
    return OPSUP_ERR_FAILED;
  }
  return OPSUP_OK;
}

static void flaky_destroy(opsup_module *instance) {
  free(instance);
}

static const opsup_module_hooks flaky_hooks = {
    .struct_size = sizeof(opsup_module_hooks),
    .create = flaky_create,
    .start = flaky_start,
    .destroy = flaky_destroy,
};

static const opsup_module_descriptor flaky_descriptor = {
    .struct_size = sizeof(opsup_module_descriptor),
    .abi_major = OPSUP_ABI_MAJOR,
    .abi_minor = OPSUP_ABI_MINOR,
    .id = "io.opsup.test.flaky",
    .version = "0.0.1",
    .description = "test module failing create or start on request",
    .capabilities = 0x400, /* AcceptsRestartCommand */
    .hooks = &flaky_hooks,
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  (void)host;
  *out_descriptor = &flaky_descriptor;
  return OPSUP_OK;
}
