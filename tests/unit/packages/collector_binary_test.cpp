// Installing the Collector executable from real gzipped tarballs (made with libarchive,
// hostile ones included) and bare executables; a real program (/bin/true) is installed
// and run to show the result is a working executable.
#include "packages/collector_binary.hpp"

#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "support/temp_dir.hpp"
#include "test_archive.hpp"

namespace opsup::packages {
namespace {

using opsup::testing::data_file;
using opsup::testing::directory;
using opsup::testing::file;
using opsup::testing::hardlink;
using opsup::testing::read_file;
using opsup::testing::special;
using opsup::testing::symlink;
using opsup::testing::TarEntry;
using opsup::testing::TempDir;
using opsup::testing::write_tar_gz;
using opsup::testing::zeros;
using ::testing::HasSubstr;
using Kind = TarEntry::Kind;

constexpr const char *kBinary = "otelcol-contrib";

std::vector<std::string> names_in(const std::filesystem::path &directory) {
  std::vector<std::string> names;
  for (const auto &entry : std::filesystem::directory_iterator(directory))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

unsigned mode_of(const std::filesystem::path &file) {
  return static_cast<unsigned>(std::filesystem::status(file).permissions()) & 07777u;
}

class CollectorBinary : public ::testing::Test {
 protected:
  TempDir dir_;
  std::filesystem::path install_dir_ = dir_.path() / "bin";
  std::filesystem::path destination_ = install_dir_ / "otelcol";
  std::filesystem::path package_ = dir_.path() / "package.tar.gz";
  const std::string program_ = read_file("/bin/true");
  ExtractLimits limits_;

  void SetUp() override {
    ASSERT_GT(program_.size(), 4u);
    std::filesystem::create_directories(install_dir_);
  }

  ExtractResult install() {
    return install_collector_binary(package_, kBinary, destination_, limits_);
  }

  // A refusal leaves an old binary as it was and no temporary file beside it.
  void expect_refused(ExtractStatus status, const std::string &reason_part) {
    const auto old = dir_.write_file("bin/otelcol", "old binary");
    const auto result = install();
    EXPECT_EQ(result.status, status) << result.reason;
    EXPECT_FALSE(result.ok());
    EXPECT_THAT(result.reason, HasSubstr(reason_part));
    EXPECT_EQ(read_file(destination_), "old binary");
    EXPECT_EQ(names_in(install_dir_), std::vector<std::string>{"otelcol"});
    std::filesystem::remove(destination_);
    const auto fresh = install();
    EXPECT_EQ(fresh.status, status);
    EXPECT_TRUE(names_in(install_dir_).empty()) << "nothing is created on refusal";
  }
};

TEST_F(CollectorBinary, InstallsTheExecutableOfAReleaseLikeTarballAndItRuns) {
  write_tar_gz(package_, {file("LICENSE", "Apache-2.0"), file("README.md", "# otelcol-contrib"),
                          file(kBinary, program_)});
  const auto result = install();
  ASSERT_EQ(result.status, ExtractStatus::kInstalled) << result.reason;
  EXPECT_EQ(result.format, PackageFormat::kGzipTarball);
  EXPECT_EQ(result.bytes, program_.size());
  EXPECT_EQ(read_file(destination_), program_);
  EXPECT_EQ(mode_of(destination_), 0755u);
  EXPECT_EQ(names_in(install_dir_), std::vector<std::string>{"otelcol"});
  const int status = std::system(destination_.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST_F(CollectorBinary, AcceptsDotSlashPathsAndDirectoriesAndReplacesAnOldBinary) {
  dir_.write_file("bin/otelcol", "old binary");
  write_tar_gz(package_, {directory("./"), directory("./docs/"),
                          file("./docs/otelcol-contrib", "not the binary"),
                          file("./otelcol-contrib", program_)});
  const auto result = install();
  ASSERT_EQ(result.status, ExtractStatus::kInstalled) << result.reason;
  EXPECT_EQ(read_file(destination_), program_);
  EXPECT_EQ(mode_of(destination_), 0755u);
}

TEST_F(CollectorBinary, InstallsABareExecutable) {
  package_ = dir_.write_file("otelcol-download", program_);
  const auto result = install();
  ASSERT_EQ(result.status, ExtractStatus::kInstalled) << result.reason;
  EXPECT_EQ(result.format, PackageFormat::kElfExecutable);
  EXPECT_EQ(read_file(destination_), program_);
  EXPECT_EQ(mode_of(destination_), 0755u);
  limits_.max_entry_bytes = program_.size() - 1;
  expect_refused(ExtractStatus::kEntryTooLarge, "max_entry_bytes");
}

TEST_F(CollectorBinary, RefusesAnUnknownFormatOrAPlainTar) {
  package_ = dir_.write_file("package.txt", "#!/bin/sh\necho not elf\n");
  expect_refused(ExtractStatus::kUnknownFormat, "neither an ELF executable nor a gzipped");
  const auto tar = dir_.path() / "plain.tar";
  const std::string command = "tar -C " + dir_.path().string() + " -cf " + tar.string() + " bin";
  ASSERT_EQ(std::system(command.c_str()), 0);
  package_ = tar;
  expect_refused(ExtractStatus::kUnknownFormat, "plain.tar");
}

TEST_F(CollectorBinary, RefusesParentDirectoryComponents) {
  for (const char *path : {"../otelcol-contrib", "bin/../../otelcol-contrib", "a/..", ".."}) {
    write_tar_gz(package_, {file(kBinary, program_), file(path, "x")});
    expect_refused(ExtractStatus::kUnsafePath, "\"..\" component");
  }
}

TEST_F(CollectorBinary, RefusesAbsolutePaths) {
  write_tar_gz(package_, {file("/usr/local/bin/otelcol-contrib", program_)});
  expect_refused(ExtractStatus::kUnsafePath, "absolute path");
}

TEST_F(CollectorBinary, RefusesASymlinkNamedLikeTheBinaryAndHardLinks) {
  write_tar_gz(package_, {symlink(kBinary, "/etc/passwd")});
  expect_refused(ExtractStatus::kLinkEntry, "symbolic link to \"/etc/passwd\"");
  write_tar_gz(package_, {file("README.md", "x"), hardlink(kBinary, "README.md")});
  expect_refused(ExtractStatus::kLinkEntry, "hard link to \"README.md\"");
  write_tar_gz(package_, {file(kBinary, program_), symlink("lib", "/usr/lib")});
  expect_refused(ExtractStatus::kLinkEntry, "entry 2 \"lib\"");
}

TEST_F(CollectorBinary, RefusesDevicesAndFifos) {
  write_tar_gz(package_, {file(kBinary, program_), special("fifo", Kind::kFifo)});
  expect_refused(ExtractStatus::kSpecialEntry, "entry 2 \"fifo\"");
  write_tar_gz(package_, {special("tty", Kind::kCharDevice), file(kBinary, program_)});
  expect_refused(ExtractStatus::kSpecialEntry, "entry 1 \"tty\"");
}

TEST_F(CollectorBinary, RefusesAGzipBombEntryOverTheLimit) {
  limits_.max_entry_bytes = 1 << 20;
  write_tar_gz(package_, {zeros(kBinary, 64u << 20)});
  ASSERT_LT(std::filesystem::file_size(package_), 1u << 20) << "the bomb must be small";
  expect_refused(ExtractStatus::kEntryTooLarge, "67108864 bytes, over max_entry_bytes (1048576)");
  // Another entry than the binary is bounded as well.
  write_tar_gz(package_, {file(kBinary, program_), zeros("padding", 2u << 20)});
  expect_refused(ExtractStatus::kEntryTooLarge, "\"padding\"");
}

TEST_F(CollectorBinary, RefusesMoreThanTheTotalDecompressedBytes) {
  limits_.max_total_bytes = (1u << 20) + 10;
  write_tar_gz(package_, {zeros("a", 1u << 19), file(kBinary, program_), zeros("b", 1u << 19)});
  expect_refused(ExtractStatus::kTotalTooLarge, "max_total_bytes (1048586)");
}

TEST_F(CollectorBinary, RefusesTooManyEntries) {
  limits_.max_entries = 10;
  std::vector<TarEntry> entries;
  for (int i = 0; i < 11; ++i)
    entries.push_back(file("file" + std::to_string(i), "x"));
  entries.front() = file(kBinary, program_);
  write_tar_gz(package_, entries);
  expect_refused(ExtractStatus::kTooManyEntries, "max_entries (10)");
  entries.pop_back();
  write_tar_gz(package_, entries);
  EXPECT_TRUE(install().ok());  // exactly at the limit
}

TEST_F(CollectorBinary, RefusesAMissingOrRepeatedBinary) {
  write_tar_gz(package_, {file("otelcol", program_), file("bin/otelcol-contrib", program_)});
  expect_refused(ExtractStatus::kMissingBinary,
                 "no entry named \"otelcol-contrib\" (2 entries, 2 other executable files)");
  write_tar_gz(package_, {file(kBinary, program_), file("./otelcol-contrib", "evil")});
  expect_refused(ExtractStatus::kDuplicateBinary, "entry 2 \"./otelcol-contrib\"");
}

// A release named otherwise (agent.executable is /usr/bin/otelcol, the tarball holds
// otelcol-contrib): its single executable file is the Collector; files without an execute bit
// do not count.
TEST_F(CollectorBinary, TakesTheSingleExecutableFileWhenNoEntryHasTheName) {
  write_tar_gz(package_, {data_file("LICENSE", "license"), directory("docs/"),
                          data_file("docs/README.md", "readme"), file("otelcol-other", program_)});
  const auto result = install();
  ASSERT_TRUE(result.ok()) << result.reason;
  EXPECT_EQ(read_file(destination_), program_);
  EXPECT_EQ(mode_of(destination_), 0755u);
  // Two executables and none named like the binary: ambiguous, refused.
  std::filesystem::remove(destination_);
  write_tar_gz(package_, {file("otelcol-a", program_), file("otelcol-b", program_)});
  expect_refused(ExtractStatus::kMissingBinary, "2 other executable files");
  // The fallback is checked as strictly: a hostile entry after it still refuses the archive.
  write_tar_gz(package_, {file("otelcol-other", program_), file("../escape", "x")});
  expect_refused(ExtractStatus::kUnsafePath, "\"../escape\"");
}

TEST_F(CollectorBinary, RefusesATruncatedArchiveEvenAfterTheBinaryWasRead) {
  write_tar_gz(package_, {file(kBinary, program_), file("LICENSE", std::string(300000, 'L'))});
  const auto whole = read_file(package_);
  ASSERT_TRUE(install().ok());
  std::filesystem::remove(destination_);
  for (const double fraction : {0.5, 0.9, 0.999}) {
    std::ofstream(package_, std::ios::binary | std::ios::trunc)
        << whole.substr(0, static_cast<std::size_t>(whole.size() * fraction));
    expect_refused(ExtractStatus::kCorruptArchive, "package.tar.gz");
  }
}

TEST_F(CollectorBinary, RefusesGzipThatIsNoTarball) {
  const auto plain = dir_.write_file("plain", "just some text, not a tar archive");
  const std::string command = "gzip -c " + plain.string() + " > " + package_.string();
  ASSERT_EQ(std::system(command.c_str()), 0);
  expect_refused(ExtractStatus::kCorruptArchive, "package.tar.gz");
}

TEST_F(CollectorBinary, NamesAnUnreadablePackageAndAnUnwritableDestination) {
  const auto missing = install_collector_binary(dir_.path() / "none.tar.gz", kBinary, destination_);
  EXPECT_EQ(missing.status, ExtractStatus::kUnreadable);
  EXPECT_THAT(missing.reason, HasSubstr("none.tar.gz"));

  write_tar_gz(package_, {file(kBinary, program_)});
  const auto nowhere = dir_.path() / "missing-dir" / "otelcol";
  const auto result = install_collector_binary(package_, kBinary, nowhere);
  EXPECT_EQ(result.status, ExtractStatus::kWriteFailed);
  EXPECT_THAT(result.reason, HasSubstr(nowhere.string()));
}

}  // namespace
}  // namespace opsup::packages
