#pragma once
// CPython 3.11 hash values (64-bit Py_hash_t), with the str/bytes hash of PYTHONHASHSEED=0
// (SipHash-1-3, zero key), and an emulation of CPython's set table, so brine's sets iterate in
// the order CPython's do. Internal to brine.
#include <cstddef>
#include <cstdint>

namespace brine::detail {

inline constexpr std::uint64_t py_hash_modulus = (std::uint64_t{1} << 61) - 1;

std::int64_t py_hash_int64(std::int64_t v) noexcept;
// Minimal little-endian two's complement bytes (redundant sign-extension bytes also work; n == 0
// is 0).
std::int64_t py_hash_bigint(const std::uint8_t* le, std::size_t n) noexcept;
// NaN has an identity-based hash in CPython; callers pass a stand-in identity (an address-like
// value, hashed as py_hash_pointer would).
std::int64_t py_hash_double(double d, std::uint64_t nan_identity = 0) noexcept;
// A NaN part hashes by the complex object's identity: pass a stand-in for it like py_hash_double.
std::int64_t py_hash_complex(double re, double im, std::uint64_t nan_identity = 0) noexcept;
// str given as UTF-8 (lone surrogates as 3-byte sequences): hashes the PEP 393 representation
// (1, 2 or 4 bytes per code point) like CPython. Bytes that start no valid sequence count as the
// code point of their value (never read out of bounds).
std::int64_t py_hash_str(const char* utf8, std::size_t n) noexcept;
std::int64_t py_hash_bytes(const std::uint8_t* s, std::size_t n) noexcept;
// _Py_HashPointer for an identity-hashed object (address-like value).
std::int64_t py_hash_pointer(const void* p) noexcept;

// tuple hash (xxHash-based, tuplehash in Objects/tupleobject.c).
struct TupleHasher {
  std::uint64_t acc;
  std::size_t len = 0;
  TupleHasher() noexcept;
  void add(std::int64_t item_hash) noexcept;
  std::int64_t finish() const noexcept;
};

// frozenset hash (frozenset_hash in Objects/setobject.c): order-independent; add each distinct
// element's hash exactly once.
struct FrozensetHasher {
  std::uint64_t hash = 0;
  std::size_t len = 0;
  void add(std::int64_t item_hash) noexcept;
  std::int64_t finish() const noexcept;
};

// ---- set table emulation ------------------------------------------------------------------------
// The slot layout of a CPython 3.11 set after a sequence of adds (no deletions), with probing
// (LINEAR_PROBES, PERTURB_SHIFT) and the resize policy of Objects/setobject.c. Entries are
// identified by the caller's item numbers; `eq(a, b)` tells whether items a and b are equal keys.
struct PySetSlot {
  std::int64_t hash;
  std::uint32_t item;  // caller's item number + 1; 0 = empty
};

class PySetTable {
 public:
  // `small8` must hold 8 zeroed entries; the table grows into arrays obtained from `alloc`.
  // Iteration order = order of the non-empty slots()[0..mask()].
  // Template-free interface: the caller supplies callbacks.
  using EqFn = bool (*)(void* ctx, std::uint32_t a, std::uint32_t b);
  using AllocFn = PySetSlot* (*)(void* ctx, std::size_t n);  // zeroed array of n slots

  PySetTable(PySetSlot* small8) noexcept : table_(small8), mask_(7) {}
  // Adds item (if no equal key is present). Returns the item number already present that is
  // equal, or `item` itself if it was inserted. `eq(ctx, existing, item)` is called only for
  // slots whose hash equals `hash` (CPython compares startkey == key, identity first). item must
  // be < UINT32_MAX (std::length_error otherwise); a null from `alloc` throws std::bad_alloc.
  // Old tables are not freed (they belong to the caller / its arena).
  std::uint32_t add(std::uint32_t item, std::int64_t hash, EqFn eq, AllocFn alloc, void* ctx);

  std::size_t used() const noexcept { return used_; }
  std::size_t fill() const noexcept { return fill_; }
  std::size_t mask() const noexcept { return mask_; }
  const PySetSlot* slots() const noexcept { return table_; }

 private:
  void resize(std::size_t minused, AllocFn alloc, void* ctx);
  void insert_clean(PySetSlot* table, std::size_t mask, std::uint32_t item, std::int64_t hash) noexcept;

  PySetSlot* table_;
  std::size_t mask_;
  std::size_t used_ = 0;
  std::size_t fill_ = 0;
};

}  // namespace brine::detail
