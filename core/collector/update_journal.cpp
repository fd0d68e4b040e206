#include "collector/update_journal.hpp"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

#include "storage/atomic_file.hpp"

namespace opsup::collector {
namespace {

constexpr int kFormatVersion = 1;

std::optional<UpdatePhase> parse_phase(const std::string &text) {
  for (UpdatePhase phase : {UpdatePhase::kPreparing, UpdatePhase::kSwapping,
                            UpdatePhase::kRollingBack, UpdatePhase::kCommitted}) {
    if (text == to_string(phase))
      return phase;
  }
  return std::nullopt;
}

}  // namespace

const char *to_string(UpdatePhase phase) {
  switch (phase) {
    case UpdatePhase::kPreparing:
      return "preparing";
    case UpdatePhase::kSwapping:
      return "swapping";
    case UpdatePhase::kRollingBack:
      return "rolling_back";
    case UpdatePhase::kCommitted:
      return "committed";
  }
  return "unknown";
}

std::filesystem::path backup_path_of(const std::filesystem::path &executable) {
  std::filesystem::path backup = executable;
  backup += kBackupSuffix;
  return backup;
}

std::filesystem::path staged_path_of(const std::filesystem::path &executable) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) about "." + std::string.
  std::string name(".");
  name.append(executable.filename().string()).append(".opsup-new");
  return executable.parent_path() / name;
}

void write_update_journal(const std::filesystem::path &storage_directory,
                          const UpdateJournal &journal) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << kFormatVersion;
  out << YAML::Key << "phase" << YAML::Value << to_string(journal.phase);
  out << YAML::Key << "executable" << YAML::Value << YAML::DoubleQuoted
      << journal.executable.string();
  out << YAML::Key << "backup" << YAML::Value << YAML::DoubleQuoted << journal.backup.string();
  out << YAML::Key << "staged" << YAML::Value << YAML::DoubleQuoted << journal.staged.string();
  out << YAML::Key << "package" << YAML::Value << YAML::DoubleQuoted << journal.package.string();
  out << YAML::Key << "new_sha256" << YAML::Value << YAML::DoubleQuoted << journal.new_sha256;
  out << YAML::EndMap;
  std::string text = out.c_str();
  text += "\n";
  storage::write_file_atomically(storage_directory / kUpdateJournalFile, text);
}

JournalRead read_update_journal(const std::filesystem::path &storage_directory) {
  const std::filesystem::path file = storage_directory / kUpdateJournalFile;
  JournalRead read;
  std::optional<std::string> text;
  try {
    text = storage::read_file_if_exists(file);
  } catch (const std::exception &error) {
    read.present = true;
    read.problem = error.what();
    return read;
  }
  if (!text)
    return read;
  read.present = true;
  try {
    const YAML::Node root = YAML::Load(*text);
    if (!root.IsMap())
      throw std::runtime_error("not a YAML map");
    if (!root["format"] || root["format"].as<int>() != kFormatVersion)
      throw std::runtime_error(
          "unknown format (expected format: " + std::to_string(kFormatVersion) + ")");
    UpdateJournal journal;
    const auto phase = parse_phase(root["phase"] ? root["phase"].as<std::string>() : "");
    if (!phase)
      throw std::runtime_error("unknown or missing phase");
    journal.phase = *phase;
    auto path_of = [&](const char *key) {
      const YAML::Node node = root[key];
      if (!node || !node.IsScalar() || node.as<std::string>().empty())
        throw std::runtime_error(std::string("missing ") + key);
      std::filesystem::path path = node.as<std::string>();
      if (!path.is_absolute())
        throw std::runtime_error(std::string(key) + " is not an absolute path");
      return path;
    };
    journal.executable = path_of("executable");
    journal.backup = path_of("backup");
    journal.staged = path_of("staged");
    journal.package = path_of("package");
    journal.new_sha256 = root["new_sha256"] ? root["new_sha256"].as<std::string>() : "";
    // Only the files next to the executable are ever touched.
    if (journal.backup != backup_path_of(journal.executable) ||
        journal.staged != staged_path_of(journal.executable))
      throw std::runtime_error("backup or staged path is not next to the executable");
    read.journal = std::move(journal);
  } catch (const std::exception &error) {
    read.problem = file.string() + " is corrupt: " + error.what();
  }
  return read;
}

void remove_update_journal(const std::filesystem::path &storage_directory) {
  std::error_code error;
  std::filesystem::remove(storage_directory / kUpdateJournalFile, error);
  if (error) {
    throw std::runtime_error("cannot remove " + (storage_directory / kUpdateJournalFile).string() +
                             ": " + error.message());
  }
}

}  // namespace opsup::collector
