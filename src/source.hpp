#pragma once
#include <filesystem>
#include <span>
#include <string>

#include "brine/error.hpp"
#include "input.hpp"

namespace brine::detail {

// Opens a file ("-" = standard input): regular files are memory-mapped, others are streams.
Result<InputSource> open_input(const std::filesystem::path& path);
// A memory buffer, copied (so the document can own it) or borrowed.
InputSource memory_input(std::span<const std::byte> data, bool copy);
// A buffer the input takes ownership of.
InputSource owned_input(std::string&& data);

}  // namespace brine::detail
