// Configuration problems. ConfigError carries the Collector's full error text ("failed to
// get config: ..." or "invalid configuration: ..."); DecodeError and InvalidError are the
// raw reasons raised while decoding or validating one component, wrapped by the caller.
#pragma once

#include <stdexcept>
#include <string>

namespace opsup::fakeotelcol {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InvalidError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace opsup::fakeotelcol
