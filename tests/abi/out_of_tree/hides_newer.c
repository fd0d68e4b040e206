/* Uses a minor-1 service: compiles with today's header, and must not compile when
 * OPSUP_TARGET_ABI_MINOR=0 hides it (sdk_out_of_tree_build.cmake compiles it both ways). */
#include <opsup/module.h>

const char *read_own_settings(const opsup_host_api *api, opsup_host *host) {
  return api->own_settings_yaml(host);
}
