// Deterministic protobuf serialization: map entries in key order, so equal messages give
// equal bytes and "has it changed?" is a byte comparison.
#pragma once

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message_lite.h>

#include <string>

namespace opsup::own_telemetry {

inline std::string serialize_deterministic(const google::protobuf::MessageLite &message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }  // the coded stream flushes into `bytes` when it goes
  return bytes;
}

}  // namespace opsup::own_telemetry
