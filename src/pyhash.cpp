#include "pyhash.hpp"

#include <bit>
#include <cstring>
#include <new>
#include <stdexcept>

// Hash values of CPython 3.11 (64-bit build) and its set table layout. Every rule below is
// restated from the CPython function named next to it; verified against the real interpreter by
// tests/test_pyhash.cpp with vectors from tests/data/pyhash/gen_vectors.py.

namespace brine::detail {
namespace {

constexpr std::uint64_t k_modulus = py_hash_modulus;  // 2**61 - 1 (_PyHASH_MODULUS)
constexpr unsigned k_hash_bits = 61;                   // _PyHASH_BITS
constexpr std::int64_t k_hash_inf = 314159;            // _PyHASH_INF
constexpr std::uint64_t k_hash_imag = 1000003;         // _PyHASH_IMAG

// Every hash function returns -2 where its formula gives -1 (the C-level error value).
constexpr std::int64_t not_minus_one(std::int64_t h) noexcept { return h == -1 ? -2 : h; }

// Multiplication by 2**r modulo 2**61 - 1 is a left rotation of the 61-bit value
// (_Py_HashDouble's exponent step). x < 2**61 and r < 61.
constexpr std::uint64_t rotl61(std::uint64_t x, unsigned r) noexcept {
  if (r == 0) return x;
  return ((x << r) & k_modulus) | (x >> (k_hash_bits - r));
}

// An unsigned 64-bit value reduced modulo 2**61 - 1 (2**61 == 1 there).
constexpr std::uint64_t reduce_u64(std::uint64_t u) noexcept {
  std::uint64_t x = (u & k_modulus) + (u >> k_hash_bits);  // <= 2**61 - 1 + 7
  if (x >= k_modulus) x -= k_modulus;
  return x;
}

// Apply the sign of long_hash / _Py_HashDouble to a residue in [0, 2**61 - 1).
constexpr std::int64_t signed_residue(std::uint64_t x, bool negative) noexcept {
  const auto v = static_cast<std::int64_t>(x);  // x < 2**61: fits
  return not_minus_one(negative ? -v : v);
}

// _Py_HashPointer (Python/pyhash.c): the address rotated right by 4 bits (the low bits of an
// aligned pointer carry no information), -1 replaced by -2.
constexpr std::int64_t hash_address(std::uint64_t a) noexcept {
  return not_minus_one(static_cast<std::int64_t>(std::rotr(a, 4)));
}

// ---- SipHash-1-3 (siphash13 in Python/pyhash.c) ---------------------------------------------------
// With PYTHONHASHSEED=0, _Py_HashRandomization_Init (Python/bootstrap_hash.c) zeroes the whole
// secret, so both key words are 0. The standard SipHash-1-3: one compression round per 8-byte
// little-endian block, the length in the top byte of the final block, three finalization rounds,
// result v0^v1^v2^v3.
class SipHash13 {
 public:
  SipHash13() noexcept = default;

  // Whole message at once.
  static std::uint64_t hash(const std::uint8_t* p, std::size_t n) noexcept {
    SipHash13 h;
    const std::size_t blocks = n / 8;
    for (std::size_t b = 0; b < blocks; ++b) h.block(load_le64(p + 8 * b));
    std::uint64_t tail = 0;
    const std::size_t rest = n % 8;
    for (std::size_t k = 0; k < rest; ++k) tail |= std::uint64_t{p[8 * blocks + k]} << (8 * k);
    return h.finish(tail, n);
  }

  // Streaming: append one code unit of `width` bytes (1, 2 or 4) little-endian. Blocks are 8
  // bytes, so a unit never straddles two blocks.
  void push_unit(std::uint32_t unit, unsigned width) noexcept {
    pending_ |= std::uint64_t{unit} << (8 * pending_bytes_);
    pending_bytes_ += width;
    total_ += width;
    if (pending_bytes_ == 8) {
      block(pending_);
      pending_ = 0;
      pending_bytes_ = 0;
    }
  }
  std::uint64_t finish_stream() noexcept { return finish(pending_, total_); }

 private:
  static std::uint64_t load_le64(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (int k = 7; k >= 0; --k) v = (v << 8) | p[k];  // compilers fold this into one load
    return v;
  }

  void round() noexcept {
    v0_ += v1_;
    v2_ += v3_;
    v1_ = std::rotl(v1_, 13) ^ v0_;
    v3_ = std::rotl(v3_, 16) ^ v2_;
    v0_ = std::rotl(v0_, 32);
    v2_ += v1_;
    v0_ += v3_;
    v1_ = std::rotl(v1_, 17) ^ v2_;
    v3_ = std::rotl(v3_, 21) ^ v0_;
    v2_ = std::rotl(v2_, 32);
  }
  void block(std::uint64_t m) noexcept {
    v3_ ^= m;
    round();
    v0_ ^= m;
  }
  std::uint64_t finish(std::uint64_t tail, std::size_t total_len) noexcept {
    block(tail | (static_cast<std::uint64_t>(total_len) << 56));
    v2_ ^= 0xff;
    round();
    round();
    round();
    return v0_ ^ v1_ ^ v2_ ^ v3_;
  }

  // Initial state for key (k0, k1) = (0, 0): the four constants themselves.
  std::uint64_t v0_ = 0x736f6d6570736575ULL;
  std::uint64_t v1_ = 0x646f72616e646f6dULL;
  std::uint64_t v2_ = 0x6c7967656e657261ULL;
  std::uint64_t v3_ = 0x7465646279746573ULL;
  std::uint64_t pending_ = 0;
  unsigned pending_bytes_ = 0;
  std::size_t total_ = 0;
};

// _Py_HashBytes (Python/pyhash.c): 0 for an empty buffer (Py_HASH_CUTOFF is 0, so no
// small-string variant), else the algorithm's value with -1 replaced by -2.
std::int64_t hash_buffer(const std::uint8_t* p, std::size_t n) noexcept {
  if (n == 0) return 0;
  return not_minus_one(static_cast<std::int64_t>(SipHash13::hash(p, n)));
}

// ---- UTF-8 (with lone surrogates) -------------------------------------------------------------------
// Decodes one code point at s[0..n). Accepts what CPython's UTF-8 decoder accepts with
// errors='surrogatepass' (well-formed UTF-8 plus ED A0..BF xx for U+D800..U+DFFF). A byte that
// does not start such a sequence counts as one code point equal to its value, so malformed input
// is hashed deterministically and never read out of bounds.
inline bool is_cont(std::uint8_t b) noexcept { return (b & 0xC0) == 0x80; }

std::size_t decode_one(const std::uint8_t* s, std::size_t n, std::uint32_t& cp) noexcept {
  const std::uint8_t b0 = s[0];
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (n >= 2 && is_cont(s[1])) {
      cp = (std::uint32_t{b0 & 0x1Fu} << 6) | (s[1] & 0x3Fu);
      return 2;
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (n >= 3 && is_cont(s[1]) && is_cont(s[2]) && (b0 != 0xE0 || s[1] >= 0xA0)) {
      cp = (std::uint32_t{b0 & 0x0Fu} << 12) | (std::uint32_t{s[1] & 0x3Fu} << 6) | (s[2] & 0x3Fu);
      return 3;
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (n >= 4 && is_cont(s[1]) && is_cont(s[2]) && is_cont(s[3]) &&
        (b0 != 0xF0 || s[1] >= 0x90) && (b0 != 0xF4 || s[1] <= 0x8F)) {
      cp = (std::uint32_t{b0 & 0x07u} << 18) | (std::uint32_t{s[1] & 0x3Fu} << 12) |
           (std::uint32_t{s[2] & 0x3Fu} << 6) | (s[3] & 0x3Fu);
      return 4;
    }
  }
  cp = b0;
  return 1;
}

// Length of the leading run of ASCII bytes.
std::size_t ascii_prefix(const std::uint8_t* s, std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ULL) break;
  }
  while (i < n && s[i] < 0x80) ++i;
  return i;
}

}  // namespace

// ---- numbers ---------------------------------------------------------------------------------------

// long_hash (Objects/longobject.c): sign(v) * (|v| mod (2**61 - 1)), -1 -> -2.
std::int64_t py_hash_int64(std::int64_t v) noexcept {
  const bool negative = v < 0;
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  return signed_residue(reduce_u64(magnitude), negative);
}

// long_hash for an int of any size, given as little-endian two's complement bytes (pickle's
// LONG1/LONG4 encoding; redundant sign bytes are harmless). With U the bytes read as unsigned,
// a negative value is U - 2**(8n), so |v| = 2**(8n) - U and 2**(8n) mod (2**61 - 1) is
// 2**(8n mod 61).
std::int64_t py_hash_bigint(const std::uint8_t* le, std::size_t n) noexcept {
  if (n == 0) return 0;
  std::uint64_t x = 0;  // U mod (2**61 - 1), most significant byte first
  for (std::size_t k = n; k-- > 0;) {
    x = rotl61(x, 8) + le[k];  // x*256 + byte; x < modulus so the rotation stays < modulus
    if (x >= k_modulus) x -= k_modulus;
  }
  const bool negative = (le[n - 1] & 0x80) != 0;
  if (negative) {
    const std::uint64_t power = std::uint64_t{1} << ((8 * (n % k_hash_bits)) % k_hash_bits);
    x = power >= x ? power - x : power + k_modulus - x;
    if (x >= k_modulus) x -= k_modulus;
  }
  return signed_residue(x, negative);
}

// _Py_HashDouble (Python/pyhash.c): +-inf -> +-314159; NaN -> the object's identity hash
// (_Py_HashPointer of the float object); otherwise the exact rational value reduced modulo
// 2**61 - 1 with the sign applied, so that hash(float(n)) == hash(n). A finite double is
// m * 2**e with an integer m < 2**53 (< modulus), and 2**e mod (2**61 - 1) is 2**(e mod 61)
// (2**-1 being 2**60), i.e. a rotation.
std::int64_t py_hash_double(double d, std::uint64_t nan_identity) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(d);
  const bool negative = (bits >> 63) != 0;
  const auto biased_exp = static_cast<int>((bits >> 52) & 0x7FF);
  std::uint64_t m = bits & ((std::uint64_t{1} << 52) - 1);
  if (biased_exp == 0x7FF) {
    if (m == 0) return negative ? -k_hash_inf : k_hash_inf;
    return hash_address(nan_identity);
  }
  if (m == 0 && biased_exp == 0) return 0;  // +-0.0
  int e;
  if (biased_exp == 0) {
    e = -1074;  // subnormal
  } else {
    m |= std::uint64_t{1} << 52;
    e = biased_exp - 1075;
  }
  int r = e % static_cast<int>(k_hash_bits);
  if (r < 0) r += static_cast<int>(k_hash_bits);
  return signed_residue(rotl61(m, static_cast<unsigned>(r)), negative);
}

// complex_hash (Objects/complexobject.c): hash(re) + 1000003 * hash(im) in unsigned arithmetic,
// -1 -> -2. A NaN part hashes by the identity of the complex object (both parts use it).
std::int64_t py_hash_complex(double re, double im, std::uint64_t nan_identity) noexcept {
  const auto hr = static_cast<std::uint64_t>(py_hash_double(re, nan_identity));
  const auto hi = static_cast<std::uint64_t>(py_hash_double(im, nan_identity));
  return not_minus_one(static_cast<std::int64_t>(hr + k_hash_imag * hi));
}

// ---- str / bytes -----------------------------------------------------------------------------------

// unicode_hash (Objects/unicodeobject.c): _Py_HashBytes over the PEP 393 canonical data, i.e.
// each code point as 1 byte if the string's largest code point is < 256, 2 bytes (little-endian
// on this platform) if < 65536, else 4 bytes. Lone surrogates are code points like any other.
std::int64_t py_hash_str(const char* utf8, std::size_t n) noexcept {
  const auto* s = reinterpret_cast<const std::uint8_t*>(utf8);
  const std::size_t ascii = ascii_prefix(s, n);
  if (ascii == n) return hash_buffer(s, n);  // ASCII: the UTF-8 bytes are the 1-byte data

  // Pass 1: largest code point decides the width.
  std::uint32_t max_cp = 0;
  for (std::size_t i = ascii; i < n;) {
    std::uint32_t cp;
    i += decode_one(s + i, n - i, cp);
    if (cp > max_cp) max_cp = cp;
  }
  const unsigned width = max_cp < 0x100 ? 1 : max_cp < 0x10000 ? 2 : 4;

  // Pass 2: stream the code units (non-empty here, so no zero-length special case).
  SipHash13 h;
  for (std::size_t i = 0; i < ascii; ++i) h.push_unit(s[i], width);
  for (std::size_t i = ascii; i < n;) {
    std::uint32_t cp;
    i += decode_one(s + i, n - i, cp);
    h.push_unit(cp, width);
  }
  return not_minus_one(static_cast<std::int64_t>(h.finish_stream()));
}

// bytes_hash (Objects/bytesobject.c): _Py_HashBytes of the contents.
std::int64_t py_hash_bytes(const std::uint8_t* s, std::size_t n) noexcept { return hash_buffer(s, n); }

std::int64_t py_hash_pointer(const void* p) noexcept {
  return hash_address(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p)));
}

// ---- tuple (tuplehash, Objects/tupleobject.c; xxHash-64 style lanes) ---------------------------------
namespace {
constexpr std::uint64_t k_xxprime_1 = 11400714785074694791ULL;
constexpr std::uint64_t k_xxprime_2 = 14029467366897019727ULL;
constexpr std::uint64_t k_xxprime_5 = 2870177450012600261ULL;
}  // namespace

TupleHasher::TupleHasher() noexcept : acc(k_xxprime_5) {}

void TupleHasher::add(std::int64_t item_hash) noexcept {
  acc += static_cast<std::uint64_t>(item_hash) * k_xxprime_2;
  acc = std::rotl(acc, 31);
  acc *= k_xxprime_1;
  ++len;
}

// The length is mixed in as len ^ (XXPRIME_5 ^ 3527539) (keeps hash(()) at its historical value);
// a result of -1 becomes 1546275796, not -2.
std::int64_t TupleHasher::finish() const noexcept {
  const std::uint64_t h = acc + (static_cast<std::uint64_t>(len) ^ (k_xxprime_5 ^ 3527539ULL));
  if (h == ~std::uint64_t{0}) return 1546275796;
  return static_cast<std::int64_t>(h);
}

// ---- frozenset (frozenset_hash / _shuffle_bits, Objects/setobject.c) -------------------------------
// CPython xors _shuffle_bits(entry->hash) over every slot, then cancels the empty slots'
// contribution, which leaves the xor over the active entries: the order of adds is irrelevant,
// but each distinct element must be added exactly once.
void FrozensetHasher::add(std::int64_t item_hash) noexcept {
  const auto h = static_cast<std::uint64_t>(item_hash);
  hash ^= ((h ^ 89869747ULL) ^ (h << 16)) * 3644798167ULL;
  ++len;
}

std::int64_t FrozensetHasher::finish() const noexcept {
  std::uint64_t h = hash;
  h ^= (static_cast<std::uint64_t>(len) + 1) * 1927868237ULL;
  h ^= (h >> 11) ^ (h >> 25);
  h = h * 69069U + 907133923ULL;
  if (h == ~std::uint64_t{0}) return 590923713;
  return static_cast<std::int64_t>(h);
}

// ---- set table (Objects/setobject.c) -----------------------------------------------------------------
namespace {
constexpr std::size_t k_linear_probes = 9;  // LINEAR_PROBES
constexpr unsigned k_perturb_shift = 5;     // PERTURB_SHIFT
constexpr std::size_t k_min_size = 8;       // PySet_MINSIZE
}  // namespace

// set_add_entry, for a table without dummies: start at hash & mask; look at that slot and, if
// the 9 following slots exist without wrapping (i + 9 <= mask), at those too; then
// perturb >>= 5 and i = (i*5 + 1 + perturb) & mask, with i the start of the previous run. A slot
// holding the same hash is compared with eq(existing, new) (PyObject_RichCompareBool(startkey,
// key)); equal -> the existing element stays. The new element goes into the first empty slot;
// then if fill*5 >= mask*3 the table is resized for used*4 (used*2 above 50000 elements).
std::uint32_t PySetTable::add(std::uint32_t item, std::int64_t hash, EqFn eq, AllocFn alloc,
                              void* ctx) {
  if (item == UINT32_MAX) throw std::length_error("brine: too many set elements");
  const std::size_t mask = mask_;
  const auto uhash = static_cast<std::uint64_t>(hash);
  std::uint64_t perturb = uhash;
  std::size_t i = static_cast<std::size_t>(uhash) & mask;
  PySetSlot* entry;
  for (;;) {
    entry = table_ + i;
    const std::size_t probes = (i + k_linear_probes <= mask) ? k_linear_probes : 0;
    const PySetSlot* const last = entry + probes;
    for (;; ++entry) {
      if (entry->item == 0) goto found_unused;
      if (entry->hash == hash && eq != nullptr && eq(ctx, entry->item - 1, item))
        return entry->item - 1;
      if (entry == last) break;
    }
    perturb >>= k_perturb_shift;
    i = (i * 5 + 1 + static_cast<std::size_t>(perturb)) & mask;
  }
found_unused:
  entry->hash = hash;
  entry->item = item + 1;
  ++fill_;
  ++used_;
  if (fill_ * 5 >= mask * 3) resize(used_ > 50000 ? used_ * 2 : used_ * 4, alloc, ctx);
  return item;
}

// set_table_resize: the smallest power of two > minused (at least 8), then every entry of the
// old table re-placed in slot order with set_insert_clean.
void PySetTable::resize(std::size_t minused, AllocFn alloc, void* ctx) {
  std::size_t newsize = k_min_size;
  while (newsize <= minused) newsize <<= 1;
  PySetSlot* fresh = alloc != nullptr ? alloc(ctx, newsize) : nullptr;
  if (fresh == nullptr) throw std::bad_alloc();
  const std::size_t newmask = newsize - 1;
  const PySetSlot* old = table_;
  const std::size_t oldsize = mask_ + 1;
  for (std::size_t k = 0; k < oldsize; ++k) {
    if (old[k].item != 0) insert_clean(fresh, newmask, old[k].item, old[k].hash);
  }
  table_ = fresh;
  mask_ = newmask;
}

// set_insert_clean: like set_add_entry's probe sequence but only looking for an empty slot
// (no comparisons). `item` is the stored value (caller's number + 1).
void PySetTable::insert_clean(PySetSlot* table, std::size_t mask, std::uint32_t item,
                              std::int64_t hash) noexcept {
  const auto uhash = static_cast<std::uint64_t>(hash);
  std::uint64_t perturb = uhash;
  std::size_t i = static_cast<std::size_t>(uhash) & mask;
  for (;;) {
    PySetSlot* entry = table + i;
    const std::size_t probes = (i + k_linear_probes <= mask) ? k_linear_probes : 0;
    for (std::size_t k = 0; k <= probes; ++k, ++entry) {
      if (entry->item == 0) {
        entry->hash = hash;
        entry->item = item;
        return;
      }
    }
    perturb >>= k_perturb_shift;
    i = (i * 5 + 1 + static_cast<std::size_t>(perturb)) & mask;
  }
}

}  // namespace brine::detail
