// brine::disassemble: the text of CPython 3.11's pickletools.dis, byte for byte.
//
// Model (facts from Lib/pickletools.py, 3.11):
//  * genops reads an opcode byte and then its argument with pickletools' own readers (read_*),
//    which are NOT the C unpickler's parsers: e.g. INT/LONG/FLOAT use Python's int(bytes) and
//    float(bytes), STRING/PERSID/GLOBAL run codecs.escape_decode and then decode as ASCII, UNICODE
//    decodes raw-unicode-escape, the counted unicode strings decode UTF-8 with 'surrogatepass'.
//    A reader error raises before anything is printed for that opcode.
//  * dis then prints "%5d: " (the offset), emulates MARK matching (which can raise IndexError
//    when an earlier opcode popped a MARK as a plain item), checks the memo, formats the line
//    (repr(arg) can raise for an int of more than 4300 digits), prints it, and only then raises
//    a deferred sanity-check error; finally it applies the stack effects of the opcode table,
//    which can raise "tries to pop ...".
//  * After STOP: "highest protocol among opcodes = N" (N = the highest opcode.proto, not the
//    PROTO argument), then "stack not empty after STOP: [...]" if anything is left.
//
// Memory: all state (stack, MARK positions, memo) grows by at most one entry per opcode byte of
// input; a declared length is never allocated before the bytes are there (streams grow their
// window only as data arrives). No recursion.
#include "brine/dis.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "brine/opcodes.hpp"
#include "input.hpp"
#include "pytext.hpp"
#include "source.hpp"

namespace brine {

// ---- DisMemo ---------------------------------------------------------------------------------------

namespace detail {
// pickletools' memo: a dict from Python int keys to the stack object stored. Keys that fit int64
// are kept as such; others (PUT/GET with a huge decimal argument) by their decimal text.
struct DisMemoData {
  std::unordered_map<std::int64_t, StackKind> small;
  std::unordered_map<std::string, StackKind> big;
  std::size_t size() const noexcept { return small.size() + big.size(); }
};
}  // namespace detail

struct DisMemo::Impl : detail::DisMemoData {};

DisMemo::DisMemo() : impl_(std::make_unique<Impl>()) {}
DisMemo::DisMemo(DisMemo&&) noexcept = default;
DisMemo& DisMemo::operator=(DisMemo&&) noexcept = default;
DisMemo::~DisMemo() = default;
std::size_t DisMemo::size() const noexcept { return impl_ ? impl_->size() : 0; }
void DisMemo::clear() noexcept {
  if (impl_) {
    impl_->small.clear();
    impl_->big.clear();
  }
}

namespace detail {
namespace {

// A pickletools exception: its message (str(exc)) and the brine error code it maps to.
struct DisFailure {
  errc code;
  std::string message;
};

[[noreturn]] void fail(errc code, std::string message) { throw DisFailure{code, std::move(message)}; }

// CPython's default sys.get_int_max_str_digits().
constexpr std::size_t k_max_str_digits = 4300;
// sys.maxsize on 64-bit CPython.
constexpr std::uint64_t k_py_ssize_max = 0x7fffffffffffffffull;

const char k_hex[] = "0123456789abcdef";

void append_u64(std::string& s, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}

void append_i64(std::string& s, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}

std::string u64_str(std::uint64_t v) {
  std::string s;
  append_u64(s, v);
  return s;
}

std::string bytes_repr(std::string_view b) {
  std::string s;
  repr_bytes(s, reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
  return s;
}

// ---- Python error messages --------------------------------------------------------------------------

// str(UnicodeDecodeError): one byte -> "byte 0xNN in position P", else "bytes in position S-E".
std::string decode_error_message(std::string_view codec, const std::uint8_t* obj, std::size_t start,
                                 std::size_t end, std::string_view reason) {
  std::string m = "'";
  m.append(codec);
  m += "' codec can't decode ";
  if (end == start + 1) {
    m += "byte 0x";
    m += k_hex[obj[start] >> 4];
    m += k_hex[obj[start] & 15];
    m += " in position ";
    append_u64(m, start);
  } else {
    m += "bytes in position ";
    append_u64(m, start);
    m += '-';
    append_u64(m, end - 1);
  }
  m += ": ";
  m.append(reason);
  return m;
}

inline bool is_cont(std::uint8_t b) noexcept { return (b & 0xC0) == 0x80; }

// The first error of bytes.decode('utf-8', 'surrogatepass') (CPython's UTF-8 decoder in
// Objects/stringlib/codecs.h plus PyCodec_SurrogatePassErrors): returns false if the data
// decodes, else the error range [start, end) and its reason.
bool find_utf8_error(const std::uint8_t* p, std::size_t n, std::size_t& start, std::size_t& end,
                     const char*& reason) {
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t left = n - i;
    std::size_t bad = 0;  // 0: ok; else length of the error range (or npos: up to the end)
    constexpr std::size_t to_end = static_cast<std::size_t>(-1);
    std::size_t len = 0;
    if (c < 0xC2) {
      bad = 1;
    } else if (c < 0xE0) {
      if (left < 2) {
        bad = to_end;
      } else if (!is_cont(p[i + 1])) {
        bad = 1;
      } else {
        len = 2;
      }
    } else if (c < 0xF0) {
      if (left < 3) {
        if (left < 2) {
          bad = to_end;
        } else {
          const std::uint8_t c2 = p[i + 1];
          bad = (!is_cont(c2) || (c2 < 0xA0 ? c == 0xE0 : c == 0xED)) ? 1 : to_end;
        }
      } else {
        const std::uint8_t c2 = p[i + 1], c3 = p[i + 2];
        if (!is_cont(c2) || (c == 0xE0 && c2 < 0xA0) || (c == 0xED && c2 >= 0xA0)) {
          bad = 1;
        } else if (!is_cont(c3)) {
          bad = 2;
        } else {
          len = 3;
        }
      }
    } else if (c < 0xF5) {
      if (left < 4) {
        if (left < 2) {
          bad = to_end;
        } else {
          const std::uint8_t c2 = p[i + 1];
          if (!is_cont(c2) || (c2 < 0x90 ? c == 0xF0 : c == 0xF4)) {
            bad = 1;
          } else if (left < 3) {
            bad = to_end;
          } else {
            bad = is_cont(p[i + 2]) ? to_end : 2;
          }
        }
      } else {
        const std::uint8_t c2 = p[i + 1];
        if (!is_cont(c2) || (c == 0xF0 && c2 < 0x90) || (c == 0xF4 && c2 >= 0x90)) {
          bad = 1;
        } else if (!is_cont(p[i + 2])) {
          bad = 2;
        } else if (!is_cont(p[i + 3])) {
          bad = 3;
        } else {
          len = 4;
        }
      }
    } else {
      bad = 1;
    }
    if (bad == 0) {
      i += len;
      continue;
    }
    // surrogatepass: a 3-byte encoding of U+D800..U+DFFF at the error position is accepted.
    if (left >= 3 && c == 0xED && p[i + 1] >= 0xA0 && p[i + 1] <= 0xBF && is_cont(p[i + 2])) {
      i += 3;
      continue;
    }
    start = i;
    if (bad == to_end) {
      end = n;
      reason = "unexpected end of data";
    } else {
      end = i + bad;
      reason = c < 0xC2 || c >= 0xF5 ? "invalid start byte" : "invalid continuation byte";
    }
    return true;
  }
  return false;
}

// ValueError of int(bytes) (_PyLong_FromBytes): "%.200R" of the first 200 bytes.
std::string invalid_int_literal(std::string_view s) {
  std::string r = bytes_repr(s.substr(0, std::min<std::size_t>(s.size(), 200)));
  if (r.size() > 200) r.resize(200);
  return "invalid literal for int() with base 10: " + r;
}

// The digit count PyLong_FromString reports when int_max_str_digits is exceeded: leading ASCII
// whitespace and a sign are skipped, then digits (and single underscores) are counted up to the
// first other character (the text is read as a C string).
std::size_t count_int_digits(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) ++i;
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t digits = 0;
  for (; i < n; ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      ++digits;
    } else if (s[i] != '_') {
      break;
    }
  }
  return digits;
}

std::string digit_limit_to_int(std::size_t digits) {
  return "Exceeds the limit (" + u64_str(k_max_str_digits) +
         " digits) for integer string conversion: value has " + u64_str(digits) +
         " digits; use sys.set_int_max_str_digits() to increase the limit";
}

std::string digit_limit_to_str() {
  return "Exceeds the limit (" + u64_str(k_max_str_digits) +
         " digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit";
}

// ---- decoded arguments ----------------------------------------------------------------------------

// A memo key (a Python int; bools count as 0 and 1, as in a dict).
struct Key {
  bool big = false;
  std::int64_t small = 0;
  std::string dec;  // decimal text when big
};

struct Arg {
  bool present = false;
  std::string repr;        // repr(arg)
  std::string repr_error;  // non-empty: repr(arg) raises ValueError with this message
  Key key;                 // the value as a memo key (integer arguments)
};

void set_small_int(Arg& a, std::int64_t v) {
  a.present = true;
  append_i64(a.repr, v);
  a.key.small = v;
}

void set_parsed_int(Arg& a, const ParsedInt& v) {
  a.present = true;
  if (v.is_small) {
    append_i64(a.repr, v.small);
    a.key.small = v.small;
    return;
  }
  bigint_to_decimal(a.repr, v.big.data(), v.big.size());
  // A ParsedInt is "big" only beyond int64, but stay canonical whatever it says.
  std::int64_t s = 0;
  const auto r = std::from_chars(a.repr.data(), a.repr.data() + a.repr.size(), s);
  if (r.ec == std::errc() && r.ptr == a.repr.data() + a.repr.size()) {
    a.key.small = s;
  } else {
    a.key.big = true;
    a.key.dec = a.repr;
  }
}

// repr(decode_long(data)): little-endian two's complement of any length.
void set_long(Arg& a, const std::uint8_t* le, std::size_t n) {
  a.present = true;
  // Drop redundant sign bytes to find the magnitude's size.
  while (n > 1 && ((le[n - 1] == 0x00 && !(le[n - 2] & 0x80)) || (le[n - 1] == 0xFF && (le[n - 2] & 0x80)))) --n;
  if (n == 1 && le[0] == 0) n = 0;
  // 10**4300 < 2**14285: with more than 1800 significant bytes |v| >= 2**14391 has > 4300 digits.
  if (n > 1800) {
    a.repr_error = digit_limit_to_str();
    return;
  }
  std::string text;
  bigint_to_decimal(text, le, n);
  const std::size_t digits = text.size() - (!text.empty() && text[0] == '-' ? 1 : 0);
  if (digits > k_max_str_digits) {
    a.repr_error = digit_limit_to_str();
    return;
  }
  a.repr = std::move(text);
}

// ---- reading the input (f.read / f.readline semantics) --------------------------------------------

// f.read(n): up to n bytes (fewer only at the end of the input). For streams, reads on demand;
// the window grows only as bytes arrive.
const std::uint8_t* read_up_to(Cursor& c, std::uint64_t n, std::uint64_t& got) {
  if (c.available() < n && !c.complete()) {
    try {
      c.require(static_cast<std::size_t>(std::min<std::uint64_t>(n, std::numeric_limits<std::size_t>::max())));
    } catch (const ReadFailure& f) {
      if (f.code != errc::truncated) throw;
    }
  }
  got = std::min<std::uint64_t>(n, c.available());
  return c.take(static_cast<std::size_t>(got));
}

// Exactly n bytes of a fixed-size argument ("not enough data in stream to read uint4").
const std::uint8_t* read_fixed(Cursor& c, std::size_t n, const char* what) {
  std::uint64_t got = 0;
  const std::uint8_t* p = read_up_to(c, n, got);
  if (got != n) fail(errc::truncated, std::string("not enough data in stream to read ") + what);
  return p;
}

std::uint64_t le_uint(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

std::uint64_t read_uint(Cursor& c, int n, const char* what) { return le_uint(read_fixed(c, static_cast<std::size_t>(n), what), n); }

std::int64_t read_int4(Cursor& c) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(read_uint(c, 4, "int4")));
}

// The payload of a counted argument ("expected N bytes in a bytes4, but only M remain").
const std::uint8_t* read_counted(Cursor& c, std::uint64_t n, const char* what) {
  std::uint64_t got = 0;
  const std::uint8_t* p = read_up_to(c, n, got);
  if (got != n) {
    fail(errc::truncated, "expected " + u64_str(n) + " bytes in a " + what + ", but only " + u64_str(got) +
                              " remain");
  }
  return p;
}

// f.readline() that must end with '\n'; returns the line without it.
std::string_view read_nl(Cursor& c, const char* what) {
  try {
    return c.line();
  } catch (const ReadFailure& f) {
    if (f.code != errc::truncated) throw;
  }
  fail(errc::truncated, std::string("no newline found when trying to read ") + what);
}

// read_stringnl(f, decode=True, stripquotes): the text (ASCII) after quote stripping and
// codecs.escape_decode.
std::string decode_stringnl(std::string_view data, bool stripquotes) {
  if (stripquotes) {
    bool found = false;
    for (const char q : {'"', '\''}) {
      if (!data.empty() && data.front() == q) {
        if (data.back() != q) {
          fail(errc::bad_argument, "strinq quote " + bytes_repr(std::string_view(&q, 1)) +
                                       " not found at both ends of " + bytes_repr(data));
        }
        data = data.size() >= 2 ? data.substr(1, data.size() - 2) : std::string_view();
        found = true;
        break;
      }
    }
    if (!found) fail(errc::bad_argument, "no string quotes around " + bytes_repr(data));
  }
  std::string out;
  std::size_t epos = 0;
  switch (escape_decode(data, out, epos)) {
    case EscapeStatus::ok: break;
    case EscapeStatus::trailing_backslash: fail(errc::bad_argument, "Trailing \\ in string");
    case EscapeStatus::bad_x_escape:
      fail(errc::bad_argument, "invalid \\x escape at position " + u64_str(epos));
    default: fail(errc::bad_argument, "invalid escape");
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (static_cast<unsigned char>(out[i]) >= 0x80) {
      fail(errc::unicode_error,
           decode_error_message("ascii", reinterpret_cast<const std::uint8_t*>(out.data()), i, i + 1,
                                "ordinal not in range(128)"));
    }
  }
  return out;
}

// str(data, 'raw-unicode-escape') as UTF-8 (with surrogates).
std::string decode_raw_unicode_escape(std::string_view data) {
  std::string out;
  std::size_t start = 0;
  const EscapeStatus st = raw_unicode_escape_decode(data, out, start);
  if (st == EscapeStatus::ok) return out;
  // The error range ends where decoding stopped: at the first non-hex digit (or the end) for a
  // truncated escape, after the 8 digits for one out of range.
  std::size_t end = start + 10;
  const char* reason = "\\Uxxxxxxxx out of range";
  if (st == EscapeStatus::truncated_u_escape || st == EscapeStatus::truncated_U_escape) {
    reason = st == EscapeStatus::truncated_u_escape ? "truncated \\uXXXX escape" : "truncated \\UXXXXXXXX escape";
    std::size_t count = st == EscapeStatus::truncated_u_escape ? 4 : 8;
    end = start + 2;
    auto hex = [](char ch) {
      return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    };
    while (count > 0 && end < data.size() && hex(data[end])) {
      ++end;
      --count;
    }
  } else if (st != EscapeStatus::U_out_of_range) {
    reason = "malformed escape";
    end = start + 1;
  }
  end = std::min(end, data.size());
  fail(errc::unicode_error, decode_error_message("rawunicodeescape", reinterpret_cast<const std::uint8_t*>(data.data()),
                                                 start, end, reason));
}

void set_utf8_text(Arg& a, const std::uint8_t* p, std::size_t n) {
  std::size_t start = 0, end = 0;
  const char* reason = nullptr;
  if (find_utf8_error(p, n, start, end, reason)) {
    fail(errc::unicode_error, decode_error_message("utf-8", p, start, end, reason));
  }
  a.present = true;
  repr_str(a.repr, std::string_view(reinterpret_cast<const char*>(p), n));
}

// int(bytes) for INT/GET/PUT/LONG.
void parse_int_arg(Arg& a, std::string_view s) {
  ParsedInt v;
  switch (parse_int_from_bytes(s, 10, k_max_str_digits, v)) {
    case ParseStatus::ok: set_parsed_int(a, v); return;
    case ParseStatus::too_many_digits: fail(errc::limit_exceeded, digit_limit_to_int(count_int_digits(s)));
    case ParseStatus::invalid: break;
  }
  fail(errc::bad_argument, invalid_int_literal(s));
}

// Reads and decodes the inline argument of `op` as pickletools' reader for its kind does.
void read_arg(Cursor& c, const OpcodeInfo& op, Arg& a) {
  switch (op.arg) {
    case ArgKind::none: return;
    case ArgKind::uint1: set_small_int(a, static_cast<std::int64_t>(read_uint(c, 1, "uint1"))); return;
    case ArgKind::uint2: set_small_int(a, static_cast<std::int64_t>(read_uint(c, 2, "uint2"))); return;
    case ArgKind::int4: set_small_int(a, read_int4(c)); return;
    case ArgKind::uint4: set_small_int(a, static_cast<std::int64_t>(read_uint(c, 4, "uint4"))); return;
    case ArgKind::uint8: {
      const std::uint64_t v = read_uint(c, 8, "uint8");
      a.present = true;
      append_u64(a.repr, v);
      return;  // never a memo key
    }
    case ArgKind::float8: {
      const std::uint8_t* p = read_fixed(c, 8, "float8");
      std::uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
      double d;
      std::memcpy(&d, &bits, sizeof d);
      a.present = true;
      repr_float(a.repr, d);
      return;
    }
    case ArgKind::long1: {
      const std::uint64_t n = read_uint(c, 1, "uint1");
      std::uint64_t got = 0;
      const std::uint8_t* p = read_up_to(c, n, got);
      if (got != n) fail(errc::truncated, "not enough data in stream to read long1");
      set_long(a, p, static_cast<std::size_t>(n));
      return;
    }
    case ArgKind::long4: {
      const std::int64_t n = read_int4(c);
      if (n < 0) fail(errc::bad_argument, "long4 byte count < 0: " + std::to_string(n));
      std::uint64_t got = 0;
      const std::uint8_t* p = read_up_to(c, static_cast<std::uint64_t>(n), got);
      if (got != static_cast<std::uint64_t>(n)) fail(errc::truncated, "not enough data in stream to read long4");
      set_long(a, p, static_cast<std::size_t>(n));
      return;
    }
    case ArgKind::string1:
    case ArgKind::string4: {
      std::uint64_t n;
      const char* what;
      if (op.arg == ArgKind::string1) {
        n = read_uint(c, 1, "uint1");
        what = "string1";
      } else {
        const std::int64_t sn = read_int4(c);
        if (sn < 0) fail(errc::bad_argument, "string4 byte count < 0: " + std::to_string(sn));
        n = static_cast<std::uint64_t>(sn);
        what = "string4";
      }
      const std::uint8_t* p = read_counted(c, n, what);
      std::string text;  // data.decode("latin-1")
      latin1_to_utf8(text, p, static_cast<std::size_t>(n));
      a.present = true;
      repr_str(a.repr, text);
      return;
    }
    case ArgKind::bytes1:
    case ArgKind::bytes4:
    case ArgKind::bytes8:
    case ArgKind::bytearray8: {
      std::uint64_t n;
      const char* what;
      switch (op.arg) {
        case ArgKind::bytes1: n = read_uint(c, 1, "uint1"); what = "bytes1"; break;
        case ArgKind::bytes4: n = read_uint(c, 4, "uint4"); what = "bytes4"; break;
        case ArgKind::bytes8: n = read_uint(c, 8, "uint8"); what = "bytes8"; break;
        default: n = read_uint(c, 8, "uint8"); what = "bytearray8"; break;
      }
      if (n > k_py_ssize_max) fail(errc::bad_argument, std::string(what) + " byte count > sys.maxsize: " + u64_str(n));
      const std::uint8_t* p = read_counted(c, n, what);
      a.present = true;
      if (op.arg == ArgKind::bytearray8) {
        repr_bytearray(a.repr, p, static_cast<std::size_t>(n));
      } else {
        repr_bytes(a.repr, p, static_cast<std::size_t>(n));
      }
      return;
    }
    case ArgKind::unicodestring1:
    case ArgKind::unicodestring4:
    case ArgKind::unicodestring8: {
      std::uint64_t n;
      const char* what;
      switch (op.arg) {
        case ArgKind::unicodestring1: n = read_uint(c, 1, "uint1"); what = "unicodestring1"; break;
        case ArgKind::unicodestring4: n = read_uint(c, 4, "uint4"); what = "unicodestring4"; break;
        default: n = read_uint(c, 8, "uint8"); what = "unicodestring8"; break;
      }
      if (n > k_py_ssize_max) fail(errc::bad_argument, std::string(what) + " byte count > sys.maxsize: " + u64_str(n));
      const std::uint8_t* p = read_counted(c, n, what);
      set_utf8_text(a, p, static_cast<std::size_t>(n));
      return;
    }
    case ArgKind::floatnl: {
      const std::string_view s = read_nl(c, "stringnl");
      double d = 0;
      if (parse_py_float_bytes(s, d) != FloatStatus::ok) {
        fail(errc::bad_argument, "could not convert string to float: " + bytes_repr(s));
      }
      a.present = true;
      repr_float(a.repr, d);
      return;
    }
    case ArgKind::decimalnl_short: {
      const std::string_view s = read_nl(c, "stringnl");
      // pickletools' hack for protocol 0 bools.
      if (s == "00" || s == "01") {
        a.present = true;
        a.repr = s == "00" ? "False" : "True";
        a.key.small = s == "00" ? 0 : 1;
        return;
      }
      parse_int_arg(a, s);
      return;
    }
    case ArgKind::decimalnl_long: {
      std::string_view s = read_nl(c, "stringnl");
      if (!s.empty() && s.back() == 'L') s.remove_suffix(1);
      parse_int_arg(a, s);
      return;
    }
    case ArgKind::stringnl: {
      const std::string text = decode_stringnl(read_nl(c, "stringnl"), true);
      a.present = true;
      repr_str(a.repr, text);
      return;
    }
    case ArgKind::stringnl_noescape: {
      const std::string text = decode_stringnl(read_nl(c, "stringnl"), false);
      a.present = true;
      repr_str(a.repr, text);
      return;
    }
    case ArgKind::stringnl_noescape_pair: {
      std::string text = decode_stringnl(read_nl(c, "stringnl"), false);
      text += ' ';
      text += decode_stringnl(read_nl(c, "stringnl"), false);
      a.present = true;
      repr_str(a.repr, text);
      return;
    }
    case ArgKind::unicodestringnl: {
      const std::string text = decode_raw_unicode_escape(read_nl(c, "unicodestringnl"));
      a.present = true;
      repr_str(a.repr, text);
      return;
    }
  }
}

// ---- the memo -----------------------------------------------------------------------------------------

const StackKind* memo_find(const DisMemoData& m, const Key& k) {
  if (k.big) {
    const auto it = m.big.find(k.dec);
    return it == m.big.end() ? nullptr : &it->second;
  }
  const auto it = m.small.find(k.small);
  return it == m.small.end() ? nullptr : &it->second;
}

void memo_store(DisMemoData& m, const Key& k, StackKind v) {
  if (k.big) {
    m.big[k.dec] = v;
  } else {
    m.small[k.small] = v;
  }
}

// ---- output -------------------------------------------------------------------------------------------

class Text {
 public:
  Text(const DisSink* sink, std::string* out) : sink_(sink), s_(sink ? &buf_ : out), base_(s_->size()) {}
  std::string& s() noexcept { return *s_; }
  std::uint64_t total() const noexcept { return flushed_ + (s_->size() - base_); }
  void line_done() {
    if (sink_ && buf_.size() >= (std::size_t{1} << 16)) flush();
  }
  void flush() {
    if (sink_ && !buf_.empty()) {
      flushed_ += buf_.size();
      (*sink_)(buf_);
      buf_.clear();
    }
  }

 private:
  const DisSink* sink_;
  std::string buf_;
  std::string* s_;
  std::size_t base_;
  std::uint64_t flushed_ = 0;
};

// "%5d: "
void append_pos(std::string& s, std::uint64_t pos) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, pos);
  const auto len = static_cast<std::size_t>(r.ptr - buf);
  if (len < 5) s.append(5 - len, ' ');
  s.append(buf, len);
  s.append(": ", 2);
}

bool is_memo_store(Opcode o) {
  return o == Opcode::PUT || o == Opcode::BINPUT || o == Opcode::LONG_BINPUT || o == Opcode::MEMOIZE;
}
bool is_memo_get(Opcode o) { return o == Opcode::GET || o == Opcode::BINGET || o == Opcode::LONG_BINGET; }

Result<void> run(InputSource& in, const DisSink* sink, std::string* out, const DisOptions& options,
                 DisMemoData& memo) {
  const std::size_t indent = options.indentlevel > 0 ? static_cast<std::size_t>(options.indentlevel) : 0;
  Text text(sink, out);
  Cursor c(in, std::numeric_limits<std::uint64_t>::max());

  std::vector<StackKind> stack;        // pickletools' "crude emulation of unpickler stack"
  std::vector<std::uint64_t> markstack;  // offsets of the open MARKs
  int maxproto = -1;
  std::uint64_t pos = 0;
  int code = -1;
  Arg arg;
  std::string errormsg;
  std::string markmsg;

  auto make_error = [&](errc ec, std::string message) {
    Error e;
    e.code = ec;
    e.offset = pos;
    e.opcode = code;
    e.message = std::move(message);
    return e;
  };

  try {
    for (;;) {
      pos = c.offset();
      code = -1;
      const int b = c.next_byte();
      if (b < 0) fail(errc::eof, "pickle exhausted before seeing STOP");
      code = b;
      const OpcodeInfo* op = opcode_info(static_cast<std::uint8_t>(b));
      if (!op) {
        const auto byte = static_cast<char>(b);
        fail(errc::invalid_opcode,
             "at position " + u64_str(pos) + ", opcode " + bytes_repr(std::string_view(&byte, 1)) + " unknown");
      }
      const auto opc = static_cast<Opcode>(b);
      arg = Arg{};
      read_arg(c, *op, arg);

      std::string& s = text.s();
      append_pos(s, pos);
      const std::size_t depth = markstack.size();
      maxproto = std::max<int>(maxproto, op->proto);
      const std::span<const StackKind> before = op->stack_before();
      std::span<const StackKind> after = op->stack_after();
      std::size_t numtopop = before.size();
      errormsg.clear();
      errc errcode = errc::ok;
      markmsg.clear();

      // MARK matching.
      const auto mark_at = std::find(before.begin(), before.end(), StackKind::mark);
      if (mark_at != before.end() ||
          (opc == Opcode::POP && !stack.empty() && stack.back() == StackKind::mark)) {
        if (!markstack.empty()) {
          markmsg = "(MARK at ";
          append_u64(markmsg, markstack.back());
          markmsg += ')';
          markstack.pop_back();
          // Pop everything at and after the topmost MARK; the MARK may be gone (popped as a plain
          // item by an earlier opcode), and then Python's stack[-1] raises IndexError.
          for (;;) {
            if (stack.empty()) fail(errc::stack_underflow, "list index out of range");
            if (stack.back() == StackKind::mark) break;
            stack.pop_back();
          }
          stack.pop_back();
          numtopop = mark_at != before.end() ? static_cast<std::size_t>(mark_at - before.begin()) : 0;
        } else {
          errormsg = markmsg = "no MARK exists on stack";
          errcode = errc::missing_mark;
        }
      }

      // Memo use.
      StackKind got_kind{};
      if (is_memo_store(opc)) {
        Key key;
        std::string_view key_repr = arg.repr;
        if (opc == Opcode::MEMOIZE) {
          key.small = static_cast<std::int64_t>(memo.size());
          markmsg = "(as ";
          append_u64(markmsg, memo.size());
          markmsg += ')';
          key_repr = "None";
        } else {
          key = arg.key;
        }
        if (memo_find(memo, key)) {
          errormsg = "memo key " + std::string(key_repr) + " already defined";
          errcode = errc::value_error;
        } else if (stack.empty()) {
          errormsg = "stack is empty -- can't store into memo";
          errcode = errc::stack_underflow;
        } else if (stack.back() == StackKind::mark) {
          errormsg = "can't store markobject in the memo";
          errcode = errc::unexpected_mark;
        } else {
          memo_store(memo, key, stack.back());
        }
      } else if (is_memo_get(opc)) {
        if (const StackKind* k = memo_find(memo, arg.key)) {
          got_kind = *k;
          after = std::span<const StackKind>(&got_kind, 1);
        } else {
          errormsg = "memo key " + arg.repr + " has never been stored into";
          errcode = errc::memo_missing;
        }
      }

      if (!arg.repr_error.empty()) fail(errc::limit_exceeded, arg.repr_error);

      // The line: "%-4s %s%s" % (repr(code)[1:-1], indent * depth, name), then the argument.
      if (b < 0x80) {
        s.push_back(static_cast<char>(b));
        s.append("    ", 4);
      } else {
        s.append("\\x", 2);
        s.push_back(k_hex[b >> 4]);
        s.push_back(k_hex[b & 15]);
        s.push_back(' ');
      }
      s.append(depth * indent, ' ');
      s.append(op->name);
      if (arg.present || !markmsg.empty()) {
        if (op->name.size() < 10) s.append(10 - op->name.size(), ' ');
        if (arg.present) {
          s.push_back(' ');
          s.append(arg.repr);
        }
        if (!markmsg.empty()) {
          s.push_back(' ');
          s.append(markmsg);
        }
      }
      s.push_back('\n');
      text.line_done();

      if (!errormsg.empty()) fail(errcode, errormsg);

      // Stack effects.
      if (stack.size() < numtopop) {
        fail(errc::stack_underflow, "tries to pop " + u64_str(numtopop) + " items from stack with only " +
                                        u64_str(stack.size()) + " items");
      }
      stack.resize(stack.size() - numtopop);
      if (std::find(after.begin(), after.end(), StackKind::mark) != after.end()) markstack.push_back(pos);
      stack.insert(stack.end(), after.begin(), after.end());

      if (options.max_output_bytes && text.total() > options.max_output_bytes) {
        fail(errc::limit_exceeded, "the disassembly exceeds max_output_bytes (" +
                                       u64_str(options.max_output_bytes) + " bytes)");
      }
      if (opc == Opcode::STOP) break;
    }

    std::string& s = text.s();
    s += "highest protocol among opcodes = ";
    append_i64(s, maxproto);
    s.push_back('\n');
    if (!stack.empty()) {
      std::string m = "stack not empty after STOP: [";
      for (std::size_t i = 0; i < stack.size(); ++i) {
        if (i) m.append(", ", 2);
        m.append(stack_kind_name(stack[i]));
      }
      m.push_back(']');
      fail(errc::value_error, std::move(m));
    }
  } catch (DisFailure& f) {
    c.commit();
    text.flush();
    return make_error(f.code, std::move(f.message));
  } catch (ReadFailure& f) {
    c.commit();
    text.flush();
    return make_error(f.code, std::move(f.message));
  } catch (const std::bad_alloc&) {
    c.commit();
    text.flush();
    return make_error(errc::out_of_memory, "out of memory");
  }
  c.commit();
  text.flush();
  return {};
}

}  // namespace

Result<void> disassemble(InputSource& in, const DisSink* sink, std::string* out, const DisOptions& options) {
  std::string scratch;
  if (!sink && !out) out = &scratch;
  if (DisMemo* shared = options.memo) {
    if (!shared->impl_) shared->impl_ = std::make_unique<DisMemo::Impl>();  // moved-from
    return run(in, sink, out, options, *shared->impl_);
  }
  DisMemoData memo;
  return run(in, sink, out, options, memo);
}

}  // namespace detail

Result<void> disassemble(std::span<const std::byte> data, std::string& out, const DisOptions& options) {
  detail::InputSource in = detail::memory_input(data, false);
  return detail::disassemble(in, nullptr, &out, options);
}

Result<void> disassemble(std::string_view data, std::string& out, const DisOptions& options) {
  return disassemble(std::as_bytes(std::span<const char>(data.data(), data.size())), out, options);
}

Result<void> disassemble(std::span<const std::byte> data, const DisSink& sink, const DisOptions& options) {
  detail::InputSource in = detail::memory_input(data, false);
  return detail::disassemble(in, &sink, nullptr, options);
}

Result<void> disassemble_file(const std::filesystem::path& path, const DisSink& sink, const DisOptions& options) {
  Result<detail::InputSource> in = detail::open_input(path);
  if (!in) return in.error();
  Result<void> r = detail::disassemble(*in, &sink, nullptr, options);
  if (!r) {
    Error e = r.error();
    e.path = path.string();
    return e;
  }
  return r;
}

}  // namespace brine
