#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "arena.hpp"
#include "brine/read.hpp"
#include "brine/value.hpp"

namespace brine::detail {

// Identities (Value head word, payload word) of str/bytes values: a small open-addressing set.
class LeafSet {
 public:
  bool empty() const noexcept { return count_ == 0; }
  bool contains(std::uint64_t a, std::uint64_t b) const noexcept {
    if (count_ == 0) return false;
    for (std::size_t i = hash(a, b) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.used) return false;
      if (s.a == a && s.b == b) return true;
    }
  }
  void insert(std::uint64_t a, std::uint64_t b) {
    if ((count_ + 1) * 4 > slots_.size()) grow();  // at most a quarter full: most lookups are misses
    if (place(a, b)) ++count_;
  }

 private:
  struct Slot {
    std::uint64_t a = 0, b = 0;
    bool used = false;
  };
  static std::size_t hash(std::uint64_t a, std::uint64_t b) noexcept {
    return static_cast<std::size_t>(((b >> 3) ^ (a >> 8)) * 0x9E3779B97F4A7C15ull >> 20);
  }
  bool place(std::uint64_t a, std::uint64_t b) noexcept {
    for (std::size_t i = hash(a, b) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) {
        s = Slot{a, b, true};
        return true;
      }
      if (s.a == a && s.b == b) return false;
    }
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.used) place(s.a, s.b);
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
};

// The key of DocumentState::globals: unambiguous for any text (a STACK_GLOBAL's module and name
// may hold any character, so "module\nname" would make ('a\nb', 'c') and ('a', 'b\nc') one).
inline std::string global_key(std::string_view module, std::string_view name) {
  std::string key = std::to_string(module.size());
  key.reserve(key.size() + 1 + module.size() + name.size());
  key.push_back(':');
  key.append(module).append(name);
  return key;
}

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
  // Interned globals: global_key(module, name) -> node.
  std::unordered_map<std::string, GlobalNode*> globals;
  // What the reader knows of shared references (the writer's memo needs no entry for the rest):
  // sharing_known when the whole graph was made by the reader (no Builder, no set_root); then
  // the only lists, tuples and dicts referenced from more than one place carry k_node_shared
  // and the only such str/bytes values are in shared_leaves (besides CPython's shared '' and
  // one-character strs and one-byte bytes, which the writer always looks up).
  bool sharing_known = false;
  bool builder_made = false;
  LeafSet shared_leaves;
  // Interned strs (Builder::interned): text (viewing the str's own arena bytes) -> the str.
  std::unordered_map<std::string_view, Value> interned;

  explicit DocumentState(std::uint64_t limit) : arena(limit) {}
};

}  // namespace brine::detail
