// The journal of a Collector executable update and what start-up does with it: every phase a
// SIGKILL can interrupt ends with a working executable in place (old, or new once it passed the
// health gate) and a message saying what happened; a corrupt journal restores the backup.
#include "collector/update_recovery.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "collector/update_journal.hpp"
#include "support/temp_dir.hpp"

namespace opsup::collector {
namespace {

using opsup::testing::read_file;
using opsup::testing::TempDir;
using ::testing::HasSubstr;

class UpdateRecoveryTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::filesystem::path storage_ = dir_.path() / "storage";
  std::filesystem::path executable_ = dir_.path() / "bin" / "otelcol";

  void SetUp() override {
    std::filesystem::create_directories(storage_);
    dir_.write_file("bin/otelcol", "new executable");
  }

  UpdateJournal journal(UpdatePhase phase) {
    UpdateJournal journal;
    journal.phase = phase;
    journal.executable = executable_;
    journal.backup = backup_path_of(executable_);
    journal.staged = staged_path_of(executable_);
    journal.package = storage_ / "packages" / ".collector" / "collector-package";
    journal.new_sha256 = "ab01";
    return journal;
  }

  void with_backup() { dir_.write_file("bin/otelcol.opsup-backup", "old executable"); }
  bool journal_left() const { return std::filesystem::exists(storage_ / kUpdateJournalFile); }
};

TEST_F(UpdateRecoveryTest, TheJournalRoundTrips) {
  write_update_journal(storage_, journal(UpdatePhase::kSwapping));
  const JournalRead read = read_update_journal(storage_);
  ASSERT_TRUE(read.present);
  ASSERT_TRUE(read.journal) << read.problem;
  EXPECT_EQ(read.journal->phase, UpdatePhase::kSwapping);
  EXPECT_EQ(read.journal->executable, executable_);
  EXPECT_EQ(read.journal->backup, dir_.path() / "bin" / "otelcol.opsup-backup");
  EXPECT_EQ(read.journal->staged, dir_.path() / "bin" / ".otelcol.opsup-new");
  EXPECT_EQ(read.journal->new_sha256, "ab01");
  EXPECT_EQ(std::filesystem::status(storage_ / kUpdateJournalFile).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(UpdateRecoveryTest, NoJournalMeansNothingToDo) {
  with_backup();
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kNone);
  EXPECT_EQ(read_file(executable_), "new executable");
}

TEST_F(UpdateRecoveryTest, KilledWhilePreparingLeavesTheExecutableAndRemovesLeftovers) {
  dir_.write_file("bin/otelcol", "old executable");
  with_backup();
  dir_.write_file("bin/.otelcol.opsup-new", "half extracted");
  write_update_journal(storage_, journal(UpdatePhase::kPreparing));
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kRolledBack);
  EXPECT_THAT(recovery.message, HasSubstr("interrupted"));
  EXPECT_THAT(recovery.message, HasSubstr("was not changed"));
  EXPECT_EQ(read_file(executable_), "old executable");
  EXPECT_FALSE(std::filesystem::exists(backup_path_of(executable_)));
  EXPECT_FALSE(std::filesystem::exists(staged_path_of(executable_)));
  EXPECT_FALSE(journal_left());
}

TEST_F(UpdateRecoveryTest, KilledDuringTheHealthGateRestoresTheBackup) {
  with_backup();
  write_update_journal(storage_, journal(UpdatePhase::kSwapping));
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kRolledBack);
  EXPECT_THAT(recovery.message, HasSubstr("interrupted"));
  EXPECT_THAT(recovery.message, HasSubstr("previous executable was restored"));
  EXPECT_EQ(read_file(executable_), "old executable");
  EXPECT_FALSE(std::filesystem::exists(backup_path_of(executable_)));
  EXPECT_FALSE(journal_left());
}

TEST_F(UpdateRecoveryTest, KilledBetweenStopAndRenameRestoresTheSameOldExecutable) {
  // The journal says swapping but the rename never happened: the backup is a hard link of
  // the old executable, so restoring it changes nothing and the staged file goes away.
  dir_.write_file("bin/otelcol", "old executable");
  with_backup();
  dir_.write_file("bin/.otelcol.opsup-new", "new executable");
  write_update_journal(storage_, journal(UpdatePhase::kSwapping));
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kRolledBack);
  EXPECT_EQ(read_file(executable_), "old executable");
  EXPECT_FALSE(std::filesystem::exists(staged_path_of(executable_)));
}

TEST_F(UpdateRecoveryTest, KilledDuringARollbackWithTheExecutableMissingRestoresIt) {
  std::filesystem::remove(executable_);
  with_backup();
  write_update_journal(storage_, journal(UpdatePhase::kRollingBack));
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kRolledBack);
  EXPECT_THAT(recovery.message, HasSubstr("rollback"));
  EXPECT_EQ(read_file(executable_), "old executable");
}

TEST_F(UpdateRecoveryTest, KilledAfterTheGatePassedKeepsTheNewExecutable) {
  with_backup();
  write_update_journal(storage_, journal(UpdatePhase::kCommitted));
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kInstalled);
  EXPECT_EQ(read_file(executable_), "new executable");
  EXPECT_FALSE(std::filesystem::exists(backup_path_of(executable_)));
  EXPECT_FALSE(journal_left());
}

TEST_F(UpdateRecoveryTest, ACorruptJournalIsReportedAndTheBackupRestored) {
  with_backup();
  dir_.write_file("storage/collector_update.journal", "format: 1\nphase: [not, a, phase\n");
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kRolledBack);
  EXPECT_THAT(recovery.message, HasSubstr("collector_update.journal is corrupt"));
  EXPECT_THAT(recovery.message, HasSubstr("previous executable was restored"));
  EXPECT_EQ(read_file(executable_), "old executable");
  EXPECT_FALSE(journal_left());
}

TEST_F(UpdateRecoveryTest, ACorruptJournalWithoutBackupKeepsTheExecutableInPlace) {
  dir_.write_file("storage/collector_update.journal", "format: 1\nphase: swapping\n");
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kRolledBack);
  EXPECT_THAT(recovery.message, HasSubstr("missing executable"));
  EXPECT_THAT(recovery.message, HasSubstr("executable in place was kept"));
  EXPECT_EQ(read_file(executable_), "new executable");
}

TEST_F(UpdateRecoveryTest, AJournalPointingElsewhereIsCorrupt) {
  UpdateJournal odd = journal(UpdatePhase::kSwapping);
  odd.backup = "/etc/passwd";
  write_update_journal(storage_, odd);
  const JournalRead read = read_update_journal(storage_);
  EXPECT_TRUE(read.present);
  EXPECT_FALSE(read.journal);
  EXPECT_THAT(read.problem, HasSubstr("not next to the executable"));
}

TEST_F(UpdateRecoveryTest, NeitherExecutableNorBackupIsSaidAndTheJournalKept) {
  std::filesystem::remove(executable_);
  write_update_journal(storage_, journal(UpdatePhase::kSwapping));
  const UpdateRecovery recovery = recover_interrupted_update(storage_, executable_);
  EXPECT_EQ(recovery.outcome, RecoveryOutcome::kRolledBack);
  EXPECT_THAT(recovery.message, HasSubstr("cannot run until agent.executable is restored"));
  EXPECT_TRUE(journal_left());
}

}  // namespace
}  // namespace opsup::collector
