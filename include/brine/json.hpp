#pragma once
/// \file
/// JSON rendering of a value graph (mapping: docs/json-format.md).
///
/// Example:
/// \code
///   brine::Document doc = brine::load_file("config.pkl").value();
///   std::cout << brine::to_json(doc.root()) << "\n";   // {"lr": 0.001, "layers": [64, 64]}
/// \endcode
#include <cstdint>
#include <string>

#include "brine/repr.hpp"
#include "brine/value.hpp"

namespace brine {

struct JsonOptions {
  /// Stop after this many bytes (0 = no limit); the result is then not valid JSON.
  std::uint64_t max_output = std::uint64_t{64} << 20;
  /// Ints with more decimal digits than this are written as {"$int": "0x..."}.
  std::uint32_t max_int_digits = 4300;
};

/// Appends the JSON of `v` to `out`, without recursion on the value's depth.
ReprStatus to_json_append(std::string& out, const Value& v, const JsonOptions& options = {});
std::string to_json(const Value& v, const JsonOptions& options = {});

}  // namespace brine
