#pragma once
// Python text semantics, reproduced exactly (CPython 3.11): repr of str/bytes/float/int, and the
// text parsers the unpickler and pickletools use. Internal to brine.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace brine::detail {

// ---- UTF-8 -------------------------------------------------------------------------------------
// Valid UTF-8 as CPython's decoder with errors='surrogatepass' accepts it: standard UTF-8 plus
// 3-byte encodings of lone surrogates (ED A0..BF xx). Returns the offset of the first invalid
// byte, or npos if all valid. For a bad or truncated multi-byte sequence that is the offset of
// its lead byte, i.e. UnicodeDecodeError.start.
std::size_t find_invalid_utf8(const std::uint8_t* s, std::size_t n) noexcept;
inline bool is_valid_utf8(const std::uint8_t* s, std::size_t n) noexcept {
  return find_invalid_utf8(s, n) == static_cast<std::size_t>(-1);
}
// True if every byte is < 0x80.
bool is_ascii(const std::uint8_t* s, std::size_t n) noexcept;
// Append code point cp (0..0x10FFFF, surrogates allowed) as UTF-8.
void append_utf8(std::string& out, char32_t cp);
// Decode one code point from valid UTF-8 at s (n bytes left); returns bytes consumed.
std::size_t decode_utf8(const char* s, std::size_t n, char32_t& cp) noexcept;
// Number of code points in valid UTF-8.
std::size_t utf8_length(std::string_view s) noexcept;
// latin-1 bytes -> UTF-8.
void latin1_to_utf8(std::string& out, const std::uint8_t* s, std::size_t n);

// ---- repr --------------------------------------------------------------------------------------
// `stop_at` (all three): for printers with an output budget, stop once `out` holds that many
// bytes (the text then ends there, without its closing quote); only as much of the value as
// that needs is read and rendered.
// repr(str) for UTF-8 text (lone surrogates as 3-byte sequences): quote choice, escapes, and
// str.isprintable() of Python 3.11's Unicode database.
void repr_str(std::string& out, std::string_view utf8, std::size_t stop_at = SIZE_MAX);
// repr(bytes): b'...' (prefix "b").
void repr_bytes(std::string& out, const std::uint8_t* s, std::size_t n, std::size_t stop_at = SIZE_MAX);
// repr(bytearray): bytearray(b'...'), where ' is escaped even inside double quotes.
void repr_bytearray(std::string& out, const std::uint8_t* s, std::size_t n, std::size_t stop_at = SIZE_MAX);
// repr(float): shortest round-trip, '1e+16', '1e-05', 'inf', 'nan', '-0.0', '100.0'.
void repr_float(std::string& out, double d);
// str(int) of minimal little-endian two's complement bytes.
void bigint_to_decimal(std::string& out, const std::uint8_t* le, std::size_t n);
// Decimal digit count of |value| without converting (exact).
std::size_t bigint_decimal_digits(const std::uint8_t* le, std::size_t n);
// str.isprintable() for one code point (Python 3.11, Unicode 14.0).
bool is_printable(char32_t cp) noexcept;
// str.isspace() for one code point (Py_UNICODE_ISSPACE; includes U+001C..U+001F, U+0085...).
bool is_unicode_space(char32_t cp) noexcept;
// unicodedata.decimal(chr(cp), -1) (Py_UNICODE_TODECIMAL): 0..9 for Nd digits, else -1.
int unicode_decimal_value(char32_t cp) noexcept;

// ---- integer parsing -----------------------------------------------------------------------------
// An integer result: small if it fits int64, else minimal little-endian two's complement bytes.
struct ParsedInt {
  bool is_small = true;
  std::int64_t small = 0;
  std::vector<std::uint8_t> big;
};
enum class ParseStatus { ok, invalid, too_many_digits };
// C strtol(s, &end, 0) over the whole text: returns value and sets `consumed` to the number of
// bytes parsed (0 if no conversion); `overflow` set when the value does not fit a C long.
std::int64_t c_strtol_base0(std::string_view s, std::size_t& consumed, bool& overflow) noexcept;
// PyLong_FromString(s, NULL, base) with base 0 or 10 (and int(str, base) rules: optional
// surrounding whitespace, sign, 0x/0o/0b prefixes for base 0, single underscores between
// digits). `max_digits` = CPython's int_max_str_digits for non-power-of-two bases (0 = none).
// Any base 2..36 works too. The limit counts digits (leading zeros included, underscores not)
// and is checked before trailing junk, as in CPython ("1"*5000 + "x" is too_many_digits).
// Values fitting int64 never allocate.
ParseStatus parse_py_int(std::string_view s, int base, std::size_t max_digits, ParsedInt& out);
// Minimal two's complement bytes of an int64 (0 -> no bytes, as pickle.encode_long(0) == b'').
std::vector<std::uint8_t> int64_to_le(std::int64_t v);
// Note on parse_py_int: like the C function it reads a NUL-terminated string, so an embedded NUL
// ends the text (load_long/load_int/load_get hand PyLong_FromString the raw line). The two
// functions below are the Python-level int(x, base) instead (PyLong_FromUnicodeObject /
// _PyLong_FromBytes): an embedded NUL is an error, and for str the text first goes through
// _PyUnicode_TransformDecimalAndSpaceToASCII (Unicode whitespace -> ' ', Nd digits -> ASCII).
// Bases: 0 or 2..36.
ParseStatus parse_int_from_str(std::string_view utf8, int base, std::size_t max_digits,
                               ParsedInt& out);
ParseStatus parse_int_from_bytes(std::string_view bytes, int base, std::size_t max_digits,
                                 ParsedInt& out);

// ---- float parsing -------------------------------------------------------------------------------
enum class FloatStatus { ok, invalid, overflow };
// PyOS_string_to_double(s, &end, OverflowError) as _pickle.c's load_float uses it: no
// whitespace, no underscores; 'inf', 'infinity', 'nan' (any case, optional sign). The whole
// text must be consumed, except that an embedded NUL ends it (load_float accepts endptr at
// '\0', so b'F1.5\x00junk\n' loads 1.5). Overflow is reported even when junk follows the
// number (PyOS_string_to_double raises before load_float looks at endptr).
FloatStatus parse_c_float(std::string_view s, double& out) noexcept;
// Python's float(str): surrounding whitespace allowed, underscores between digits allowed.
// `s` is the str as UTF-8; non-ASCII whitespace and Nd digits are accepted as CPython's
// _PyUnicode_TransformDecimalAndSpaceToASCII does. Overflow gives +-inf (never `overflow`).
FloatStatus parse_py_float(std::string_view s, double& out) noexcept;
// float(bytes): same as parse_py_float but without the Unicode transform.
FloatStatus parse_py_float_bytes(std::string_view s, double& out) noexcept;

// ---- escape codecs -------------------------------------------------------------------------------
enum class EscapeStatus { ok, trailing_backslash, bad_x_escape, truncated_u_escape,
                          truncated_U_escape, U_out_of_range };
// codecs.escape_decode (Python 2 str literal escapes), as the STRING opcode body uses it.
// Output is bytes. Errors: trailing_backslash ("Trailing \ in string"), bad_x_escape
// ("invalid \x escape at position N"); error_pos = offset of the offending backslash (the N of
// CPython's message). Unknown escapes are kept verbatim (3.11 only warns).
EscapeStatus escape_decode(std::string_view s, std::string& out, std::size_t& error_pos);
// raw_unicode_escape decoding (the UNICODE opcode): result as UTF-8 with surrogates.
// Errors: truncated_u_escape / truncated_U_escape (too few or non-hex digits), U_out_of_range;
// error_pos = offset of the backslash (UnicodeDecodeError.start).
EscapeStatus raw_unicode_escape_decode(std::string_view s, std::string& out, std::size_t& error_pos);
// The escaping protocol 0 UNICODE uses when writing (cpython-pickle-spec.md A7).
void raw_unicode_escape_encode_for_pickle(std::string& out, std::string_view utf8);

}  // namespace brine::detail
