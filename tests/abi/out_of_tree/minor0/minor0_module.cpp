// Targets ABI minor 0 through OPSUP_TARGET_ABI_MINOR, with the C++ helper: the descriptor
// must declare minor 0 and newer services must be hidden (see sdk_out_of_tree_build.cmake).
#define OPSUP_TARGET_ABI_MINOR 0
#include <opsup/module.hpp>

static_assert(OPSUP_ABI_MINOR == 0, "the target macro sets the minor the module declares");
static_assert(OPSUP_HEADER_ABI_MINOR >= 1, "built with a header newer than its target");

class Minor0Module : public opsup::Module {
 public:
  explicit Minor0Module(opsup::Host &host) : opsup::Module(host) { host.info("created"); }
};

OPSUP_DEFINE_MODULE(Minor0Module, {.id = "com.example.minor0",
                                   .version = "1.0.0",
                                   .description = "targets ABI minor 0"})
