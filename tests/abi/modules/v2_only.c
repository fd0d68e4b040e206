/* Exports only opsup_module_entry_v2, as a module built for a future ABI major would. */
#include <opsup/module.h>

OPSUP_EXPORT int opsup_module_entry_v2(const void *host, const void **out_descriptor);

int opsup_module_entry_v2(const void *host, const void **out_descriptor) {
  (void)host;
  (void)out_descriptor;
  return OPSUP_ERR_INCOMPATIBLE;
}
