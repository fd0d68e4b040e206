#include "offer_status.hpp"

namespace opsup::connection_settings {
namespace {

constexpr int kApplied = 1;
constexpr int kApplying = 2;
constexpr int kFailed = 3;

}  // namespace

void OfferStatus::begin(const std::string &hash, const std::set<OfferPart> &parts) {
  std::map<OfferPart, PartState> next;
  for (const auto &[part, state] : parts_) {
    if (state.status == kApplying)
      next.emplace(part, state);  // carried over; a new part of the same kind replaces it
  }
  for (OfferPart part : parts)
    next[part] = PartState{hash, kApplying, ""};
  parts_ = std::move(next);
  hash_ = hash;
  begun_ = true;
}

std::optional<StoredStatus> OfferStatus::record(OfferPart part, const std::string &hash, int status,
                                                const std::string &error) {
  if (!begun_)
    begin(hash, {part});
  auto found = parts_.find(part);
  if (found != parts_.end() && found->second.origin == hash) {
    found->second.status = status;
    found->second.error = error;
  } else if (hash == hash_) {
    parts_[part] = PartState{hash, status, error};
  } else {
    return std::nullopt;  // an offer replaced before it ended
  }
  return combined();
}

StoredStatus OfferStatus::combined() const {
  StoredStatus result{kApplied, hash_, ""};
  bool applying = false;
  for (const auto &[part, state] : parts_) {
    if (state.status == kApplying)
      applying = true;
    if (state.status != kFailed)
      continue;
    result.status = kFailed;
    if (!state.error.empty())
      result.error_message += (result.error_message.empty() ? "" : "; ") + state.error;
  }
  if (applying) {
    result.status = kApplying;
    result.error_message.clear();
  }
  return result;
}

}  // namespace opsup::connection_settings
