#include "graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "input.hpp"
#include "pyhash.hpp"

namespace brine::detail {

namespace {

// UTF-8 of every code point below U+0100: CPython shares one object per such one-character
// string, so brine gives them one storage each (see make_str).
struct CharTable {
  char utf8[256][2];
  constexpr CharTable() : utf8{} {
    for (int c = 0; c < 256; ++c) {
      if (c < 0x80) {
        utf8[c][0] = static_cast<char>(c);
        utf8[c][1] = 0;
      } else {
        utf8[c][0] = static_cast<char>(0xC0 | (c >> 6));
        utf8[c][1] = static_cast<char>(0x80 | (c & 0x3F));
      }
    }
  }
};
constexpr CharTable k_chars;
constexpr char k_empty_str[1] = {0};
constexpr std::uint8_t k_empty_bytes[1] = {0};
// One-byte bytes objects that CPython makes from a pointer (codecs.encode, bytes(bytearray))
// are singletons too.
struct ByteTable {
  std::uint8_t b[256];
  constexpr ByteTable() : b{} {
    for (int c = 0; c < 256; ++c) b[c] = static_cast<std::uint8_t>(c);
  }
};
constexpr ByteTable k_bytes1;

// The empty tuple is a singleton in CPython too.
const SeqNode k_empty_tuple_node = {{Tag::tuple, 0, 0, 0}, 0, 0, nullptr};

[[noreturn]] void too_long(std::uint64_t n, std::uint64_t limit) {
  throw_read(errc::limit_exceeded, "container would hold " + std::to_string(n) +
                                       " items, more than the limit of " + std::to_string(limit) +
                                       " (Limits::max_container_len)");
}

void check_len(const GraphCtx& g, std::uint64_t n) {
  if (n > g.max_len) too_long(n, g.max_len);
}

std::uint64_t grow_cap(std::uint64_t cap, std::uint64_t need) {
  std::uint64_t c = cap < 4 ? 4 : cap + cap / 2 + (cap < 1024 ? cap / 2 : 0);
  return c < need ? need : c;
}

// A fast non-cryptographic hash for str/bytes keys of dict indexes (not Python's hash: dict
// order is insertion order, so only set tables need Python's exact values).
std::uint64_t fast_bytes_hash(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xC2B2AE3D27D4EB4Full);
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
    p += 8;
    n -= 8;
  }
  std::uint64_t w = 0;
  if (n) std::memcpy(&w, p, n);
  h = (h ^ w ^ (static_cast<std::uint64_t>(n) << 56)) * 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 29;
  return h;
}

std::uint64_t serial_of(const Value& v) noexcept {
  return static_cast<const NodeHeader*>(Access::identity(v))->aux;
}

bool writable_buffer(const Value& v) noexcept {
  return v.tag() == Tag::buffer && !(Access::node<BufferNode>(v)->h.flags & 1);
}

// The content of a bytes object or a protocol-5 buffer.
std::span<const std::uint8_t> bytes_like(const Value& v) noexcept {
  if (v.tag() == Tag::buffer) {
    auto* b = Access::node<BufferNode>(v);
    return {b->data, static_cast<std::size_t>(b->size)};
  }
  return {Access::bytes(v), static_cast<std::size_t>(v.inline_length())};
}

// Exact little-endian two's complement bytes (minimal) of an integral double.
std::vector<std::uint8_t> integral_double_to_le(double d) {
  bool neg = d < 0;
  double a = std::fabs(d);
  int exp;
  double m = std::frexp(a, &exp);  // a = m * 2^exp, 0.5 <= m < 1
  auto mant = static_cast<std::uint64_t>(std::ldexp(m, 53));
  int shift = exp - 53;
  // magnitude = mant << shift (shift >= 0 here since |d| >= 2^63 when called)
  std::vector<std::uint8_t> mag(static_cast<std::size_t>((shift + 53) / 8 + 2), 0);
  for (int bit = 0; bit < 53; ++bit) {
    if (mant >> bit & 1) {
      int b = bit + shift;
      mag[static_cast<std::size_t>(b / 8)] |= static_cast<std::uint8_t>(1u << (b % 8));
    }
  }
  if (neg) {  // two's complement
    unsigned carry = 1;
    for (auto& byte : mag) {
      unsigned v = static_cast<std::uint8_t>(~byte) + carry;
      byte = static_cast<std::uint8_t>(v);
      carry = v >> 8;
    }
  }
  // minimise
  while (mag.size() > 1) {
    std::uint8_t top = mag.back(), next = mag[mag.size() - 2];
    if ((top == 0 && !(next & 0x80)) || (top == 0xFF && (next & 0x80))) mag.pop_back();
    else break;
  }
  return mag;
}

bool is_numeric(Tag t) noexcept {
  return t == Tag::boolean || t == Tag::int64 || t == Tag::bigint || t == Tag::float64 ||
         t == Tag::complex;
}

// Python == between two numbers (bool, int, float, complex).
bool num_equal(const Value& a, const Value& b) {
  Tag ta = a.tag(), tb = b.tag();
  if (ta == Tag::complex || tb == Tag::complex) {
    auto parts = [](const Value& v, double& re, double& im, bool& exact_int) {
      exact_int = false;
      if (v.tag() == Tag::complex) {
        auto* c = Access::node<ComplexNode>(v);
        re = c->re;
        im = c->im;
      } else {
        im = 0;
        re = 0;
      }
    };
    double ra, ia, rb, ib;
    bool xa, xb;
    parts(a, ra, ia, xa);
    parts(b, rb, ib, xb);
    if (ta == Tag::complex && tb == Tag::complex) return ra == rb && ia == ib;
    // complex vs real: imaginary part must be 0 and the real part equal to the other number
    const Value& c = ta == Tag::complex ? a : b;
    const Value& r = ta == Tag::complex ? b : a;
    auto* cn = Access::node<ComplexNode>(c);
    if (cn->im != 0) return false;
    return key_equal(make_float(cn->re), r);
  }
  if (ta == Tag::float64 && tb == Tag::float64) return Access::d(a) == Access::d(b);
  if (ta == Tag::float64 || tb == Tag::float64) {
    double d = Access::d(ta == Tag::float64 ? a : b);
    const Value& iv = ta == Tag::float64 ? b : a;
    if (!std::isfinite(d) || d != std::floor(d)) return false;
    if (iv.tag() != Tag::bigint) {
      if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return false;
      return static_cast<std::int64_t>(d) == Access::i(iv);
    }
    if (std::fabs(d) < 9223372036854775808.0) return false;  // a bigint never fits int64
    auto le = integral_double_to_le(d);
    return le.size() == iv.inline_length() &&
           std::memcmp(le.data(), Access::bytes(iv), le.size()) == 0;
  }
  // int-like (bool, int64, bigint); bigints are minimal so never equal an int64.
  if (ta == Tag::bigint || tb == Tag::bigint) {
    return ta == tb && a.inline_length() == b.inline_length() &&
           std::memcmp(Access::bytes(a), Access::bytes(b), a.inline_length()) == 0;
  }
  return Access::i(a) == Access::i(b);
}

bool text_equal(const Value& a, const Value& b) noexcept {
  std::uint64_t n = a.inline_length();
  if (n != b.inline_length()) return false;
  const char* pa = Access::p(a);
  const char* pb = Access::p(b);
  return pa == pb || std::memcmp(pa, pb, n) == 0;
}

enum class HashMode { python, fast };

std::int64_t leaf_hash(const Value& v, HashMode mode) {
  switch (v.tag()) {
    case Tag::none:
      // CPython 3.11 hashes None by its address. Debian's python3.11 is not position-independent,
      // so that hash is a constant there (612812): using it makes sets containing None iterate
      // in the same order as the reference interpreter.
      return 612812;
    case Tag::boolean:
    case Tag::int64:
      return py_hash_int64(Access::i(v));
    case Tag::bigint:
      return py_hash_bigint(Access::bytes(v), v.inline_length());
    case Tag::float64:
      return py_hash_double(Access::d(v), 0);
    case Tag::complex: {
      auto* c = Access::node<ComplexNode>(v);
      return py_hash_complex(c->re, c->im);
    }
    case Tag::str:
      if (mode == HashMode::python) return py_hash_str(Access::p(v), v.inline_length());
      return static_cast<std::int64_t>(fast_bytes_hash(Access::bytes(v), v.inline_length()) ^ 1);
    case Tag::bytes:
      if (mode == HashMode::python) return py_hash_bytes(Access::bytes(v), v.inline_length());
      return static_cast<std::int64_t>(fast_bytes_hash(Access::bytes(v), v.inline_length()) ^ 2);
    case Tag::global: {
      auto* gn = Access::node<GlobalNode>(v);
      std::uint64_t h = fast_bytes_hash(Access::bytes(gn->module), gn->module.inline_length());
      h = h * 31 + fast_bytes_hash(Access::bytes(gn->name), gn->name.inline_length());
      return static_cast<std::int64_t>(h >> 1);
    }
    case Tag::buffer: {
      // A read-only buffer hashes as bytes (CPython: a read-only memoryview's hash is its bytes'
      // hash); a writable one is unhashable (below), as a bytearray.
      auto* b = Access::node<BufferNode>(v);
      if (!(b->h.flags & 1)) break;
      if (mode == HashMode::python) return py_hash_bytes(b->data, static_cast<std::size_t>(b->size));
      return static_cast<std::int64_t>(fast_bytes_hash(b->data, static_cast<std::size_t>(b->size)) ^ 2);
    }
    case Tag::object:
    case Tag::persistent:
      // Identity hash: a stand-in address derived from the node's serial number, so that set
      // order is reproducible from run to run.
      return py_hash_pointer(reinterpret_cast<const void*>(static_cast<std::uintptr_t>(serial_of(v)) << 4));
    default:
      break;
  }
  throw_read(errc::type_error, "unhashable type: '" + python_type_name(v) + "'");
}

// frozenset_hash (Objects/setobject.c) of a set or frozenset, from the element hashes its table
// already holds (as CPython does): O(size), whatever the elements are, and valid while the set is
// still being built (unlike elements(), CPython's iteration order, made by finalize_set at STOP). Walking the elements
// instead rehashed nested frozensets at every level, O(depth^2): a 10 KB pickle of 5000 nested
// frozensets took 7 s. Used for both hash modes (equal sets give equal values either way).
std::int64_t table_hash(const Value& v) noexcept {
  const PySetTable* t = Access::node<SetNode>(v)->table;
  const PySetSlot* slots = t->slots();
  FrozensetHasher fh;
  for (std::size_t i = 0, n = t->mask() + 1; i < n; ++i)
    if (slots[i].item) fh.add(slots[i].hash);
  return fh.finish();
}

// hash() of any hashable value; nested tuples are walked without recursion, frozensets are
// hashed from their tables.
std::int64_t hash_value(const Value& root, HashMode mode) {
  Tag t = root.tag();
  if (t == Tag::frozenset) return table_hash(root);
  if (t != Tag::tuple) return leaf_hash(root, mode);
  struct Frame {
    const Value* items;
    std::size_t n, i;
    TupleHasher th;
  };
  std::vector<Frame> stack;
  auto push = [&](const Value& v) {
    auto span = v.elements();
    stack.push_back(Frame{span.data(), span.size(), 0, TupleHasher()});
  };
  push(root);
  std::int64_t result = 0;
  for (;;) {
    Frame& f = stack.back();
    if (f.i == f.n) {
      result = f.th.finish();
      stack.pop_back();
      if (stack.empty()) return result;
      Frame& parent = stack.back();
      parent.th.add(result);
      ++parent.i;
      continue;
    }
    const Value& item = f.items[f.i];
    if (item.tag() == Tag::tuple) {
      push(item);  // invalidates f
      continue;
    }
    f.th.add(item.tag() == Tag::frozenset ? table_hash(item) : leaf_hash(item, mode));
    ++f.i;
  }
}

std::uint64_t index_hash(const Value& v) {
  if (v.tag() == Tag::str)  // the usual key: leaf_hash's value, without the two dispatches
    return fast_bytes_hash(Access::bytes(v), v.inline_length()) ^ 1;
  return static_cast<std::uint64_t>(hash_value(v, HashMode::fast));
}

// Position of key in an indexed dict, or -1; h is index_hash(key).
std::int64_t find_hashed(const DictNode* d, const Value& key, std::uint64_t h) {
  std::uint64_t mask = d->index_mask;
  std::uint64_t i = h & mask;
  std::uint64_t perturb = h;
  while (std::uint32_t pos = d->index[i]) {
    if (key_equal(d->items[pos - 1].key, key)) return pos - 1;
    perturb >>= 5;
    i = (i * 5 + 1 + perturb) & mask;
  }
  return -1;
}

void index_insert(DictNode* d, std::uint64_t h, std::uint32_t pos) noexcept {
  std::uint64_t mask = d->index_mask;
  std::uint64_t i = h & mask;
  std::uint64_t perturb = h;
  while (d->index[i]) {
    perturb >>= 5;
    i = (i * 5 + 1 + perturb) & mask;
  }
  d->index[i] = pos + 1;
}

void rebuild_index(GraphCtx& g, DictNode* d, std::uint64_t want_items) {
  std::uint64_t size = 16;
  while (size < want_items * 2) size *= 2;
  d->h.flags &= static_cast<std::uint8_t>(~k_dict_shared_index);  // the new index is its own
  d->index = g.arena.array<std::uint32_t>(size);
  std::memset(d->index, 0, size * sizeof(std::uint32_t));
  d->index_mask = size - 1;
  for (std::uint64_t k = 0; k < d->size; ++k)
    index_insert(d, index_hash(d->items[k].key), static_cast<std::uint32_t>(k));
}

constexpr std::uint64_t k_small_dict = 8;

}  // namespace

// ---- scalars -----------------------------------------------------------------------------

Value make_int_le(GraphCtx& g, const std::uint8_t* le, std::size_t n, bool borrow) {
  // Up to 8 bytes always fit an int64: one load and a sign extension (the general path below
  // gives the same value; this one is 6x fewer instructions for LONG1's usual 5-8 bytes).
  if (n <= 8) {
    if (n == 0) return make_int(0);
    std::uint64_t u = 0;
    std::memcpy(&u, le, n);
    if (n < 8 && (le[n - 1] & 0x80)) u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    return make_int(static_cast<std::int64_t>(u));
  }
  // minimal length: drop sign-extension bytes
  while (n > 1) {
    std::uint8_t top = le[n - 1], next = le[n - 2];
    if ((top == 0 && !(next & 0x80)) || (top == 0xFF && (next & 0x80))) --n;
    else break;
  }
  if (n == 0) return make_int(0);
  if (n <= 8) {
    std::uint64_t u = 0;
    for (std::size_t k = 0; k < n; ++k) u |= static_cast<std::uint64_t>(le[k]) << (8 * k);
    if (n < 8 && (le[n - 1] & 0x80)) u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    return make_int(static_cast<std::int64_t>(u));
  }
  const void* p = borrow ? static_cast<const void*>(le) : g.arena.copy(le, n);
  return Access::make_ptr(Tag::bigint, n, p);
}

Value make_complex(GraphCtx& g, double re, double im) {
  auto* c = g.arena.make<ComplexNode>();
  c->h.tag = Tag::complex;
  c->re = re;
  c->im = im;
  return Access::make_ptr(Tag::complex, 0, c);
}

Value make_str_general(GraphCtx& g, const char* p, std::size_t n, bool borrow) {
  if (n <= 2) {
    if (n == 0) return Access::make_ptr(Tag::str, 0, k_empty_str);
    auto b0 = static_cast<unsigned char>(p[0]);
    if (n == 1 && b0 < 0x80) return Access::make_ptr(Tag::str, 1, k_chars.utf8[b0]);
    if (n == 2 && (b0 == 0xC2 || b0 == 0xC3)) {
      unsigned cp = ((b0 & 0x1Fu) << 6) | (static_cast<unsigned char>(p[1]) & 0x3Fu);
      return Access::make_ptr(Tag::str, 2, k_chars.utf8[cp]);
    }
  }
  if (n > max_inline_length) throw_read(errc::limit_exceeded, "string too long");
  const void* q = borrow ? static_cast<const void*>(p) : g.arena.copy(p, n);
  return Access::make_ptr(Tag::str, n, q);
}

Value str_singleton(char32_t cp) noexcept {
  return Access::make_ptr(Tag::str, cp < 0x80 ? 1 : 2, k_chars.utf8[cp & 0xFF]);
}

Value bytes_singleton(std::uint8_t b) noexcept { return Access::make_ptr(Tag::bytes, 1, &k_bytes1.b[b]); }

Value empty_str() noexcept { return Access::make_ptr(Tag::str, 0, k_empty_str); }

Value make_bytes(GraphCtx& g, const std::uint8_t* p, std::size_t n, bool borrow) {
  if (n == 0) return Access::make_ptr(Tag::bytes, 0, k_empty_bytes);
  if (n > max_inline_length) throw_read(errc::limit_exceeded, "bytes too long");
  const void* q = borrow ? static_cast<const void*>(p) : g.arena.copy(p, n);
  return Access::make_ptr(Tag::bytes, n, q);
}

Value make_bytearray(GraphCtx& g, const std::uint8_t* p, std::size_t n) {
  auto* b = g.arena.make<ByteArrayNode>();
  b->h.tag = Tag::bytearray;
  b->size = n;
  b->cap = n;
  b->data = n ? static_cast<std::uint8_t*>(g.arena.copy(p, n)) : nullptr;
  return Access::make_ptr(Tag::bytearray, 0, b);
}

// ---- containers ----------------------------------------------------------------------------

Value empty_tuple() noexcept { return Access::make_ptr(Tag::tuple, 0, &k_empty_tuple_node); }

Value make_tuple(GraphCtx& g, const Value* items, std::size_t n) {
  if (n == 0) return empty_tuple();
  check_len(g, n);
  auto* t = static_cast<SeqNode*>(g.arena.alloc(sizeof(SeqNode) + n * sizeof(Value)));
  t->h = NodeHeader{Tag::tuple, 0, 0, 0};
  t->size = n;
  t->cap = n;
  t->items = reinterpret_cast<Value*>(t + 1);
  std::memcpy(static_cast<void*>(t->items), items, n * sizeof(Value));
  return Access::make_ptr(Tag::tuple, 0, t);
}

Value make_list(GraphCtx& g, const Value* items, std::size_t n) {
  auto* l = g.arena.make<SeqNode>();
  l->h.tag = Tag::list;
  if (n) list_extend(g, l, items, n);
  return Access::make_ptr(Tag::list, 0, l);
}

void list_extend(GraphCtx& g, SeqNode* l, const Value* items, std::size_t n) {
  if (n == 0) return;  // APPENDS of nothing: l->items may still be null (memcpy(null, ..., 0) is UB)
  std::uint64_t need = l->size + n;
  if (need > l->cap) {
    check_len(g, need);
    std::uint64_t cap = grow_cap(l->cap, need);
    if (cap > g.max_len) cap = need;
    l->items = g.arena.grow(l->items, static_cast<std::size_t>(l->cap), static_cast<std::size_t>(cap));
    l->cap = cap;
  }
  std::memcpy(static_cast<void*>(l->items + l->size), items, n * sizeof(Value));
  l->size = need;
}

DictNode* new_dict_node(GraphCtx& g, bool keep_duplicates) {
  auto* d = g.arena.make<DictNode>();
  d->h.tag = Tag::dict;
  d->h.flags = keep_duplicates ? k_dict_keep_duplicates : 0;
  return d;
}

Value make_dict(GraphCtx& g) { return Access::make_ptr(Tag::dict, 0, new_dict_node(g, false)); }

std::int64_t dict_find(const DictNode* d, const Value& key) {
  if (!d->index) {
    for (std::uint64_t k = 0; k < d->size; ++k)
      if (key_equal(d->items[k].key, key)) return static_cast<std::int64_t>(k);
    return -1;
  }
  return find_hashed(d, key, index_hash(key));
}

std::int64_t dict_find_str(const DictNode* d, std::string_view key) noexcept {
  // Linear scan over str keys: used by typed accessors, where dicts are small. Large dicts go
  // through the index.
  if (d->index) {
    Value k = Access::make_ptr(Tag::str, key.size(), key.data());
    try {
      return dict_find(d, k);
    } catch (...) {
      return -1;
    }
  }
  for (std::uint64_t k = 0; k < d->size; ++k) {
    const Value& kv = d->items[k].key;
    if (kv.tag() == Tag::str && Access::sv(kv) == key) return static_cast<std::int64_t>(k);
  }
  return -1;
}

bool dict_fill_like(GraphCtx& g, DictNode* d, DictNode* shape, const Value* kv, std::size_t pairs) {
  if (d->size || (d->h.flags & k_dict_keep_duplicates) || shape->size != pairs || pairs < 2 ||
      (shape->h.flags & k_dict_keep_duplicates))
    return false;
  // The same key objects, in the same order: then they are distinct (they are in `shape`).
  for (std::size_t i = 0; i < pairs; ++i)
    if (!kv[2 * i].same(shape->items[i].key)) return false;
  if (pairs > d->cap) {
    check_len(g, pairs);
    d->items = g.arena.grow(d->items, static_cast<std::size_t>(d->cap), pairs);
    d->cap = pairs;
  }
  std::memcpy(static_cast<void*>(d->items), kv, pairs * sizeof(DictItem));  // (key, value) pairs
  d->size = pairs;
  if (shape->index) {
    // Same keys at the same positions: the same index. Shared until either dict changes it.
    d->index = shape->index;
    d->index_mask = shape->index_mask;
    d->h.flags |= k_dict_shared_index;
    shape->h.flags |= k_dict_shared_index;
  }
  return true;
}

void dict_set(GraphCtx& g, DictNode* d, const Value& k, const Value& v) {
  std::uint64_t h = 0;  // index_hash(k), when the dict has an index: computed once, probe and insert
  if (!(d->h.flags & k_dict_keep_duplicates)) {
    if (k.tag() != Tag::str && !is_hashable(k)) throw_read(errc::type_error, "unhashable type: '" + python_type_name(k) + "'");
    // Fast path: the same key object as an existing key (common with memoized keys).
    std::int64_t at = -1;
    if (!d->index && k.tag() == Tag::str) {
      // A str key equals only a str (key_equal): compare in line rather than through
      // dict_find's out-of-line key_equal per existing key.
      const std::uint64_t n = k.inline_length();
      const char* p = Access::p(k);
      for (std::uint64_t j = 0; j < d->size; ++j) {
        const Value& kj = d->items[j].key;
        if (kj.tag() == Tag::str && kj.inline_length() == n &&
            (n == 0 || Access::p(kj) == p ||
             (Access::p(kj)[0] == p[0] && std::memcmp(Access::p(kj), p, n) == 0))) {
          at = static_cast<std::int64_t>(j);
          break;
        }
      }
    } else if (!d->index) {
      for (std::uint64_t j = 0; j < d->size; ++j) {
        const Value& kj = d->items[j].key;
        if (kj.same(k) && k.tag() != Tag::float64) { at = static_cast<std::int64_t>(j); break; }
      }
      if (at < 0 && d->size) at = dict_find(d, k);
    } else {
      h = index_hash(k);
      at = find_hashed(d, k, h);
    }
    if (at >= 0) {
      d->items[at].value = v;
      return;
    }
  }
  std::uint64_t need = d->size + 1;
  if (need > d->cap) {
    check_len(g, need);
    std::uint64_t cap = grow_cap(d->cap, need);
    if (cap > g.max_len) cap = need;
    d->items = g.arena.grow(d->items, static_cast<std::size_t>(d->cap), static_cast<std::size_t>(cap));
    d->cap = cap;
  }
  d->items[d->size] = DictItem{k, v};
  ++d->size;
  if (!(d->h.flags & k_dict_keep_duplicates)) {
    if (d->index) {
      if (d->size * 3 > (d->index_mask + 1) * 2) rebuild_index(g, d, d->size * 2);
      else if (d->h.flags & k_dict_shared_index) rebuild_index(g, d, (d->index_mask + 1) / 2);  // copy on write
      else index_insert(d, h, static_cast<std::uint32_t>(d->size - 1));
    } else if (d->size > k_small_dict) {
      // Sized for the capacity already there (a SETITEMS batch reserves its items up front), so
      // that filling the dict needs no further rebuild: each rebuild rehashes every key.
      rebuild_index(g, d, std::max(d->size * 2, (d->cap * 3 + 3) / 4));
    }
  }
}

namespace {
struct SetEqCtx {
  SetNode* s;
  const Value* candidate;
};
bool set_eq(void* ctx, std::uint32_t a, std::uint32_t b) {
  auto* c = static_cast<SetEqCtx*>(ctx);
  auto item = [&](std::uint32_t n) -> const Value& {
    return n == c->s->size ? *c->candidate : c->s->items[n];
  };
  return key_equal(item(a), item(b));
}
GraphCtx* g_alloc_ctx_unused = nullptr;
}  // namespace

Value make_set(GraphCtx& g, bool frozen) {
  auto* s = g.arena.make<SetNode>();
  s->h.tag = frozen ? Tag::frozenset : Tag::set;
  auto* slots = g.arena.array<PySetSlot>(8);
  std::memset(slots, 0, 8 * sizeof(PySetSlot));
  s->table = new (g.arena.alloc(sizeof(PySetTable))) PySetTable(slots);
  s->h.flags = 1;  // `order` is current (empty)
  return Access::make_ptr(frozen ? Tag::frozenset : Tag::set, 0, s);
}

void set_add(GraphCtx& g, SetNode* s, const Value& item) {
  (void)g_alloc_ctx_unused;
  if (!is_hashable(item)) throw_read(errc::type_error, "unhashable type: '" + python_type_name(item) + "'");
  std::int64_t h = py_hash(item);
  SetEqCtx ctx{s, &item};
  struct AllocCtx {
    GraphCtx* g;
    SetEqCtx* eq;
  };
  // PySetTable takes one context for both callbacks; the equality context is first in it.
  struct Both {
    SetEqCtx eq;
    GraphCtx* g;
  } both{ctx, &g};
  auto eq = [](void* c, std::uint32_t a, std::uint32_t b) {
    return set_eq(&static_cast<Both*>(c)->eq, a, b);
  };
  auto alloc = [](void* c, std::size_t n) -> PySetSlot* {
    GraphCtx* gg = static_cast<Both*>(c)->g;
    auto* t = gg->arena.array<PySetSlot>(n);
    std::memset(t, 0, n * sizeof(PySetSlot));
    return t;
  };
  if (s->size + 1 > 0xFFFFFFFEu) too_long(s->size + 1, 0xFFFFFFFEu);
  auto n = static_cast<std::uint32_t>(s->size);
  std::uint32_t got = s->table->add(n, h, eq, alloc, &both);
  if (got != n) return;  // an equal element is already there
  std::uint64_t need = s->size + 1;
  if (need > s->cap) {
    check_len(g, need);
    std::uint64_t cap = grow_cap(s->cap, need);
    s->items = g.arena.grow(s->items, static_cast<std::size_t>(s->cap), static_cast<std::size_t>(cap));
    s->cap = cap;
  }
  s->items[s->size++] = item;
  s->h.flags &= static_cast<std::uint8_t>(~1u);
}

void finalize_set(GraphCtx& g, SetNode* s) {
  if (s->h.flags & 1) return;
  // Reuse the order array while it is big enough: a set grown one add at a time through the
  // Builder then costs O(size) per add in time, but no extra memory.
  if (!s->order || s->order_cap < s->size) {
    s->order_cap = s->cap > s->size ? s->cap : (s->size ? s->size : 1);
    s->order = g.arena.array<Value>(s->order_cap);
  }
  Value* order = s->order;
  std::size_t k = 0;
  const PySetSlot* slots = s->table->slots();
  std::size_t n = s->table->mask() + 1;
  for (std::size_t i = 0; i < n; ++i)
    if (slots[i].item) order[k++] = s->items[slots[i].item - 1];
  s->order = order;
  s->h.flags |= 1;
}

// ---- hashing / equality ----------------------------------------------------------------------

std::int64_t py_hash(const Value& v) { return hash_value(v, HashMode::python); }

bool is_hashable(const Value& root) noexcept {
  switch (root.tag()) {
    case Tag::list:
    case Tag::dict:
    case Tag::set:
    case Tag::bytearray:
    case Tag::invalid:
      return false;
    case Tag::buffer:
      return !writable_buffer(root);
    case Tag::tuple:
    case Tag::frozenset:
      break;
    default:
      return true;
  }
  // tuples (and frozensets, whose elements are hashable by construction) nested: walk.
  if (root.tag() == Tag::frozenset) return true;
  std::vector<std::pair<const Value*, std::size_t>> stack;
  auto span = root.elements();
  stack.emplace_back(span.data(), span.size());
  while (!stack.empty()) {
    auto [p, n] = stack.back();
    stack.pop_back();
    for (std::size_t i = 0; i < n; ++i) {
      switch (p[i].tag()) {
        case Tag::list:
        case Tag::dict:
        case Tag::set:
        case Tag::bytearray:
          return false;
        case Tag::buffer:
          if (writable_buffer(p[i])) return false;
          break;
        case Tag::tuple: {
          auto s = p[i].elements();
          stack.emplace_back(s.data(), s.size());
          break;
        }
        default:
          break;
      }
    }
  }
  return true;
}

namespace {
// Frozensets nested in frozensets are compared recursively (each level looks its elements up in
// the other set). CPython stops at its recursion limit (RecursionError: "maximum recursion depth
// exceeded in comparison", at about 1000 levels); so does brine, instead of overflowing the stack
// (two equal chains of 100000 nested frozensets as dict keys crashed).
constexpr int k_max_compare_depth = 1000;
thread_local int t_compare_depth = 0;
struct CompareDepth {
  CompareDepth() {
    if (t_compare_depth >= k_max_compare_depth)
      throw_read(errc::limit_exceeded, "maximum recursion depth exceeded in comparison (sets nested more than " +
                                           std::to_string(k_max_compare_depth) + " deep)");
    ++t_compare_depth;
  }
  ~CompareDepth() { --t_compare_depth; }
  CompareDepth(const CompareDepth&) = delete;
  CompareDepth& operator=(const CompareDepth&) = delete;
};
}  // namespace

bool sets_equal(const Value& a, const Value& b) {
  if (a.same(b)) return true;
  auto* na = Access::node<SetNode>(a);
  auto* nb = Access::node<SetNode>(b);
  if (na->size != nb->size) return false;
  if (table_hash(a) != table_hash(b)) return false;  // equal sets have equal element hashes
  CompareDepth depth;
  // set_issubset, as CPython: each element of a is looked up among b's elements of equal hash
  // (O(n log n); comparing every pair was O(n^2): minutes for two equal 10^6-element keys).
  std::vector<std::pair<std::int64_t, std::uint32_t>> hb;
  hb.reserve(static_cast<std::size_t>(nb->size));
  const PySetSlot* sb = nb->table->slots();
  for (std::size_t i = 0, n = nb->table->mask() + 1; i < n; ++i)
    if (sb[i].item) hb.emplace_back(sb[i].hash, sb[i].item - 1);
  std::sort(hb.begin(), hb.end());
  const PySetSlot* sa = na->table->slots();
  for (std::size_t i = 0, n = na->table->mask() + 1; i < n; ++i) {
    if (!sa[i].item) continue;
    const Value& x = na->items[sa[i].item - 1];
    auto it = std::lower_bound(hb.begin(), hb.end(), std::pair<std::int64_t, std::uint32_t>{sa[i].hash, 0});
    bool found = false;
    for (; it != hb.end() && it->first == sa[i].hash; ++it)
      if (key_equal(x, nb->items[it->second])) {
        found = true;
        break;
      }
    if (!found) return false;
  }
  return true;
}

bool key_equal(const Value& a, const Value& b) {
  Tag ta = a.tag(), tb = b.tag();
  if ((ta == Tag::buffer || tb == Tag::buffer) && (ta == Tag::buffer || ta == Tag::bytes) &&
      (tb == Tag::buffer || tb == Tag::bytes)) {
    // A read-only buffer equals bytes (or another buffer) of the same content, as a memoryview.
    if (a.same(b)) return true;
    if (writable_buffer(a) || writable_buffer(b)) return false;
    std::span<const std::uint8_t> x = bytes_like(a), y = bytes_like(b);
    return x.size() == y.size() && (x.empty() || std::memcmp(x.data(), y.data(), x.size()) == 0);
  }
  if (ta == tb) {
    switch (ta) {
      case Tag::str:
      case Tag::bytes:
        return text_equal(a, b);
      case Tag::int64:
      case Tag::boolean:
        return Access::i(a) == Access::i(b);
      case Tag::float64:
        return Access::d(a) == Access::d(b);
      case Tag::none:
        return true;
      case Tag::tuple:
        break;
      case Tag::frozenset:
        return sets_equal(a, b);
      case Tag::global: {
        if (a.same(b)) return true;
        auto* ga = Access::node<GlobalNode>(a);
        auto* gb = Access::node<GlobalNode>(b);
        return text_equal(ga->module, gb->module) && text_equal(ga->name, gb->name);
      }
      default:
        if (is_numeric(ta)) return num_equal(a, b);
        return a.same(b);
    }
    // tuples: element-wise, iteratively
    if (a.same(b)) return true;
    std::vector<std::pair<const Value*, const Value*>> stack;
    std::vector<std::size_t> lens;
    auto sa = a.elements(), sb = b.elements();
    if (sa.size() != sb.size()) return false;
    stack.emplace_back(sa.data(), sb.data());
    lens.push_back(sa.size());
    while (!stack.empty()) {
      auto [pa, pb] = stack.back();
      std::size_t n = lens.back();
      stack.pop_back();
      lens.pop_back();
      for (std::size_t i = 0; i < n; ++i) {
        const Value& x = pa[i];
        const Value& y = pb[i];
        if (x.tag() == Tag::tuple && y.tag() == Tag::tuple) {
          if (x.same(y)) continue;
          auto ex = x.elements(), ey = y.elements();
          if (ex.size() != ey.size()) return false;
          stack.emplace_back(ex.data(), ey.data());
          lens.push_back(ex.size());
        } else if (!key_equal(x, y)) {
          return false;
        }
      }
    }
    return true;
  }
  if (is_numeric(ta) && is_numeric(tb)) return num_equal(a, b);
  if ((ta == Tag::frozenset && tb == Tag::set) || (ta == Tag::set && tb == Tag::frozenset))
    return sets_equal(a, b);
  return false;
}

std::string python_type_name(const Value& v) {
  switch (v.tag()) {
    case Tag::invalid: return "missing";
    case Tag::none: return "NoneType";
    case Tag::boolean: return "bool";
    case Tag::int64:
    case Tag::bigint: return "int";
    case Tag::float64: return "float";
    case Tag::complex: return "complex";
    case Tag::str: return "str";
    case Tag::bytes: return "bytes";
    case Tag::bytearray: return "bytearray";
    case Tag::tuple: return "tuple";
    case Tag::list: return "list";
    case Tag::dict: return "dict";
    case Tag::set: return "set";
    case Tag::frozenset: return "frozenset";
    case Tag::global: {
      auto* g = Access::node<GlobalNode>(v);
      return "global " + std::string(Access::sv(g->module)) + "." + std::string(Access::sv(g->name));
    }
    case Tag::object: {
      auto* o = Access::node<ObjectNode>(v);
      const Value& c = o->cls.valid() ? o->cls : o->callable;
      if (c.tag() == Tag::global) {
        auto* g = Access::node<GlobalNode>(c);
        return std::string(Access::sv(g->module)) + "." + std::string(Access::sv(g->name));
      }
      return "object";
    }
    case Tag::persistent: return "persistent_id";
    case Tag::buffer: return "buffer";
  }
  return "?";
}

bool items_from_args(LibraryType lt, Construction how, const Value& args) noexcept {
  if (how != Construction::reduce && how != Construction::inst && how != Construction::obj) return false;
  if (args.tag() != Tag::tuple) return false;
  auto a = args.elements();
  if (a.empty()) return false;
  const Value& x = a[0];
  switch (lt) {
    case LibraryType::ordered_dict:
      if (a.size() != 1) return false;
      if (x.tag() == Tag::dict) return true;
      if (x.tag() != Tag::list && x.tag() != Tag::tuple) return false;
      for (const Value& p : x.elements())
        if (!((p.tag() == Tag::list || p.tag() == Tag::tuple) && p.elements().size() == 2)) return false;
      return true;
    case LibraryType::counter:
      return a.size() == 1 && x.tag() == Tag::dict;
    case LibraryType::deque:
      return a.size() <= 2 && (x.tag() == Tag::list || x.tag() == Tag::tuple) && !x.elements().empty();
    default:
      return false;
  }
}

void check_nesting_depth(const Value& root, std::uint64_t max_depth) {
  if (!max_depth || !holds_values(root)) return;
  auto too_deep = [&] {
    throw_read(errc::limit_exceeded, "values nest more than " + std::to_string(max_depth) +
                                         " deep (Limits::max_depth)");
  };
  // Depth-first, the path in `path`, the children still to visit of each node on it in `kids`
  // (the top frame's are [kids_begin, kids.size())). `depth` holds the levels under each
  // finished node, itself included, and 0 for the nodes on the path (a reference back to one
  // of those is a cycle: not followed).
  struct Frame {
    const void* id;
    std::size_t kids_begin, next;
    std::uint64_t deepest;  // of the children finished so far
  };
  std::vector<Frame> path;
  std::vector<Value> kids;
  std::unordered_map<const void*, std::uint64_t> depth;
  auto enter = [&](const Value& v) {
    if (path.size() + 1 > max_depth) too_deep();
    const void* id = Access::identity(v);
    depth.emplace(id, 0);
    const std::size_t begin = kids.size();
    for_each_child(v, [&](const Value& c) {
      if (holds_values(c)) kids.push_back(c);
    });
    path.push_back(Frame{id, begin, begin, 0});
  };
  enter(root);
  while (!path.empty()) {
    Frame& f = path.back();
    if (f.next < kids.size()) {
      const Value c = kids[f.next++];
      auto it = depth.find(Access::identity(c));
      if (it == depth.end()) {
        enter(c);
      } else if (it->second) {
        if (path.size() + it->second > max_depth) too_deep();
        f.deepest = std::max(f.deepest, it->second);
      }
      continue;
    }
    const std::uint64_t d = f.deepest + 1;
    depth[f.id] = d;
    kids.resize(f.kids_begin);
    path.pop_back();
    if (!path.empty()) path.back().deepest = std::max(path.back().deepest, d);
  }
}

}  // namespace brine::detail
