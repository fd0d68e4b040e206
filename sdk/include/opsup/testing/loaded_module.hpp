// opsup/testing/loaded_module.hpp: a GoogleTest fixture that loads a built module (.so) with
// dlopen, as the supervisor does, and runs it in the SDK's FakeHost, so a test drives the
// very file that ships. Needs GoogleTest (link GTest::gtest) and libdl besides
// opsup::sdk_testing. The host goes before the library, so no module code runs once it is
// unloaded. THREADING: the test's thread, like FakeHost.
#pragma once

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <memory>

#include <opsup/testing/fake_host.hpp>

namespace opsup::testing {

class LoadedModule : public ::testing::Test {
 protected:
  explicit LoadedModule(const char *path) : path_(path) {}

  void SetUp() override {
    library_ = dlopen(path_, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror();
    entry_ = reinterpret_cast<opsup_module_entry_fn>(dlsym(library_, OPSUP_MODULE_ENTRY_SYMBOL));
    ASSERT_NE(entry_, nullptr) << "no " << OPSUP_MODULE_ENTRY_SYMBOL << " in " << path_;
    host_ = std::make_unique<FakeHost>();
    ASSERT_EQ(host_->load(entry_), OPSUP_OK);
  }
  void TearDown() override {
    host_.reset();
    if (library_ != nullptr)
      dlclose(library_);
  }

  // Creates and starts the module with no settings.
  FakeHost &start() {
    EXPECT_EQ(host_->create(), OPSUP_OK) << host_->last_error();
    EXPECT_EQ(host_->start(), OPSUP_OK) << host_->last_error();
    return *host_;
  }

  FakeHost &host() { return *host_; }

 private:
  const char *path_;
  void *library_ = nullptr;
  opsup_module_entry_fn entry_ = nullptr;
  std::unique_ptr<FakeHost> host_;
};

}  // namespace opsup::testing
