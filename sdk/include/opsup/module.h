/*
 * opsup/module.h: the stable C ABI between opampsupervisor and its capability modules.
 *
 * A module is a shared object that exports one function, opsup_module_entry_v1. The
 * supervisor ("host") finds it without running module code, calls it with the range of
 * ABI minors it supports, and gets back a static descriptor: who the module is, which
 * OpAMP capabilities it owns, which message fields it wants, and its hooks.
 *
 * Binding rules
 *   - Pure C. Only C scalars, byte views, NUL-terminated UTF-8 strings and opaque handles
 *     cross the boundary. No C++ types, no exceptions (a C++ module must catch everything
 *     at its hooks), no allocator sharing.
 *   - OpAMP data crosses as serialized protobuf messages of opamp.proto (package
 *     opamp.proto.v1). A module links its own lite-runtime copy of the generated code.
 *   - Configuration crosses as YAML text.
 *   - Every struct starts with struct_size. Structs only grow at the end. A reader copies
 *     min(struct_size, sizeof(its own struct)) and treats missing trailing fields as absent
 *     (NULL / 0). OPSUP_HAS_FIELD tells whether a received struct carries a field.
 *
 * Versioning
 *   - ABI major: in the entry symbol name. A new major is a new symbol (_v2); a host that
 *     does not know it refuses the module and names both majors.
 *   - ABI minor: grows when fields or host services are appended. The host passes the
 *     range it supports; a module built against an older minor keeps working, and a module
 *     checks host->api->struct_size (OPSUP_HOST_HAS) before calling a newer service.
 *   - Targeting an older minor: a module that must load into older supervisors defines
 *     OPSUP_TARGET_ABI_MINOR (0 .. OPSUP_HEADER_ABI_MINOR) before including this header
 *     (or with -D). The services and fields newer than that minor are then hidden (using
 *     one is a compile error, not a run-time surprise), OPSUP_ABI_MINOR becomes that minor,
 *     so a descriptor filled with .abi_minor = OPSUP_ABI_MINOR declares it, and the C++
 *     helper (opsup/module.hpp) follows it. Without the macro a module targets the newest
 *     minor of this header. Every translation unit of one module must agree on it.
 *
 * Threading
 *   The host runs one event loop thread. Every hook is called on it, and every host
 *   service must be called from it, except the ones marked "any thread". A hook must not
 *   block: long work goes through run_blocking.
 */
#ifndef OPSUP_MODULE_H
#define OPSUP_MODULE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OPSUP_ABI_MAJOR 1
/* The newest minor this header describes. 1: own_settings_yaml. 2: setting_*,
 * send_custom_message, the on_custom_message hook. 3: the Collector services
 * (set_config_layer, set_remote_config, collector_state, composed_config,
 * restart_collector, validate_collector_config), the module's persistent state
 * (state_read, state_write) and opsup_event.generation. 4: package downloads
 * (download_start, download_cancel, package_files_remove). 5:
 * try_opamp_connection_settings. 6: the Collector executable update
 * (update_collector_executable, collector_update_recovery). */
#define OPSUP_HEADER_ABI_MINOR 6

/* The minor this module targets (see "Targeting an older minor" above). */
#ifndef OPSUP_TARGET_ABI_MINOR
#define OPSUP_TARGET_ABI_MINOR OPSUP_HEADER_ABI_MINOR
#endif
#if OPSUP_TARGET_ABI_MINOR < 0 || OPSUP_TARGET_ABI_MINOR > OPSUP_HEADER_ABI_MINOR
#error "OPSUP_TARGET_ABI_MINOR must be between 0 and OPSUP_HEADER_ABI_MINOR of this header"
#endif
/* The minor this translation unit is built against: OPSUP_TARGET_ABI_MINOR, which is the
 * header's newest unless the module chose an older one. Modules put it into
 * opsup_module_descriptor.abi_minor. */
#define OPSUP_ABI_MINOR OPSUP_TARGET_ABI_MINOR

/* The one symbol a module exports. Its name carries the ABI major. */
#define OPSUP_MODULE_ENTRY_SYMBOL "opsup_module_entry_v1"
/* Prefix shared by the entry symbols of every major, used to explain mismatches. */
#define OPSUP_MODULE_ENTRY_PREFIX "opsup_module_entry_v"

#if defined(_WIN32)
#define OPSUP_EXPORT __declspec(dllexport)
#else
#define OPSUP_EXPORT __attribute__((visibility("default")))
#endif

/* True when a struct received with the given struct_size contains `field`. */
#define OPSUP_HAS_FIELD(type, struct_size, field) \
  ((size_t)(struct_size) >= offsetof(type, field) + sizeof(((type *)0)->field))

/* ---------------------------------------------------------------------------------------
 * Status codes returned by hooks and host services. 0 is success.
 */
typedef int32_t opsup_status;
#define OPSUP_OK 0
#define OPSUP_ERR_INCOMPATIBLE 1 /* no common ABI minor */
#define OPSUP_ERR_INVALID_ARGUMENT 2
#define OPSUP_ERR_FAILED 3      /* the operation failed; see the error text */
#define OPSUP_ERR_UNSUPPORTED 4 /* the host or module does not offer this */
#define OPSUP_ERR_NOT_FOUND 5
#define OPSUP_ERR_VETO 6 /* validate_collector_config rejects the config */

/* Log levels for opsup_host_api.log. */
typedef int32_t opsup_log_level;
#define OPSUP_LOG_TRACE 0
#define OPSUP_LOG_DEBUG 1
#define OPSUP_LOG_INFO 2
#define OPSUP_LOG_WARN 3
#define OPSUP_LOG_ERROR 4

/* A read-only byte view. The owner is the side that passed it; it is valid only for the
 * duration of the call that received it unless a function says otherwise. */
typedef struct opsup_bytes {
  const uint8_t *data;
  size_t size;
} opsup_bytes;

/* Writable text buffer for error messages: the callee writes a NUL-terminated message
 * of at most `capacity` bytes (truncating) into `data`. Owned by the caller. */
typedef struct opsup_error_buffer {
  char *data;
  size_t capacity;
} opsup_error_buffer;

/* Opaque handles. opsup_host is the host's per-module context: each module instance gets
 * its own, so the host knows who is calling. opsup_module is whatever the module's
 * create hook returns; the host passes it back to every other hook untouched. */
typedef struct opsup_host opsup_host;
typedef struct opsup_module opsup_module;

/* ---------------------------------------------------------------------------------------
 * Supervisor events: what the host tells every module about the Collector and the OpAMP
 * connection. Delivered to on_event on the loop thread.
 */
typedef int32_t opsup_event_kind;
#define OPSUP_EVENT_COLLECTOR_STARTED 1   /* pid set */
#define OPSUP_EVENT_COLLECTOR_EXITED 2    /* pid, exit_code, message (log tail if any) */
#define OPSUP_EVENT_COLLECTOR_HEALTHY 3   /* first healthy report after a start */
#define OPSUP_EVENT_COLLECTOR_UNHEALTHY 4 /* message = last_error */
#define OPSUP_EVENT_SERVER_CONNECTED 5
#define OPSUP_EVENT_SERVER_DISCONNECTED 6 /* message = reason */

typedef struct opsup_event {
  uint32_t struct_size;
  opsup_event_kind kind;
  int64_t pid;       /* Collector process id, 0 when not applicable */
  int32_t exit_code; /* EXITED only; negative: killed by signal -exit_code */
  uint32_t reserved0;
  uint64_t time_unix_nano;
  const char *message; /* never NULL; "" when there is nothing to say */
#if OPSUP_TARGET_ABI_MINOR >= 3
  /* ---- ABI minor 3 ---- */
  /* COLLECTOR_* events: the generation of the config the Collector runs (or ran, for
   * EXITED), as in opsup_collector_state.generation; 0 when not known or for other kinds. */
  uint64_t generation;
#endif
} opsup_event;

/* ---------------------------------------------------------------------------------------
 * Host services. The table is owned by the host and valid from entry until the module's
 * destroy hook returns. Entries are appended, never reordered; check OPSUP_HOST_HAS
 * before calling an entry newer than the minor the module was built against.
 */
typedef void (*opsup_callback)(void *user_data);
/* Receives a byte view valid only during the call. */
typedef void (*opsup_bytes_sink)(void *user_data, opsup_bytes bytes);

#if OPSUP_TARGET_ABI_MINOR >= 3
/* ---- ABI minor 3: types of the Collector and persistent-state services ---- */

/* Flags of set_config_layer and set_remote_config. Unknown bits are refused
 * (OPSUP_ERR_INVALID_ARGUMENT), so a flag a newer header adds never goes unnoticed. */
/* Run the Collector's own `validate` on the composed candidate before applying it; a
 * refusal is OPSUP_ERR_VETO with the Collector's message. */
#define OPSUP_CONFIG_VALIDATE 0x1u
/* set_remote_config only: remove the remote config layer (files and count are ignored). */
#define OPSUP_REMOTE_CONFIG_CLEAR 0x2u
/* set_config_layer only: the layer goes where $OWN_TELEMETRY_CONFIG stands in
 * agent.config_files (first by default), not after the remote config, so local files and
 * the remote config can still override it; only for the module owning ReportsOwnMetrics,
 * ReportsOwnLogs or ReportsOwnTraces. */
#define OPSUP_CONFIG_OWN_TELEMETRY 0x4u

/* The outcome of a config change (set_config_layer, set_remote_config):
 *   OPSUP_OK                   applied (or nothing changed); `generation` is the generation
 *                              of the composed config now in force: a new one when the
 *                              composed text changed, the current one when it did not.
 *   OPSUP_ERR_VETO             a module's validate_collector_config hook, or the Collector's
 *                              `validate` (OPSUP_CONFIG_VALIDATE), refused the candidate.
 *   OPSUP_ERR_INVALID_ARGUMENT a layer is not a YAML map (`error` names the line).
 *   OPSUP_ERR_FAILED           the config could not be written, or the supervisor is stopping.
 * On any refusal the layers stay as they were and `generation` is 0. On OPSUP_OK, `error`
 * holds what a module's rewrite_collector_config hook changed in the candidate (one line
 * per change, "module <id>: ..."), or "" when nothing was rewritten.
 * OWNERSHIP: `error` (never NULL) is valid only during the call. */
typedef void (*opsup_config_done)(void *user_data, opsup_status status, uint64_t generation,
                                  const char *error);

/* The outcome of validate_collector_config: `valid` is 1 when `<collector> validate`
 * accepted the config, else 0; `exit_code` is its exit code, -1 when it could not be run;
 * `message` (never NULL) is its output tail, or why it could not be run.
 * OWNERSHIP: `message` is valid only during the call. */
typedef void (*opsup_validate_done)(void *user_data, int32_t valid, int32_t exit_code,
                                    const char *message);

/* One file of a remote config (the AgentConfigMap entry). Passed in arrays: the host steps
 * through the array by files[0].struct_size, so every element must have the same one, at
 * least the size of this minor's struct. */
typedef struct opsup_config_file {
  uint32_t struct_size;
  uint32_t reserved0;
  const char *name;         /* AgentConfigMap key; NULL or "" is the unnamed file, merged last */
  opsup_bytes body;         /* YAML text */
  const char *content_type; /* NULL or "" when unknown */
} opsup_config_file;

/* opsup_collector_state.health */
#define OPSUP_COLLECTOR_HEALTH_UNKNOWN 0
#define OPSUP_COLLECTOR_HEALTH_HEALTHY 1
#define OPSUP_COLLECTOR_HEALTH_UNHEALTHY 2

/* What collector_state reports. */
typedef struct opsup_collector_state {
  uint32_t struct_size; /* set by the caller; the host lowers it to what it filled */
  int32_t running;      /* 1 while the Collector process runs, else 0 */
  int64_t pid;          /* 0 when not running */
  int32_t health;       /* OPSUP_COLLECTOR_HEALTH_* */
  uint32_t reserved0;
  uint64_t generation;           /* of the config the Collector runs; 0: none yet */
  uint64_t latest_generation;    /* of the newest composed config */
  uint64_t restart_count;        /* unexpected exits since the supervisor started */
  uint64_t start_time_unix_nano; /* of the running process; 0 when not running */
  /* The Collector's last_error, or why it is not running; "" when none, never NULL.
   * OWNERSHIP: the host's; valid until this module calls collector_state again or is
   * destroyed. */
  const char *last_error;
} opsup_collector_state;
#endif /* minor 3 */

#if OPSUP_TARGET_ABI_MINOR >= 4
/* ---- ABI minor 4: types of the download service ---- */

/* One HTTP request header. Passed in arrays: the host steps through the array by
 * headers[0].struct_size, so every element must have the same one. */
typedef struct opsup_http_header {
  uint32_t struct_size;
  uint32_t reserved0;
  const char *name;
  const char *value;
} opsup_http_header;

/* What download_start fetches, and where it puts it. */
typedef struct opsup_download_request {
  uint32_t struct_size;
  uint32_t header_count;
  const char *url; /* http:// or https:// */
  const opsup_http_header *headers;
  /* The file goes to <storage directory>/packages/<package_name>/<file_name>. Both are
   * names of [A-Za-z0-9_.-], not empty, not "." or "..". */
  const char *package_name;
  const char *file_name;
  opsup_bytes sha256; /* the expected SHA-256 of the whole file, 32 bytes */
  uint64_t max_bytes; /* refuse a larger file; 0: the host's limit (1 GiB) */
  /* The detached signature offered with the file (DownloadableFile.signature); checked
   * only with OPSUP_DOWNLOAD_CHECK_SIGNATURE. */
  opsup_bytes signature;
  uint32_t flags; /* OPSUP_DOWNLOAD_*; unknown bits are refused */
  uint32_t reserved0;
} opsup_download_request;

/* opsup_download_request.flags: check `signature` (empty: unsigned) against the signature
 * policy of the module's own settings (plugins.<id>.signature, plugins.<id>.allow_unsigned;
 * see the README, "The packages module") after the SHA-256 and before the file gets its
 * name. A refused signature fails the download (not resumable) with the reason; a policy
 * that cannot be used (a key file that does not read) fails it resumable. */
#define OPSUP_DOWNLOAD_CHECK_SIGNATURE 0x1u

/* A download's progress, given to opsup_download_progress_fn. */
typedef struct opsup_download_progress {
  uint32_t struct_size;
  uint32_t reserved0;
  uint64_t bytes_received; /* of the whole file, a resumed prefix included */
  uint64_t bytes_total;    /* 0 while unknown */
  double bytes_per_second; /* over this attempt so far */
} opsup_download_progress;

/* At most about once a second while data arrives. `progress` is valid only during the
 * call. */
typedef void (*opsup_download_progress_fn)(void *user_data,
                                           const opsup_download_progress *progress);

/* The outcome of a download:
 *   OPSUP_OK            the file is complete at `path` (absolute; the previous file of that
 *                       name was replaced atomically) and its SHA-256 is the expected one.
 *   OPSUP_ERR_FAILED    it could not be completed; `error` says why. When `resumable` is 1
 *                       the failure may pass (the network broke off, an HTTP 5xx, a disk
 *                       write failed): the same request started again continues where the
 *                       kept bytes end (HTTP Range), or from the start when none could be
 *                       kept. When it is 0 the file itself is refused (a content hash
 *                       mismatch, a file over max_bytes, an HTTP 4xx) and nothing is kept.
 * OWNERSHIP: `path` and `error` (never NULL) are valid only during the call. */
typedef void (*opsup_download_done)(void *user_data, opsup_status status, int32_t resumable,
                                    const char *path, const char *error);
#endif /* minor 4 */

#if OPSUP_TARGET_ABI_MINOR >= 5
/* ---- ABI minor 5: types of the OpAMP connection service ---- */

/* Flag of try_opamp_connection_settings: the settings were verified before (the module
 * persisted them after an earlier success): use them from now on without a trial. Before the
 * supervisor has connected (the start hook) they are simply the settings it connects with. */
#define OPSUP_CONNECTION_COMMITTED 0x1u

/* The outcome of try_opamp_connection_settings:
 *   OPSUP_OK                   the server at the new settings answered a status report within
 *                              the timeout (or, with OPSUP_CONNECTION_COMMITTED, the settings
 *                              are in force): they are now the supervisor's settings.
 *   OPSUP_ERR_INVALID_ARGUMENT the settings cannot be used (`error` names the field: a bad
 *                              endpoint, PEM that does not load, a refused insecure_skip_verify);
 *                              the current connection was not touched.
 *   OPSUP_ERR_FAILED           the new connection failed, was refused, answered with an error,
 *                              or did not answer within the timeout; or a newer call replaced
 *                              this one. The supervisor went back to the previous settings and
 *                              reconnects with them.
 * OWNERSHIP: `error` (never NULL; "" on OPSUP_OK) is valid only during the call. */
typedef void (*opsup_connection_done)(void *user_data, opsup_status status, const char *error);
#endif /* minor 5 */

#if OPSUP_TARGET_ABI_MINOR >= 6
/* ---- ABI minor 6: types of the Collector executable update ---- */

/* The outcome of update_collector_executable:
 *   OPSUP_OK                   the new executable is agent.executable now, and the Collector
 *                              reported itself healthy on it within the health timeout.
 *   OPSUP_ERR_INVALID_ARGUMENT the package was refused before anything changed: not an ELF
 *                              executable or a gzipped tarball, an unsafe entry (absolute path,
 *                              "..", a link or device, over the size cap), no executable in it.
 *   OPSUP_ERR_FAILED           the new executable did not become healthy in time, exited, or
 *                              could not be put in place: the previous executable was restored
 *                              and started again (`error` says why, and says so if restoring
 *                              failed too).
 *   OPSUP_ERR_UNSUPPORTED      nothing was tried: another update runs, the supervisor is
 *                              stopping, or the Collector's directory cannot be written.
 * OWNERSHIP: `error` (never NULL; "" on OPSUP_OK) is valid only during the call. */
typedef void (*opsup_update_done)(void *user_data, opsup_status status, const char *error);

/* opsup_collector_update_recovery.outcome */
#define OPSUP_UPDATE_NONE 0      /* no update was interrupted */
#define OPSUP_UPDATE_INSTALLED 1 /* the new executable had passed its health gate */
#define OPSUP_UPDATE_ROLLED_BACK \
  2 /* the previous executable was restored (or, in `message`, why not) */

/* What collector_update_recovery reports about an update the previous supervisor process did
 * not finish (it was killed during the swap or the health gate). */
typedef struct opsup_collector_update_recovery {
  uint32_t struct_size; /* set by the caller; the host lowers it to what it filled */
  int32_t outcome;      /* OPSUP_UPDATE_* */
  /* What happened, for InstallFailed messages; "" with OPSUP_UPDATE_NONE, never NULL.
   * OWNERSHIP: the host's; valid until this module calls the service again or is destroyed. */
  const char *message;
} opsup_collector_update_recovery;
#endif /* minor 6 */

typedef struct opsup_host_api {
  uint32_t struct_size;
  uint32_t abi_minor; /* the minor the host implements */

  /* Writes one log line attributed to the calling module. `message` is copied.
   * THREADING: any thread. */
  void (*log)(opsup_host *host, opsup_log_level level, const char *message);

  /* Replaces the top-level AgentToServer fields this module owns and schedules a send.
   * `agent_to_server` is a serialized AgentToServer holding just those fields; a field
   * the module owns but leaves out is cleared. A module owns the fields of the
   * capabilities in its descriptor, plus custom_capabilities and custom_message when
   * it declares custom capabilities. custom_message is sent once, not kept.
   * custom_capabilities is the exception to clearing: the host advertises the
   * descriptor's custom capabilities itself from the start hook on, whatever the module
   * sends, so a module never needs to send or repeat them; if it sends them anyway, every
   * name must be in its descriptor (the host routes messages by the descriptor).
   * Returns OPSUP_ERR_INVALID_ARGUMENT when the bytes do not parse, set a field the
   * module does not own, or name a custom capability (in custom_capabilities or
   * custom_message) that is not in its descriptor (the error names it in the log). The
   * bytes are copied.
   * THREADING: loop thread. */
  opsup_status (*set_agent_fields)(opsup_host *host, opsup_bytes agent_to_server);

  /* Copies the 16-byte instance UID into out_uid. THREADING: loop thread. */
  void (*instance_uid)(opsup_host *host, uint8_t out_uid[16]);

  /* ServerCapabilities bits from the server's latest message; 0 before the first.
   * THREADING: loop thread. */
  uint64_t (*server_capabilities)(opsup_host *host);

  /* Runs fn(user_data) on the loop thread soon. Returns OPSUP_ERR_FAILED when the host
   * is shutting down (fn is then never called). Once the module's stop hook has returned,
   * callbacks not yet run are dropped, never called: the module frees their user_data in
   * destroy. The same holds for timers and run_blocking's done. THREADING: any thread. */
  opsup_status (*post)(opsup_host *host, opsup_callback fn, void *user_data);

  /* Calls fn(user_data) on the loop thread once, delay_ms from now. Returns a timer id
   * (never 0), or 0 on failure. THREADING: loop thread. */
  uint64_t (*timer_start)(opsup_host *host, uint64_t delay_ms, opsup_callback fn, void *user_data);
  /* Cancels a pending timer; its callback will not run. Unknown or fired ids are
   * ignored. THREADING: loop thread. */
  void (*timer_cancel)(opsup_host *host, uint64_t timer_id);

  /* Runs work(user_data) on a worker thread, then done(user_data) on the loop thread.
   * work must not call host services other than log. Returns OPSUP_ERR_FAILED when the
   * host is shutting down (neither is called). The host waits for running work before
   * calling destroy; done is dropped once stop has returned. THREADING: loop thread. */
  opsup_status (*run_blocking)(opsup_host *host, opsup_callback work, opsup_callback done,
                               void *user_data);

  /* Reads `file_name` (a plain name, no '/') from the storage directory and passes its
   * bytes to sink. Returns OPSUP_ERR_NOT_FOUND when it does not exist.
   * THREADING: loop thread (small files; use run_blocking for large ones). */
  opsup_status (*storage_read)(opsup_host *host, const char *file_name, opsup_bytes_sink sink,
                               void *user_data);
  /* Atomically replaces `file_name` in the storage directory with `content` (write to a
   * temporary file, fsync, rename, fsync the directory). Mode 0600. `content` is copied.
   * THREADING: loop thread. */
  opsup_status (*storage_write)(opsup_host *host, const char *file_name, opsup_bytes content);

#if OPSUP_TARGET_ABI_MINOR >= 1
  /* ---- ABI minor 1 ---- */

  /* The module's own section of the supervisor config, plugins.<module id> (the id in its
   * descriptor), as YAML text: a module written in C gets its settings without parsing
   * the whole config. The key under plugins must equal the id exactly. Returns "" when
   * the config has no such section; never NULL.
   * OWNERSHIP: the host owns the text; it stays valid and unchanged until the module's
   * destroy hook returns. THREADING: loop thread (create, the other hooks, callbacks). */
  const char *(*own_settings_yaml)(opsup_host *host);
#endif /* minor 1 */

#if OPSUP_TARGET_ABI_MINOR >= 2
  /* ---- ABI minor 2: settings and custom messages without protobuf or YAML ---- */

  /* Read one setting of the module's own section plugins.<module id> by dotted key:
   * "reply_type" is plugins.<id>.reply_type, "limits.max" walks into the map `limits`
   * (a key that itself contains '.' cannot be reached this way; use own_settings_yaml).
   * Each returns OPSUP_OK and sets *out_value; OPSUP_ERR_NOT_FOUND when the key is absent
   * or null (*out_value untouched: keep your default); OPSUP_ERR_INVALID_ARGUMENT when
   * the value has another type, or key/out_value is NULL. On INVALID_ARGUMENT `error`
   * (may be {NULL, 0}) receives "plugins.<id>.<key>: <what is wrong>", ready to return
   * from create: the supervisor then adds the config file and line.
   *   setting_string: any scalar, as written ("5s", "42" and "true" are strings too).
   *   setting_int: a decimal integer that fits int64_t.
   *   setting_bool: true or false.
   *   setting_duration_ms: a Go duration ("250ms", "1m30s", "1.5h"), not negative, in
   *     whole milliseconds (rounded down).
   *   setting_list: a sequence of scalars; *out_items is an array of *out_count strings.
   * OWNERSHIP: strings and arrays handed out belong to the host and stay valid and
   * unchanged until the module's destroy hook returns.
   * THREADING: loop thread (create, the other hooks, callbacks). */
  opsup_status (*setting_string)(opsup_host *host, const char *key, const char **out_value,
                                 opsup_error_buffer error);
  opsup_status (*setting_int)(opsup_host *host, const char *key, int64_t *out_value,
                              opsup_error_buffer error);
  opsup_status (*setting_bool)(opsup_host *host, const char *key, int32_t *out_value,
                               opsup_error_buffer error);
  opsup_status (*setting_duration_ms)(opsup_host *host, const char *key, uint64_t *out_value,
                                      opsup_error_buffer error);
  opsup_status (*setting_list)(opsup_host *host, const char *key, const char *const **out_items,
                               size_t *out_count, opsup_error_buffer error);

  /* Sends AgentToServer.custom_message {capability, type, data} to the server once (queued
   * like a custom_message given to set_agent_fields; nothing else the module owns
   * changes). `capability` must be one of the descriptor's custom capabilities.
   * Returns OPSUP_ERR_INVALID_ARGUMENT for an undeclared capability or a NULL string
   * (the log says which), OPSUP_ERR_FAILED once the module is stopped. `capability` and
   * `type` (NUL-terminated UTF-8) and `data` are copied. THREADING: loop thread. */
  opsup_status (*send_custom_message)(opsup_host *host, const char *capability, const char *type,
                                      opsup_bytes data);
#endif /* minor 2 */

#if OPSUP_TARGET_ABI_MINOR >= 3
  /* ---- ABI minor 3: the Collector and the module's persistent state ----
   *
   * The Collector services return OPSUP_ERR_UNSUPPORTED when this supervisor has no
   * Collector to serve them (a command that only checks the config, for instance).
   * Config changes are handled one at a time, in the order made by all modules; each
   * candidate is composed from the local config files, the supervisor's layers, the remote
   * config and every module's layers, checked by every module's validate_collector_config
   * hook (this module's too) and applied only when the composed text changed.
   * A `done` callback runs once, on the loop thread, never before the call that queued it
   * returns. Once the module's stop hook has returned, `done` callbacks not yet run are
   * dropped, never called (the change itself still completes): the module frees their
   * user_data in destroy. */

  /* Contributes, replaces (`yaml` given) or removes (`yaml` NULL) this module's Collector
   * config layer `layer_name`: a YAML map merged into the Collector's config after the
   * remote config. Layer names are per module (two modules may each have a layer "x").
   * `flags`: OPSUP_CONFIG_VALIDATE and/or OPSUP_CONFIG_OWN_TELEMETRY (the layer's place
   * instead: see the flag; the same for every change of that layer). `done` (may be NULL)
   * gets the outcome (opsup_config_done); removing a layer that does not exist is OPSUP_OK.
   * Returns OPSUP_OK when the change is queued; OPSUP_ERR_INVALID_ARGUMENT for a NULL or
   * empty `layer_name`, one with a character outside [A-Za-z0-9_.-], or an unknown flag
   * (logged; `done` is not called); OPSUP_ERR_UNSUPPORTED without a Collector;
   * OPSUP_ERR_FAILED once the module is stopped. `layer_name` and `yaml` are copied.
   * THREADING: loop thread. */
  opsup_status (*set_config_layer)(opsup_host *host, const char *layer_name, const char *yaml,
                                   uint32_t flags, opsup_config_done done, void *user_data);

  /* Replaces the remote config layer ($REMOTE_CONFIG) with the `count` files of `files`,
   * as received in ServerToAgent.remote_config. Only the module owning AcceptsRemoteConfig
   * (OPSUP_CAP_ACCEPTS_REMOTE_CONFIG) may call it. `flags`: OPSUP_CONFIG_VALIDATE and/or
   * OPSUP_REMOTE_CONFIG_CLEAR, which removes the layer (`files` and `count` are ignored).
   * `count` 0 without OPSUP_REMOTE_CONFIG_CLEAR is a received empty config map, which means
   * "do not run the Collector". `done` (may be NULL) as for set_config_layer.
   * Returns OPSUP_OK when queued; OPSUP_ERR_INVALID_ARGUMENT when the module does not own
   * AcceptsRemoteConfig, `files` is NULL with `count` > 0, an element's struct_size is too
   * small, a body is NULL with a size, or a flag is unknown (logged; `done` is not
   * called); OPSUP_ERR_UNSUPPORTED without a Collector; OPSUP_ERR_FAILED once the module
   * is stopped. Everything is copied. THREADING: loop thread. */
  opsup_status (*set_remote_config)(opsup_host *host, const opsup_config_file *files, size_t count,
                                    uint32_t flags, opsup_config_done done, void *user_data);

  /* Fills *out with the Collector's state. The caller sets out->struct_size to the size of
   * its struct; the host fills min(that, its own size) bytes and sets out->struct_size to
   * it, so OPSUP_HAS_FIELD tells which fields an older host filled (the others are
   * untouched). Returns OPSUP_OK; OPSUP_ERR_INVALID_ARGUMENT when out is NULL or its
   * struct_size does not reach `running`; OPSUP_ERR_UNSUPPORTED without a Collector.
   * OWNERSHIP: see opsup_collector_state.last_error. THREADING: loop thread. */
  opsup_status (*collector_state)(opsup_host *host, opsup_collector_state *out);

  /* Passes the composed Collector config now in force (YAML, as written for the Collector)
   * to sink. Returns OPSUP_OK; OPSUP_ERR_NOT_FOUND before the first composition;
   * OPSUP_ERR_INVALID_ARGUMENT when sink is NULL; OPSUP_ERR_UNSUPPORTED without a
   * Collector. THREADING: loop thread. */
  opsup_status (*composed_config)(opsup_host *host, opsup_bytes_sink sink, void *user_data);

  /* Restarts the Collector on its current config (the restart is asynchronous; the
   * COLLECTOR_EXITED and COLLECTOR_STARTED events follow). Returns OPSUP_OK;
   * OPSUP_ERR_NOT_FOUND when the Collector has no config to run; OPSUP_ERR_UNSUPPORTED
   * without a Collector; OPSUP_ERR_FAILED once the module is stopped.
   * THREADING: loop thread. */
  opsup_status (*restart_collector)(opsup_host *host);

  /* Runs the Collector's `validate` on `config_yaml` (a whole Collector config) off the
   * loop thread, then done (opsup_validate_done) on the loop thread, never before this call
   * returns; dropped once the module is stopped. Nothing is applied. Returns OPSUP_OK when
   * started; OPSUP_ERR_INVALID_ARGUMENT when config_yaml or done is NULL;
   * OPSUP_ERR_UNSUPPORTED without a Collector; OPSUP_ERR_FAILED once the module is stopped.
   * `config_yaml` is copied. THREADING: loop thread. */
  opsup_status (*validate_collector_config)(opsup_host *host, const char *config_yaml,
                                            opsup_validate_done done, void *user_data);

  /* The module's own keys in the supervisor's persistent state (persistent_state.yaml in
   * the storage directory, owned by the supervisor core and kept across restarts; stored
   * under modules.<module id>.<key>). Keys are [A-Za-z0-9_.-], not empty. Values cross as
   * YAML text; the host re-emits them (comments and formatting are not kept).
   * Two keys are the supervisor's own, in the upstream (Go supervisor) format:
   *   "last_remote_config_status": {status: <RemoteConfigStatuses int 0..3>,
   *     last_remote_config_hash: <hex>, error_message: <text>}; only the module owning
   *     AcceptsRemoteConfig or ReportsRemoteConfig may read or write it; a written value
   *     is checked (unknown keys, a status outside 0..3, a hash that is not hex are
   *     refused; missing ones are 0 / "").
   *   "instance_id": the agent's instance id as a UUID string; readable, never writable.
   *
   * state_read passes the value's YAML text to sink. Returns OPSUP_OK; OPSUP_ERR_NOT_FOUND
   * when the key is absent; OPSUP_ERR_INVALID_ARGUMENT for a bad key, a NULL sink, or
   * last_remote_config_status without its capability (logged); OPSUP_ERR_UNSUPPORTED when
   * this supervisor keeps no persistent state. THREADING: loop thread. */
  opsup_status (*state_read)(opsup_host *host, const char *key, opsup_bytes_sink sink,
                             void *user_data);
  /* state_write sets key to `yaml_value` (YAML text of one value: a scalar, a list or a map),
   * or removes it when `yaml_value` is NULL (removing an absent key is OPSUP_OK), and
   * writes the file atomically. Returns OPSUP_OK; OPSUP_ERR_INVALID_ARGUMENT for a bad
   * key, instance_id, YAML that does not parse, an invalid last_remote_config_status or
   * one without its capability (logged); OPSUP_ERR_UNSUPPORTED when this supervisor keeps
   * no persistent state; OPSUP_ERR_FAILED when the file cannot be written (logged; the
   * value is kept in memory and written with the next change). `yaml_value` is copied.
   * THREADING: loop thread. */
  opsup_status (*state_write)(opsup_host *host, const char *key, const char *yaml_value);

  /* Custom capabilities learned at run time (the Collector's own, to forward them): from now
   * on the host advertises `names` (an array of `count` NUL-terminated reverse-DNS names)
   * for this module in addition to its descriptor's, routes the server's custom messages of
   * them to it (on_custom_message, on_server_message), and lets it send messages of them
   * (send_custom_message, set_agent_fields). Each call replaces the previous run-time list;
   * count 0 withdraws it (the descriptor's stay). Returns OPSUP_OK;
   * OPSUP_ERR_INVALID_ARGUMENT (logged, nothing changes) for a NULL or empty name, more than
   * 64 names, or a name another module has (by its descriptor or at run time);
   * OPSUP_ERR_FAILED once the module is stopped. The names are copied.
   * THREADING: loop thread. */
  opsup_status (*set_custom_capabilities)(opsup_host *host, const char *const *names, size_t count);

  /* Sends a serialized ServerToAgent to the connected Collector's opamp extension: the
   * way to forward the server's custom capabilities and custom messages down. Only the
   * fields custom_capabilities and custom_message may be set; the host fills in
   * instance_uid. Returns OPSUP_OK when handed to the connection; OPSUP_ERR_NOT_FOUND when
   * no Collector is connected; OPSUP_ERR_INVALID_ARGUMENT for bytes that do not parse or
   * another field (logged); OPSUP_ERR_UNSUPPORTED without a Collector; OPSUP_ERR_FAILED once
   * the module is stopped. The bytes are copied. THREADING: loop thread. */
  opsup_status (*send_to_collector)(opsup_host *host, opsup_bytes server_to_agent);
#endif /* minor 3 */

#if OPSUP_TARGET_ABI_MINOR >= 4
  /* ---- ABI minor 4: package downloads ---- */

  /* Fetches request->url with an HTTP(S) GET (its headers added; TLS verification always on,
   * against the system's CA certificates or the module's plugins.<id>.tls settings (ca_file,
   * include_system_ca_certs_pool, cert_file, key_file, server_name_override, min_version);
   * the OpAMP connection's proxy and TLS settings are not used; no redirects)
   * asynchronously, streaming it to a partial file in
   * <storage directory>/packages/<package_name>/. Bytes kept from an interrupted download of
   * the same sha256 are resumed with a Range request. The SHA-256 is checked before the
   * file gets its name, so nothing else ever sees an unchecked file. progress (may be NULL)
   * and done (opsup_download_done) run on the loop thread, never before this call returns;
   * both are dropped once the module is stopped or the download cancelled.
   * Returns a download id (never 0), or 0 when refused: a NULL or malformed request, a
   * url that is not http(s), a bad name, a sha256 that is not 32 bytes (logged; done is
   * not called), or the module is stopped. Everything is copied.
   * THREADING: loop thread. */
  uint64_t (*download_start)(opsup_host *host, const opsup_download_request *request,
                             opsup_download_progress_fn progress, opsup_download_done done,
                             void *user_data);
  /* Stops a download: its callbacks are not called, and what it received is discarded.
   * Unknown or finished ids are ignored. THREADING: loop thread. */
  void (*download_cancel)(opsup_host *host, uint64_t download_id);
  /* Removes <storage directory>/packages/<package_name>/ and everything in it. Returns
   * OPSUP_OK (also when it does not exist); OPSUP_ERR_INVALID_ARGUMENT for a bad name;
   * OPSUP_ERR_FAILED when it cannot be removed (logged). THREADING: loop thread. */
  opsup_status (*package_files_remove)(opsup_host *host, const char *package_name);
#endif /* minor 4 */

#if OPSUP_TARGET_ABI_MINOR >= 5
  /* ---- ABI minor 5: the OpAMP connection ---- */

  /* Connects to the OpAMP server with `opamp_connection_settings` (a serialized
   * OpAMPConnectionSettings, as offered in ServerToAgent.connection_settings.opamp) instead of
   * the current settings: the core says goodbye (agent_disconnect) on the current connection,
   * connects with the new settings and sends its full status report. When a ServerToAgent
   * without error_response arrives on that connection within `timeout_ms` (0: 30000), `done`
   * gets OPSUP_OK and the settings stay in force; otherwise the core goes back to the previous
   * settings, reconnects with them and `done` gets OPSUP_ERR_FAILED with the reason. With
   * `flags` OPSUP_CONNECTION_COMMITTED there is no trial (see the flag).
   * How the settings are read:
   *   destination_endpoint  "" keeps the current endpoint.
   *   headers               added to the configured server.headers; an offered header replaces
   *                         configured ones of the same name (case-insensitive), except the
   *                         header a configured server.auth extension sets (Authorization for
   *                         basic and oauth2, the bearer extension's `header`): the configured
   *                         auth always wins and the offered value is dropped (logged). Each
   *                         call starts again from the configured headers.
   *   certificate           cert + private_key: the client certificate (mTLS). Absent: the
   *                         configured server.tls client certificate, if any.
   *   CAs                   tls.ca_pem_contents and certificate.ca_cert, joined, verify the
   *                         server instead of the configured server.tls CA; neither offered
   *                         keeps the configured CA (or the system pool).
   *   tls                   include_system_ca_certs_pool, min_version, max_version as in
   *                         server.tls; insecure_skip_verify is refused unless server.tls sets
   *                         it; cipher_suites are ignored. An absent tls or certificate never
   *                         turns verification off.
   *   heartbeat_interval_seconds  applied as the core applies offers (when ReportsHeartbeat is
   *                         advertised; 0 turns heartbeats off), at once, trial or not.
   *   proxy                 a url (http://[user:password@]host:port) and connect_headers replace
   *                         the configured server.proxy; none offered keeps it (or, without
   *                         one, HTTPS_PROXY / HTTP_PROXY / NO_PROXY). The connection is a
   *                         CONNECT tunnel through it.
   * A call while an earlier trial runs ends that one (OPSUP_ERR_FAILED, "replaced by a newer
   * offer") and tries the new settings against the same previous ones. `done` (required) runs
   * once on the loop thread, never before this call returns; dropped once the module is
   * stopped. Only the module owning AcceptsOpAMPConnectionSettings may call it.
   * Returns OPSUP_OK when started; OPSUP_ERR_INVALID_ARGUMENT for a caller without that
   * capability, NULL `done`, an unknown flag (logged; `done` is not called);
   * OPSUP_ERR_UNSUPPORTED when this supervisor has no OpAMP connection; OPSUP_ERR_FAILED once
   * the module is stopped. The bytes are copied. THREADING: loop thread. */
  opsup_status (*try_opamp_connection_settings)(opsup_host *host,
                                                opsup_bytes opamp_connection_settings,
                                                uint64_t timeout_ms, uint32_t flags,
                                                opsup_connection_done done, void *user_data);
#endif /* minor 5 */

#if OPSUP_TARGET_ABI_MINOR >= 6
  /* ---- ABI minor 6: the Collector executable update ---- */

  /* Replaces the Collector's executable (agent.executable) with the one in `package_path`, a
   * file the download service produced (a regular file under <storage directory>/packages/,
   * its SHA-256 and signature already checked): a bare ELF executable, or a gzipped tarball
   * holding a regular file named like agent.executable's base name (else its single regular
   * executable file), read with libarchive; absolute paths, "..", links, devices and entries
   * over the size cap are refused. The core extracts it next to agent.executable (mode 0755),
   * writes a journal in the storage directory, stops the Collector, keeps the old executable as
   * <agent.executable>.opsup-backup, renames the new one onto agent.executable, starts it and
   * waits up to `health_timeout_ms` (0: 60000) for the Collector to report itself healthy. On
   * failure it puts the backup back (rename), starts it and reports OPSUP_ERR_FAILED; on
   * success it removes the backup and the journal and refreshes the bootstrap cache, and the new
   * Collector's AgentDescription goes to the server. Config changes wait while it runs. A
   * supervisor killed in the middle finishes the work at its next start (see
   * collector_update_recovery). `done` (required) runs once on the loop thread, never before
   * this call returns; dropped once the module is stopped. Only the module owning
   * AcceptsPackages may call it.
   * Returns OPSUP_OK when started; OPSUP_ERR_INVALID_ARGUMENT for a caller without that
   * capability, NULL `done`, a path that is not such a file (logged; `done` is not called);
   * OPSUP_ERR_UNSUPPORTED when this supervisor runs no Collector or another update runs;
   * OPSUP_ERR_FAILED once the module is stopped. THREADING: loop thread. */
  opsup_status (*update_collector_executable)(opsup_host *host, const char *package_path,
                                              uint64_t health_timeout_ms, opsup_update_done done,
                                              void *user_data);
  /* Fills `recovery` with what the supervisor found at start-up of an update its previous
   * process did not finish (see opsup_collector_update_recovery). Returns OPSUP_OK;
   * OPSUP_ERR_INVALID_ARGUMENT for a NULL or too small struct; OPSUP_ERR_UNSUPPORTED when this
   * supervisor runs no Collector. THREADING: loop thread. */
  opsup_status (*collector_update_recovery)(opsup_host *host,
                                            opsup_collector_update_recovery *recovery);
#endif /* minor 6 */
} opsup_host_api;

#define OPSUP_HOST_HAS(api, member) OPSUP_HAS_FIELD(opsup_host_api, (api)->struct_size, member)

/* What the host passes to the entry point. Owned by the host, valid until the module is
 * unloaded. */
typedef struct opsup_host_info {
  uint32_t struct_size;
  uint32_t abi_major;     /* always OPSUP_ABI_MAJOR for opsup_module_entry_v1 */
  uint32_t abi_minor_min; /* oldest minor the host accepts */
  uint32_t abi_minor_max; /* newest minor the host implements */
  const char *host_version;
  const opsup_host_api *api;
} opsup_host_info;

/* ---------------------------------------------------------------------------------------
 * Module descriptor. Static storage in the module, returned by the entry point, valid
 * until the library is unloaded. The host copies min(struct_size, sizeof) bytes.
 */
typedef struct opsup_module_hooks opsup_module_hooks;

typedef struct opsup_module_descriptor {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor; /* the minor the module was built against */
  uint32_t reserved0;

  const char *id;          /* built-in: plugins/ folder name; third-party: reverse DNS */
  const char *version;     /* semantic version of the module */
  const char *description; /* one line, for `opampsupervisor modules` */

  /* AgentCapabilities bits this module owns. Exactly one module may own each bit;
   * ReportsStatus and ReportsHeartbeat belong to the host. */
  uint64_t capabilities;
  /* NULL-terminated array of custom capability names (reverse DNS), or NULL. The host
   * advertises them (AgentToServer.custom_capabilities) while the module is started, and
   * delivers custom messages of exactly these capabilities to it. */
  const char *const *custom_capabilities;

  /* ServerToAgent field numbers this module wants. Whenever a message from the server
   * holds one of them, the module receives the whole message in on_server_message. */
  const uint32_t *server_to_agent_fields;
  size_t server_to_agent_field_count;
  /* AgentToServer field numbers this module wants from the local Collector link. */
  const uint32_t *agent_to_server_fields;
  size_t agent_to_server_field_count;

  const opsup_module_hooks *hooks;

  void *reserved[4];
} opsup_module_descriptor;

/* Hooks a module implements. Any hook may be NULL (absent); so may any hook beyond the
 * struct_size the module declares. All are called on the loop thread. */
struct opsup_module_hooks {
  uint32_t struct_size;
  uint32_t reserved0;

  /* Creates an instance. `supervisor_config_yaml` is the supervisor's whole config as
   * YAML with secrets redacted; the module reads the keys it owns (its own section is
   * plugins.<id>, also given alone by the own_settings_yaml service of the opsup_host_api
   * received at the entry point, minor 1) and rejects
   * bad ones by writing a message naming the key into `error`
   * and returning OPSUP_ERR_INVALID_ARGUMENT. `host` stays valid until destroy returns.
   * OWNERSHIP: *out_module belongs to the module until destroy. */
  opsup_status (*create)(opsup_host *host, const char *supervisor_config_yaml,
                         opsup_module **out_module, opsup_error_buffer error);

  /* Starts work (timers, outgoing fields). A failure is reported and the module stays
   * loaded but inactive: no further hooks except destroy. */
  opsup_status (*start)(opsup_module *module, opsup_error_buffer error);

  /* Stops work before shutdown. Pending timers are cancelled by the host afterwards. */
  void (*stop)(opsup_module *module);

  /* Frees the instance. No hook is called after it. */
  void (*destroy)(opsup_module *module);

  /* A serialized ServerToAgent holding at least one field the module asked for. Fields of
   * capabilities the supervisor does not advertise are removed first (remote_config,
   * packages_available, command, and ConnectionSettingsOffers parts by their bit).
   * OWNERSHIP: the bytes are valid only during the call. */
  void (*on_server_message)(opsup_module *module, opsup_bytes server_to_agent);

  /* A serialized AgentToServer from the local Collector holding a field it asked for. */
  void (*on_collector_message)(opsup_module *module, opsup_bytes agent_to_server);

  /* A supervisor event. `event` is valid only during the call; check its struct_size
   * (OPSUP_HAS_FIELD) before reading fields newer than the minor the module was built
   * against (generation: minor 3). */
  void (*on_event)(opsup_module *module, const opsup_event *event);

  /* Inspects a candidate Collector config (YAML) before it is applied. Returns OPSUP_OK
   * to accept or OPSUP_ERR_VETO with a reason in `reason` to refuse it. */
  opsup_status (*validate_collector_config)(opsup_module *module, const char *config_yaml,
                                            opsup_error_buffer reason);

  void *reserved[4];

#if OPSUP_TARGET_ABI_MINOR >= 2
  /* ---- ABI minor 2 ---- */

  /* A ServerToAgent.custom_message for one of the descriptor's custom capabilities,
   * already decoded: a C module needs no protobuf to receive it. Called for every such
   * message, whether or not server_to_agent_fields lists custom_message (when it does,
   * on_server_message gets the whole message first). Not called for a message that
   * carries a command (the spec ignores its other fields).
   * OWNERSHIP: `capability` and `type` (NUL-terminated) and `data` are valid only during
   * the call. */
  void (*on_custom_message)(opsup_module *module, const char *capability, const char *type,
                            opsup_bytes data);
#endif /* minor 2 */

#if OPSUP_TARGET_ABI_MINOR >= 3
  /* ---- ABI minor 3 ---- */

  /* Rewrites a candidate Collector config before it is checked and applied: a policy that
   * removes what it refuses instead of refusing the whole config. Called, module by module
   * in load order, only for candidates that hold a remote config or a module's layer (the
   * operator's own files are never rewritten), before validate_collector_config.
   * To keep the candidate, return OPSUP_OK without calling `rewritten`. To replace it, call
   * rewritten(user_data, yaml) once with the whole new config (YAML text) and write what
   * was changed, for people, into `report` (one line per change; the host passes it on to
   * the module that made the config change, e.g. for its status, and logs it). To refuse
   * the candidate, return OPSUP_ERR_VETO with the reason in `report`.
   * OWNERSHIP: `config_yaml` is valid only during the call; the bytes given to `rewritten`
   * are copied during that call. */
  opsup_status (*rewrite_collector_config)(opsup_module *module, const char *config_yaml,
                                           opsup_bytes_sink rewritten, void *user_data,
                                           opsup_error_buffer report);
#endif /* minor 3 */
};

/* The entry point every module exports (OPSUP_MODULE_ENTRY_SYMBOL). Must not do more than
 * fill in the answer: no threads, no I/O. Returns OPSUP_ERR_INCOMPATIBLE when the module
 * cannot work with any minor in [abi_minor_min, abi_minor_max].
 * OWNERSHIP: *out_descriptor points to static storage in the module.
 * THREADING: called once, on the loop thread, before any hook. */
typedef opsup_status (*opsup_module_entry_fn)(const opsup_host_info *host,
                                              const opsup_module_descriptor **out_descriptor);

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OPSUP_MODULE_H */
