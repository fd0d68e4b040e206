#include "component_catalog.hpp"

#include "serialize.hpp"

namespace opsup::available_components {

bool ComponentCatalog::update(const proto::AvailableComponents &reported) {
  // An empty one says nothing: the core's start-up message carries the field even when the
  // Collector reported no components at bootstrap.
  if (reported.hash().empty() && reported.components().empty())
    return false;
  if (current_ && !reported.hash().empty() && reported.hash() == current_->hash()) {
    // The same set. The extension's OpAMP client sends the hash alone until it is asked
    // for more, so a bare hash must not erase a map learned earlier (at bootstrap, or from
    // the cache); a map that was missing is taken.
    if (!reported.components().empty())
      current_ = reported;
    return false;
  }
  // No hash: nothing stands for the contents, so they are compared instead. The module
  // computes no hash of its own and forwards what the Collector gives.
  if (current_ && reported.hash().empty() &&
      serialize_deterministic(reported) == serialize_deterministic(*current_)) {
    return false;
  }
  current_ = reported;
  return true;
}

proto::AvailableComponents ComponentCatalog::report(bool full) const {
  if (full || current_->hash().empty())
    return *current_;
  proto::AvailableComponents hash_only;
  hash_only.set_hash(current_->hash());
  return hash_only;
}

}  // namespace opsup::available_components
