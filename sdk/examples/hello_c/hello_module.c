/*
 * hello_c: an opampsupervisor module in plain C (C11), built by the C compiler.
 *
 * It owns one custom capability, "io.opsup.example.hello". When the server sends a
 * CustomMessage of that capability with type "ping", it answers with a CustomMessage of
 * type "pong" carrying the same data. It announces its capability at start.
 *
 * It uses no protobuf library: it reads and writes the few wire-format fields it needs
 * (OpAMP messages cross the ABI as serialized protobuf).
 */
#include <opsup/module.h>
#include <opsup/opamp_constants.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_CAPABILITY "io.opsup.example.hello"

static const opsup_host_api *host_api; /* set by the entry; valid until unload */

typedef struct hello_module {
  opsup_host *host;
  uint64_t pings;
} hello_module;

/* ---- Minimal protobuf wire format ------------------------------------------------- */

typedef struct wire_reader {
  const uint8_t *at;
  const uint8_t *end;
} wire_reader;

static int read_varint(wire_reader *reader, uint64_t *value) {
  *value = 0;
  for (int shift = 0; shift < 64 && reader->at < reader->end; shift += 7) {
    const uint8_t byte = *reader->at++;
    *value |= (uint64_t)(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0)
      return 1;
  }
  return 0;
}

/* Reads the next field. For length-delimited fields, *payload views its bytes.
 * Returns 1 on a field, 0 at the end, -1 on malformed input. */
static int next_field(wire_reader *reader, uint32_t *number, opsup_bytes *payload) {
  if (reader->at == reader->end)
    return 0;
  uint64_t key, length;
  if (!read_varint(reader, &key))
    return -1;
  *number = (uint32_t)(key >> 3);
  payload->data = NULL;
  payload->size = 0;
  switch (key & 7) {
    case 0:
      return read_varint(reader, &length) ? 1 : -1;
    case 1:
      length = 8;
      break;
    case 2:
      if (!read_varint(reader, &length))
        return -1;
      payload->data = reader->at;
      payload->size = (size_t)length;
      break;
    case 5:
      length = 4;
      break;
    default:
      return -1;
  }
  if (length > (uint64_t)(reader->end - reader->at))
    return -1;
  reader->at += length;
  return 1;
}

/* Finds the last occurrence of length-delimited field `wanted`. Returns 1 when found,
 * 0 when absent, -1 when the message is malformed. */
static int find_bytes_field(opsup_bytes message, uint32_t wanted, opsup_bytes *out) {
  wire_reader reader = {message.data, message.data + message.size};
  uint32_t number;
  opsup_bytes payload;
  int found = 0, status;
  while ((status = next_field(&reader, &number, &payload)) == 1) {
    if (number == wanted && payload.data != NULL) {
      *out = payload;
      found = 1;
    }
  }
  return status < 0 ? -1 : found;
}

static int bytes_equal(opsup_bytes bytes, const char *text) {
  const size_t length = strlen(text);
  return bytes.size == length && (length == 0 || memcmp(bytes.data, text, length) == 0);
}

static size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

static uint8_t *put_varint(uint8_t *out, uint64_t value) {
  while (value >= 0x80) {
    *out++ = (uint8_t)(value | 0x80);
    value >>= 7;
  }
  *out++ = (uint8_t)value;
  return out;
}

static size_t bytes_field_size(uint32_t number, size_t length) {
  return varint_size((uint64_t)number << 3) + varint_size(length) + length;
}

static uint8_t *put_bytes_field(uint8_t *out, uint32_t number, const void *data, size_t length) {
  out = put_varint(out, ((uint64_t)number << 3) | 2);
  out = put_varint(out, length);
  if (length > 0)
    memcpy(out, data, length);
  return out + length;
}

/* ---- The module ----------------------------------------------------------------------- */

static void log_text(hello_module *module, opsup_log_level level, const char *text) {
  host_api->log(module->host, level, text);
}

/* Sends AgentToServer{custom_capabilities: [hello], custom_message: {hello, type, data}}.
 * custom_capabilities is repeated in every call: a field the module owns but leaves out
 * would be cleared. With type == NULL only the capabilities are sent. */
static opsup_status send_fields(hello_module *module, const char *type, opsup_bytes data) {
  const size_t capability_length = strlen(HELLO_CAPABILITY);
  const size_t capabilities_size =
      bytes_field_size(OPSUP_CUSTOM_CAPABILITIES_CAPABILITIES, capability_length);
  size_t message_size = 0;
  if (type != NULL) {
    message_size = bytes_field_size(OPSUP_CUSTOM_MESSAGE_CAPABILITY, capability_length) +
                   bytes_field_size(OPSUP_CUSTOM_MESSAGE_TYPE, strlen(type)) +
                   bytes_field_size(OPSUP_CUSTOM_MESSAGE_DATA, data.size);
  }
  const size_t total =
      bytes_field_size(OPSUP_A2S_CUSTOM_CAPABILITIES, capabilities_size) +
      (type != NULL ? bytes_field_size(OPSUP_A2S_CUSTOM_MESSAGE, message_size) : 0);
  uint8_t *buffer = malloc(total);
  if (buffer == NULL)
    return OPSUP_ERR_FAILED;

  uint8_t *out = buffer;
  out = put_varint(out, ((uint64_t)OPSUP_A2S_CUSTOM_CAPABILITIES << 3) | 2);
  out = put_varint(out, capabilities_size);
  out = put_bytes_field(out, OPSUP_CUSTOM_CAPABILITIES_CAPABILITIES, HELLO_CAPABILITY,
                        capability_length);
  if (type != NULL) {
    out = put_varint(out, ((uint64_t)OPSUP_A2S_CUSTOM_MESSAGE << 3) | 2);
    out = put_varint(out, message_size);
    out =
        put_bytes_field(out, OPSUP_CUSTOM_MESSAGE_CAPABILITY, HELLO_CAPABILITY, capability_length);
    out = put_bytes_field(out, OPSUP_CUSTOM_MESSAGE_TYPE, type, strlen(type));
    out = put_bytes_field(out, OPSUP_CUSTOM_MESSAGE_DATA, data.data, data.size);
  }
  const opsup_bytes fields = {buffer, (size_t)(out - buffer)};
  const opsup_status status = host_api->set_agent_fields(module->host, fields);
  free(buffer);
  return status;
}

static opsup_status hello_create(opsup_host *host, const char *supervisor_config_yaml,
                                 opsup_module **out_module, opsup_error_buffer error) {
  (void)supervisor_config_yaml; /* this module has no settings */
  hello_module *module = calloc(1, sizeof *module);
  if (module == NULL) {
    if (error.capacity > 0)
      snprintf(error.data, error.capacity, "out of memory");
    return OPSUP_ERR_FAILED;
  }
  module->host = host;
  *out_module = (opsup_module *)module;
  return OPSUP_OK;
}

static opsup_status hello_start(opsup_module *instance, opsup_error_buffer error) {
  hello_module *module = (hello_module *)instance;
  const opsup_bytes none = {NULL, 0};
  const opsup_status status = send_fields(module, NULL, none);
  if (status != OPSUP_OK) {
    if (error.capacity > 0) {
      snprintf(error.data, error.capacity, "announcing %s failed (status %d)", HELLO_CAPABILITY,
               (int)status);
    }
    return status;
  }
  log_text(module, OPSUP_LOG_INFO, "hello_c started: answering " HELLO_CAPABILITY " pings");
  return OPSUP_OK;
}

static void hello_stop(opsup_module *instance) {
  hello_module *module = (hello_module *)instance;
  char text[96];
  snprintf(text, sizeof text, "hello_c stopped after %llu pings",
           (unsigned long long)module->pings);
  log_text(module, OPSUP_LOG_INFO, text);
}

static void hello_destroy(opsup_module *instance) {
  free(instance);
}

static void hello_on_server_message(opsup_module *instance, opsup_bytes server_to_agent) {
  hello_module *module = (hello_module *)instance;
  opsup_bytes custom_message, capability = {NULL, 0}, type = {NULL, 0}, data = {NULL, 0};
  const int found = find_bytes_field(server_to_agent, OPSUP_S2A_CUSTOM_MESSAGE, &custom_message);
  if (found <= 0 ||
      find_bytes_field(custom_message, OPSUP_CUSTOM_MESSAGE_CAPABILITY, &capability) < 0 ||
      find_bytes_field(custom_message, OPSUP_CUSTOM_MESSAGE_TYPE, &type) < 0 ||
      find_bytes_field(custom_message, OPSUP_CUSTOM_MESSAGE_DATA, &data) < 0) {
    if (found < 0)
      log_text(module, OPSUP_LOG_WARN, "ignoring a malformed ServerToAgent");
    return;
  }
  if (!bytes_equal(capability, HELLO_CAPABILITY))
    return;
  if (!bytes_equal(type, "ping")) {
    log_text(module, OPSUP_LOG_DEBUG, "ignoring a custom message that is not a ping");
    return;
  }
  ++module->pings;
  if (send_fields(module, "pong", data) != OPSUP_OK) {
    log_text(module, OPSUP_LOG_ERROR, "could not send pong");
  }
}

static const opsup_module_hooks hello_hooks = {
    .struct_size = sizeof(opsup_module_hooks),
    .create = hello_create,
    .start = hello_start,
    .stop = hello_stop,
    .destroy = hello_destroy,
    .on_server_message = hello_on_server_message,
};

static const char *const hello_custom_capabilities[] = {HELLO_CAPABILITY, NULL};
static const uint32_t hello_server_fields[] = {OPSUP_S2A_CUSTOM_MESSAGE};

static const opsup_module_descriptor hello_descriptor = {
    .struct_size = sizeof(opsup_module_descriptor),
    .abi_major = OPSUP_ABI_MAJOR,
    .abi_minor = OPSUP_ABI_MINOR,
    .id = "io.opsup.example.hello",
    .version = "1.0.0",
    .description = "Example in C: answers " HELLO_CAPABILITY " ping custom messages with pong",
    .capabilities = 0,
    .custom_capabilities = hello_custom_capabilities,
    .server_to_agent_fields = hello_server_fields,
    .server_to_agent_field_count = sizeof hello_server_fields / sizeof hello_server_fields[0],
    .hooks = &hello_hooks,
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  if (host == NULL || out_descriptor == NULL || host->api == NULL) {
    return OPSUP_ERR_INVALID_ARGUMENT;
  }
  if (host->abi_major != OPSUP_ABI_MAJOR || host->abi_minor_min > OPSUP_ABI_MINOR) {
    return OPSUP_ERR_INCOMPATIBLE;
  }
  host_api = host->api;
  *out_descriptor = &hello_descriptor;
  return OPSUP_OK;
}
