/* The C compiler's view of the ABI layout: compile-time checks against the pinned
 * numbers, and a table the C++ test compares with its own offsetof. */
#include <opsup/module.h>

#include <stddef.h>

#include "abi_layout_c.h"

#if defined(__LP64__)
#define OPSUP_LAYOUT_FIELD(type, field, offset) \
  _Static_assert(offsetof(type, field) == (offset), #type "." #field " moved");
#define OPSUP_LAYOUT_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " resized");
#include "abi_layout.def"
#undef OPSUP_LAYOUT_FIELD
#undef OPSUP_LAYOUT_SIZE
#endif

#define OPSUP_LAYOUT_FIELD(type, field, offset) {#type, #field, offsetof(type, field), (offset)},
#define OPSUP_LAYOUT_SIZE(type, size) {#type, "sizeof", sizeof(type), (size)},
static const abi_layout_entry entries[] = {
#include "abi_layout.def"
};
#undef OPSUP_LAYOUT_FIELD
#undef OPSUP_LAYOUT_SIZE

const abi_layout_entry *abi_layout_c_entries(size_t *count) {
  *count = sizeof entries / sizeof entries[0];
  return entries;
}
