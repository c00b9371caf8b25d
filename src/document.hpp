#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "arena.hpp"
#include "brine/read.hpp"
#include "brine/value.hpp"

namespace brine::detail {

struct DocumentState {
  Arena arena;
  Value root;
  int declared_protocol = -1;
  int opcode_protocol = 0;
  std::uint64_t start_offset = 0;
  std::uint64_t end_offset = 0;
  std::uint32_t next_serial = 1;
  // Input buffer (mapping or copy) that str/bytes/bigint values point into.
  std::shared_ptr<const void> keepalive;
  // Caller-registered types (ReadOptions::types), referenced by ObjectNode::user_type.
  std::shared_ptr<const std::vector<UserType>> user_types;
  // Interned globals: "module\nname" -> node.
  std::unordered_map<std::string, GlobalNode*> globals;
  // Interned strs (Builder::interned): text (viewing the str's own arena bytes) -> the str.
  std::unordered_map<std::string_view, Value> interned;

  explicit DocumentState(std::uint64_t limit) : arena(limit) {}
};

}  // namespace brine::detail
