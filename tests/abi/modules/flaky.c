/* Fails create or start when its own settings ask it to:
 *   plugins:
 *     io.opsup.test.flaky:
 *       mode: fail_create   # or fail_start
 * It reads only its own section, through the own_settings_yaml host service, as a C
 * module without a YAML parser would: one `mode:` line of the block mapping the host
 * emits. Any other mode is rejected, naming the key. */
#include <opsup/module.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAKY_ID "io.opsup.test.flaky"
#define FLAKY_MODE_KEY "plugins." FLAKY_ID ".mode"

typedef struct flaky_module {
  int fail_start;
} flaky_module;

static const opsup_host_api *host_api;

/* Copies the value of the top-level `mode:` line of `yaml` into `out` without quotes;
 * "" when there is none. */
static void read_mode(const char *yaml, char *out, size_t capacity) {
  out[0] = '\0';
  for (const char *line = yaml; line != NULL && *line != '\0';) {
    const char *end = strchr(line, '\n');
    const size_t length = end ? (size_t)(end - line) : strlen(line);
    if (length > 5 && strncmp(line, "mode:", 5) == 0) {
      const char *value = line + 5;
      size_t size = length - 5;
      while (size > 0 && *value == ' ') {
        ++value;
        --size;
      }
      while (size > 0 && (value[size - 1] == ' ' || value[size - 1] == '\r'))
        --size;
      if (size >= 2 && (value[0] == '"' || value[0] == '\'') && value[size - 1] == value[0]) {
        ++value;
        size -= 2;
      }
      if (size >= capacity)
        size = capacity - 1;
      memcpy(out, value, size);
      out[size] = '\0';
      return;
    }
    line = end ? end + 1 : NULL;
  }
}

static opsup_status flaky_create(opsup_host *host, const char *yaml, opsup_module **out,
                                 opsup_error_buffer error) {
  (void)yaml; /* the whole config: other modules' sections are none of its business */
  const char *settings = "";
  if (OPSUP_HOST_HAS(host_api, own_settings_yaml) && host_api->own_settings_yaml != NULL)
    settings = host_api->own_settings_yaml(host);
  char mode[64];
  read_mode(settings, mode, sizeof mode);
  if (settings[0] != '\0' && strchr(settings, ':') == NULL) {
    snprintf(error.data, error.capacity, "plugins." FLAKY_ID ": must be a mapping");
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  if (strcmp(mode, "fail_create") == 0) {
    snprintf(error.data, error.capacity, FLAKY_MODE_KEY ": fail_create makes create fail");
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  if (mode[0] != '\0' && strcmp(mode, "fail_start") != 0) {
    snprintf(error.data, error.capacity,
             FLAKY_MODE_KEY ": \"%s\" is not a mode (fail_create, fail_start)", mode);
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  flaky_module *module = calloc(1, sizeof *module);
  if (module == NULL)
    return OPSUP_ERR_FAILED;
  module->fail_start = strcmp(mode, "fail_start") == 0;
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
    .id = FLAKY_ID,
    .version = "0.0.1",
    .description = "test module failing create or start on request",
    .capabilities = 0x400, /* AcceptsRestartCommand */
    .hooks = &flaky_hooks,
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  host_api = host->api;
  *out_descriptor = &flaky_descriptor;
  return OPSUP_OK;
}
