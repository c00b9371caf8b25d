#pragma once
// Helpers shared by brine's GoogleTest files.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

#include "brine/brine.hpp"

namespace brine_test {

inline std::string from_hex(std::string_view hex) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex");
  };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(nib(hex[i]) * 16 + nib(hex[i + 1])));
  return out;
}

inline std::string to_hex(std::string_view bytes) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out.push_back(k_digits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(k_digits[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A path under `dir` no other test process or thread uses: ctest runs tests in parallel, so a
// fixed temporary name would be shared between them.
inline std::string unique_path(const std::string& dir, std::string_view stem, std::string_view ext = "") {
  static std::atomic<unsigned> counter{0};
  return dir + std::string(stem) + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
         std::string(ext);
}

inline std::string shared_dir() { return BRINE_SHARED_DIR; }
inline std::string source_dir() { return BRINE_SOURCE_DIR; }

// repr of the first pickle in `data`, or "ERROR <code>: <message>".
inline std::string show(std::string_view data, const brine::ReadOptions& opt = {},
                        const brine::ReprOptions& ro = {}) {
  auto doc = brine::loads(data, opt);
  if (!doc) return "ERROR " + std::string(brine::errc_name(doc.error().code)) + ": " + doc.error().message;
  return brine::repr(doc->root(), ro);
}

inline std::string show_hex(std::string_view hex, const brine::ReadOptions& opt = {},
                            const brine::ReprOptions& ro = {}) {
  return show(from_hex(hex), opt, ro);
}

}  // namespace brine_test
