// Python text semantics (CPython 3.11), see pytext.hpp. Every rule here names the CPython function
// it reproduces; tests/test_pytext.cpp checks them against vectors produced by the real
// interpreter (tests/data/pytext/gen_vectors.py).
#include "pytext.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

namespace brine::detail {
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);
constexpr char hex_lower[] = "0123456789abcdef";  // Py_hexdigits
constexpr std::uint64_t high_bits = 0x8080808080808080ULL;

inline std::uint64_t load64(const void* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline bool is_cont(std::uint8_t b) noexcept { return (b & 0xC0) == 0x80; }

// Py_ISSPACE (Include/pyctype.h): the ASCII whitespace of _Py_ctype_table, i.e. \t \n \v \f \r
// and space. Unlike str.isspace() it does NOT include \x1c..\x1f. glibc's isspace() in the C
// and UTF-8 locales is the same set.
inline bool ascii_space(int c) noexcept { return c == ' ' || (c >= 0x09 && c <= 0x0D); }

inline bool is_digit(int c) noexcept { return c >= '0' && c <= '9'; }

// _PyLong_DigitValue (Objects/longobject.c): 0-9, a-z/A-Z -> 10..35, everything else 37.
inline int digit_value(int c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 37;
}

inline void append_hex(std::string& out, char32_t v, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out.push_back(hex_lower[(v >> shift) & 0xF]);
}

// ---- little bignum helpers (magnitudes as little-endian uint32 words) ----------------------------
using Words = std::vector<std::uint32_t>;

void trim(Words& w) {
  while (!w.empty() && w.back() == 0) w.pop_back();
}

// |value| of little-endian two's complement bytes; returns true if negative.
bool magnitude_of(const std::uint8_t* le, std::size_t n, Words& w) {
  const bool neg = n > 0 && (le[n - 1] & 0x80) != 0;
  w.assign((n + 3) / 4, 0);
  unsigned carry = 1;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned b = le[i];
    if (neg) {
      b = (~b & 0xFFu) + carry;
      carry = b >> 8;
      b &= 0xFFu;
    }
    w[i / 4] |= static_cast<std::uint32_t>(b) << (8 * (i % 4));
  }
  trim(w);
  return neg;
}

// w = w * m + a
void mul_add_small(Words& w, std::uint32_t m, std::uint32_t a) {
  std::uint64_t carry = a;
  for (auto& x : w) {
    const std::uint64_t t = static_cast<std::uint64_t>(x) * m + carry;
    x = static_cast<std::uint32_t>(t);
    carry = t >> 32;
  }
  if (carry) w.push_back(static_cast<std::uint32_t>(carry));
}

Words mul(const Words& a, const Words& b) {
  if (a.empty() || b.empty()) return {};
  Words r(a.size() + b.size(), 0);
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::uint64_t carry = 0;
    const std::uint64_t ai = a[i];
    if (ai == 0) continue;
    for (std::size_t j = 0; j < b.size(); ++j) {
      const std::uint64_t t = ai * b[j] + r[i + j] + carry;
      r[i + j] = static_cast<std::uint32_t>(t);
      carry = t >> 32;
    }
    std::size_t k = i + b.size();
    while (carry) {
      const std::uint64_t t = static_cast<std::uint64_t>(r[k]) + carry;
      r[k++] = static_cast<std::uint32_t>(t);
      carry = t >> 32;
    }
  }
  trim(r);
  return r;
}

int compare(const Words& a, const Words& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

std::size_t bit_length(const Words& w) {
  if (w.empty()) return 0;
  return (w.size() - 1) * 32 + (32 - static_cast<std::size_t>(std::countl_zero(w.back())));
}

// Minimal little-endian two's complement bytes of (neg ? -mag : mag); what pickle's
// encode_long / LONG1 writes (no bytes for 0).
std::vector<std::uint8_t> words_to_le(const Words& mag, bool neg) {
  std::vector<std::uint8_t> out;
  out.reserve(mag.size() * 4 + 1);
  for (std::uint32_t w : mag) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>(w >> (8 * k)));
  }
  out.push_back(0);  // room for the sign bit
  if (neg) {
    unsigned carry = 1;
    for (auto& b : out) {
      const unsigned v = (~static_cast<unsigned>(b) & 0xFFu) + carry;
      b = static_cast<std::uint8_t>(v);
      carry = v >> 8;
    }
  }
  // Drop redundant sign-extension bytes.
  while (!out.empty()) {
    const std::uint8_t top = out.back();
    if (out.size() == 1) {
      if (top == 0) out.pop_back();
      break;
    }
    const std::uint8_t next = out[out.size() - 2];
    if ((top == 0x00 && !(next & 0x80)) || (top == 0xFF && (next & 0x80))) {
      out.pop_back();
    } else {
      break;
    }
  }
  return out;
}

void set_result(ParsedInt& out, const Words& mag, bool neg) {
  // Fits int64?
  if (mag.size() <= 2) {
    std::uint64_t m = 0;
    if (!mag.empty()) m = mag[0];
    if (mag.size() == 2) m |= static_cast<std::uint64_t>(mag[1]) << 32;
    const std::uint64_t limit = neg ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 63) - 1;
    if (m <= limit) {
      out.is_small = true;
      out.small = neg ? static_cast<std::int64_t>(0 - m) : static_cast<std::int64_t>(m);
      out.big.clear();
      return;
    }
  }
  out.is_small = false;
  out.small = 0;
  out.big = words_to_le(mag, neg);
}

// The common case without any heap allocation: |value| fits a uint64.
void set_result_u64(ParsedInt& out, std::uint64_t m, bool neg) {
  const std::uint64_t limit = neg ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 63) - 1;
  if (m <= limit) {
    out.is_small = true;
    out.small = neg ? static_cast<std::int64_t>(0 - m) : static_cast<std::int64_t>(m);
    out.big.clear();
    return;
  }
  Words w{static_cast<std::uint32_t>(m), static_cast<std::uint32_t>(m >> 32)};
  set_result(out, w, neg);
}

}  // namespace

// ================================================================================================
// UTF-8
// ================================================================================================

// The strict UTF-8 decoder of CPython (Objects/stringlib/codecs.h) plus the surrogatepass error
// handler, which accepts exactly the 3-byte encodings of U+D800..U+DFFF (ED A0..BF 80..BF).
// The returned offset is the start of the offending sequence, which is the position CPython's
// UnicodeDecodeError reports.
std::size_t find_invalid_utf8(const std::uint8_t* s, std::size_t n) noexcept {
  std::size_t i = 0;
  while (i < n) {
    while (i + 8 <= n && (load64(s + i) & high_bits) == 0) i += 8;
    if (i >= n) break;
    const std::uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c < 0xC2) return i;  // stray continuation byte or overlong 2-byte lead
    if (c < 0xE0) {
      if (i + 1 >= n || !is_cont(s[i + 1])) return i;
      i += 2;
      continue;
    }
    if (c < 0xF0) {
      // E0 needs A0..BF (no overlongs); ED would need 80..9F in strict UTF-8, but surrogatepass
      // takes ED A0..BF as a lone surrogate, so every other lead takes 80..BF.
      const std::uint8_t lo = c == 0xE0 ? 0xA0 : 0x80;
      if (i + 1 >= n || s[i + 1] < lo || s[i + 1] > 0xBF) return i;
      if (i + 2 >= n || !is_cont(s[i + 2])) return i;
      i += 3;
      continue;
    }
    if (c < 0xF5) {
      const std::uint8_t lo = c == 0xF0 ? 0x90 : 0x80;
      const std::uint8_t hi = c == 0xF4 ? 0x8F : 0xBF;
      if (i + 1 >= n || s[i + 1] < lo || s[i + 1] > hi) return i;
      if (i + 2 >= n || !is_cont(s[i + 2])) return i;
      if (i + 3 >= n || !is_cont(s[i + 3])) return i;
      i += 4;
      continue;
    }
    return i;
  }
  return npos;
}

bool is_ascii(const std::uint8_t* s, std::size_t n) noexcept {
  std::size_t i = 0;
  std::uint64_t acc = 0;
  for (; i + 32 <= n; i += 32) {
    acc |= load64(s + i) | load64(s + i + 8) | load64(s + i + 16) | load64(s + i + 24);
    if (acc & high_bits) return false;
  }
  for (; i + 8 <= n; i += 8) acc |= load64(s + i);
  for (; i < n; ++i) acc |= s[i];
  return (acc & high_bits) == 0;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    const char b[2] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 2);
  } else if (cp < 0x10000) {  // includes lone surrogates (surrogatepass)
    const char b[3] = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                       static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 3);
  } else if (cp <= 0x10FFFF) {
    const char b[4] = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                       static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 4);
  } else {
    out.append("\xEF\xBF\xBD", 3);  // out of range: U+FFFD rather than invalid UTF-8
  }
}

// For valid input this is the obvious decoder. On invalid input (a broken precondition) it never
// reads past n and never fails: a byte that does not start a complete sequence decodes to itself
// (as latin-1) and consumes 1 byte.
std::size_t decode_utf8(const char* s, std::size_t n, char32_t& cp) noexcept {
  if (n == 0) {
    cp = 0;
    return 0;
  }
  const auto* u = reinterpret_cast<const std::uint8_t*>(s);
  const std::uint8_t b0 = u[0];
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if (b0 >= 0xC0 && b0 < 0xE0 && n >= 2 && is_cont(u[1])) {
    cp = (static_cast<char32_t>(b0 & 0x1F) << 6) | (u[1] & 0x3F);
    return 2;
  }
  if (b0 >= 0xE0 && b0 < 0xF0 && n >= 3 && is_cont(u[1]) && is_cont(u[2])) {
    cp = (static_cast<char32_t>(b0 & 0x0F) << 12) | (static_cast<char32_t>(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    return 3;
  }
  if (b0 >= 0xF0 && b0 < 0xF8 && n >= 4 && is_cont(u[1]) && is_cont(u[2]) && is_cont(u[3])) {
    cp = (static_cast<char32_t>(b0 & 0x07) << 18) | (static_cast<char32_t>(u[1] & 0x3F) << 12) |
         (static_cast<char32_t>(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
    return 4;
  }
  cp = b0;
  return 1;
}

std::size_t utf8_length(std::string_view s) noexcept {
  // Code points = bytes that are not continuation bytes (10xxxxxx).
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::size_t n = s.size();
  std::size_t cont = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const std::uint64_t w = load64(p + i);
    // bit 7 set and bit 6 clear, per byte (bit 6 shifted into bit 7 of the same byte).
    cont += static_cast<std::size_t>(std::popcount(w & ~(w << 1) & high_bits));
  }
  for (; i < n; ++i) cont += is_cont(p[i]);
  return n - cont;
}

void latin1_to_utf8(std::string& out, const std::uint8_t* s, std::size_t n) {
  out.reserve(out.size() + n);
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    while (j + 8 <= n && (load64(s + j) & high_bits) == 0) j += 8;
    while (j < n && s[j] < 0x80) ++j;
    out.append(reinterpret_cast<const char*>(s + i), j - i);
    if (j >= n) break;
    const std::uint8_t c = s[j];
    const char b[2] = {static_cast<char>(0xC0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3F))};
    out.append(b, 2);
    i = j + 1;
  }
}

// ================================================================================================
// repr
// ================================================================================================

// unicode_repr (Objects/unicodeobject.c): the quote is ' unless the text contains ' and no ",
// then ". Only the chosen quote and backslash are backslash-escaped; \t \n \r by name; other
// code points < 0x20 and 0x7f as \xHH; non-ASCII kept if Py_UNICODE_ISPRINTABLE, else \xHH
// (< 0x100), \uHHHH (< 0x10000) or \UHHHHHHHH. Hex digits are lower case.
void repr_str(std::string& out, std::string_view utf8, std::size_t stop_at) {
  const char* p = utf8.data();
  const std::size_t n = utf8.size();
  const bool has_sq = n && std::memchr(p, '\'', n) != nullptr;
  const bool has_dq = has_sq && std::memchr(p, '"', n) != nullptr;
  const char quote = (has_sq && !has_dq) ? '"' : '\'';
  out.reserve(std::min(out.size() + n + 2, stop_at));
  out.push_back(quote);
  std::size_t i = 0;
  while (i < n) {
    if (out.size() >= stop_at) return;
    const std::size_t room = stop_at - out.size();
    std::size_t j = i;
    const std::size_t run_end = n - i > room ? i + room : n;
    while (j < run_end) {
      const auto c = static_cast<unsigned char>(p[j]);
      if (c < 0x20 || c >= 0x7F || c == '\\' || c == static_cast<unsigned char>(quote)) break;
      ++j;
    }
    out.append(p + i, j - i);
    i = j;
    if (i >= n) break;
    if (j == run_end && out.size() >= stop_at) return;
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '\t': out.append("\\t", 2); break;
        case '\n': out.append("\\n", 2); break;
        case '\r': out.append("\\r", 2); break;
        case '\\': out.append("\\\\", 2); break;
        default:
          if (c == static_cast<unsigned char>(quote)) {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
          } else {  // < 0x20 or 0x7f
            out.append("\\x", 2);
            append_hex(out, c, 2);
          }
      }
      continue;
    }
    char32_t cp;
    const std::size_t k = decode_utf8(p + i, n - i, cp);
    i += k;
    if (is_printable(cp)) {
      append_utf8(out, cp);
    } else if (cp < 0x100) {
      out.append("\\x", 2);
      append_hex(out, cp, 2);
    } else if (cp < 0x10000) {
      out.append("\\u", 2);
      append_hex(out, cp, 4);
    } else {
      out.append("\\U", 2);
      append_hex(out, cp, 8);
    }
  }
  out.push_back(quote);
}

namespace {
// The part of repr(bytes) and repr(bytearray) between the quotes (PyBytes_Repr with
// smartquotes=1, Objects/bytesobject.c; bytearray_repr, Objects/bytearrayobject.c): the quote
// is " when the bytes hold ' and no ", else '; backslash and the quote are escaped (bytearray:
// ' always), \t \n \r, every other byte < 0x20 or >= 0x7f as \xhh.
void repr_byte_text(std::string& out, const std::uint8_t* s, std::size_t n, bool escape_sq, std::size_t stop_at) {
  const bool has_sq = n && std::memchr(s, '\'', n) != nullptr;
  const bool has_dq = has_sq && std::memchr(s, '"', n) != nullptr;
  const char quote = (has_sq && !has_dq) ? '"' : '\'';
  const auto q = static_cast<std::uint8_t>(quote);
  out.reserve(std::min(out.size() + n + 14, stop_at));
  out.push_back(quote);
  std::size_t i = 0;
  while (i < n) {
    if (out.size() >= stop_at) return;
    const std::size_t room = stop_at - out.size();
    const std::size_t run_end = n - i > room ? i + room : n;
    std::size_t j = i;
    while (j < run_end && s[j] >= 0x20 && s[j] < 0x7F && s[j] != '\\' && s[j] != q && !(escape_sq && s[j] == '\''))
      ++j;
    out.append(reinterpret_cast<const char*>(s + i), j - i);
    i = j;
    if (i >= n || out.size() >= stop_at) continue;
    const std::uint8_t c = s[i++];
    switch (c) {
      case '\t': out.append("\\t", 2); break;
      case '\n': out.append("\\n", 2); break;
      case '\r': out.append("\\r", 2); break;
      case '\\': out.append("\\\\", 2); break;
      default:
        if (c == q || (escape_sq && c == '\'')) {
          out.push_back('\\');
          out.push_back(static_cast<char>(c));
        } else {
          out.append("\\x", 2);
          append_hex(out, c, 2);
        }
    }
  }
  out.push_back(quote);
}
}  // namespace

void repr_bytes(std::string& out, const std::uint8_t* s, std::size_t n, std::size_t stop_at) {
  out.push_back('b');
  repr_byte_text(out, s, n, false, stop_at);
}

void repr_bytearray(std::string& out, const std::uint8_t* s, std::size_t n, std::size_t stop_at) {
  out += "bytearray(b";
  repr_byte_text(out, s, n, true, stop_at);
  out.push_back(')');
}

// float_repr -> PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0) (Python/pystrtod.c,
// format_float_short): the shortest digits that round-trip (_Py_dg_dtoa mode 0; std::to_chars
// gives the same shortest-closest digits), then with decpt = exponent + 1:
// decpt <= -4 or decpt > 16 -> d[.ddd]e[+-]XX (at least 2 exponent digits), otherwise fixed
// notation with ".0" appended to integral values.
void repr_float(std::string& out, double d) {
  if (std::isnan(d)) {
    out.append("nan");
    return;
  }
  if (std::isinf(d)) {
    out.append(d < 0 ? "-inf" : "inf");
    return;
  }
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(d), std::chars_format::scientific);
  // buf = "D[.DDDD]e[+-]XX"
  char digits[32];
  int nd = 0;
  const char* q = buf;
  for (; q < res.ptr && *q != 'e'; ++q) {
    if (*q != '.') digits[nd++] = *q;
  }
  int exp10 = 0;
  std::from_chars(q + 1 + (q[1] == '+' ? 1 : 0), res.ptr, exp10);
  const int decpt = exp10 + 1;
  if (std::signbit(d)) out.push_back('-');
  if (decpt <= -4 || decpt > 16) {
    out.push_back(digits[0]);
    if (nd > 1) {
      out.push_back('.');
      out.append(digits + 1, static_cast<std::size_t>(nd - 1));
    }
    out.push_back('e');
    out.push_back(exp10 < 0 ? '-' : '+');
    const int ae = exp10 < 0 ? -exp10 : exp10;
    if (ae < 10) out.push_back('0');
    char eb[8];
    const auto er = std::to_chars(eb, eb + sizeof eb, ae);
    out.append(eb, er.ptr);
  } else if (decpt <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-decpt), '0');
    out.append(digits, static_cast<std::size_t>(nd));
  } else if (decpt < nd) {
    out.append(digits, static_cast<std::size_t>(decpt));
    out.push_back('.');
    out.append(digits + decpt, static_cast<std::size_t>(nd - decpt));
  } else {
    out.append(digits, static_cast<std::size_t>(nd));
    out.append(static_cast<std::size_t>(decpt - nd), '0');
    out.append(".0");
  }
}

// long_to_decimal_string: str(int). Magnitude is converted to base 10**9 limbs with the
// schoolbook method (TAOCP 4.4 method 1b, as CPython does); quadratic in the size.
void bigint_to_decimal(std::string& out, const std::uint8_t* le, std::size_t n) {
  if (n <= 8) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(le[i]) << (8 * i);
    if (n > 0 && n < 8 && (le[n - 1] & 0x80)) v |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    const bool neg = n > 0 && (le[n - 1] & 0x80);
    char buf[24];
    std::size_t pos = 0;
    if (neg) buf[pos++] = '-';
    const std::uint64_t mag = neg ? 0 - v : v;
    const auto r = std::to_chars(buf + pos, buf + sizeof buf, mag);
    out.append(buf, r.ptr);
    return;
  }
  Words w;
  const bool neg = magnitude_of(le, n, w);
  constexpr std::uint32_t base = 1000000000u;
  std::vector<std::uint32_t> limbs;
  limbs.reserve(w.size() * 32 / 29 + 2);  // 2**32 < (10**9)**(32/29.89)
  for (std::size_t i = w.size(); i-- > 0;) {
    // limbs = limbs * 2**32 + w[i]; every t < 10**9 * 2**32 so the carry stays < 2**32.
    std::uint64_t carry = w[i];
    for (auto& limb : limbs) {
      const std::uint64_t t = (static_cast<std::uint64_t>(limb) << 32) | carry;
      carry = t / base;
      limb = static_cast<std::uint32_t>(t - carry * base);
    }
    while (carry) {
      limbs.push_back(static_cast<std::uint32_t>(carry % base));
      carry /= base;
    }
  }
  if (neg) out.push_back('-');
  if (limbs.empty()) {
    out.push_back('0');
    return;
  }
  out.reserve(out.size() + limbs.size() * 9 + 1);
  char buf[16];
  auto r = std::to_chars(buf, buf + sizeof buf, limbs.back());
  out.append(buf, r.ptr);
  for (std::size_t i = limbs.size() - 1; i-- > 0;) {
    std::uint32_t v = limbs[i];
    char nine[9];
    for (int k = 8; k >= 0; --k) {
      nine[k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    out.append(nine, 9);
  }
}

// Exact decimal digit count of |value|. log10 is estimated from the top 64 bits; only when the
// estimate is within rounding error of an integer k is |v| compared with 10**k exactly
// (as floor(|v| / 2**k) >= 5**k).
std::size_t bigint_decimal_digits(const std::uint8_t* le, std::size_t n) {
  Words w;
  magnitude_of(le, n, w);
  if (w.size() <= 2) {
    std::uint64_t m = 0;
    if (!w.empty()) m = w[0];
    if (w.size() == 2) m |= static_cast<std::uint64_t>(w[1]) << 32;
    std::size_t d = 1;
    while (m >= 10) {
      m /= 10;
      ++d;
    }
    return d;
  }
  const std::size_t bits = bit_length(w);  // >= 65
  // Top 64 bits of |v|: (|v| >> shift) with shift = bits - 64.
  const std::size_t shift = bits - 64;
  const std::size_t wi = shift / 32;
  const unsigned bi = static_cast<unsigned>(shift % 32);
  auto word_at = [&](std::size_t idx) -> std::uint64_t { return idx < w.size() ? w[idx] : 0; };
  const std::uint64_t top = bi == 0 ? (word_at(wi) | (word_at(wi + 1) << 32))
                                    : ((word_at(wi) >> bi) | (word_at(wi + 1) << (32 - bi)) |
                                       (word_at(wi + 2) << (64 - bi)));
  const double est = std::log10(static_cast<double>(top)) + static_cast<double>(shift) * 0.30102999566398119521;
  const double eps = 1e-9 + est * 1e-14;
  const double fl = std::floor(est);
  if (est - fl > eps && fl + 1 - est > eps) return static_cast<std::size_t>(fl) + 1;
  const auto k = static_cast<std::size_t>(std::llround(est));
  // 5**k by square-and-multiply.
  Words p5{1};
  for (int b = std::bit_width(k) - 1; b >= 0; --b) {
    p5 = mul(p5, p5);
    if ((k >> b) & 1) mul_add_small(p5, 5, 0);
  }
  // |v| >> k
  Words sh;
  const std::size_t ws = k / 32, bs = k % 32;
  if (ws < w.size()) {
    sh.resize(w.size() - ws);
    for (std::size_t i = 0; i < sh.size(); ++i) {
      std::uint64_t v = w[i + ws] >> bs;
      if (bs && i + ws + 1 < w.size()) v |= static_cast<std::uint64_t>(w[i + ws + 1]) << (32 - bs);
      sh[i] = static_cast<std::uint32_t>(v);
    }
    trim(sh);
  }
  return compare(sh, p5) >= 0 ? k + 1 : k;
}

// ================================================================================================
// integer parsing
// ================================================================================================

// glibc strtol(s, &end, 0) in the C (or any UTF-8) locale: isspace() skip, optional sign,
// "0x"/"0X" followed by a hex digit -> base 16 (a bare "0x" parses as "0" ending at 'x'),
// leading '0' -> base 8, else base 10. Out of range saturates to LONG_MIN/LONG_MAX (ERANGE) but
// still consumes every digit. glibc 2.36 (Debian 12, the CPython 3.11 this mirrors) has no
// "0b" prefix for strtol.
std::int64_t c_strtol_base0(std::string_view s, std::size_t& consumed, bool& overflow) noexcept {
  consumed = 0;
  overflow = false;
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n && ascii_space(static_cast<unsigned char>(s[i]))) ++i;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  unsigned base = 10;
  if (i < n && s[i] == '0') {
    if (i + 2 < n && (s[i + 1] == 'x' || s[i + 1] == 'X') && digit_value(static_cast<unsigned char>(s[i + 2])) < 16) {
      base = 16;
      i += 2;
    } else {
      base = 8;
    }
  }
  const std::uint64_t limit = neg ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 63) - 1;
  const std::uint64_t cutoff = limit / base;
  const auto cutlim = static_cast<unsigned>(limit % base);
  std::uint64_t v = 0;
  const std::size_t start = i;
  while (i < n) {
    const int dv = digit_value(static_cast<unsigned char>(s[i]));
    if (dv >= static_cast<int>(base)) break;
    if (v > cutoff || (v == cutoff && static_cast<unsigned>(dv) > cutlim)) {
      overflow = true;  // keep consuming digits, as strtol does
    } else if (!overflow) {
      v = v * base + static_cast<unsigned>(dv);
    }
    ++i;
  }
  if (i == start) return 0;  // no conversion: endptr = s
  consumed = i;
  if (overflow) return neg ? std::numeric_limits<std::int64_t>::min() : std::numeric_limits<std::int64_t>::max();
  return neg ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
}

std::vector<std::uint8_t> int64_to_le(std::int64_t v) {
  std::vector<std::uint8_t> out;
  if (v == 0) return out;
  const auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(u >> (8 * i)));
  while (out.size() > 1) {
    const std::uint8_t top = out.back(), next = out[out.size() - 2];
    if ((top == 0x00 && !(next & 0x80)) || (top == 0xFF && (next & 0x80))) {
      out.pop_back();
    } else {
      break;
    }
  }
  return out;
}

namespace {

// _PY_LONG_MAX_STR_DIGITS_THRESHOLD (Include/internal/pycore_long.h): the limit is only
// consulted above this many digits.
constexpr std::size_t max_str_digits_threshold = 640;

// PyLong_FromString(str, &end, base) (Objects/longobject.c, 3.11). `s` is read as a C string:
// past the end reads '\0', and no rule ever consumes a NUL, so an embedded NUL ends the text as
// it does in C. `end` receives the offset where parsing stopped on success.
ParseStatus long_from_c_string(std::string_view s, int base, std::size_t max_digits, ParsedInt& out,
                               std::size_t& end) {
  const std::size_t n = s.size();
  auto at = [&](std::size_t i) -> int { return i < n ? static_cast<unsigned char>(s[i]) : 0; };
  if ((base != 0 && base < 2) || base > 36) return ParseStatus::invalid;
  std::size_t i = 0;
  while (at(i) != 0 && ascii_space(at(i))) ++i;
  bool neg = false;
  if (at(i) == '+') {
    ++i;
  } else if (at(i) == '-') {
    ++i;
    neg = true;
  }
  bool error_if_nonzero = false;
  if (base == 0) {
    const int c1 = at(i + 1);
    if (at(i) != '0') {
      base = 10;
    } else if (c1 == 'x' || c1 == 'X') {
      base = 16;
    } else if (c1 == 'o' || c1 == 'O') {
      base = 8;
    } else if (c1 == 'b' || c1 == 'B') {
      base = 2;
    } else {
      // "old" C-style octal literal: only zero is allowed ("00", "0_0").
      error_if_nonzero = true;
      base = 10;
    }
  }
  if (at(i) == '0') {
    const int c1 = at(i + 1);
    if ((base == 16 && (c1 == 'x' || c1 == 'X')) || (base == 8 && (c1 == 'o' || c1 == 'O')) ||
        (base == 2 && (c1 == 'b' || c1 == 'B'))) {
      i += 2;
      if (at(i) == '_') ++i;  // one underscore allowed after the prefix
    }
  }
  if (at(i) == '_') return ParseStatus::invalid;  // may not start with an underscore

  // Scan digits and single underscores (long_from_binary_base and the general path share these
  // rules): "__" and a trailing "_" are errors.
  const std::size_t start = i;
  std::size_t digits = 0;
  int prev = 0;
  while (digit_value(at(i)) < base || at(i) == '_') {
    if (at(i) == '_') {
      if (prev == '_') return ParseStatus::invalid;
    } else {
      ++digits;
    }
    prev = at(i);
    ++i;
  }
  if (prev == '_') return ParseStatus::invalid;
  const std::size_t stop = i;
  const bool pow2 = (base & (base - 1)) == 0;
  // int_max_str_digits applies to non-power-of-two bases, before any other check that follows.
  if (!pow2 && digits > max_str_digits_threshold && max_digits > 0 && digits > max_digits) {
    return ParseStatus::too_many_digits;
  }
  if (stop == start) return ParseStatus::invalid;  // no digits

  // Convert. Values that fit a uint64 (the usual case) never touch the heap.
  Words mag;
  std::uint64_t small = 0;
  bool small_ok = true;  // the value is `small`; else it is `mag`
  const auto ubase = static_cast<unsigned>(base);
  if (pow2) {
    const int bits_per = std::countr_zero(ubase);
    if (digits * static_cast<std::size_t>(bits_per) <= 64) {
      for (std::size_t k = start; k < stop; ++k) {
        if (at(k) != '_') small = (small << bits_per) | static_cast<unsigned>(digit_value(at(k)));
      }
    } else {
      // Linear: pack bits from the least significant digit up (long_from_binary_base).
      small_ok = false;
      mag.reserve(digits * static_cast<std::size_t>(bits_per) / 32 + 1);
      std::uint64_t acc = 0;
      int nacc = 0;
      for (std::size_t k = stop; k-- > start;) {
        const int c = at(k);
        if (c == '_') continue;
        acc |= static_cast<std::uint64_t>(digit_value(c)) << nacc;
        nacc += bits_per;
        if (nacc >= 32) {
          mag.push_back(static_cast<std::uint32_t>(acc));
          acc >>= 32;
          nacc -= 32;
        }
      }
      if (nacc > 0) mag.push_back(static_cast<std::uint32_t>(acc));
      trim(mag);
    }
  } else {
    // Quadratic: uint64 while it fits, then chunks of `per` digits with base**per <= 2**32
    // multiplied into the words.
    unsigned per = 0;
    std::uint64_t pw = 1;
    while (pw * ubase <= 0xFFFFFFFFull) {
      pw *= ubase;
      ++per;
    }
    std::uint32_t chunk = 0, chunk_mul = 1;
    unsigned in_chunk = 0;
    const std::uint64_t cutoff = std::numeric_limits<std::uint64_t>::max() / ubase;
    const auto cutlim = static_cast<unsigned>(std::numeric_limits<std::uint64_t>::max() % ubase);
    for (std::size_t k = start; k < stop; ++k) {
      const int c = at(k);
      if (c == '_') continue;
      const auto dv = static_cast<unsigned>(digit_value(c));
      if (small_ok) {
        if (small < cutoff || (small == cutoff && dv <= cutlim)) {
          small = small * ubase + dv;
          continue;
        }
        small_ok = false;
        mag.reserve(digits * 6 / 32 + 2);  // log2(36) < 6
        mag.push_back(static_cast<std::uint32_t>(small));
        mag.push_back(static_cast<std::uint32_t>(small >> 32));
      }
      chunk = chunk * ubase + dv;
      chunk_mul *= ubase;
      if (++in_chunk == per) {
        mul_add_small(mag, chunk_mul, chunk);
        chunk = 0;
        chunk_mul = 1;
        in_chunk = 0;
      }
    }
    if (!small_ok) {
      if (in_chunk) mul_add_small(mag, chunk_mul, chunk);
      trim(mag);
    }
  }
  const bool is_zero = small_ok ? small == 0 : mag.empty();
  if (error_if_nonzero && !is_zero) return ParseStatus::invalid;
  while (at(i) != 0 && ascii_space(at(i))) ++i;
  if (at(i) != 0) return ParseStatus::invalid;
  end = i;
  if (small_ok) {
    set_result_u64(out, small, neg);
  } else {
    set_result(out, mag, neg);
  }
  return ParseStatus::ok;
}

// _PyUnicode_TransformDecimalAndSpaceToASCII (Objects/unicodeobject.c): code points < 127 are
// kept, other whitespace becomes ' ', Nd digits become '0'..'9', and the first other code point
// becomes '?' and ends the text.
inline int transform_cp(char32_t cp) noexcept {
  if (cp < 127) return static_cast<int>(cp);
  if (is_unicode_space(cp)) return ' ';
  const int d = unicode_decimal_value(cp);
  if (d >= 0) return '0' + d;
  return '?';
}

}  // namespace

ParseStatus parse_py_int(std::string_view s, int base, std::size_t max_digits, ParsedInt& out) {
  std::size_t end = 0;
  return long_from_c_string(s, base, max_digits, out, end);
}

// _PyLong_FromBytes: PyLong_FromString must stop exactly at the end (an embedded NUL is an error).
ParseStatus parse_int_from_bytes(std::string_view bytes, int base, std::size_t max_digits, ParsedInt& out) {
  std::size_t end = 0;
  ParsedInt tmp;
  const ParseStatus st = long_from_c_string(bytes, base, max_digits, tmp, end);
  if (st != ParseStatus::ok) return st;
  if (end != bytes.size()) return ParseStatus::invalid;
  out = std::move(tmp);
  return ParseStatus::ok;
}

// PyLong_FromUnicodeObject: transform, then as for bytes.
ParseStatus parse_int_from_str(std::string_view utf8, int base, std::size_t max_digits, ParsedInt& out) {
  if (is_ascii(reinterpret_cast<const std::uint8_t*>(utf8.data()), utf8.size())) {
    return parse_int_from_bytes(utf8, base, max_digits, out);
  }
  std::string ascii;
  ascii.reserve(utf8.size());
  std::size_t i = 0;
  while (i < utf8.size()) {
    char32_t cp;
    i += decode_utf8(utf8.data() + i, utf8.size() - i, cp);
    const int c = transform_cp(cp);
    ascii.push_back(static_cast<char>(c));
    if (c == '?' && cp != '?') break;
  }
  return parse_int_from_bytes(ascii, base, max_digits, out);
}

// ================================================================================================
// float parsing
// ================================================================================================
namespace {

// A forward character source over NUL-free text (C strings end at the first NUL).
struct CSource {
  const char* p;
  const char* end;
  int peek() const noexcept { return p < end ? static_cast<unsigned char>(*p) : -1; }
  void bump() noexcept { ++p; }
  bool at_end() const noexcept { return p >= end; }
};

// float(): characters after the Unicode transform (if `unicode`), with the (already validated)
// underscores of _Py_string_to_number_with_underscores removed.
struct PySource {
  const char* s;
  std::size_t n;
  bool unicode;
  std::size_t pos = 0;   // start of the current character
  std::size_t next = 0;  // start of the one after
  int cur = -1;

  PySource(const char* s_, std::size_t n_, bool unicode_) noexcept : s(s_), n(n_), unicode(unicode_) { load(); }
  void load() noexcept {
    for (;;) {
      if (pos >= n) {
        cur = -1;
        return;
      }
      int c;
      std::size_t len = 1;
      const auto b = static_cast<unsigned char>(s[pos]);
      if (b < 0x80 || !unicode) {
        c = b < 0x80 ? b : '?';
      } else {
        char32_t cp;
        len = decode_utf8(s + pos, n - pos, cp);
        c = transform_cp(cp);
      }
      if (c == '_') {
        pos += len;
        continue;
      }
      cur = c;
      next = pos + len;
      return;
    }
  }
  int peek() const noexcept { return cur; }
  void bump() noexcept {
    pos = next;
    load();
  }
  bool at_end() const noexcept { return cur < 0; }
};

struct StrtodResult {
  bool parsed = false;    // something was consumed
  bool overflow = false;  // ERANGE with |x| >= 1 (the result is +-inf)
  double value = 0.0;
};

inline int lower(int c) noexcept { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

template <class Src>
bool match_ci(Src& src, const char* word) noexcept {
  Src probe = src;
  for (const char* w = word; *w; ++w) {
    if (lower(probe.peek()) != *w) return false;
    probe.bump();
  }
  src = probe;
  return true;
}

// _PyOS_ascii_strtod (Python/pystrtod.c) = _Py_dg_strtod (Python/dtoa.c), then, if nothing was
// consumed, _Py_parse_inf_or_nan. Grammar: [+-] digits [. digits] [(e|E) [+-] digits] with at
// least one mantissa digit ("." and "e5" fail, "5." and ".5" are fine); an exponent without
// digits is not consumed ("1e" parses "1"); no whitespace, no hex, no underscores. inf/infinity/nan
// in any case with optional sign; "-nan" is the NaN with the sign bit set (_Py_dg_stdnan).
// The value is correctly rounded (both dtoa and std::from_chars round correctly).
template <class Src>
StrtodResult strtod_core(Src& src) noexcept {
  StrtodResult r;
  const Src start = src;
  bool neg = false;
  if (src.peek() == '-' || src.peek() == '+') {
    neg = src.peek() == '-';
    src.bump();
  }
  // Significant digits: keep the first kKeep; beyond that only remember whether any was nonzero
  // (a "sticky" digit keeps the rounding exact: a binary64 midpoint has at most 767 significant
  // decimal digits).
  constexpr std::size_t kKeep = 800;
  char buf[kKeep + 2 + 32];
  std::size_t nd = 0;
  bool sticky = false;
  std::int64_t exp10 = 0;  // value = digits * 10**exp10
  bool lz = false;
  std::size_t ndigits = 0, fraclen = 0;  // as counted by _Py_dg_strtod for its MAX_DIGITS check
  while (src.peek() == '0') {
    lz = true;
    src.bump();
  }
  while (is_digit(src.peek())) {
    const char c = static_cast<char>(src.peek());
    if (nd < kKeep) {
      buf[nd++] = c;
    } else {
      sticky |= c != '0';
      ++exp10;
    }
    ++ndigits;
    src.bump();
  }
  if (src.peek() == '.') {
    src.bump();
    while (is_digit(src.peek())) {
      const char c = static_cast<char>(src.peek());
      if (nd == 0 && c == '0') {
        lz = true;  // leading fraction zeros ("0.001") are not counted in ndigits
        --exp10;
      } else {
        if (nd < kKeep) {
          buf[nd++] = c;
          --exp10;
        } else {
          sticky |= c != '0';
        }
        ++ndigits;
      }
      ++fraclen;
      src.bump();
    }
  }
  constexpr std::size_t max_digits = 1000000000u;  // dtoa.c MAX_DIGITS
  if ((ndigits == 0 && !lz) || ndigits > max_digits || fraclen > max_digits) {
    // Nothing parsed by dtoa: try inf/nan from the very start (sign included).
    src = start;
    bool sneg = false;
    if (src.peek() == '-' || src.peek() == '+') {
      sneg = src.peek() == '-';
      src.bump();
    }
    if (match_ci(src, "inf")) {
      match_ci(src, "inity");
      r.parsed = true;
      r.value = sneg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      return r;
    }
    if (match_ci(src, "nan")) {
      r.parsed = true;
      r.value = std::copysign(std::numeric_limits<double>::quiet_NaN(), sneg ? -1.0 : 1.0);
      return r;
    }
    src = start;
    return r;
  }
  r.parsed = true;
  if (src.peek() == 'e' || src.peek() == 'E') {
    Src save = src;
    src.bump();
    bool eneg = false;
    if (src.peek() == '-' || src.peek() == '+') {
      eneg = src.peek() == '-';
      src.bump();
    }
    bool any = false;
    std::int64_t e = 0;
    while (is_digit(src.peek())) {
      any = true;
      if (e < 10000000000LL) e = e * 10 + (src.peek() - '0');  // saturate: far beyond any range
      src.bump();
    }
    if (any) {
      exp10 += eneg ? -e : e;
    } else {
      src = save;  // "A valid exponent must have at least one digit."
    }
  }
  if (sticky) {
    buf[nd++] = '1';
    --exp10;
  }
  // Strip trailing zeros (they only move the exponent).
  while (nd > 0 && buf[nd - 1] == '0') {
    --nd;
    ++exp10;
  }
  const double inf = std::numeric_limits<double>::infinity();
  double mag;
  if (nd == 0) {
    mag = 0.0;
  } else {
    const std::int64_t adjusted = exp10 + static_cast<std::int64_t>(nd);  // value < 10**adjusted
    if (adjusted > 310) {
      mag = inf;
      r.overflow = true;
    } else if (adjusted < -330) {
      mag = 0.0;  // underflow (ERANGE, but |x| < 1 so PyOS_string_to_double does not raise)
    } else {
      std::size_t len = nd;
      buf[len++] = 'e';
      const auto er = std::to_chars(buf + len, buf + sizeof buf, exp10);
      len = static_cast<std::size_t>(er.ptr - buf);
      double v = 0.0;
      const auto fr = std::from_chars(buf, buf + len, v);
      if (fr.ec == std::errc::result_out_of_range) {
        if (adjusted > 0) {
          mag = inf;
          r.overflow = true;
        } else {
          mag = 0.0;
        }
      } else {
        mag = v;
      }
    }
  }
  r.value = neg ? -mag : mag;
  return r;
}

// _Py_string_to_number_with_underscores: an underscore must sit between two digits (checked on
// the transformed characters, over the whole text).
bool underscores_ok(const char* s, std::size_t n, bool unicode) noexcept {
  if (n == 0 || std::memchr(s, '_', n) == nullptr) return true;
  int prev = 0;
  std::size_t i = 0;
  while (i < n) {
    int c;
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80 || !unicode) {
      c = b < 0x80 ? b : '?';
      ++i;
    } else {
      char32_t cp;
      i += decode_utf8(s + i, n - i, cp);
      c = transform_cp(cp);
    }
    if (c == '_') {
      if (!is_digit(prev)) return false;
    } else if (prev == '_' && !is_digit(c)) {
      return false;
    }
    prev = c;
  }
  return prev != '_';
}

// float_from_string_inner (Objects/floatobject.c): strip Py_ISSPACE both sides, then the whole
// rest must be one PyOS_string_to_double(s, &end, NULL) (overflow -> inf, no error).
FloatStatus py_float(std::string_view s, double& out, bool unicode) noexcept {
  if (!underscores_ok(s.data(), s.size(), unicode)) return FloatStatus::invalid;
  PySource src(s.data(), s.size(), unicode);
  while (ascii_space(src.peek())) src.bump();
  if (src.at_end()) return FloatStatus::invalid;
  const StrtodResult r = strtod_core(src);
  if (!r.parsed) return FloatStatus::invalid;
  while (ascii_space(src.peek())) src.bump();
  if (!src.at_end()) return FloatStatus::invalid;
  out = r.value;
  return FloatStatus::ok;
}

}  // namespace

// load_float (Modules/_pickle.c): PyOS_string_to_double(s, &endptr, PyExc_OverflowError), then
// endptr must be at '\n' or '\0'. PyOS_string_to_double raises ValueError when nothing was
// parsed and OverflowError when the (prefix) value overflowed, before endptr is looked at.
FloatStatus parse_c_float(std::string_view s, double& out) noexcept {
  const std::size_t nul = s.find('\0');
  if (nul != std::string_view::npos) s = s.substr(0, nul);
  CSource src{s.data(), s.data() + s.size()};
  const StrtodResult r = strtod_core(src);
  if (!r.parsed) return FloatStatus::invalid;
  if (r.overflow) return FloatStatus::overflow;
  if (!src.at_end()) return FloatStatus::invalid;
  out = r.value;
  return FloatStatus::ok;
}

FloatStatus parse_py_float(std::string_view s, double& out) noexcept { return py_float(s, out, true); }

FloatStatus parse_py_float_bytes(std::string_view s, double& out) noexcept { return py_float(s, out, false); }

// ================================================================================================
// escape codecs
// ================================================================================================

// _PyBytes_DecodeEscape (Objects/bytesobject.c) with errors=NULL (strict), as codecs.escape_decode
// and load_string use it: \<newline> is dropped; \\ \' \" \a \b \f \n \r \t \v; \ooo (1-3 octal
// digits, value taken mod 256 -- 3.11 only warns about > 0o377); \xhh needs exactly two hex
// digits, else ValueError "invalid \x escape at position N" with N the offset of the backslash;
// any other escape is kept verbatim with its backslash (a DeprecationWarning in 3.11); a lone
// trailing backslash is ValueError "Trailing \ in string" (error_pos = its offset).
EscapeStatus escape_decode(std::string_view s, std::string& out, std::size_t& error_pos) {
  const char* p = s.data();
  const std::size_t n = s.size();
  out.reserve(out.size() + n);
  std::size_t i = 0;
  while (i < n) {
    const void* bs = std::memchr(p + i, '\\', n - i);
    const std::size_t j = bs ? static_cast<std::size_t>(static_cast<const char*>(bs) - p) : n;
    out.append(p + i, j - i);
    if (j >= n) break;
    i = j + 1;
    if (i >= n) {
      error_pos = j;
      return EscapeStatus::trailing_backslash;
    }
    const char c = p[i++];
    switch (c) {
      case '\n': break;
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 'v': out.push_back('\v'); break;
      case 'a': out.push_back('\a'); break;
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        unsigned v = static_cast<unsigned>(c - '0');
        for (int k = 0; k < 2 && i < n && p[i] >= '0' && p[i] <= '7'; ++k) v = v * 8 + static_cast<unsigned>(p[i++] - '0');
        out.push_back(static_cast<char>(v & 0xFF));
        break;
      }
      case 'x': {
        if (i + 1 < n) {
          const int d1 = digit_value(static_cast<unsigned char>(p[i]));
          const int d2 = digit_value(static_cast<unsigned char>(p[i + 1]));
          if (d1 < 16 && d2 < 16) {
            out.push_back(static_cast<char>((d1 << 4) | d2));
            i += 2;
            break;
          }
        }
        error_pos = j;
        return EscapeStatus::bad_x_escape;
      }
      default:
        out.push_back('\\');
        --i;  // the character after the backslash is copied as ordinary text
    }
  }
  return EscapeStatus::ok;
}

// _PyUnicode_DecodeRawUnicodeEscapeStateful (Objects/unicodeobject.c) with consumed=NULL,
// errors strict: every byte is the code point of the same value (latin-1) except that a
// backslash followed by 'u' (4 hex digits) or 'U' (8 hex digits, <= 0x10FFFF) is an escape. A
// backslash followed by anything else is kept together with that character (so "\\\\u0041"
// stays literal: \u is only an escape after an odd number of backslashes); a trailing backslash
// is kept. Errors: "truncated \uXXXX escape" / "truncated \UXXXXXXXX escape" (missing or non-hex
// digit), "\Uxxxxxxxx out of range"; error_pos = offset of the backslash.
EscapeStatus raw_unicode_escape_decode(std::string_view s, std::string& out, std::size_t& error_pos) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(s.data());
  const std::size_t n = s.size();
  out.reserve(out.size() + n);
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    while (j < n && p[j] < 0x80 && p[j] != '\\') ++j;
    out.append(s.data() + i, j - i);
    i = j;
    if (i >= n) break;
    const std::uint8_t c = p[i++];
    if (c != '\\' || i >= n) {
      append_utf8(out, c);
      continue;
    }
    const std::size_t startpos = i - 1;
    const std::uint8_t c2 = p[i];
    int count;
    EscapeStatus trunc;
    if (c2 == 'u') {
      count = 4;
      trunc = EscapeStatus::truncated_u_escape;
    } else if (c2 == 'U') {
      count = 8;
      trunc = EscapeStatus::truncated_U_escape;
    } else {
      out.push_back('\\');
      append_utf8(out, c2);
      ++i;
      continue;
    }
    ++i;
    char32_t ch = 0;
    for (; count > 0; --count, ++i) {
      if (i >= n) {
        error_pos = startpos;
        return trunc;
      }
      const int d = digit_value(p[i]);
      if (d >= 16) {
        error_pos = startpos;
        return trunc;
      }
      ch = (ch << 4) | static_cast<char32_t>(d);
    }
    if (ch > 0x10FFFF) {
      error_pos = startpos;
      return EscapeStatus::U_out_of_range;
    }
    append_utf8(out, ch);
  }
  return EscapeStatus::ok;
}

// raw_unicode_escape() in Modules/_pickle.c (the C pickler, protocol 0 UNICODE): code points
// >= 0x10000 -> \UXXXXXXXX; >= 0x100 and \\ \0 \n \r \x1a -> \uXXXX; everything else the single
// latin-1 byte. Lower-case hex. The output is bytes (not UTF-8).
void raw_unicode_escape_encode_for_pickle(std::string& out, std::string_view utf8) {
  const char* p = utf8.data();
  const std::size_t n = utf8.size();
  out.reserve(out.size() + n);
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i;
    while (j < n) {
      const auto c = static_cast<unsigned char>(p[j]);
      if (c >= 0x80 || c == '\\' || c == 0 || c == '\n' || c == '\r' || c == 0x1A) break;
      ++j;
    }
    out.append(p + i, j - i);
    i = j;
    if (i >= n) break;
    char32_t cp;
    i += decode_utf8(p + i, n - i, cp);
    if (cp >= 0x10000) {
      out.append("\\U", 2);
      append_hex(out, cp, 8);
    } else if (cp >= 0x100 || cp == '\\' || cp == 0 || cp == '\n' || cp == '\r' || cp == 0x1A) {
      out.append("\\u", 2);
      append_hex(out, cp, 4);
    } else {
      out.push_back(static_cast<char>(cp));
    }
  }
}

}  // namespace brine::detail
