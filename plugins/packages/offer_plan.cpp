#include "offer_plan.hpp"

namespace opsup::packages {
namespace {

bool unfinished(const PackageState &state) {
  switch (state.status) {
    case Status::kInstalled:
      return false;
    case Status::kInstallFailed:
      return state.retry;
    default:
      return true;
  }
}

}  // namespace

Plan plan_offer(const PackagesState &current, const Offer &offer) {
  Plan plan;
  plan.next = current;
  if (!current.server_provided_all_packages_hash.empty() &&
      current.server_provided_all_packages_hash == offer.all_packages_hash) {
    plan.unchanged = true;
    for (auto &[name, state] : plan.next.packages) {
      if (offer.packages.contains(name) && unfinished(state)) {
        state.status = Status::kInstallPending;
        state.error_message.clear();
        plan.install.push_back(name);
      }
    }
    return plan;
  }

  plan.next.server_provided_all_packages_hash = offer.all_packages_hash;
  for (const auto &[name, state] : current.packages) {
    if (!offer.packages.contains(name)) {
      plan.remove.push_back(name);
      plan.next.packages.erase(name);
    }
  }
  for (const auto &[name, offered] : offer.packages) {
    PackageState &state = plan.next.packages[name];
    state.server_offered_version = offered.version;
    state.server_offered_hash = offered.hash;
    if (!state.agent_has_hash.empty() && state.agent_has_hash == offered.hash) {
      // What the agent has is what is offered (again): nothing to do, whatever was
      // being done for another hash stops.
      state.status = Status::kInstalled;
      state.error_message.clear();
      state.retry = false;
      continue;
    }
    const bool failed_before = state.status == Status::kInstallFailed && !state.retry &&
                               current.packages.contains(name) &&
                               current.packages.at(name).server_offered_hash == offered.hash;
    if (failed_before)
      continue;
    state.status = Status::kInstallPending;
    state.error_message.clear();
    state.retry = false;
    state.download_percent = 0;
    state.download_bytes_per_second = 0;
    plan.install.push_back(name);
  }
  return plan;
}

}  // namespace opsup::packages
