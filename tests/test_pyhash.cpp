// CPython 3.11 hash values and set iteration order (src/pyhash.cpp), checked against vectors
// produced by the real interpreter: tests/data/pyhash/gen_vectors.py, run as
//   PYTHONHASHSEED=0 /usr/bin/python3 tests/data/pyhash/gen_vectors.py
// See that script for the file formats. The procedural sets (sets_gen.txt) are regenerated here
// with a mirror of the script's generator; only a digest of CPython's order is stored.
#include "pyhash.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace brine::detail;
using Bytes = std::vector<std::uint8_t>;

// ---- file and text helpers ---------------------------------------------------------------------------

std::vector<std::string> read_lines(const char* name) {
  const std::string path = std::string(BRINE_SOURCE_DIR) + "/tests/data/pyhash/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t j = s.find(' ', i);
    const std::size_t end = j == std::string_view::npos ? s.size() : j;
    if (end > i) out.push_back(s.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  ADD_FAILURE() << "bad hex digit " << c;
  return 0;
}

Bytes from_hex(std::string_view h) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(hex_digit(h[i]) * 16 + hex_digit(h[i + 1])));
  return out;
}

std::uint64_t hex64(std::string_view h) {
  std::uint64_t v = 0;
  for (char c : h) v = v * 16 + static_cast<std::uint64_t>(hex_digit(c));
  return v;
}

std::int64_t to_i64(std::string_view s) { return std::stoll(std::string(s)); }
std::uint64_t to_u64(std::string_view s) { return std::stoull(std::string(s)); }

// UTF-8 with lone surrogates as 3-byte sequences (Python's 'surrogatepass').
void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ---- integers as minimal little-endian two's complement ----------------------------------------------

void minimize(Bytes& b) {
  while (b.size() >= 2) {
    const std::uint8_t last = b.back();
    const bool sign_below = (b[b.size() - 2] & 0x80) != 0;
    if ((last == 0x00 && !sign_below) || (last == 0xFF && sign_below)) {
      b.pop_back();
    } else {
      break;
    }
  }
  if (b.size() == 1 && b[0] == 0) b.clear();
}

Bytes int_from_i64(std::int64_t v) {
  Bytes b(8);
  for (int k = 0; k < 8; ++k) b[k] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * k));
  minimize(b);
  return b;
}

// sign and magnitude (little-endian, any length) -> minimal two's complement
Bytes int_from_mag(bool negative, Bytes mag) {
  mag.push_back(0);
  if (negative) {
    unsigned carry = 1;
    for (auto& byte : mag) {
      const unsigned v = static_cast<std::uint8_t>(~byte) + carry;
      byte = static_cast<std::uint8_t>(v);
      carry = v >> 8;
    }
  }
  minimize(mag);
  return mag;
}

Bytes mag_shr(const Bytes& mag, unsigned shift) {
  Bytes out(mag.size(), 0);
  const std::size_t byte_shift = shift / 8;
  const unsigned bit_shift = shift % 8;
  for (std::size_t i = 0; i + byte_shift < mag.size(); ++i) {
    unsigned v = mag[i + byte_shift] >> bit_shift;
    if (bit_shift != 0 && i + byte_shift + 1 < mag.size())
      v |= static_cast<unsigned>(mag[i + byte_shift + 1]) << (8 - bit_shift);
    out[i] = static_cast<std::uint8_t>(v);
  }
  return out;
}

Bytes mag_shl(const Bytes& mag, unsigned shift) {
  Bytes out(mag.size() + shift / 8 + 1, 0);
  const std::size_t byte_shift = shift / 8;
  const unsigned bit_shift = shift % 8;
  for (std::size_t i = 0; i < mag.size(); ++i) {
    const unsigned v = static_cast<unsigned>(mag[i]) << bit_shift;
    out[i + byte_shift] = static_cast<std::uint8_t>(out[i + byte_shift] | (v & 0xFF));
    out[i + byte_shift + 1] = static_cast<std::uint8_t>(out[i + byte_shift + 1] | (v >> 8));
  }
  return out;
}

// An integral finite double as an int.
Bytes int_from_double(double d) {
  const auto bits = std::bit_cast<std::uint64_t>(d);
  const bool negative = (bits >> 63) != 0;
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  std::uint64_t m = bits & ((std::uint64_t{1} << 52) - 1);
  if (biased == 0) return {};  // zero (subnormals are never integral)
  m |= std::uint64_t{1} << 52;
  const int e = biased - 1075;
  Bytes mag(8);
  if (e < 0) m >>= -e;
  for (int k = 0; k < 8; ++k) mag[k] = static_cast<std::uint8_t>(m >> (8 * k));
  if (e > 0) mag = mag_shl(mag, static_cast<unsigned>(e));
  return int_from_mag(negative, mag);
}

// ---- values ------------------------------------------------------------------------------------------------

struct Val {
  enum class Kind { integer, floating, complex, str, bytes, tuple, frozenset };
  Kind kind = Kind::integer;
  Bytes data;  // int bytes / str UTF-8 / bytes
  double re = 0.0, im = 0.0;
  std::vector<Val> items;  // tuple items / distinct frozenset items
};

Val make_int(Bytes b) { return Val{Val::Kind::integer, std::move(b), 0, 0, {}}; }
Val make_int64(std::int64_t v) { return make_int(int_from_i64(v)); }
Val make_float(double d) { return Val{Val::Kind::floating, {}, d, 0, {}}; }
Val make_complex(double re, double im) { return Val{Val::Kind::complex, {}, re, im, {}}; }
Val make_str(const std::string& s) { return Val{Val::Kind::str, Bytes(s.begin(), s.end()), 0, 0, {}}; }

Val parse_val(const std::vector<std::string_view>& t, std::size_t& p) {
  const std::string_view tok = t.at(p++);
  Val v;
  switch (tok[0]) {
    case 'i': v.kind = Val::Kind::integer; v.data = from_hex(tok.substr(2)); break;
    case 'f': v.kind = Val::Kind::floating; v.re = std::bit_cast<double>(hex64(tok.substr(2))); break;
    case 'c':
      v.kind = Val::Kind::complex;
      v.re = std::bit_cast<double>(hex64(tok.substr(2, 16)));
      v.im = std::bit_cast<double>(hex64(tok.substr(19, 16)));
      break;
    case 's': v.kind = Val::Kind::str; v.data = from_hex(tok.substr(2)); break;
    case 'b': v.kind = Val::Kind::bytes; v.data = from_hex(tok.substr(2)); break;
    case 't':
    case 'z': {
      v.kind = tok[0] == 't' ? Val::Kind::tuple : Val::Kind::frozenset;
      const auto n = static_cast<std::size_t>(to_u64(tok.substr(1)));
      for (std::size_t k = 0; k < n; ++k) v.items.push_back(parse_val(t, p));
      break;
    }
    default: ADD_FAILURE() << "bad token " << tok;
  }
  return v;
}

std::int64_t hash_of(const Val& v) {
  switch (v.kind) {
    case Val::Kind::integer: return py_hash_bigint(v.data.data(), v.data.size());
    case Val::Kind::floating: return py_hash_double(v.re);
    case Val::Kind::complex: return py_hash_complex(v.re, v.im);
    case Val::Kind::str:
      return py_hash_str(reinterpret_cast<const char*>(v.data.data()), v.data.size());
    case Val::Kind::bytes: return py_hash_bytes(v.data.data(), v.data.size());
    case Val::Kind::tuple: {
      TupleHasher h;
      for (const auto& it : v.items) h.add(hash_of(it));
      return h.finish();
    }
    case Val::Kind::frozenset: {
      FrozensetHasher h;
      for (const auto& it : v.items) h.add(hash_of(it));
      return h.finish();
    }
  }
  return 0;
}

// A byte string that is equal for two values iff Python's == says they are (no NaNs here):
// numbers compare across int/bool/float/complex, frozensets regardless of order.
void put_len(std::string& out, std::size_t n) { out.append(reinterpret_cast<const char*>(&n), sizeof n); }

void int_key(std::string& out, const Bytes& b) {
  out += 'i';
  put_len(out, b.size());
  out.append(b.begin(), b.end());
}

void float_key(std::string& out, double d) {
  if (std::isfinite(d) && d == std::trunc(d)) {
    int_key(out, int_from_double(d));
  } else {
    out += 'f';
    const auto bits = std::bit_cast<std::uint64_t>(d);
    out.append(reinterpret_cast<const char*>(&bits), 8);
  }
}

void key_of(std::string& out, const Val& v) {
  switch (v.kind) {
    case Val::Kind::integer: int_key(out, v.data); break;
    case Val::Kind::floating: float_key(out, v.re); break;
    case Val::Kind::complex:
      if (v.im == 0.0) {
        float_key(out, v.re);
      } else {
        out += 'c';
        const auto re = std::bit_cast<std::uint64_t>(v.re == 0.0 ? 0.0 : v.re);
        const auto im = std::bit_cast<std::uint64_t>(v.im);
        out.append(reinterpret_cast<const char*>(&re), 8);
        out.append(reinterpret_cast<const char*>(&im), 8);
      }
      break;
    case Val::Kind::str:
    case Val::Kind::bytes:
      out += v.kind == Val::Kind::str ? 's' : 'b';
      put_len(out, v.data.size());
      out.append(v.data.begin(), v.data.end());
      break;
    case Val::Kind::tuple:
      out += 't';
      put_len(out, v.items.size());
      for (const auto& it : v.items) key_of(out, it);
      break;
    case Val::Kind::frozenset: {
      std::vector<std::string> keys;
      for (const auto& it : v.items) {
        keys.emplace_back();
        key_of(keys.back(), it);
      }
      std::sort(keys.begin(), keys.end());
      out += 'z';
      put_len(out, keys.size());
      for (const auto& k : keys) out += k;
      break;
    }
  }
}

std::string key_of(const Val& v) {
  std::string k;
  key_of(k, v);
  return k;
}

// ---- set building through PySetTable ----------------------------------------------------------------

struct SetCtx {
  std::vector<std::string> keys;
  std::vector<std::unique_ptr<PySetSlot[]>> tables;
  std::size_t eq_calls = 0;
};

bool set_eq(void* ctx, std::uint32_t a, std::uint32_t b) {
  auto* c = static_cast<SetCtx*>(ctx);
  ++c->eq_calls;
  return c->keys[a] == c->keys[b];
}

PySetSlot* set_alloc(void* ctx, std::size_t n) {
  auto* c = static_cast<SetCtx*>(ctx);
  c->tables.push_back(std::make_unique<PySetSlot[]>(n));  // value-initialized: zeroed
  return c->tables.back().get();
}

struct BuiltSet {
  std::vector<std::uint32_t> order;  // insertion index of each element, in iteration order
  std::size_t table_size = 0;
  std::size_t used = 0;
};

BuiltSet build_set(const std::vector<Val>& items) {
  SetCtx ctx;
  ctx.keys.reserve(items.size());
  for (const auto& v : items) ctx.keys.push_back(key_of(v));
  PySetSlot small[8] = {};
  PySetTable table(small);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto idx = static_cast<std::uint32_t>(i);
    const std::uint32_t got = table.add(idx, hash_of(items[i]), set_eq, set_alloc, &ctx);
    EXPECT_LE(got, idx);
    if (got != idx) {
      EXPECT_EQ(ctx.keys[got], ctx.keys[idx]);
    }
  }
  BuiltSet out;
  out.table_size = table.mask() + 1;
  out.used = table.used();
  EXPECT_EQ(table.used(), table.fill());
  for (std::size_t k = 0; k < out.table_size; ++k) {
    if (table.slots()[k].item != 0) out.order.push_back(table.slots()[k].item - 1);
  }
  return out;
}

std::uint64_t fnv(const std::vector<std::uint32_t>& order) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (auto i : order) {
    h ^= i;
    h *= 0x100000001B3ULL;
  }
  return h;
}

// ---- mirror of gen_vectors.py's procedural generator -------------------------------------------------

constexpr std::int64_t k_mod = static_cast<std::int64_t>(py_hash_modulus);

struct Rng {  // splitmix64
  std::uint64_t s;
  std::uint64_t next() {
    s += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  std::int64_t below_i(std::uint64_t n) { return static_cast<std::int64_t>(below(n)); }
};

std::int64_t gen_int64(Rng& r) {
  const std::uint64_t f = r.below(6);
  const std::uint64_t v = r.next();
  switch (f) {
    case 0: return static_cast<std::int64_t>(v);
    case 1: return static_cast<std::int64_t>(v >> (1 + r.below(63)));
    case 2: return -static_cast<std::int64_t>(v >> (1 + r.below(63)));
    case 3: {
      const std::int64_t k = r.below_i(7);
      const std::int64_t d = r.below_i(9);
      return (k - 3) * k_mod + (d - 4);
    }
    case 4: {
      const std::uint64_t e = r.below(62);
      const std::uint64_t s = r.below(2);
      const std::int64_t d = r.below_i(3);
      return (s ? -1 : 1) * (std::int64_t{1} << e) + (d - 1);
    }
    default: return r.below_i(1000) - 500;
  }
}

Val gen_bigint(Rng& r) {
  const std::uint64_t nw = 1 + r.below(4);
  Bytes mag;
  for (std::uint64_t w = 0; w < nw; ++w) {
    const std::uint64_t word = r.next();
    for (int k = 0; k < 8; ++k) mag.push_back(static_cast<std::uint8_t>(word >> (8 * k)));
  }
  const auto shift = static_cast<unsigned>(r.below(64));
  const bool negative = r.below(2) != 0;
  return make_int(int_from_mag(negative, mag_shr(mag, shift)));
}

double gen_float(Rng& r) {
  const std::uint64_t f = r.below(6);
  switch (f) {
    case 0: {
      const std::uint64_t x = r.next() >> 11;
      const int k = static_cast<int>(r.below(80));
      double v = std::ldexp(static_cast<double>(x), -k);
      if (r.below(2)) v = -v;
      return v;
    }
    case 1: return static_cast<double>(r.below_i(2000) - 1000);
    case 2: {
      double v = std::bit_cast<double>(r.next());
      if (std::isnan(v)) v = std::copysign(std::numeric_limits<double>::infinity(), v);
      return v;
    }
    case 3: return static_cast<double>(r.below_i(200) - 100) / 4.0;
    case 4: {
      const std::uint64_t x = r.next() >> 11;
      const int k = static_cast<int>(r.below(2100));
      double v = std::ldexp(static_cast<double>(x), k - 1100);
      if (r.below(2)) v = -v;
      return v;
    }
    default: return r.below(2) ? -0.0 : 0.0;
  }
}

Val gen_str(Rng& r) {
  const std::uint64_t n = r.below(13);
  const std::uint64_t c = r.below(6);
  std::string s;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t cp;
    switch (c) {
      case 0: cp = 32 + r.below(95); break;
      case 1: cp = r.below(256); break;
      case 2: cp = r.below(0x10000); break;
      case 3: cp = r.below(0x110000); break;
      case 4: cp = r.below(4) == 0 ? 0xD800 + r.below(0x800) : 97 + r.below(26); break;
      default: cp = r.below(8) == 0 ? 0x10000 + r.below(0x100000) : 97 + r.below(3); break;
    }
    append_utf8(s, static_cast<std::uint32_t>(cp));
  }
  return make_str(s);
}

Val gen_bytes(Rng& r) {
  const std::uint64_t n = r.below(8);
  Val v;
  v.kind = Val::Kind::bytes;
  for (std::uint64_t i = 0; i < n; ++i) v.data.push_back(static_cast<std::uint8_t>(r.below(256)));
  return v;
}

Val gen_tuple(Rng& r, int depth) {
  const std::uint64_t n = r.below(4);
  Val v;
  v.kind = Val::Kind::tuple;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t k = r.below(depth < 2 ? 5 : 4);
    switch (k) {
      case 0: v.items.push_back(make_int64(r.below_i(20) - 5)); break;
      case 1: v.items.push_back(gen_str(r)); break;
      case 2: v.items.push_back(make_float(gen_float(r))); break;
      case 3: v.items.push_back(make_int64(r.below(2) == 1 ? 1 : 0)); break;
      default: v.items.push_back(gen_tuple(r, depth + 1)); break;
    }
  }
  return v;
}

Val gen_frozenset(Rng& r) {
  const std::uint64_t n = r.below(5);
  std::int64_t cur = r.below_i(50) - 10;
  Val v;
  v.kind = Val::Kind::frozenset;
  for (std::uint64_t i = 0; i < n; ++i) {
    v.items.push_back(make_int64(cur));
    cur += 1 + r.below_i(4);
  }
  return v;
}

Val gen_complex(Rng& r) {
  const std::uint64_t f = r.below(3);
  if (f == 0) return make_complex(static_cast<double>(r.below_i(40) - 20), 0.0);
  if (f == 1) {
    const double re = gen_float(r);
    const double im = gen_float(r);
    return make_complex(re, im);
  }
  return make_complex(0.0, static_cast<double>(r.below(10)));
}

Val gen_mixed(Rng& r) {
  switch (r.below(12)) {
    case 0: return make_int64(r.below_i(64) - 16);
    case 1: return make_int64(gen_int64(r));
    case 2: return gen_bigint(r);
    case 3: return make_float(gen_float(r));
    case 4: return gen_str(r);
    case 5: return gen_bytes(r);
    case 6: return gen_tuple(r, 0);
    case 7: return make_float(static_cast<double>(r.below_i(64) - 16));
    case 8: return gen_complex(r);
    case 9: return make_int64(r.below(2) == 1 ? 1 : 0);
    case 10: return gen_frozenset(r);
    default: {
      std::string s;
      append_utf8(s, static_cast<std::uint32_t>(97 + r.below(4)));
      return make_str(s);
    }
  }
}

std::vector<Val> gen_set(std::string_view family, std::uint64_t seed, std::uint64_t n, bool dups) {
  Rng r{seed};
  const std::uint64_t pcts[4] = {0, 10, 30, 60};
  const std::uint64_t dup_pct = dups ? pcts[r.below(4)] : 0;
  const std::uint64_t span = 1 + r.below(4 * n + 8);
  const std::uint64_t stride_shift = r.below(40);
  const auto quarter = static_cast<std::int64_t>(span / 4);
  std::vector<Val> items;
  items.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    if (!items.empty() && dup_pct != 0 && r.below(100) < dup_pct) {
      const Val copy = items[r.below(items.size())];
      items.push_back(copy);
      continue;
    }
    if (family == "smallint") {
      items.push_back(make_int64(r.below_i(span) - quarter));
    } else if (family == "negint") {
      items.push_back(make_int64(-1 - r.below_i(span)));
    } else if (family == "strided") {
      const std::int64_t base = r.below_i(span) - quarter;
      items.push_back(make_int64(base * (std::int64_t{1} << stride_shift)));
    } else if (family == "int64") {
      items.push_back(make_int64(gen_int64(r)));
    } else if (family == "bigint") {
      items.push_back(gen_bigint(r));
    } else if (family == "float") {
      items.push_back(make_float(gen_float(r)));
    } else if (family == "str") {
      items.push_back(gen_str(r));
    } else if (family == "bytes") {
      items.push_back(gen_bytes(r));
    } else if (family == "tuple") {
      items.push_back(gen_tuple(r, 0));
    } else {
      items.push_back(gen_mixed(r));
    }
  }
  return items;
}

// ---- tests ---------------------------------------------------------------------------------------------

TEST(PyHash, HashVectorsFromCPython) {
  const auto lines = read_lines("hashes.txt");
  ASSERT_GT(lines.size(), 1000u);
  std::size_t values = 0, identity = 0;
  for (const auto& line : lines) {
    const auto t = split(line);
    ASSERT_GE(t.size(), 2u) << line;
    if (t[0] == "P") {
      const auto id = static_cast<std::uintptr_t>(to_u64(t[1]));
      EXPECT_EQ(py_hash_pointer(reinterpret_cast<const void*>(id)), to_i64(t[2])) << line;
      ++identity;
      continue;
    }
    if (t[0] == "N") {
      EXPECT_EQ(py_hash_double(std::numeric_limits<double>::quiet_NaN(), to_u64(t[1])), to_i64(t[2]))
          << line;
      ++identity;
      continue;
    }
    if (t[0] == "CN") {
      const double re = std::bit_cast<double>(hex64(t[2]));
      const double im = std::bit_cast<double>(hex64(t[3]));
      EXPECT_EQ(py_hash_complex(re, im, to_u64(t[1])), to_i64(t[4])) << line;
      ++identity;
      continue;
    }
    const std::int64_t want = to_i64(t[0]);
    std::size_t p = 1;
    const Val v = parse_val(t, p);
    ASSERT_EQ(p, t.size()) << line;
    EXPECT_EQ(hash_of(v), want) << line;
    ++values;
    if (v.kind == Val::Kind::integer) {
      // The int64 entry point agrees where the value fits.
      if (v.data.size() <= 8) {
        std::uint64_t u = 0;
        for (std::size_t k = 0; k < v.data.size(); ++k) u |= std::uint64_t{v.data[k]} << (8 * k);
        if (!v.data.empty() && v.data.size() < 8 && (v.data.back() & 0x80))
          u |= ~std::uint64_t{0} << (8 * v.data.size());
        EXPECT_EQ(py_hash_int64(static_cast<std::int64_t>(u)), want) << line;
      }
      // Redundant sign-extension bytes do not change the value.
      Bytes padded = v.data;
      const std::uint8_t ext = (!padded.empty() && (padded.back() & 0x80)) ? 0xFF : 0x00;
      for (int k = 0; k < 10; ++k) {
        padded.push_back(ext);
        EXPECT_EQ(py_hash_bigint(padded.data(), padded.size()), want) << line << " +" << k + 1;
      }
    }
  }
  EXPECT_GT(identity, 20u);
  std::printf("[ pyhash   ] %zu hash values, %zu identity hashes verified\n", values, identity);
}

TEST(PyHash, Int64EdgeCases) {
  EXPECT_EQ(py_hash_int64(0), 0);
  EXPECT_EQ(py_hash_int64(-1), -2);
  EXPECT_EQ(py_hash_int64(-2), -2);
  EXPECT_EQ(py_hash_int64(k_mod), 0);
  EXPECT_EQ(py_hash_int64(-k_mod), 0);
  EXPECT_EQ(py_hash_int64(k_mod + 1), 1);
  EXPECT_EQ(py_hash_int64(-k_mod - 1), -2);
  EXPECT_EQ(py_hash_int64(std::numeric_limits<std::int64_t>::max()), 3);  // 2**63-1 = 4M+3
  EXPECT_EQ(py_hash_int64(std::numeric_limits<std::int64_t>::min()), -4);
  EXPECT_EQ(py_hash_double(-1.0), -2);
  EXPECT_EQ(py_hash_double(-0.0), 0);
  EXPECT_EQ(py_hash_double(std::numeric_limits<double>::infinity()), 314159);
  EXPECT_EQ(py_hash_complex(-1.0, 0.0), -2);
  EXPECT_EQ(py_hash_bigint(nullptr, 0), 0);
  // hash(float(n)) == hash(n) for every int64 n that is exactly representable.
  Rng r{99};
  for (int k = 0; k < 100000; ++k) {
    const auto v = static_cast<std::int64_t>(r.next()) >> r.below(64);
    const auto d = static_cast<double>(v);
    if (d >= -9.2e18 && d <= 9.2e18 && static_cast<std::int64_t>(d) == v) {
      ASSERT_EQ(py_hash_double(d), py_hash_int64(v)) << v;
    }
    const Bytes b = int_from_i64(v);
    ASSERT_EQ(py_hash_bigint(b.data(), b.size()), py_hash_int64(v)) << v;
  }
}

TEST(PyHash, StrHashIsRobustOnMalformedUtf8) {
  // Bytes that do not start a valid sequence count as the code point of their value.
  const char lone_ff[] = "\xff";
  const char y_umlaut[] = "\xc3\xbf";
  EXPECT_EQ(py_hash_str(lone_ff, 1), py_hash_str(y_umlaut, 2));
  const char truncated[] = "ab\xe2\x82";  // truncated euro sign: 'a', 'b', 0xE2, 0x82
  const char latin[] = "ab\xc3\xa2\xc2\x82";
  EXPECT_EQ(py_hash_str(truncated, 4), py_hash_str(latin, 6));
  EXPECT_EQ(py_hash_str("", 0), 0);
  Rng r{5};
  std::string junk;
  for (int k = 0; k < 20000; ++k) {
    junk.resize(r.below(40));
    for (auto& ch : junk) ch = static_cast<char>(r.below(256));
    const std::int64_t h = py_hash_str(junk.data(), junk.size());
    EXPECT_EQ(h, py_hash_str(junk.data(), junk.size()));
    EXPECT_NE(h, -1);
  }
}

TEST(PyHash, SetTableInterface) {
  SetCtx ctx;
  ctx.keys = {"a", "b", "a", "c"};
  PySetSlot small[8] = {};
  PySetTable t(small);
  EXPECT_EQ(t.add(0, 5, set_eq, set_alloc, &ctx), 0u);
  // Same hash, unequal: at i = 5 no linear run fits (5 + 9 > mask), so the probe jumps:
  // perturb = 5 >> 5 = 0, i = (5*5 + 1 + 0) & 7 = 2.
  EXPECT_EQ(t.add(1, 5, set_eq, set_alloc, &ctx), 1u);
  EXPECT_EQ(ctx.eq_calls, 1u);
  EXPECT_EQ(t.add(2, 5, set_eq, set_alloc, &ctx), 0u);  // equal to item 0: item 0 stays
  EXPECT_EQ(ctx.eq_calls, 2u);
  // 13 & 7 == 5: slots 5 and 2 hold other hashes (no eq call), then i = (2*5 + 1) & 7 = 3.
  EXPECT_EQ(t.add(3, 13, set_eq, set_alloc, &ctx), 3u);
  EXPECT_EQ(ctx.eq_calls, 2u);
  EXPECT_EQ(t.used(), 3u);
  EXPECT_EQ(t.fill(), 3u);
  EXPECT_EQ(t.mask(), 7u);
  EXPECT_EQ(t.slots(), small);
  EXPECT_EQ(small[5].item, 1u);
  EXPECT_EQ(small[2].item, 2u);
  EXPECT_EQ(small[3].item, 4u);
  // Two more distinct elements: fill 5, 5*5 >= 7*3, so the table grows to 32 (used*4 = 20 -> 32)
  // and is re-placed in slot order: hashes 5 (item 1), 5 (item 2 -> linear probe), 13, ...
  ctx.keys.push_back("d");
  ctx.keys.push_back("e");
  EXPECT_EQ(t.add(4, 0, set_eq, set_alloc, &ctx), 4u);
  EXPECT_EQ(t.mask(), 7u);
  EXPECT_EQ(t.add(5, 64, set_eq, set_alloc, &ctx), 5u);
  EXPECT_EQ(t.mask(), 31u);
  EXPECT_NE(t.slots(), small);
  EXPECT_EQ(ctx.tables.size(), 1u);
  // old slot order: 0 (item 4, hash 0), 1 (item 5, hash 64), 2 (item 1), 3 (item 3), 5 (item 0)
  // new: hash 0 -> 0; hash 64 -> 0 taken -> 1 (linear); item 1 -> 5; hash 13 -> 13; item 0 -> 6.
  std::vector<std::uint32_t> order;
  for (std::size_t k = 0; k <= t.mask(); ++k)
    if (t.slots()[k].item != 0) order.push_back(t.slots()[k].item - 1);
  EXPECT_EQ(order, (std::vector<std::uint32_t>{4, 5, 1, 0, 3}));
}

TEST(PyHash, ExplicitSetsFromCPython) {
  const auto lines = read_lines("sets.txt");
  ASSERT_GT(lines.size(), 100u);
  std::size_t elements = 0;
  for (const auto& line : lines) {
    const auto t = split(line);
    std::size_t p = 0;
    const auto n = static_cast<std::size_t>(to_u64(t.at(p++)));
    std::vector<Val> items;
    for (std::size_t k = 0; k < n; ++k) items.push_back(parse_val(t, p));
    ASSERT_EQ(t.at(p++), ";") << line;
    const auto size = static_cast<std::size_t>(to_u64(t.at(p++)));
    const auto m = static_cast<std::size_t>(to_u64(t.at(p++)));
    std::vector<std::uint32_t> want;
    for (std::size_t k = 0; k < m; ++k) want.push_back(static_cast<std::uint32_t>(to_u64(t.at(p++))));
    ASSERT_EQ(p, t.size()) << line;
    const BuiltSet got = build_set(items);
    EXPECT_EQ(got.order, want) << line;
    EXPECT_EQ(got.table_size, size) << line;
    EXPECT_EQ(got.used, m) << line;
    elements += n;
  }
  std::printf("[ pyhash   ] %zu explicit sets (%zu adds) verified\n", lines.size(), elements);
}

void check_procedural_sets(bool big) {
  const auto lines = read_lines("sets_gen.txt");
  ASSERT_GT(lines.size(), 1000u);
  std::size_t sets = 0, elements = 0, max_n = 0;
  for (const auto& line : lines) {
    const auto t = split(line);
    ASSERT_EQ(t.size(), 7u) << line;
    const std::uint64_t seed = to_u64(t[1]);
    const std::uint64_t n = to_u64(t[2]);
    if ((n > 5000) != big) continue;
    const bool dups = t[3] == "1";
    const auto items = gen_set(t[0], seed, n, dups);
    const BuiltSet got = build_set(items);
    EXPECT_EQ(got.used, to_u64(t[4])) << line;
    EXPECT_EQ(got.table_size, to_u64(t[5])) << line;
    EXPECT_EQ(fnv(got.order), hex64(t[6])) << line;
    ++sets;
    elements += n;
    max_n = std::max<std::size_t>(max_n, n);
  }
  EXPECT_GT(sets, big ? 20u : 1000u);
  std::printf("[ pyhash   ] %zu procedural sets (%zu adds, up to %zu elements) verified\n", sets,
              elements, max_n);
}

TEST(PyHash, ProceduralSetsFromCPython) { check_procedural_sets(false); }

// Sizes 4914 .. 657780: every table growth up to 2**21 slots.
TEST(PyHash, ProceduralBigSetsFromCPython) { check_procedural_sets(true); }

}  // namespace
