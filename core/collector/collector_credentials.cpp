#include "collector/collector_credentials.hpp"

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <stdexcept>

#include "storage/atomic_file.hpp"
#include "storage/file_error.hpp"

namespace opsup::collector {
namespace {

constexpr mode_t kCollectorFileMode = 0640;     // the supervisor's, the run_as group's to read
constexpr mode_t kStorageDirectoryMode = 0710;  // the run_as group may search, not list

// This process's effective capabilities (both 32-bit words).
bool has_capability(int capability) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0)
    return false;
  const auto word = static_cast<std::size_t>(capability / 32);
  return (data[word].effective & (1u << (capability % 32))) != 0;
}

bool member_of(gid_t gid) {
  if (::getegid() == gid)
    return true;
  const int count = ::getgroups(0, nullptr);
  if (count <= 0)
    return false;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  const int got = ::getgroups(count, groups.data());
  return got > 0 && std::find(groups.begin(), groups.begin() + got, gid) != groups.begin() + got;
}

std::string joined(const std::vector<std::string> &names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      text += i + 1 == names.size() ? " and " : ", ";
    text += names[i];
  }
  return text;
}

// Whether the run_as user gets `bit` (4 read, 2 write, 1 execute/search) on `info`, by the
// mode bits as the kernel checks them: owner, else group, else others.
bool permits(const struct stat &info, const CollectorCredentials &credentials, mode_t bit) {
  if (info.st_uid == credentials.uid)
    return (info.st_mode & (bit << 6)) != 0;
  const bool in_group = info.st_gid == credentials.gid ||
                        std::find(credentials.groups.begin(), credentials.groups.end(),
                                  info.st_gid) != credentials.groups.end();
  if (in_group)
    return (info.st_mode & (bit << 3)) != 0;
  return (info.st_mode & bit) != 0;
}

std::string describe_mode(const struct stat &info) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
  return std::string("mode ") + mode + ", owner " + std::to_string(info.st_uid) + ":" +
         std::to_string(info.st_gid);
}

}  // namespace

std::string missing_privileges(const CollectorCredentials &credentials) {
  std::vector<std::string> missing;
  if (!has_capability(CAP_SETUID))
    missing.emplace_back("CAP_SETUID");
  if (!has_capability(CAP_SETGID))
    missing.emplace_back("CAP_SETGID");
  if (!has_capability(CAP_CHOWN) && !member_of(credentials.gid))
    missing.emplace_back("CAP_CHOWN");
  if (missing.empty())
    return {};
  return "the supervisor runs as uid " + std::to_string(::geteuid()) + " without " +
         joined(missing);
}

void open_storage_directory(const std::filesystem::path &directory,
                            const CollectorCredentials &credentials) {
  if (::chown(directory.c_str(), static_cast<uid_t>(-1), credentials.gid) != 0)
    throw storage::file_error(directory, "give the run_as group to the storage directory", errno);
  if (::chmod(directory.c_str(), kStorageDirectoryMode) != 0)
    throw storage::file_error(directory, "set mode 0710 on the storage directory", errno);
}

void write_collector_file(const std::filesystem::path &path, std::string_view contents,
                          const std::optional<CollectorCredentials> &credentials) {
  // Written 0600 first: the group gets the file before the mode lets it read, so at no
  // moment can any other group read it. The directory is the supervisor's alone to write,
  // so the path still names the file just renamed into place.
  storage::write_file_atomically(path, contents);
  if (!credentials)
    return;
  if (::chown(path.c_str(), static_cast<uid_t>(-1), credentials->gid) != 0)
    throw storage::file_error(path, "give the run_as group to", errno);
  if (::chmod(path.c_str(), kCollectorFileMode) != 0)
    throw storage::file_error(path, "set mode 0640 on", errno);
}

std::string unreachable_reason(const std::filesystem::path &path,
                               const CollectorCredentials &credentials, bool execute) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (error)
    return {};
  std::filesystem::path prefix;
  for (auto part = absolute.begin(); part != absolute.end(); ++part) {
    prefix /= *part;
    struct stat info {};
    if (::stat(prefix.c_str(), &info) != 0)
      return {};  // missing: nothing to say (yet)
    const bool last = std::next(part) == absolute.end();
    if (!last || S_ISDIR(info.st_mode)) {
      if (S_ISDIR(info.st_mode) && !permits(info, credentials, 1)) {
        return prefix.string() + " is not searchable for " + credentials.description + " (" +
               describe_mode(info) + ")";
      }
    } else if (execute && !permits(info, credentials, 1)) {
      return prefix.string() + " is not executable for " + credentials.description + " (" +
             describe_mode(info) + ")";
    }
  }
  return {};
}

}  // namespace opsup::collector
