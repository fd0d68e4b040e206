// The Collector's AvailableComponents as the module knows them, and the field to report.
//
// The spec's two steps: the agent reports the `hash` of its components, and the full
// `components` map only when the server asks with the ReportAvailableComponents flag.
#pragma once

#include <optional>

#include "opamp.pb.h"

namespace opsup::available_components {

namespace proto = ::opamp::proto::v1;

class ComponentCatalog {
 public:
  // Takes what the Collector reported. Returns true when it is a different set of
  // components: a new hash or, when there is no hash, different contents. An empty
  // report (no hash, no components) is ignored.
  bool update(const proto::AvailableComponents &reported);

  // Whether the Collector has reported anything yet.
  bool known() const { return current_.has_value(); }
  // Whether the full map is known: a hash can arrive alone.
  bool has_components() const { return current_ && !current_->components().empty(); }

  // The field to report: the hash alone, or everything when `full` or when there is no
  // hash to stand for the map. Call only when known().
  proto::AvailableComponents report(bool full) const;

 private:
  std::optional<proto::AvailableComponents> current_;
};

}  // namespace opsup::available_components
