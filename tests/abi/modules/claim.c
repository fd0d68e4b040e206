/* A module that only claims capability bits: CLAIM_ID and CLAIM_BITS come from the build. */
#include <opsup/module.h>
#include <opsup/opamp_constants.h>

#include <stddef.h>

static const opsup_module_hooks claim_hooks = {.struct_size = sizeof(opsup_module_hooks)};

static const opsup_module_descriptor claim_descriptor = {
    .struct_size = sizeof(opsup_module_descriptor),
    .abi_major = OPSUP_ABI_MAJOR,
    .abi_minor = OPSUP_ABI_MINOR,
    .id = CLAIM_ID,
    .version = "0.0.1",
    .description = "test module claiming capability bits",
    .capabilities = CLAIM_BITS,
    .hooks = &claim_hooks,
};

OPSUP_EXPORT opsup_status opsup_module_entry_v1(const opsup_host_info *host,
                                                const opsup_module_descriptor **out_descriptor) {
  (void)host;
  *out_descriptor = &claim_descriptor;
  return OPSUP_OK;
}
