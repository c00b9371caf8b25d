#pragma once
/// \file
/// Printing values as CPython's `repr()` prints them (see docs/show-format.md).
///
/// Example:
/// \code
///   brine::Document doc = brine::loads(bytes).value();
///   std::cout << brine::repr(doc.root()) << "\n";            // {'a': [1, 2.5, None]}
///   brine::ReprOptions o;
///   o.refs = true;                                          // label shared lists/dicts/objects
///   std::cout << brine::repr(doc.root(), o) << "\n";        // [#0=[1], #0#]
/// \endcode
#include <cstdint>
#include <string>

#include "brine/value.hpp"

namespace brine {

struct ReprOptions {
  /// Label mutable values reached more than once: `#n=` at the first occurrence, `#n#` after.
  bool refs = false;
  /// Stop after this many bytes of output (0 = no limit) and append a truncation note.
  std::uint64_t max_output = std::uint64_t{64} << 20;
  /// Ints with more decimal digits than this print in hexadecimal (CPython refuses to convert
  /// them to decimal text at all).
  std::uint32_t max_int_digits = 4300;
};

/// Whether the printed text is complete.
enum class ReprStatus : std::uint8_t { complete, truncated };

/// Appends the repr of `v` to `out`. Never recurses on the value's depth; output is bounded by
/// `options.max_output` (the note "... output truncated at N bytes ..." is then appended).
ReprStatus repr_append(std::string& out, const Value& v, const ReprOptions& options = {});

/// The repr of `v` as a string (see repr_append).
std::string repr(const Value& v, const ReprOptions& options = {});

}  // namespace brine
