/*
 * hello_c: an opampsupervisor module in plain C (C11), built by the C compiler.
 *
 * It owns one custom capability, "io.opsup.example.hello". When the server sends a
 * CustomMessage of that capability with type "ping", it answers with a CustomMessage
 * carrying the same data, of type "pong" or the one set in its config section:
 *
 *   plugins:
 *     io.opsup.example.hello:
 *       reply_type: pong
 *
 * It needs no protobuf and no YAML parser: the host (ABI 1.2) advertises its capability
 * from the descriptor, reads the setting, decodes incoming custom messages
 * (on_custom_message) and encodes the reply (send_custom_message).
 *
 * When the Collector turns healthy it logs the Collector's state, read through the ABI 1.3
 * service collector_state when the host has it (OPSUP_HOST_HAS): an older host still loads
 * the module, which then just skips that line.
 */
#include <opsup/module.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_CAPABILITY "io.opsup.example.hello"

static const opsup_host_api *host_api; /* set by the entry; valid until unload */

typedef struct hello_module {
  opsup_host *host;
  const char *reply_type; /* owned by the host until destroy */
  uint64_t pings;
} hello_module;

static opsup_status hello_create(opsup_host *host, const char *supervisor_config_yaml,
                                 opsup_module **out_module, opsup_error_buffer error) {
  (void)supervisor_config_yaml; /* the host hands out our settings one by one */
  const char *reply_type = "pong";
  const opsup_status status = host_api->setting_string(host, "reply_type", &reply_type, error);
  if (status != OPSUP_OK && status != OPSUP_ERR_NOT_FOUND)
    return status; /* error names plugins.io.opsup.example.hello.reply_type */
  hello_module *module = calloc(1, sizeof *module);
  if (module == NULL) {
    snprintf(error.data, error.capacity, "out of memory");
    return OPSUP_ERR_FAILED;
  }
  module->host = host;
  module->reply_type = reply_type;
  *out_module = (opsup_module *)module;
  return OPSUP_OK;
}

static opsup_status hello_start(opsup_module *instance, opsup_error_buffer error) {
  (void)error;
  hello_module *module = (hello_module *)instance;
  host_api->log(module->host, OPSUP_LOG_INFO,
                "hello_c started: answering " HELLO_CAPABILITY " pings");
  return OPSUP_OK;
}

static void hello_stop(opsup_module *instance) {
  hello_module *module = (hello_module *)instance;
  char text[96];
  snprintf(text, sizeof text, "hello_c stopped after %llu pings",
           (unsigned long long)module->pings);
  host_api->log(module->host, OPSUP_LOG_INFO, text);
}

static void hello_destroy(opsup_module *instance) {
  free(instance);
}

/* Only messages of our own capability arrive here, already decoded. */
static void hello_on_custom_message(opsup_module *instance, const char *capability,
                                    const char *type, opsup_bytes data) {
  (void)capability;
  hello_module *module = (hello_module *)instance;
  if (strcmp(type, "ping") != 0) {
    host_api->log(module->host, OPSUP_LOG_DEBUG, "ignoring a custom message that is not a ping");
    return;
  }
  ++module->pings;
  if (host_api->send_custom_message(module->host, HELLO_CAPABILITY, module->reply_type, data) !=
      OPSUP_OK) {
    host_api->log(module->host, OPSUP_LOG_ERROR, "could not send the reply");
  }
}

/* Logs the Collector's state when it turns healthy (ABI 1.3, when the host offers it). */
static void hello_on_event(opsup_module *instance, const opsup_event *event) {
  hello_module *module = (hello_module *)instance;
  if (event->kind != OPSUP_EVENT_COLLECTOR_HEALTHY || !OPSUP_HOST_HAS(host_api, collector_state))
    return;
  opsup_collector_state state = {.struct_size = sizeof state};
  if (host_api->collector_state(module->host, &state) != OPSUP_OK)
    return; /* no Collector in this supervisor */
  char text[160];
  snprintf(text, sizeof text, "hello_c: Collector pid %lld healthy on config generation %llu",
           (long long)state.pid, (unsigned long long)state.generation);
  host_api->log(module->host, OPSUP_LOG_INFO, text);
}

static const opsup_module_hooks hello_hooks = {
    .struct_size = sizeof(opsup_module_hooks),
    .create = hello_create,
    .start = hello_start,
    .stop = hello_stop,
    .destroy = hello_destroy,
    .on_event = hello_on_event,
    .on_custom_message = hello_on_custom_message,
};

static const char *const hello_custom_capabilities[] = {HELLO_CAPABILITY, NULL};

static const opsup_module_descriptor hello_descriptor = {
    .struct_size = sizeof(opsup_module_descriptor),
    .abi_major = OPSUP_ABI_MAJOR,
    .abi_minor = OPSUP_ABI_MINOR,
    .id = "io.opsup.example.hello",
    .version = "1.2.0",
    .description = "Example in C: answers " HELLO_CAPABILITY " ping custom messages with pong",
    .custom_capabilities = hello_custom_capabilities,
    .hooks = &hello_hooks,
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  if (host == NULL || out_descriptor == NULL || host->api == NULL)
    return OPSUP_ERR_INVALID_ARGUMENT;
  /* Needs ABI 1.2 (the setting and custom-message services); no newer than this header. */
  if (host->abi_major != OPSUP_ABI_MAJOR || host->abi_minor_min > OPSUP_ABI_MINOR ||
      !OPSUP_HOST_HAS(host->api, send_custom_message))
    return OPSUP_ERR_INCOMPATIBLE;
  host_api = host->api;
  *out_descriptor = &hello_descriptor;
  return OPSUP_OK;
}
