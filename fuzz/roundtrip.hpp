#pragma once
// The check behind fuzz_roundtrip: read -> write -> read gives an equal graph.
//
// Why not simply "loads(dumps(A)) == A"? Below some protocols the writer must change forms
// (CPython's pickler does the same), the reader folds some of those forms back into native values
// and not others, and identity hashes differ between documents. So the target checks the
// strongest thing that holds without false positives: A ~ B modulo exactly the documented
// transformations of protocol P (step 3), plus a byte-level fixed point (step 4), which needs no
// model of the transformations at all and catches what is lost consistently in both.
//
// For each input that brine::loads (document A; options from a hash of the input, as fuzz_loads
// does; limits as the other targets), and for every protocol P = 0..5:
//
//   1. W1 = dumps(A, P). A write may only fail with errc::unpicklable or errc::type_error (the
//      documented reasons: buffers below protocol 5, non-ASCII or newline global names, cycles
//      through construction arguments, ...); never crash, never another error.
//   2. B = loads(W1) must succeed, consume exactly W1, declare protocol P (none below 2) and use
//      no opcode newer than P.
//   3. A ~ B (GraphCompare): the two graphs walked in parallel, without recursion, with a map
//      from node identity in A to node identity in B. It must be a function (a node of A reached
//      twice corresponds to the same node of B both times) and injective (two distinct nodes of
//      A never become one node of B), except where CPython itself shares: the singleton '' /
//      one-character str / one-byte bytes objects. Scalars are equal exactly (floats bitwise,
//      NaN included), str/bytes byte for byte, dict items and object items in order, sets element
//      by element in A's iteration order, object records field by field (construction kind,
//      callable, args, kwargs, state, state setter and earlier states, appended items, set items).
//      Where protocol P cannot express A's form, B must be exactly what the writer documents
//      (write.hpp, CPython 3.11's pickler), and nothing else:
//        - bytes below 3: _codecs.encode(latin-1 text) / bytes() REDUCE, folded back by the
//          reader into bytes (whose one-byte values are then CPython's shared objects);
//        - set/frozenset below 4: REDUCE(builtins.set/frozenset, ([items],)), folded back;
//        - bytearray below 5, complex: REDUCE, folded back;
//        - protocol-5 buffers (written in band): bytes if read-only, else bytearray;
//        - floats at protocol 0 are repr() text: a NaN comes back as a NaN (sign/payload lost);
//        - persistent IDs at protocol 0 are text (PERSID): the ID comes back as its str(), a
//          new str object each time; persistent references have no identity at any protocol
//          (written again at every occurrence, as CPython does);
//        - a global with a dotted name below 4: getattr(parent, 'last') REDUCE (an object record
//          of builtins.getattr in B); names below 3 with fix_imports go through CPython's
//          Python 3 -> 2 -> 3 name maps;
//        - NEWOBJ objects below 2: copyreg._reconstructor(cls, object, None) (a record with
//          only list items / only dict items that make a valid dict: _reconstructor(cls,
//          list|dict, those items)) or
//          copyreg.__newobj__(cls, *args) REDUCE; NEWOBJ_EX below 4: copyreg.__newobj_ex__;
//          INST/OBJ at another protocol than their own: NEWOBJ(cls, ()) / the _reconstructor
//          form when there are no arguments (and the callable can be a class), else
//          REDUCE(cls, args);
//        - from protocol 2: copyreg._reconstructor(cls, object, None) / (cls, list|dict, items)
//          / (cls, int|float|str|bytes, v) and copyreg.__newobj__ REDUCE records whose cls can
//          be a class (not a native value, a known function or constant) become NEWOBJ
//          (+ the items; tuple bases stay as read), from 4 copyreg.__newobj_ex__ becomes
//          NEWOBJ_EX (docs/write.md has the table); when the class is a builtin
//          type the reader folds (list, dict, ...), B may be that native value (not descended
//          into), and B may even fail to load (BUILD on a list) — as CPython, which calls the
//          helper, fails on both;
//        - OrderedDict / Counter / deque records whose constructor arguments (REDUCE, INST, OBJ)
//          gave their items (Python 2; Counter.__reduce__): REDUCE(cls, ()) (deque: ((), maxlen))
//          + the items; Counter: REDUCE(cls, (dict,)) (also Counter() + items); other arguments
//          are written as they are;
//        - date/time/datetime: a Python 2 str state becomes bytes; below 4 the fold bit
//          (high bit of the hour / month byte) is dropped.
//      The fresh tuples/dicts those forms make have no counterpart in A (compared by value).
//      Set iteration order: B's sets get their elements inserted in the order W1 wrote them,
//      so B's insertion order must be A's iteration order. B's *iteration* order must equal it
//      too when A's own iteration order is its insertion order and no element hash depends on
//      identity (objects, persistent references, buffers: identity hashes differ between
//      documents, as id() does between CPython processes) or on the protocol (a dotted global
//      below 4 becomes an object) — then both hash tables see the same hashes in the same order.
//      Otherwise the order may legitimately differ (as in CPython).
//      When a Python 3 -> 2 -> 3 name round trip would change a name of A (Python 2 names kept by
//      a read without fix_imports, or CPython's lossy maps such as FileNotFoundError -> OSError),
//      B would see other globals and fold other records: such documents are written and read at
//      P < 3 without fix_imports instead, so that every name must come back as it is.
//   4. Fixed point: W2 = dumps(B, P) must succeed and equal W1 byte for byte. Exceptions, each
//      replaced by an equally strict check: if B shares more than A (one-byte bytes from
//      _codecs.encode are shared objects) or has a record folded into a native value, the fixed
//      point starts from B (W3 = dumps(loads(W2)) must equal W2); if one of B's sets iterates in another order than its insertion order,
//      W2 legitimately lists it in another order: then C = loads(W2) must succeed and B ~ C.
//
// A violated invariant calls BRINE_HARNESS_FAIL (harness.hpp) with the category, the protocol,
// where the graphs differ and the input / W1 / W2 in hex. The open findings (kOpenFindings, one
// entry each in fuzz/findings/README.md) are recognised precisely and tolerated (counted, see
// BRINE_ROUNDTRIP_STATS=1) unless BRINE_ROUNDTRIP_STRICT=1 is set, so that the fuzz smoke run
// stays green until they are fixed; remove a finding's entry from kOpenFindings with its fix.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "harness.hpp"
#include "input.hpp"          // brine::detail::ReadFailure (src/)
#include "known_globals.hpp"  // brine::detail::KnownId, map_python2_global/map_python3_global (src/)
#include "pytext.hpp"         // brine::detail::decode_utf8 (src/)

namespace brine_harness {
namespace rt {

using brine::Construction;
using brine::LibraryType;
using brine::detail::Access;
using brine::detail::KnownId;
using brine::detail::Tag;

// ---- open findings -------------------------------------------------------------------------
// Categories of failures that are known writer/reader bugs (fuzz/findings/README.md). Tolerated
// unless BRINE_ROUNDTRIP_STRICT=1. (A vector, so that it may be empty; none are open now.)
inline const std::vector<std::string_view> kOpenFindings = {};

inline bool strict_mode() {
  static const bool strict = [] {
    const char* s = std::getenv("BRINE_ROUNDTRIP_STRICT");
    return s && *s && std::string_view(s) != "0";
  }();
  return strict;
}

// Counters printed at exit when BRINE_ROUNDTRIP_STATS=1.
struct Stats {
  std::uint64_t inputs = 0, loaded = 0, too_big = 0;
  std::uint64_t writes[6] = {}, write_unpicklable[6] = {}, write_type_error[6] = {};
  std::uint64_t compared[6] = {}, skipped_names[6] = {}, fold_cascades = 0;
  std::uint64_t fixed_point_bytes[6] = {}, fixed_point_graph[6] = {}, rebased[6] = {};
  std::uint64_t tolerated = 0;
  std::uint64_t budget_exhausted = 0;
  std::unordered_map<std::string, std::uint64_t> tolerated_by;

  ~Stats() {
    const char* s = std::getenv("BRINE_ROUNDTRIP_STATS");
    if (!s || !*s || std::string_view(s) == "0") return;
    std::fprintf(stderr, "fuzz_roundtrip stats: %" PRIu64 " inputs, %" PRIu64 " loaded, %" PRIu64
                         " too big, %" PRIu64 " fold cascades, %" PRIu64 " budget stops\n",
                 inputs, loaded, too_big, fold_cascades, budget_exhausted);
    for (int p = 0; p < 6; ++p)
      std::fprintf(stderr,
                   "  P%d: written %" PRIu64 ", unpicklable %" PRIu64 ", type_error %" PRIu64 ", compared %" PRIu64
                   ", names changed (no fix_imports) %" PRIu64 ", fixed point bytes %" PRIu64 " / graph %" PRIu64
                   " (from B: %" PRIu64 ")\n",
                   p, writes[p], write_unpicklable[p], write_type_error[p], compared[p], skipped_names[p],
                   fixed_point_bytes[p], fixed_point_graph[p], rebased[p]);
    for (const auto& [k, n] : tolerated_by) std::fprintf(stderr, "  tolerated %s: %" PRIu64 "\n", k.c_str(), n);
  }
};
inline Stats& stats() {
  static Stats s;
  return s;
}

// ---- small helpers ---------------------------------------------------------------------------

inline std::string_view sv(const Value& v) { return Access::sv(v); }

inline KnownId known_id(const Value& v) {
  if (v.tag() != Tag::global) return KnownId::unknown;
  return static_cast<KnownId>(Access::node<brine::detail::GlobalNode>(v)->h.kind);
}

inline std::string_view gmodule(const Value& g) { return sv(Access::node<brine::detail::GlobalNode>(g)->module); }
inline std::string_view gname(const Value& g) { return sv(Access::node<brine::detail::GlobalNode>(g)->name); }

inline const brine::detail::ObjectNode* onode(const Value& v) { return Access::node<brine::detail::ObjectNode>(v); }

inline std::span<const Value> seq_items(const brine::detail::SeqNode* s) {
  if (!s) return {};
  return {s->items, static_cast<std::size_t>(s->size)};
}
inline std::span<const brine::DictItem> dict_items(const brine::detail::DictNode* d) {
  if (!d) return {};
  return {d->items, static_cast<std::size_t>(d->size)};
}
// A set's elements in insertion order (elements() gives the iteration order).
inline std::span<const Value> set_insertion(const Value& v) {
  auto* n = Access::node<brine::detail::SetNode>(v);
  return {n->items, static_cast<std::size_t>(n->size)};
}

// Builtin types whose construction the reader folds into a native value.
inline bool foldable(KnownId id) {
  switch (id) {
    case KnownId::b_int: case KnownId::b_float: case KnownId::b_complex: case KnownId::b_str:
    case KnownId::b_bytes: case KnownId::b_bytearray: case KnownId::b_bool: case KnownId::b_tuple:
    case KnownId::b_list: case KnownId::b_dict: case KnownId::b_set: case KnownId::b_frozenset:
    case KnownId::codecs_encode:
      return true;
    default:
      return false;
  }
}

inline bool is_copyreg_helper(KnownId id) {
  return id == KnownId::copyreg_reconstructor || id == KnownId::copyreg_newobj || id == KnownId::copyreg_newobj_ex;
}

// CPython's shared objects: '', one-character str below U+0100, b'', the one-byte bytes.
inline bool is_singleton(const Value& v) {
  using namespace brine::detail;
  if (v.tag() == Tag::str) {
    std::uint64_t n = v.inline_length();
    if (n == 0) return v.same(empty_str());
    auto b0 = static_cast<unsigned char>(Access::p(v)[0]);
    if (n == 1) return v.same(str_singleton(b0));
    if (n == 2 && (b0 == 0xC2 || b0 == 0xC3))
      return v.same(str_singleton(((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(Access::p(v)[1]) & 0x3Fu)));
    return false;
  }
  if (v.tag() == Tag::bytes) {
    if (v.inline_length() == 0) return true;  // every b'' of a document is one object
    if (v.inline_length() == 1) return v.same(bytes_singleton(Access::bytes(v)[0]));
  }
  return false;
}

// Values whose identity the comparison tracks (persistent references have none: they are
// written again, and loaded again, at every occurrence).
inline bool tracked(const Value& v) {
  switch (v.tag()) {
    case Tag::str: case Tag::bytes: case Tag::complex: case Tag::bytearray: case Tag::tuple:
    case Tag::list: case Tag::dict: case Tag::set: case Tag::frozenset: case Tag::global:
    case Tag::object: case Tag::buffer:
      return true;
    default:
      return false;
  }
}

struct IdKey {
  std::uint64_t head, ptr;
  bool operator==(const IdKey&) const = default;
};
struct IdHash {
  std::size_t operator()(const IdKey& k) const noexcept {
    std::uint64_t h = (k.ptr ^ (k.head * 0x9E3779B97F4A7C15ull)) * 0xFF51AFD7ED558CCDull;
    return static_cast<std::size_t>(h ^ (h >> 31));
  }
};
inline IdKey id_of(const Value& v) {
  return {static_cast<std::uint64_t>(v.tag()) | (v.inline_length() << brine::detail::tag_bits),
          static_cast<std::uint64_t>(Access::i(v))};
}

inline bool same_float(double a, double b, bool text) {
  if (text && std::isnan(a) && std::isnan(b)) return true;  // protocol 0 writes repr(): 'nan'
  std::uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y;
}

inline std::string short_repr(const Value& v) {
  if (!v.valid()) return "<missing>";
  brine::ReprOptions o;
  o.max_output = 300;
  o.refs = true;
  return brine::repr(v, o);
}

inline std::string hex_of(std::string_view s, std::size_t max = 2048) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    out.push_back(d[static_cast<unsigned char>(s[i]) >> 4]);
    out.push_back(d[static_cast<unsigned char>(s[i]) & 15]);
  }
  if (s.size() > max) out += "...";
  return out;
}

// Former finding buffer-hashed-by-identity (fixed; kept to name the cause): brine hashed
// protocol-5 buffers by identity, so a set or dict keys could hold buffers CPython would find
// equal (read-only ones) or refuse to hash (writable ones); written in band they become bytes /
// bytearray.
inline bool buffer_keys(const Value& v) {
  std::vector<Value> todo;
  if (v.tag() == Tag::dict) {
    for (const brine::DictItem& it : v.items()) todo.push_back(it.key);
  } else {
    for (const Value& e : v.elements()) todo.push_back(e);
  }
  std::size_t budget = 100000;
  while (!todo.empty() && budget-- > 0) {  // buffers inside tuples / frozensets count too
    Value e = todo.back();
    todo.pop_back();
    if (e.tag() == Tag::buffer) return true;
    if (e.tag() == Tag::tuple || e.tag() == Tag::frozenset)
      for (const Value& x : e.elements()) todo.push_back(x);
  }
  return false;
}

// Whether the items set on an object of an unknown class (kept as they were set: duplicate keys,
// unhashable keys; the class's __setitem__ decides) are not a valid dict. Below protocol 2 a
// record with dict items only is written as _reconstructor(cls, dict, {items}) only when they
// are (former finding dict-base-items-not-dict: duplicates collapsed, unhashable keys failed to
// load); else as _reconstructor(cls, object, None) + the items.
inline bool items_not_a_dict(const Value& object) {
  if (object.tag() != Tag::object) return false;
  auto* d = Access::node<brine::detail::ObjectNode>(object)->dict_items;
  if (!d || !(d->h.flags & brine::detail::k_dict_keep_duplicates)) return false;
  auto items = object.items();
  std::unordered_map<std::int64_t, std::vector<std::size_t>> by_hash;
  try {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!brine::detail::is_hashable(items[i].key)) return true;
      auto& same = by_hash[brine::detail::py_hash(items[i].key)];
      for (std::size_t j : same)
        if (brine::detail::key_equal(items[i].key, items[j].key)) return true;
      same.push_back(i);
    }
  } catch (const brine::detail::ReadFailure&) {
    return true;
  }
  return false;
}

// ---- the comparison --------------------------------------------------------------------------

struct Mismatch {
  std::string category;  // "mismatch", "identity", "set-order", or an open finding's name
  std::string message;
  std::string path;
};

class GraphCompare {
 public:
  GraphCompare(int protocol, bool fix_imports) : p_(protocol), fix_(fix_imports) {}

  // Compares the graph under `a` with the graph under `b`. False with mismatch() on failure.
  bool run(const Value& a, const Value& b) {
    push(W::pair, a, b, root_path());
    while (!work_.empty()) {
      if (++steps_ > kBudget) {
        ++stats().budget_exhausted;
        return true;  // a huge graph: compared this far
      }
      Work w = work_.back();
      work_.pop_back();
      if (!step(w)) return false;
    }
    return true;
  }
  const Mismatch& mismatch() const { return mismatch_; }
  std::uint64_t fold_cascades() const { return cascades_; }
  // Distinct values of A that became one of CPython's shared objects in B.
  std::uint64_t singleton_merges() const { return merges_; }

  // The name the reader gives a global written under (module, name) at this protocol.
  static std::pair<std::string_view, std::string_view> expected_name(std::string_view m, std::string_view n,
                                                                     int p, bool fix) {
    if (!(fix && p < 3)) return {m, n};
    std::string_view m3 = m, n3 = n, m2, n2;
    brine::detail::map_python3_global(m, n, m3, n3);
    if (brine::detail::map_python2_global(m3, n3, m2, n2)) return {m2, n2};
    return {m3, n3};
  }

 private:
  static constexpr std::uint64_t kBudget = 4'000'000;

  enum class W : std::uint8_t {
    pair,            // a (from A) and b correspond; identity tracked
    pair_untracked,  // same, without identity (text persistent IDs)
    vglobal,         // b is what the writer makes of the global (s1, s2) (not a node of A)
    vstr,            // b is a str with text s1
    vbytes,          // b is a bytes object with content s1
    vnone,           // b is None
    vtuple,          // b is a tuple made for the occasion: items are templates tuples_[list]
    vdict,           // b is a dict made for the occasion with the items set on object a
    vlist,           // b is a list made for the occasion with the items appended to object a
  };
  // Path steps, to name where a mismatch is.
  enum class S : std::uint8_t { root, elem, key, value, set_elem, callable, args, arg, kwargs, state, earlier,
                                litem, dkey, dvalue, pid, getattr, setter };
  struct PathNode {
    std::uint32_t parent;
    S step;
    std::uint64_t index;
  };
  struct Work {
    W k = W::pair;
    Value a, b;
    std::string_view s1, s2;
    std::size_t list = 0;
    std::uint32_t path = 0;
  };

  std::uint32_t root_path() {
    paths_.push_back({0, S::root, 0});
    return static_cast<std::uint32_t>(paths_.size() - 1);
  }
  std::uint32_t sub(std::uint32_t parent, S s, std::uint64_t i = 0) {
    paths_.push_back({parent, s, i});
    return static_cast<std::uint32_t>(paths_.size() - 1);
  }
  void push(W k, const Value& a, const Value& b, std::uint32_t path) {
    Work w;
    w.k = k;
    w.a = a;
    w.b = b;
    w.path = path;
    work_.push_back(w);
  }

  std::string path_text(std::uint32_t p) const {
    std::vector<const PathNode*> chain;
    for (;;) {
      const PathNode& n = paths_[p];
      chain.push_back(&n);
      if (n.step == S::root) break;
      p = n.parent;
    }
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const PathNode& n = **it;
      std::string i = std::to_string(n.index);
      switch (n.step) {
        case S::root: out += "$"; break;
        case S::elem: out += "[" + i + "]"; break;
        case S::key: out += ".key#" + i; break;
        case S::value: out += ".value#" + i; break;
        case S::set_elem: out += "{#" + i + "}"; break;
        case S::callable: out += ".callable"; break;
        case S::args: out += ".args"; break;
        case S::arg: out += "(arg " + i + ")"; break;
        case S::kwargs: out += ".kwargs"; break;
        case S::state: out += ".state"; break;
        case S::setter: out += ".state_setter"; break;
        case S::earlier: out += ".earlier_state#" + i; break;
        case S::litem: out += ".list_item#" + i; break;
        case S::dkey: out += ".dict_item_key#" + i; break;
        case S::dvalue: out += ".dict_item_value#" + i; break;
        case S::pid: out += ".pid"; break;
        case S::getattr: out += "(getattr)"; break;
      }
    }
    return out;
  }

  bool fail(std::string category, std::string message, std::uint32_t path) {
    mismatch_ = {std::move(category), std::move(message), path_text(path)};
    return false;
  }
  bool fail_ab(const char* what, const Value& a, const Value& b, std::uint32_t path) {
    return fail("mismatch", std::string(what) + ": A = " + short_repr(a) + ", B = " + short_repr(b), path);
  }

  bool step(const Work& w) {
    switch (w.k) {
      case W::pair: return pair(w.a, w.b, w.path, true);
      case W::pair_untracked: return pair(w.a, w.b, w.path, false);
      case W::vglobal: return vglobal(w.s1, w.s2, w.b, w.path);
      case W::vstr:
        if (w.b.tag() != Tag::str || sv(w.b) != w.s1)
          return fail("mismatch", "expected the str '" + std::string(w.s1) + "', B = " + short_repr(w.b), w.path);
        return true;
      case W::vbytes:
        if (w.b.tag() != Tag::bytes || sv(w.b) != w.s1)
          return fail("mismatch", "expected bytes 0x" + hex_of(w.s1) + ", B = " + short_repr(w.b), w.path);
        return true;
      case W::vnone:
        if (!w.b.is_none()) return fail("mismatch", "expected None, B = " + short_repr(w.b), w.path);
        return true;
      case W::vtuple: {
        const std::vector<Work>& items = tuples_[w.list];
        if (w.b.tag() != Tag::tuple || w.b.elements().size() != items.size())
          return fail("mismatch", "expected a tuple of " + std::to_string(items.size()) + " made by the writer, B = " +
                                      short_repr(w.b), w.path);
        auto be = w.b.elements();
        for (std::size_t i = 0; i < items.size(); ++i) {
          Work x = items[i];
          x.b = be[i];
          x.path = sub(w.path, S::elem, i);
          work_.push_back(x);
        }
        return true;
      }
      case W::vlist: {
        auto ae = w.a.elements();
        if (w.b.tag() != Tag::list || w.b.elements().size() != ae.size())
          return fail("mismatch", "expected a list of the object's " + std::to_string(ae.size()) + " items, B = " +
                                      short_repr(w.b), w.path);
        auto be = w.b.elements();
        for (std::size_t i = 0; i < ae.size(); ++i) push(W::pair, ae[i], be[i], sub(w.path, S::elem, i));
        return true;
      }
      case W::vdict: {
        auto ai = w.a.items();
        if (w.b.tag() != Tag::dict || w.b.items().size() != ai.size())
          return fail(w.b.tag() == Tag::dict && items_not_a_dict(w.a) ? "dict-base-items-not-dict" : "mismatch",
                      "expected a dict of the object's " + std::to_string(ai.size()) + " items, B = " +
                          short_repr(w.b),
                      w.path);
        auto bi = w.b.items();
        for (std::size_t i = 0; i < ai.size(); ++i) {
          push(W::pair, ai[i].key, bi[i].key, sub(w.path, S::key, i));
          push(W::pair, ai[i].value, bi[i].value, sub(w.path, S::value, i));
        }
        return true;
      }
    }
    return true;
  }

  // Identity bookkeeping for a pair; returns false with done=true if the pair was seen before.
  bool identity(const Value& a, const Value& b, std::uint32_t path, bool& done) {
    done = false;
    if (!tracked(a)) return true;
    IdKey ka = id_of(a);
    auto it = a2b_.find(ka);
    if (it != a2b_.end()) {
      done = true;
      if (it->second.same(b)) return true;
      return fail("identity",
                  "a value of A reached again corresponds to another value of B (sharing lost): A = " +
                      short_repr(a) + ", B first = " + short_repr(it->second) + ", B now = " + short_repr(b),
                  path);
    }
    a2b_.emplace(ka, b);
    if (tracked(b)) {
      auto [jt, fresh] = b2a_.emplace(id_of(b), ka);
      if (!fresh && !(jt->second == ka) && is_singleton(b)) ++merges_;
      if (!fresh && !(jt->second == ka) && !is_singleton(b))
        return fail("identity", "two distinct values of A became one value of B (sharing gained): A = " +
                                    short_repr(a) +
                                    ", B = " + short_repr(b),
                    path);
    }
    return true;
  }

  bool pair(const Value& a, const Value& b, std::uint32_t path, bool track) {
    bool done = false;
    if (track && !identity(a, b, path, done)) return false;
    if (done) return true;
    const bool text = p_ == 0;
    switch (a.tag()) {
      case Tag::invalid:
        if (b.valid()) return fail_ab("missing in A, present in B", a, b, path);
        return true;
      case Tag::none:
        if (!b.is_none()) return fail_ab("None", a, b, path);
        return true;
      case Tag::boolean:
        if (b.tag() != Tag::boolean || Access::i(a) != Access::i(b)) return fail_ab("bool", a, b, path);
        return true;
      case Tag::int64:
        if (b.tag() != Tag::int64 || Access::i(a) != Access::i(b)) return fail_ab("int", a, b, path);
        return true;
      case Tag::bigint:
        if (b.tag() != Tag::bigint || sv(a) != sv(b)) return fail_ab("int (big)", a, b, path);
        return true;
      case Tag::float64:
        if (b.tag() != Tag::float64 || !same_float(Access::d(a), Access::d(b), text))
          return fail_ab("float (bitwise)", a, b, path);
        return true;
      case Tag::str:
        if (b.tag() != Tag::str || sv(a) != sv(b)) return fail_ab("str", a, b, path);
        return true;
      case Tag::bytes:
        if (b.tag() != Tag::bytes || sv(a) != sv(b)) return fail_ab("bytes", a, b, path);
        return true;
      case Tag::bytearray: {
        if (b.tag() != Tag::bytearray) return fail_ab("bytearray", a, b, path);
        auto x = a.get<std::span<const std::byte>>().value_or(std::span<const std::byte>());
        auto y = b.get<std::span<const std::byte>>().value_or(std::span<const std::byte>());
        if (x.size() != y.size() || (x.size() && std::memcmp(x.data(), y.data(), x.size()) != 0))
          return fail_ab("bytearray content", a, b, path);
        return true;
      }
      case Tag::complex: {
        if (b.tag() != Tag::complex) return fail_ab("complex", a, b, path);
        auto* x = Access::node<brine::detail::ComplexNode>(a);
        auto* y = Access::node<brine::detail::ComplexNode>(b);
        if (!same_float(x->re, y->re, text) || !same_float(x->im, y->im, text))
          return fail_ab("complex parts", a, b, path);
        return true;
      }
      case Tag::tuple:
      case Tag::list: {
        if (b.tag() != a.tag() || b.elements().size() != a.elements().size())
          return fail_ab(a.tag() == Tag::tuple ? "tuple" : "list", a, b, path);
        auto ae = a.elements(), be = b.elements();
        for (std::size_t i = 0; i < ae.size(); ++i) push(W::pair, ae[i], be[i], sub(path, S::elem, i));
        return true;
      }
      case Tag::dict: {
        if (b.tag() == Tag::dict && b.items().size() != a.items().size() && p_ == 5 && buffer_keys(a))
          return fail("buffer-hashed-by-identity", "dict with protocol-5 buffer keys: A = " + short_repr(a) +
                                                       ", B = " + short_repr(b),
                      path);
        if (b.tag() != Tag::dict || b.items().size() != a.items().size()) return fail_ab("dict", a, b, path);
        auto ai = a.items(), bi = b.items();
        for (std::size_t i = 0; i < ai.size(); ++i) {
          push(W::pair, ai[i].key, bi[i].key, sub(path, S::key, i));
          push(W::pair, ai[i].value, bi[i].value, sub(path, S::value, i));
        }
        return true;
      }
      case Tag::set:
      case Tag::frozenset:
        return set_pair(a, b, path);
      case Tag::global:
        return vglobal(gmodule(a), gname(a), b, path);
      case Tag::object:
        return object_pair(a, b, path);
      case Tag::persistent: {
        if (b.tag() != Tag::persistent) return fail_ab("persistent reference", a, b, path);
        Value apid = Access::node<brine::detail::PersistentNode>(a)->pid;
        Value bpid = Access::node<brine::detail::PersistentNode>(b)->pid;
        if (p_ == 0) {
          // PERSID: the line is str(pid), read back as a new str.
          std::string want = apid.tag() == Tag::str ? std::string(sv(apid))
                             : apid.tag() == Tag::int64 ? std::to_string(Access::i(apid))
                                                        : brine::repr(apid);
          if (bpid.tag() != Tag::str || sv(bpid) != want)
            return fail("mismatch",
                        "protocol-0 persistent ID: expected the str '" + want + "', B = " + short_repr(bpid),
                        sub(path, S::pid));
          return true;
        }
        push(W::pair, apid, bpid, sub(path, S::pid));
        return true;
      }
      case Tag::buffer: {
        // Written in band (no buffer_callback): read-only ones as bytes, writable as bytearray.
        auto* n = Access::node<brine::detail::BufferNode>(a);
        bool ro = n->h.flags & 1;
        if (b.tag() != (ro ? Tag::bytes : Tag::bytearray)) return fail_ab("in-band buffer", a, b, path);
        auto y = b.get<std::span<const std::byte>>().value_or(std::span<const std::byte>());
        if (y.size() != n->size || (y.size() && std::memcmp(y.data(), n->data, y.size()) != 0))
          return fail_ab("in-band buffer content", a, b, path);
        return true;
      }
    }
    return true;
  }

  // Whether an element's hash is the same in A and in B: content hashes only, and nothing the
  // protocol turns into an object.
  bool hash_invariant(const Value& root) const {
    std::vector<Value> todo{root};
    std::size_t budget = 10000;
    while (!todo.empty()) {
      if (--budget == 0) return false;
      Value v = todo.back();
      todo.pop_back();
      switch (v.tag()) {
        case Tag::object: case Tag::persistent: case Tag::buffer:
          return false;
        case Tag::global:
          if (p_ < 4 && gname(v).find('.') != std::string_view::npos) return false;
          break;
        case Tag::tuple: case Tag::frozenset:
          for (const Value& e : v.elements()) todo.push_back(e);
          break;
        default:
          break;
      }
    }
    return true;
  }

  bool set_pair(const Value& a, const Value& b, std::uint32_t path) {
    if (b.tag() == a.tag() && b.elements().size() != a.elements().size() && p_ == 5 && buffer_keys(a))
      return fail("buffer-hashed-by-identity", "set with protocol-5 buffers: A = " + short_repr(a) + ", B = " +
                                                   short_repr(b),
                  path);
    if (b.tag() != a.tag() || b.elements().size() != a.elements().size())
      return fail_ab(a.tag() == Tag::set ? "set" : "frozenset", a, b, path);
    // W1 lists A's elements in A's iteration order; the reader inserts them in that order.
    auto ao = a.elements(), ai = set_insertion(a);
    auto bo = b.elements(), bi = set_insertion(b);
    if (bi.size() != ao.size()) return fail_ab("set insertion record", a, b, path);
    bool stable = true;
    for (std::size_t i = 0; i < ao.size(); ++i) {
      push(W::pair, ao[i], bi[i], sub(path, S::set_elem, i));
      if (stable && (!ai[i].same(ao[i]) || !hash_invariant(ao[i]))) stable = false;
    }
    if (stable) {
      for (std::size_t i = 0; i < bo.size(); ++i)
        if (!bo[i].same(bi[i]))
          return fail("set-order",
                      "same hashes inserted in the same order, yet B iterates in another order: A = " + short_repr(a) +
                          ", B = " + short_repr(b),
                      path);
    }
    return true;
  }

  // b must be what the writer makes of the global module.name (a node of A, or a global the
  // writer names itself).
  bool vglobal(std::string_view m, std::string_view n, const Value& b, std::uint32_t path) {
    std::size_t dot = n.rfind('.');
    if (p_ < 4 && dot != std::string_view::npos) {
      // save_reduce(getattr, (parent, lastname))
      if (b.tag() != Tag::object)
        return fail("mismatch", "a dotted global below protocol 4 must come back as getattr(parent, name): " +
                                    std::string(m) + "." + std::string(n) + ", B = " + short_repr(b),
                    path);
      auto* o = onode(b);
      if (static_cast<Construction>(o->h.kind) != Construction::reduce || o->state.valid() || o->list_items ||
          o->dict_items || o->kwargs.valid())
        return fail("mismatch", "getattr record of " + std::string(m) + "." + std::string(n) + ": B = " + short_repr(b),
                    path);
      std::uint32_t gp = sub(path, S::getattr);
      Work c;
      c.k = W::vglobal;
      c.s1 = "builtins";
      c.s2 = "getattr";
      c.b = o->callable;
      c.path = sub(gp, S::callable);
      work_.push_back(c);
      tuples_.emplace_back();
      Work parent;
      parent.k = W::vglobal;
      parent.s1 = m;
      parent.s2 = n.substr(0, dot);
      tuples_.back().push_back(parent);
      Work last;
      last.k = W::vstr;
      last.s1 = n.substr(dot + 1);
      tuples_.back().push_back(last);
      Work t;
      t.k = W::vtuple;
      t.list = tuples_.size() - 1;
      t.b = o->args;
      t.path = sub(gp, S::args);
      work_.push_back(t);
      return true;
    }
    auto [em, en] = expected_name(m, n, p_, fix_);
    if (b.tag() != Tag::global || gmodule(b) != em || gname(b) != en)
      return fail("mismatch", "global " + std::string(m) + "." + std::string(n) + " (expected back as " +
                                  std::string(em) + "." + std::string(en) + "), B = " + short_repr(b),
                  path);
    return true;
  }

  Work tmpl(W k, const Value& a) {
    Work w;
    w.k = k;
    w.a = a;
    return w;
  }
  Work vg(std::string_view m, std::string_view n) {
    Work w;
    w.k = W::vglobal;
    w.s1 = m;
    w.s2 = n;
    return w;
  }
  Work vtuple(std::vector<Work> items) {
    tuples_.push_back(std::move(items));
    Work w;
    w.k = W::vtuple;
    w.list = tuples_.size() - 1;
    return w;
  }
  std::vector<Work> pairs_of(std::span<const Value> xs) {
    std::vector<Work> out;
    for (const Value& x : xs) out.push_back(tmpl(W::pair, x));
    return out;
  }

  // What the writer makes of an object record at protocol p_ (write.hpp; CPython's forms).
  struct Expect {
    Construction how = Construction::reduce;
    Work callable, args, kwargs;
    bool has_kwargs = false;
    bool same_form = false;  // nothing transformed: library type must agree too
    bool fold_ok = false;    // B may be a native value (the reader folds the new form)
    // Non-empty: this form loses information (an open finding); B having it fails with this
    // category.
    std::string_view finding;
    // B's appended / set items: A's own (default), or taken from elsewhere.
    bool own_items = true;
    std::span<const Value> litems;
    std::span<const brine::DictItem> ditems;
  };

  // The state bytes of a date/time/datetime reduce argument at this protocol, if the writer
  // changes it (Python 2 str state -> bytes; fold bit dropped below protocol 4).
  bool datetime_state(LibraryType lt, const Value& arg, std::string& st) const {
    bool changed = false;
    if (arg.tag() == Tag::bytes) {
      st.assign(sv(arg));
    } else if (arg.tag() == Tag::str) {
      std::string_view u = sv(arg);
      for (std::size_t i = 0; i < u.size();) {
        char32_t cp;
        i += brine::detail::decode_utf8(u.data() + i, u.size() - i, cp);
        if (cp > 0xFF) return false;
        st.push_back(static_cast<char>(cp));
      }
      changed = true;
    } else {
      return false;
    }
    std::size_t fold_byte = lt == LibraryType::datetime ? 2 : 0;
    std::size_t len = lt == LibraryType::datetime ? 10 : 6;
    if (p_ < 4 && lt != LibraryType::date && st.size() == len && (static_cast<unsigned char>(st[fold_byte]) & 0x80)) {
      st[fold_byte] = static_cast<char>(st[fold_byte] & 0x7F);
      changed = true;
    }
    return changed;
  }

  static bool inst_writable(const Value& g) {
    for (char c : gmodule(g))
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\n') return false;
    for (char c : gname(g))
      if (static_cast<unsigned char>(c) >= 0x80 || c == '\n' || c == '.') return false;
    return true;
  }

  // Whether x can be the class of NEWOBJ / NEWOBJ_EX / _reconstructor (the reader refuses native
  // values and known functions and constants there).
  static bool may_be_class(const Value& x) {
    if (x.tag() == Tag::object || x.tag() == Tag::persistent) return true;
    if (x.tag() != Tag::global) return false;
    auto kind = static_cast<brine::detail::KnownKind>(Access::node<brine::detail::GlobalNode>(x)->h.aux);
    return kind != brine::detail::KnownKind::function && kind != brine::detail::KnownKind::constant;
  }

  // Whether the reader takes the record's constructor arguments as its items (the constructor
  // is called: REDUCE / INST / OBJ, not NEWOBJ's cls.__new__): OrderedDict(dict or pairs),
  // Counter(dict), deque(non-empty list or tuple[, maxlen]).
  static bool args_gave_items(LibraryType lt, Construction how, const Value& args) {
    if (how != Construction::reduce && how != Construction::inst && how != Construction::obj) return false;
    if (args.tag() != Tag::tuple || args.elements().empty()) return false;
    auto av = args.elements();
    const Value& x = av[0];
    bool seq = x.tag() == Tag::list || x.tag() == Tag::tuple;
    if (lt == LibraryType::ordered_dict) {
      if (av.size() != 1 || !(x.tag() == Tag::dict || seq)) return false;
      if (seq)
        for (const Value& p : x.elements())
          if (!((p.tag() == Tag::list || p.tag() == Tag::tuple) && p.elements().size() == 2)) return false;
      return true;
    }
    if (lt == LibraryType::counter) return av.size() == 1 && x.tag() == Tag::dict;
    if (lt == LibraryType::deque) return av.size() <= 2 && seq && !x.elements().empty();
    return false;
  }

  // The forms B may have for object record a, the right one first. Several only where the
  // record has no CPython equivalent (the reader keeps what CPython would reject or call) and
  // either form is defensible; forms with a `finding` lose information.
  std::vector<Expect> expect_object(const Value& a) {
    auto* o = onode(a);
    auto how = static_cast<Construction>(o->h.kind);
    auto lt = static_cast<LibraryType>(o->h.flags);
    Value args = o->args.valid() ? o->args : brine::detail::empty_tuple();
    auto av = args.tag() == Tag::tuple ? args.elements() : std::span<const Value>();
    KnownId cid = known_id(o->callable);
    std::vector<Expect> out;
    auto generic = [&] {
      Expect e;
      e.callable = tmpl(W::pair, o->callable);
      e.args = o->args.valid() ? tmpl(W::pair, o->args) : vtuple({});
      e.same_form = true;
      return e;
    };
    auto plain_instance = [&](const Value& cls) {
      Expect e;
      if (p_ >= 2) {
        e.how = Construction::newobj;
        e.callable = tmpl(W::pair, cls);
        e.args = vtuple({});
      } else {
        // copyreg._reduce_ex: _reconstructor(cls, base, base(obj)); list / dict subclasses (a
        // record with list items only / dict items only) give their items to that argument.
        e.how = Construction::reduce;
        e.callable = vg("copyreg", "_reconstructor");
        bool li = o->list_items && o->list_items->size, di = o->dict_items && o->dict_items->size;
        if (li != di && !(di && items_not_a_dict(a))) {
          Work items;
          items.k = li ? W::vlist : W::vdict;
          items.a = a;
          e.args = vtuple({tmpl(W::pair, cls), vg("builtins", li ? "list" : "dict"), items});
          e.own_items = false;  // B has none appended
        } else {
          e.args = vtuple({tmpl(W::pair, cls), vg("builtins", "object"), tmpl(W::vnone, Value())});
        }
      }
      return e;
    };
    auto newobj_of = [&](const Value& cls, std::vector<Work> items) {
      Expect e;
      e.how = Construction::newobj;
      e.callable = tmpl(W::pair, cls);
      e.args = vtuple(std::move(items));
      e.fold_ok = foldable(known_id(cls));
      return e;
    };
    // REDUCE(callable, ()) / (cls, (dict,)) / (cls, () or ((), maxlen)) + the record's items:
    // CPython's OrderedDict / Counter / deque __reduce__.
    auto library_form = [&](const Work& callable) {
      Expect e;
      e.callable = callable;
      if (lt == LibraryType::counter) {
        Work d;
        d.k = W::vdict;
        d.a = a;
        e.args = vtuple({d});
      } else if (lt == LibraryType::deque && av.size() >= 2 && !av[1].is_none()) {
        e.args = vtuple({vtuple({}), tmpl(W::pair, av[1])});
      } else {
        e.args = vtuple({});
      }
      return e;
    };
    switch (how) {
      case Construction::reduce: {
        // (Only when the helper's first argument can be a class: else the REDUCE stays as read.)
        if (cid == KnownId::copyreg_reconstructor && p_ >= 2 && av.size() == 3 && may_be_class(av[0])) {
          KnownId base = known_id(av[1]);
          if (base == KnownId::b_object && av[2].is_none()) return {newobj_of(av[0], {})};
          // list / dict subclasses: NEWOBJ(cls, ()) + the items given to _reconstructor (when the
          // record has no items of its own). Tuple subclasses stay as read.
          if (base == KnownId::b_list && av[2].tag() == Tag::list && !(o->list_items && o->list_items->size)) {
            Expect e = newobj_of(av[0], {});
            e.own_items = false;
            e.litems = av[2].elements();
            e.ditems = dict_items(o->dict_items);
            return {e};
          }
          if (base == KnownId::b_dict && av[2].tag() == Tag::dict && !(o->dict_items && o->dict_items->size)) {
            Expect e = newobj_of(av[0], {});
            e.own_items = false;
            e.litems = seq_items(o->list_items);
            e.ditems = av[2].items();
            return {e};
          }
          if ((base == KnownId::b_int && av[2].is_int()) || (base == KnownId::b_float && av[2].is_float()) ||
              (base == KnownId::b_str && av[2].is_str()) || (base == KnownId::b_bytes && av[2].is_bytes()))
            return {newobj_of(av[0], {tmpl(W::pair, av[2])})};
        }
        if (cid == KnownId::copyreg_newobj && p_ >= 2 && !av.empty() && may_be_class(av[0]))
          return {newobj_of(av[0], pairs_of(av.subspan(1)))};
        if (cid == KnownId::copyreg_newobj_ex && p_ >= 4 && av.size() == 3 && may_be_class(av[0]) &&
            (av[1].tag() == Tag::tuple || av[1].tag() == Tag::object) &&
            (av[2].tag() == Tag::dict || av[2].tag() == Tag::object)) {
          Expect e;
          e.how = Construction::newobj_ex;
          e.callable = tmpl(W::pair, av[0]);
          e.args = tmpl(W::pair, av[1]);
          e.kwargs = tmpl(W::pair, av[2]);
          e.has_kwargs = true;
          e.fold_ok = foldable(known_id(av[0]));
          return {e};
        }
        // OrderedDict / Counter / deque whose constructor arguments gave the items (and Counter()):
        // the class's own form + the items. Arguments the reader did not take apart are written as
        // they are (Counter('abc'), OrderedDict(5), deque(x, n, extra), copyreg helpers).
        if (args_gave_items(lt, how, args) || (lt == LibraryType::counter && av.empty()))
          return {library_form(tmpl(W::pair, o->cls))};
        if ((lt == LibraryType::datetime || lt == LibraryType::time || lt == LibraryType::date) && !av.empty()) {
          std::string st;
          if (datetime_state(lt, av[0], st)) {
            strs_.push_back(std::move(st));
            Work s;
            s.k = W::vbytes;
            s.s1 = strs_.back();
            std::vector<Work> items{s};
            for (const Value& x : av.subspan(1)) items.push_back(tmpl(W::pair, x));
            Expect e;
            e.callable = tmpl(W::pair, o->callable);
            e.args = vtuple(std::move(items));
            return {e};
          }
        }
        return {generic()};
      }
      case Construction::newobj: {
        if (p_ >= 2) {
          Expect e;
          e.how = Construction::newobj;
          e.callable = tmpl(W::pair, o->callable);
          e.args = tmpl(W::pair, args);
          e.same_form = true;
          return {e};
        }
        // (NEWOBJ arguments that are not a tuple have no form below protocol 2: not written.)
        if (av.empty()) return {plain_instance(o->callable)};
        std::vector<Work> items{tmpl(W::pair, o->callable)};
        for (const Value& x : av) items.push_back(tmpl(W::pair, x));
        Expect e;
        e.callable = vg("copyreg", "__newobj__");
        e.args = vtuple(std::move(items));
        return {e};
      }
      case Construction::newobj_ex: {
        Expect e;
        if (p_ >= 4) {
          e.how = Construction::newobj_ex;
          e.callable = tmpl(W::pair, o->callable);
          e.args = tmpl(W::pair, args);
          e.kwargs = tmpl(W::pair, o->kwargs);
          e.has_kwargs = true;
          e.same_form = true;
        } else {
          e.callable = vg("copyreg", "__newobj_ex__");
          e.args = vtuple({tmpl(W::pair, o->callable), tmpl(W::pair, args), tmpl(W::pair, o->kwargs)});
        }
        return {e};
      }
      case Construction::inst:
      case Construction::obj: {
        bool legacy = (how == Construction::inst && p_ == 0) || (how == Construction::obj && p_ == 1);
        if (args_gave_items(lt, how, args)) return {library_form(tmpl(W::pair, o->cls))};
        Expect e;
        if (legacy && how == Construction::obj) {
          e.how = Construction::obj;
          e.callable = tmpl(W::pair, o->callable);
          e.args = vtuple(pairs_of(av));
          e.same_form = true;
        } else if (legacy && o->callable.tag() == Tag::global && inst_writable(o->callable)) {
          e.how = Construction::inst;
          e.callable = tmpl(W::pair, o->callable);
          e.args = vtuple(pairs_of(av));
          e.same_form = true;
        } else if (av.empty() && may_be_class(o->callable)) {
          e = plain_instance(o->callable);
        } else {  // cls(*args); a function is called even without arguments
          e.callable = tmpl(W::pair, o->callable);
          e.args = vtuple(pairs_of(av));
        }
        return {e};
      }
    }
    return {generic()};
  }

  // Whether B's record has form e at first sight (construction, callable, number of args); the
  // walk then compares everything.
  bool shallow_match(const Expect& e, const brine::detail::ObjectNode* q) const {
    if (static_cast<Construction>(q->h.kind) != e.how) return false;
    const Value& bc = q->callable;
    if (e.callable.k == W::vglobal) {
      auto [em, en] = expected_name(e.callable.s1, e.callable.s2, p_, fix_);
      if (bc.tag() != Tag::global || gmodule(bc) != em || gname(bc) != en) return false;
    } else {
      const Value& x = e.callable.a;
      if (x.tag() == Tag::global && !(p_ < 4 && gname(x).find('.') != std::string_view::npos)) {
        auto [em, en] = expected_name(gmodule(x), gname(x), p_, fix_);
        if (bc.tag() != Tag::global || gmodule(bc) != em || gname(bc) != en) return false;
      } else if (bc.tag() != x.tag() && !(x.tag() == Tag::global && bc.tag() == Tag::object)) {
        return false;
      }
    }
    const Value& ba = q->args;
    if (e.args.k == W::vtuple) {
      const std::vector<Work>& t = tuples_[e.args.list];
      if (ba.tag() != Tag::tuple || ba.elements().size() != t.size()) return false;
      for (std::size_t i = 0; i < t.size(); ++i)
        if (!shallow_elem(t[i], ba.elements()[i])) return false;
      return true;
    }
    const Value& x = e.args.a;
    if (ba.tag() != x.tag()) return false;
    if (x.tag() != Tag::tuple) return true;
    if (x.elements().size() != ba.elements().size()) return false;
    for (std::size_t i = 0; i < x.elements().size(); ++i)
      if (!compatible(x.elements()[i], ba.elements()[i])) return false;
    return true;
  }
  // Whether B value y can be what the writer made of A value x (kind only).
  bool compatible(const Value& x, const Value& y) const {
    if (x.tag() == y.tag()) return true;
    if (x.tag() == Tag::global && y.tag() == Tag::object) return p_ < 4;  // getattr form
    if (x.tag() == Tag::buffer) return y.tag() == Tag::bytes || y.tag() == Tag::bytearray;
    if (x.tag() == Tag::object) return true;  // folded by the reader
    return false;
  }
  bool shallow_elem(const Work& t, const Value& y) const {
    switch (t.k) {
      case W::pair: case W::pair_untracked: return compatible(t.a, y);
      case W::vglobal: return y.tag() == Tag::global || y.tag() == Tag::object;
      case W::vstr: return y.tag() == Tag::str;
      case W::vbytes: return y.tag() == Tag::bytes;
      case W::vnone: return y.is_none();
      case W::vtuple: return y.tag() == Tag::tuple;
      case W::vdict: return y.tag() == Tag::dict;
      case W::vlist: return y.tag() == Tag::list;
    }
    return false;
  }

  bool object_pair(const Value& a, const Value& b, std::uint32_t path) {
    auto* o = onode(a);
    std::vector<Expect> forms = expect_object(a);
    if (b.tag() != Tag::object) {
      for (const Expect& f : forms)
        if (f.fold_ok) {  // the reader folds the class's NEWOBJ into a native value
          ++cascades_;
          return true;
        }
      return fail_ab("object record", a, b, path);
    }
    auto* q = onode(b);
    const Expect* pick = &forms[0];
    for (const Expect& f : forms)
      if (shallow_match(f, q)) {
        pick = &f;
        break;
      }
    const Expect& e = *pick;
    if (!e.finding.empty() && shallow_match(e, q))
      return fail(std::string(e.finding), "the writer changed the record's form and lost information: A = " +
                                              short_repr(a) + ", B = " + short_repr(b),
                  path);
    if (static_cast<Construction>(q->h.kind) != e.how)
      return fail("mismatch", "construction kind " + std::to_string(static_cast<int>(q->h.kind)) + ", expected " +
                                  std::to_string(static_cast<int>(e.how)) + ": A = " + short_repr(a) + ", B = " +
                                  short_repr(b),
                  path);
    if (e.same_form && q->h.flags != o->h.flags)
      return fail_ab("library type of an object written in its own form", a, b, path);
    Work c = e.callable;
    c.b = q->callable;
    c.path = sub(path, S::callable);
    work_.push_back(c);
    if (!q->args.valid()) return fail_ab("B object without args", a, b, path);
    Work g = e.args;
    g.b = q->args;
    g.path = sub(path, S::args);
    work_.push_back(g);
    if (e.has_kwargs) {
      Work k = e.kwargs;
      k.b = q->kwargs;
      k.path = sub(path, S::kwargs);
      work_.push_back(k);
    } else if (q->kwargs.valid()) {
      return fail_ab("kwargs where the writer has none", a, b, path);
    }
    if (o->state.valid() != q->state.valid()) return fail_ab("state present in one only", a, b, path);
    if (o->state.valid()) push(W::pair, o->state, q->state, sub(path, S::state));
    if (o->state_setter.valid() != q->state_setter.valid())
      return fail_ab("state_setter present in one only", a, b, path);
    if (o->state_setter.valid()) push(W::pair, o->state_setter, q->state_setter, sub(path, S::setter));
    auto ae = seq_items(o->earlier_states), be = seq_items(q->earlier_states);
    if (ae.size() != be.size()) return fail_ab("number of BUILD states", a, b, path);
    for (std::size_t i = 0; i < ae.size(); ++i) push(W::pair, ae[i], be[i], sub(path, S::earlier, i));
    auto al = e.own_items ? seq_items(o->list_items) : e.litems, bl = seq_items(q->list_items);
    auto count_mismatch = [&](const char* what, std::size_t na, std::size_t nb) {
      return fail("mismatch",
                  std::string(what) + ": " + std::to_string(na) + " in A, " + std::to_string(nb) +
                      " in B: A = " + short_repr(a) + ", B = " + short_repr(b),
                  path);
    };
    if (al.size() != bl.size()) return count_mismatch("object list items", al.size(), bl.size());
    for (std::size_t i = 0; i < al.size(); ++i) push(W::pair, al[i], bl[i], sub(path, S::litem, i));
    auto ad = e.own_items ? dict_items(o->dict_items) : e.ditems, bd = dict_items(q->dict_items);
    if (ad.size() != bd.size()) return count_mismatch("object dict items", ad.size(), bd.size());
    for (std::size_t i = 0; i < ad.size(); ++i) {
      push(W::pair, ad[i].key, bd[i].key, sub(path, S::dkey, i));
      push(W::pair, ad[i].value, bd[i].value, sub(path, S::dvalue, i));
    }
    return true;
  }

  int p_;
  bool fix_;
  std::vector<Work> work_;
  std::vector<PathNode> paths_;
  std::deque<std::vector<Work>> tuples_;
  std::deque<std::string> strs_;
  std::unordered_map<IdKey, Value, IdHash> a2b_;
  std::unordered_map<IdKey, IdKey, IdHash> b2a_;
  Mismatch mismatch_;
  std::uint64_t steps_ = 0;
  std::uint64_t cascades_ = 0;
  std::uint64_t merges_ = 0;
};

// ---- scans of a whole document -----------------------------------------------------------------

// Calls f on every value reachable from root (each node once), within a budget.
template <class F>
void for_each_value(const Value& root, F&& f, std::size_t budget = 2'000'000) {
  std::vector<Value> work{root};
  std::unordered_set<const void*> seen;
  while (!work.empty() && budget-- > 0) {
    Value v = work.back();
    work.pop_back();
    if (is_node(v) && !seen.insert(Access::identity(v)).second) continue;
    f(v);
    for (const Value& e : v.elements()) work.push_back(e);
    for (const brine::DictItem& it : v.items()) {
      work.push_back(it.key);
      work.push_back(it.value);
    }
    if (v.tag() == Tag::object) {
      auto* o = onode(v);
      for (const Value& c : {o->callable, o->cls, o->args, o->kwargs, o->state, o->state_setter})
        if (c.valid()) work.push_back(c);
      for (const Value& s : seq_items(o->earlier_states)) work.push_back(s);
    }
    if (v.tag() == Tag::persistent) work.push_back(Access::node<brine::detail::PersistentNode>(v)->pid);
  }
}

// Whether a Python 3 -> 2 -> 3 name round trip changes a global's name (then other known
// globals, other folding: not compared).
inline bool names_change(const Value& root, int p, bool fix) {
  if (!(fix && p < 3)) return false;
  bool changed = false;
  for_each_value(root, [&](const Value& v) {
    if (changed || v.tag() != Tag::global) return;
    std::string_view m = gmodule(v), n = gname(v);
    if (p < 4) n = n.substr(0, n.find('.'));  // dotted: the writer names the first part
    auto [em, en] = GraphCompare::expected_name(m, n, p, fix);
    if (em != m || en != n) changed = true;
  });
  return changed;
}

// Whether some set of the document iterates in another order than its insertion order.
inline bool sets_reordered(const Value& root) {
  bool reordered = false;
  for_each_value(root, [&](const Value& v) {
    if (reordered || (v.tag() != Tag::set && v.tag() != Tag::frozenset)) return;
    auto o = v.elements(), i = set_insertion(v);
    for (std::size_t k = 0; k < o.size(); ++k)
      if (!o[k].same(i[k])) {
        reordered = true;
        return;
      }
  });
  return reordered;
}

// ---- the check -------------------------------------------------------------------------------

struct Context {
  const std::uint8_t* data;
  std::size_t size;
  int protocol;
  bool fix;
  std::string w1, w2;
};

[[noreturn]] inline void report(const Context& c, const std::string& category, const std::string& what) {
  BRINE_HARNESS_FAIL("roundtrip [" + category + "] protocol " + std::to_string(c.protocol) +
                     (c.fix ? " fix_imports" : " no fix_imports") + ": " + what + "\n  input: " +
                     hex_of(std::string_view(reinterpret_cast<const char*>(c.data), c.size)) +
                     (c.w1.empty() ? std::string() : "\n  W1: " + hex_of(c.w1)) +
                     (c.w2.empty() ? std::string() : "\n  W2: " + hex_of(c.w2)));
}

// Fails unless `category` is an open finding (and strict mode is off); returns true if tolerated.
inline bool tolerate_or_fail(const Context& c, const std::string& category, const std::string& what) {
  if (!strict_mode())
    for (std::string_view f : kOpenFindings)
      if (f == category) {
        ++stats().tolerated;
        ++stats().tolerated_by[category];
        return true;
      }
  report(c, category, what);
}

inline brine::ReadOptions reread_options(bool fix) {
  brine::ReadOptions o;
  o.limits.max_alloc_bytes = std::uint64_t{256} << 20;
  o.encoding = brine::StringEncoding::latin1;  // never needed: the writer writes no Python 2 str
  o.fix_imports = fix;
  return o;
}

// Classifies a failed reread of the writer's output: an open finding, else "reread".
inline std::string classify_reread(const brine::Document& a, const Context& c, const brine::Error& e) {
  // An int of more than 4300 decimal digits written as LONG text below protocol 2 (CPython's
  // pickle.dumps raises ValueError there). Fixed in a8a43b0 (errc::unpicklable); named if it
  // comes back.
  if (c.protocol < 2 && e.code == brine::errc::limit_exceeded && e.opcode == 'L')
    return "long-text-over-4300-digits";
  // Former finding global-leading-dot (fixed: now errc::unpicklable; kept to name the cause): a
  // global whose dotted name starts with '.' (".", ".a") written below protocol 4 as
  // getattr(<global module.''>, ...): GLOBAL with an empty name line, which no reader accepts
  // (CPython's pickler raises PicklingError: no attribute '').
  if (c.protocol < 4 && e.opcode == 'c') {
    bool leading_dot = false;
    for_each_value(a.root(), [&](const Value& v) {
      if (v.tag() == Tag::global && !gname(v).empty() && gname(v)[0] == '.') leading_dot = true;
    });
    if (leading_dot) return "global-leading-dot";
  }
  // Former finding newobj-non-class (fixed; kept to name the cause): the writer turned a record
  // whose class position holds something that is not a class into NEWOBJ/NEWOBJ_EX, which the
  // reader (as CPython) rejects: a copyreg._reconstructor / __newobj__ / __newobj_ex__ REDUCE whose
  // first argument is a native value or a known function (or whose __newobj_ex__ args/kwargs are
  // not a tuple/dict), or an OBJ/INST record of a function without arguments (written as
  // NEWOBJ(callable, ())).
  if (c.protocol >= 2 && e.code == brine::errc::type_error && (e.opcode == 0x81 || e.opcode == 0x92)) {
    auto not_class = [](const Value& v) {
      if (v.tag() == Tag::object || v.tag() == Tag::persistent) return false;
      if (v.tag() != Tag::global) return true;
      auto kind = static_cast<brine::detail::KnownKind>(Access::node<brine::detail::GlobalNode>(v)->h.aux);
      return kind == brine::detail::KnownKind::function || kind == brine::detail::KnownKind::constant;
    };
    bool found = false;
    for_each_value(a.root(), [&](const Value& v) {
      if (found || v.tag() != Tag::object) return;
      auto* o = onode(v);
      auto how = static_cast<Construction>(o->h.kind);
      auto av = o->args.tag() == Tag::tuple ? o->args.elements() : std::span<const Value>();
      KnownId cid = known_id(o->callable);
      if (how == Construction::reduce && is_copyreg_helper(cid) && !av.empty()) {
        if (not_class(av[0])) found = true;
        if (cid == KnownId::copyreg_newobj_ex && av.size() == 3 &&
            !((av[1].tag() == Tag::tuple || av[1].tag() == Tag::object) &&
              (av[2].tag() == Tag::dict || av[2].tag() == Tag::object)))
          found = true;
      }
      if ((how == Construction::inst || how == Construction::obj) && av.empty() && not_class(o->callable)) found = true;
    });
    if (found) return "newobj-non-class";
  }
  if (c.protocol < 2 && e.code == brine::errc::type_error && (e.opcode == 's' || e.opcode == 'u') &&
      e.message.find("unhashable") != std::string::npos) {
    bool found = false;
    for_each_value(a.root(), [&](const Value& v) {
      if (!found && v.tag() == Tag::object && v.elements().empty()) found = items_not_a_dict(v);
    });
    if (found) return "dict-base-items-not-dict";
  }
  if (c.protocol == 5 && e.code == brine::errc::type_error && e.message.find("unhashable") != std::string::npos) {
    bool found = false;
    for_each_value(a.root(), [&](const Value& v) {
      if (!found && (v.tag() == Tag::set || v.tag() == Tag::frozenset || v.tag() == Tag::dict))
        found = buffer_keys(v);
    });
    if (found) return "buffer-hashed-by-identity";
  }
  // Legitimate: the writer turns a copyreg helper REDUCE of a builtin type the reader folds
  // (copyreg.__newobj__(list), _reconstructor(dict, object, None)) into NEWOBJ, which the
  // reader folds into a native value, on which the record's BUILD / items then fail — as
  // CPython's loads fails on both (it calls the helper).
  if (c.protocol >= 2) {
    bool cascade = false;
    for_each_value(a.root(), [&](const Value& v) {
      if (cascade || v.tag() != Tag::object) return;
      auto* o = onode(v);
      auto av = o->args.tag() == Tag::tuple ? o->args.elements() : std::span<const Value>();
      KnownId cid = known_id(o->callable);
      if (static_cast<Construction>(o->h.kind) == Construction::reduce && is_copyreg_helper(cid) && !av.empty() &&
          (cid != KnownId::copyreg_newobj_ex || c.protocol >= 4) && foldable(known_id(av[0])))
        cascade = true;
    });
    if (cascade) return "legit:fold-cascade";
  }
  return "reread";
}

// Classifies a fixed-point failure (W2 != W1): an open finding, else "fixed-point". May change
// `b` (only used for the diagnosis).
inline std::string classify_fixed_point(brine::Document& b, const Context& c, const brine::WriteOptions& wo) {
  // A finding the writer shows only on B's records (e.g. the copyreg.__newobj__ REDUCE of a
  // NEWOBJ written below protocol 2): B ~ loads(W2) names it.
  {
    brine::Result<brine::Document> cdoc = brine::loads(std::string_view(c.w2), reread_options(c.fix));
    if (!cdoc) {
      std::string cat = classify_reread(b, c, cdoc.error());
      if (cat != "reread") return cat;
    } else {
      GraphCompare cmp(c.protocol, c.fix);
      if (!cmp.run(b.root(), cdoc->root()) && cmp.mismatch().category != "mismatch" &&
          cmp.mismatch().category != "identity")
        return cmp.mismatch().category;
    }
  }
  // Former finding reconstructor-base-cycle (fixed; kept to name the cause): below protocol 2 a
  // list / dict subclass object is written as _reconstructor(cls, list|dict, base(obj)) with a
  // fresh base argument each time (CPython's bytes); when its items lead back to it, it is
  // written a second time inside that argument. Read back, B's record keeps the argument it was
  // built from, which the writer wrote by identity: the inner write GETs it instead of writing a
  // fresh copy. Now written fresh when the graph refers to it from nowhere else.
  if (c.protocol < 2) {
    bool found = false;
    for_each_value(b.root(), [&](const Value& v) {
      if (found || v.tag() != Tag::object) return;
      auto* o = onode(v);
      if (static_cast<Construction>(o->h.kind) != Construction::reduce ||
          known_id(o->callable) != KnownId::copyreg_reconstructor || o->args.tag() != Tag::tuple)
        return;
      auto av = o->args.elements();
      if (av.size() != 3 || !(known_id(av[1]) == KnownId::b_list || known_id(av[1]) == KnownId::b_dict) ||
          !(av[2].tag() == Tag::list || av[2].tag() == Tag::dict))
        return;
      for_each_value(av[2], [&](const Value& x) {
        if (x.same(v)) found = true;
      }, 100000);
    });
    if (found) return "reconstructor-base-cycle";
  }
  // Former finding stack-global-str-identity (fixed; kept to name the cause): B's globals, read
  // from STACK_GLOBAL, keep the pickle's str objects, and the writer memoized those by identity,
  // while W1 wrote the same module name by content (memo shared with an earlier global of that
  // module, e.g. the builtins.bytearray of a bytearray's REDUCE). Written as if they were text
  // globals, B gives W1 again.
  bool own = false;
  for_each_value(b.root(), [&](const Value& v) {
    if (v.tag() != Tag::global) return;
    auto* g = Access::node<brine::detail::GlobalNode>(v);
    if (g->h.flags & brine::detail::k_global_own_strs) {
      g->h.flags = static_cast<std::uint8_t>(g->h.flags & ~brine::detail::k_global_own_strs);
      own = true;
    }
  });
  if (own) {
    brine::Result<std::string> w = brine::dumps(b.root(), wo);
    if (w && *w == c.w1) return "stack-global-str-identity";
  }
  return "fixed-point";
}

inline void check_protocol(const brine::Document& a, Context& c) {
  Stats& st = stats();
  const int p = c.protocol;
  // A Python 3 -> 2 -> 3 name round trip that changes a name of A (Python 2 names kept by a read
  // without fix_imports, or lossy maps such as FileNotFoundError -> OSError) gives B other
  // globals, which the reader may fold (a record of __builtin__.set becomes a native set, and
  // then APPEND on it fails): legitimate, as in CPython, but not comparable. Such documents are
  // round-tripped without fix_imports instead (names written and read as they are).
  if (c.fix && p < 3 && names_change(a.root(), p, c.fix)) {
    ++st.skipped_names[p];
    c.fix = false;
  }
  brine::WriteOptions wo;
  wo.protocol = p;
  wo.fix_imports = c.fix;
  brine::Result<std::string> w1 = brine::dumps(a.root(), wo);
  if (!w1) {
    const brine::Error& e = w1.error();
    if (e.code == brine::errc::unpicklable) {
      ++st.write_unpicklable[p];
    } else if (e.code == brine::errc::type_error) {
      ++st.write_type_error[p];
    } else {
      report(c, "write-error", "dumps failed with " + std::string(brine::errc_name(e.code)) + ": " + e.to_string());
    }
    check_error(e);
    return;
  }
  ++st.writes[p];
  c.w1 = std::move(*w1);

  // 2. The output reads back, as one protocol-P pickle.
  const brine::ReadOptions ro = reread_options(c.fix);
  brine::Result<brine::Document> b = brine::loads(std::string_view(c.w1), ro);
  if (!b) {
    std::string cat = classify_reread(a, c, b.error());
    if (cat.rfind("legit:", 0) == 0) {
      ++st.tolerated_by[cat];
      return;
    }
    tolerate_or_fail(c, cat, "the written pickle does not load: " + b.error().to_string());
    return;
  }
  if (b->end_offset() != c.w1.size())
    report(c, "framing", "the written pickle ends at " + std::to_string(b->end_offset()) + " of " +
                             std::to_string(c.w1.size()) + " bytes");
  if (b->declared_protocol() != (p >= 2 ? p : -1))
    report(c, "framing", "declared protocol " + std::to_string(b->declared_protocol()));
  if (b->opcode_protocol() > p) {
    // CPython writes a __reduce__ state_setter call with TUPLE2 at every protocol
    bool setter = false;
    for_each_value(b->root(), [&](const Value& v) { setter = setter || v.state_setter().valid(); });
    if (!(setter && p < 2 && b->opcode_protocol() == 2))
      report(c, "framing", "opcodes of protocol " + std::to_string(b->opcode_protocol()));
  }

  // 3. A ~ B.
  bool rebase = false;
  {
    GraphCompare cmp(p, c.fix);
    ++st.compared[p];
    bool ok = cmp.run(a.root(), b->root());
    st.fold_cascades += cmp.fold_cascades();
    if (!ok) {
      const Mismatch& m = cmp.mismatch();
      if (tolerate_or_fail(c, m.category, "A ~ B at " + m.path + ": " + m.message)) return;
    }
    // B shares more than A (one-byte bytes made by _codecs.encode are CPython's shared objects),
    // or the reader folded a record into a native value: W1 is not what B writes, so the fixed
    // point starts from B.
    rebase = cmp.singleton_merges() > 0 || cmp.fold_cascades() > 0;
  }
  if (rebase) {
    ++st.rebased[p];
    brine::Result<std::string> w = brine::dumps(b->root(), wo);
    if (!w) report(c, "rewrite", "writing the reread document failed: " + w.error().to_string());
    c.w1 = std::move(*w);
    b = brine::loads(std::string_view(c.w1), ro);
    if (!b) report(c, "reread-2", "the rewritten pickle does not load: " + b.error().to_string());
  }

  // 4. Fixed point: B = loads(W1) written again gives W1.
  brine::Result<std::string> w2 = brine::dumps(b->root(), wo);
  if (!w2) report(c, "rewrite", "writing the reread document failed: " + w2.error().to_string());
  c.w2 = std::move(*w2);
  if (!sets_reordered(b->root())) {
    ++st.fixed_point_bytes[p];
    if (c.w2 != c.w1) {
      std::size_t i = 0;
      while (i < c.w1.size() && i < c.w2.size() && c.w1[i] == c.w2[i]) ++i;
      tolerate_or_fail(c, classify_fixed_point(*b, c, wo),
                       "writing the reread document gives other bytes (first difference at byte " + std::to_string(i) +
                           ")");
    }
  } else {
    ++st.fixed_point_graph[p];
    brine::Result<brine::Document> cdoc = brine::loads(std::string_view(c.w2), ro);
    if (!cdoc) report(c, "reread-2", "the rewritten pickle does not load: " + cdoc.error().to_string());
    GraphCompare cmp(p, c.fix);
    if (!cmp.run(b->root(), cdoc->root())) {
      const Mismatch& m = cmp.mismatch();
      tolerate_or_fail(c, "fixed-point-" + m.category, "B ~ C at " + m.path + ": " + m.message);
    }
  }
  c.w1.clear();
  c.w2.clear();
}

}  // namespace rt

// Documents allocating more than this are not written (keeps every run fast; a 4 KiB input can
// still make 64 MiB, e.g. bytes(N)).
inline constexpr std::uint64_t kRoundTripMaxAlloc = std::uint64_t{1} << 20;

// ---- fuzz_roundtrip --------------------------------------------------------------------------
inline void check_roundtrip(const std::uint8_t* data, std::size_t size) {
  rt::Stats& st = rt::stats();
  ++st.inputs;
  // Read options chosen by a hash of the input, as fuzz_loads does: mostly latin1 (Python 2
  // pickles with non-ASCII str load), buffers for NEXT_BUFFER, two extension codes.
  std::uint8_t h = 0;
  for (std::size_t i = 0; i < size; ++i) h = static_cast<std::uint8_t>(h * 31 + data[i]);
  std::vector<std::byte> buffer_bytes(5, std::byte{0xE9});
  std::vector<brine::Buffer> buffers{{std::span<const std::byte>(buffer_bytes), true},
                                     {std::span<const std::byte>(buffer_bytes).subspan(0, 2), false}};
  brine::ReadOptions opt = default_options();
  static constexpr brine::StringEncoding encodings[] = {brine::StringEncoding::latin1, brine::StringEncoding::latin1,
                                                        brine::StringEncoding::bytes, brine::StringEncoding::utf8};
  opt.encoding = encodings[h & 3];
  opt.fix_imports = (h & 4) == 0;
  opt.buffers = &buffers;
  opt.extensions[1] = {"collections", "OrderedDict"};
  opt.extensions[2] = {"copyreg", "_reconstructor"};
  const bool fix = (h & 8) == 0;  // fix_imports of the write and of the reread

  brine::Result<brine::Document> a = brine::loads(std::span(reinterpret_cast<const std::byte*>(data), size), opt);
  if (!a) return;
  ++st.loaded;
  if (a->bytes_allocated() > kRoundTripMaxAlloc) {
    ++st.too_big;
    return;
  }
  for (int p = 0; p <= 5; ++p) {
    rt::Context c{data, size, p, fix, {}, {}};
    rt::check_protocol(*a, c);
  }
}

}  // namespace brine_harness
