// YAML re-emission that keeps every scalar's type. yaml-cpp 0.7 drops the quotes of
// quoted scalars when re-emitting ("0123" would come back as the integer 0123, 'true' as
// a boolean); here a scalar whose tag is "!" (it was quoted, or was read as a string) is
// written double-quoted, plain scalars stay plain, so `${...}` references and numbers
// keep their text, and other tags (!!binary, !custom) are written out. Comments, anchors
// and flow style are not kept (aliases are written out in full).
#pragma once

#include <string>
#include <string_view>

namespace YAML {
class Emitter;
class Node;
}  // namespace YAML

namespace opsup::common {

// True for an absent node, a null node, or a plain scalar YAML reads as null ("", "~",
// "null", "Null", "NULL"); a quoted "null" is a string.
bool is_yaml_null(const YAML::Node &node);

// Block-style YAML text for `node`, ending with a newline. Throws std::runtime_error only
// when yaml-cpp's emitter rejects the tree (not for any parsed tree).
std::string emit_yaml(const YAML::Node &node);

// Writes `node` into an emitter that is in a position to take a value.
void emit_yaml(YAML::Emitter &out, const YAML::Node &node);

// A scalar node that emit_yaml writes as a string whatever its text ("0123", "true").
YAML::Node yaml_string(std::string_view text);

}  // namespace opsup::common
