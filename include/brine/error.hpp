#pragma once
/// \file
/// Typed errors and the `[[nodiscard]]` result type used by every fallible brine call.
///
/// Example:
/// \code
///   brine::Result<brine::Document> doc = brine::loads(bytes);
///   if (!doc) {
///     std::cerr << doc.error().to_string() << "\n";
///     // e.g. "byte 12 (0x8c SHORT_BINUNICODE): truncated: needs 57 bytes, 3 remain"
///     return 1;
///   }
///   brine::Value v = doc->root();
/// \endcode
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace brine {

/// What went wrong. Stable names (see `errc_name`) are part of the CLI's output.
enum class errc : std::uint8_t {
  ok = 0,
  eof,                   ///< the input ended where an opcode was expected (empty input, no STOP)
  truncated,             ///< an argument or payload runs past the end of the input
  invalid_opcode,        ///< a byte that is not a pickle opcode
  unsupported_protocol,  ///< PROTO with a protocol above 5
  stack_underflow,       ///< an opcode needs more stack items than there are
  unexpected_mark,       ///< an opcode would pop a MARK as if it were a value
  missing_mark,          ///< an opcode needs a MARK and none is open
  memo_missing,          ///< GET of a memo index that was never PUT
  bad_argument,          ///< malformed inline argument (bad literal, quotes, escape, negative length)
  unicode_error,         ///< text that does not decode (invalid UTF-8, non-ASCII in an ASCII field)
  type_error,            ///< operands of the wrong kind (not callable, not a tuple, unhashable key, ...)
  value_error,           ///< a well-typed operand with an impossible value
  limit_exceeded,        ///< a configured read limit was reached
  persistent_id,         ///< a persistent ID the persistent_load hook rejected
  extension_code,        ///< an EXT1/EXT2/EXT4 code with no registered global
  out_of_band_buffer,    ///< NEXT_BUFFER without (enough) caller-supplied buffers
  forbidden_global,      ///< the class resolver refused a global
  io_error,              ///< reading a file or stream failed
  out_of_memory,         ///< the system allocator failed
  wrong_kind,            ///< typed access: the value is of another kind
  out_of_range,          ///< typed access: number does not fit, index out of range
  key_not_found,         ///< typed access: no such dict key / attribute
  unsupported,           ///< valid input that this version of brine cannot handle
  unpicklable,           ///< writing: a value the target protocol cannot hold (as CPython's PicklingError)
};

/// Short stable name of an error code, e.g. "truncated".
std::string_view errc_name(errc code) noexcept;

/// A typed error: code, where it happened (byte offset + opcode, and/or a path), and a message.
struct Error {
  static constexpr std::uint64_t no_offset = ~std::uint64_t{0};

  errc code = errc::ok;
  std::uint64_t offset = no_offset;  ///< byte offset of the opcode in the input, if known
  int opcode = -1;                   ///< the opcode byte being executed, or -1
  std::string path;                  ///< file name and/or value path (`$['a'][3]`), may be empty
  std::string message;               ///< human-readable detail, starting with a short phrase

  /// "path: byte 1234 (0x8c SHORT_BINUNICODE): message" (parts that are unknown are left out).
  std::string to_string() const;
};

/// Exception thrown by the throwing convenience layer (`Result::value()`, `Value::as<T>()`).
class Exception : public std::runtime_error {
 public:
  explicit Exception(Error e) : std::runtime_error(e.to_string()), error_(std::move(e)) {}
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// Either a T or an Error. Check with `ok()` / `operator bool`; `value()` throws brine::Exception.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}  // NOLINT(implicit)
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT(implicit)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only meaningful when `!ok()`.
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void check() const {
    if (!ok()) throw Exception(std::get<1>(v_));
  }
  std::variant<T, Error> v_;
};

/// Result of an operation that produces nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)) {}  // NOLINT(implicit)
  bool ok() const noexcept { return err_.code == errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
  void value() const {
    if (!ok()) throw Exception(err_);
  }
  const Error& error() const& { return err_; }

 private:
  Error err_;
};

}  // namespace brine
