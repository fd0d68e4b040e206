// One ConnectionSettingsStatus for an offer whose parts are applied separately: the `opamp`
// part (a connection trial) and the `other_connections` part (a Collector config layer) of
// one ConnectionSettingsOffers share its hash, so the server sees one status for both.
//
// The rule (documented in the README):
//   - The status of an offer covers the parts its message carries, plus the parts of earlier
//     offers still being applied (its hash covers them too: an unset part means "keep").
//     A part that failed in an earlier offer is not carried over: the server sees that
//     failure under the earlier hash, and offering the part again retries it.
//   - The offer is APPLYING while any of its parts is; then FAILED when any part failed
//     (the messages joined with "; "; other_connections messages start with
//     "other_connections:"), else APPLIED.
//   - Parts are independent: one failing does not undo the other (a switch that worked
//     stays, exporters that were configured stay).
// Pure: no host.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "stored_status.hpp"

namespace opsup::connection_settings {

enum class OfferPart { kOpamp, kOtherConnections };

class OfferStatus {
 public:
  // An offer with `hash` arrived carrying `parts`.
  void begin(const std::string &hash, const std::set<OfferPart> &parts);
  // `part` of the offer `hash` is now `status` (ConnectionSettingsStatuses) with `error`.
  // Returns the offer's combined status to report, or nullopt when the outcome belongs to
  // an offer no longer tracked (replaced before it ended). An outcome before any offer (a
  // status restored at start) starts tracking its hash.
  std::optional<StoredStatus> record(OfferPart part, const std::string &hash, int status,
                                     const std::string &error);

 private:
  struct PartState {
    std::string origin;  // the hash of the offer that carried it
    int status = 0;
    std::string error;
  };
  StoredStatus combined() const;

  bool begun_ = false;
  std::string hash_;
  std::map<OfferPart, PartState> parts_;
};

}  // namespace opsup::connection_settings
