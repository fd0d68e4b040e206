/* What the C compiler computed for each pinned layout entry (abi_layout.def). */
#ifndef OPSUP_TESTS_ABI_LAYOUT_C_H
#define OPSUP_TESTS_ABI_LAYOUT_C_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct abi_layout_entry {
  const char *type;
  const char *field; /* "sizeof" for the struct's size */
  size_t actual;     /* offsetof / sizeof as the C compiler sees it */
  size_t pinned;     /* the number in abi_layout.def */
} abi_layout_entry;

const abi_layout_entry *abi_layout_c_entries(size_t *count);

#ifdef __cplusplus
}
#endif

#endif
