#pragma once
// Building blocks of the value graph, shared by the reader, the builder and the writer:
// node allocation, Python hashing and equality of keys, and the list/dict/set operations with
// Python's semantics (duplicate dict keys overwrite, sets keep CPython's iteration order).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "arena.hpp"
#include "brine/value.hpp"

namespace brine::detail {

// Per-document construction context.
struct GraphCtx {
  Arena& arena;
  std::uint64_t max_len;       // Limits::max_container_len
  std::uint32_t next_serial = 1;
};

// ---- scalars --------------------------------------------------------------------------------
inline Value make_none() noexcept { return Access::make(Tag::none, 0, 0); }
inline Value make_bool(bool b) noexcept { return Access::make(Tag::boolean, 0, b ? 1 : 0); }
inline Value make_int(std::int64_t i) noexcept { return Access::make(Tag::int64, 0, i); }
inline Value make_float(double d) noexcept { return Access::make_float(d); }
// An int from little-endian two's complement bytes (any length, not necessarily minimal).
Value make_int_le(GraphCtx& g, const std::uint8_t* le, std::size_t n, bool borrow);
Value make_complex(GraphCtx& g, double re, double im);

// str from valid UTF-8. `borrow`: p stays valid for the document's life (else copied).
// Empty strings and one-character strings below U+0100 are CPython singletons: they get the
// same identity wherever they occur (matters for memoization when writing).
Value make_str_general(GraphCtx& g, const char* p, std::size_t n, bool borrow);
inline Value make_str(GraphCtx& g, const char* p, std::size_t n, bool borrow) {
  if (n > 2 && borrow && n <= max_inline_length) [[likely]] return Access::make_ptr(Tag::str, n, p);
  return make_str_general(g, p, n, borrow);
}
Value make_bytes(GraphCtx& g, const std::uint8_t* p, std::size_t n, bool borrow);
// The shared objects CPython uses for '', one-character str below U+0100 (cp < 256) and the
// one-byte bytes that codecs.encode / bytes(bytearray) return.
Value empty_str() noexcept;
Value str_singleton(char32_t cp) noexcept;
Value bytes_singleton(std::uint8_t b) noexcept;
Value make_bytearray(GraphCtx& g, const std::uint8_t* p, std::size_t n);

// ---- containers -------------------------------------------------------------------------------
Value empty_tuple() noexcept;
Value make_tuple(GraphCtx& g, const Value* items, std::size_t n);
Value make_list(GraphCtx& g, const Value* items, std::size_t n);
void list_extend(GraphCtx& g, SeqNode* list, const Value* items, std::size_t n);
Value make_dict(GraphCtx& g);
DictNode* new_dict_node(GraphCtx& g, bool keep_duplicates);
// d[k] = v with Python semantics (an equal key keeps its position and takes the new value).
// Throws ReadFailure(type_error) for unhashable keys.
void dict_set(GraphCtx& g, DictNode* d, const Value& k, const Value& v);
// DictNode flags.
inline constexpr std::uint8_t k_dict_keep_duplicates = 1;  // items set on an unknown class's object
inline constexpr std::uint8_t k_dict_shared_index = 2;     // `index` also belongs to another dict
// A value's identity as two words (head: tag and length; payload), as Value::same compares them:
// the keys of the writer's memo and of DocumentState::shared_leaves.
struct IdentityKey {
  std::uint64_t a, b;
};
inline IdentityKey identity_key(const Value& v) noexcept {
  return {static_cast<std::uint64_t>(v.tag()) | (v.inline_length() << tag_bits), static_cast<std::uint64_t>(Access::i(v))};
}

// Lists, tuples and dicts: the reader saw it referenced more than once (DocumentState::sharing_known).
inline constexpr std::uint8_t k_node_shared = 0x80;
// Fills the empty dict `d` with `pairs` (key, value) pairs laid out as kv[0], kv[1], ... if the
// keys are the very same objects, in the same order, as the keys of `shape`: no hashing and no
// duplicate checks are needed, and `d` shares `shape`'s index (copied on the first write). Returns
// false (and changes nothing) otherwise. Record-like pickles (a list of dicts with the same
// memoized keys) take this path for every dict after the first.
bool dict_fill_like(GraphCtx& g, DictNode* d, DictNode* shape, const Value* kv, std::size_t pairs);
Value make_set(GraphCtx& g, bool frozen);
void set_add(GraphCtx& g, SetNode* s, const Value& item);
// Recomputes `order` (CPython iteration order) after additions.
void finalize_set(GraphCtx& g, SetNode* s);

// ---- structure -------------------------------------------------------------------------------
// Calls f(child) for each value x holds directly: the items of a list, tuple, set or frozenset,
// the keys and values of a dict, an object's callable, class, arguments, keyword arguments,
// states, state setter and items, a persistent reference's ID. Other values hold none (a global's names are
// strs).
template <class F>
void for_each_child(const Value& x, F&& f) {
  auto seq = [&](const SeqNode* s) {
    if (s)
      for (std::uint64_t k = 0; k < s->size; ++k) f(s->items[k]);
  };
  auto pairs = [&](const DictNode* d) {
    if (d)
      for (std::uint64_t k = 0; k < d->size; ++k) {
        f(d->items[k].key);
        f(d->items[k].value);
      }
  };
  switch (x.tag()) {
    case Tag::list:
    case Tag::tuple:
      return seq(Access::node<SeqNode>(x));
    case Tag::dict:
      return pairs(Access::node<DictNode>(x));
    case Tag::set:
    case Tag::frozenset: {
      auto* s = Access::node<SetNode>(x);
      for (std::uint64_t k = 0; k < s->size; ++k) f(s->items[k]);
      return;
    }
    case Tag::object: {
      auto* o = Access::node<ObjectNode>(x);
      for (const Value* v : {&o->callable, &o->cls, &o->args, &o->kwargs, &o->state, &o->state_setter})
        if (v->valid()) f(*v);
      seq(o->earlier_states);
      seq(o->list_items);
      pairs(o->dict_items);
      return;
    }
    case Tag::persistent:
      return f(Access::node<PersistentNode>(x)->pid);
    default:
      return;
  }
}
// Whether a value can hold others (for_each_child may call f).
inline bool holds_values(const Value& x) noexcept {
  switch (x.tag()) {
    case Tag::list:
    case Tag::tuple:
    case Tag::dict:
    case Tag::set:
    case Tag::frozenset:
    case Tag::object:
    case Tag::persistent:
      return true;
    default:
      return false;
  }
}
// Throws ReadFailure(limit_exceeded) if values nest more than max_depth deep under root (a
// container or object counts one level; a chain of references back into the chain itself, a
// cycle, is not followed). Without recursion; each node is measured once.
void check_nesting_depth(const Value& root, std::uint64_t max_depth);

// ---- lookups ---------------------------------------------------------------------------------
// Python hash() of a hashable value; throws ReadFailure(type_error) for unhashable values.
std::int64_t py_hash(const Value& v);
// True for values Python can hash (no list/dict/set/bytearray anywhere inside).
bool is_hashable(const Value& v) noexcept;
// Python == for dict keys and set elements (NaN is never equal to anything).
bool key_equal(const Value& a, const Value& b);
// Python == between two sets/frozensets (any mix). Throws ReadFailure(limit_exceeded) when
// frozensets nest more than 1000 deep, as CPython raises RecursionError.
bool sets_equal(const Value& a, const Value& b);
// Index of key in d, or -1.
std::int64_t dict_find(const DictNode* d, const Value& key);
std::int64_t dict_find_str(const DictNode* d, std::string_view key) noexcept;

// Whether the items of an OrderedDict / Counter / deque record come (also) from its constructor
// arguments, as the reader takes them: only where the class is called (REDUCE, INST, OBJ;
// cls.__new__ of NEWOBJ ignores them) with one argument the reader can take apart: a dict or a
// list/tuple of pairs for OrderedDict, a dict for Counter (other iterables are counted), a
// non-empty list/tuple (and at most a maxlen after it) for deque.
bool items_from_args(LibraryType lt, Construction how, const Value& args) noexcept;

// Python's type name of a value ("list", "NoneType", ... or the class name of an object).
std::string python_type_name(const Value& v);

}  // namespace brine::detail
