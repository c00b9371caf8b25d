#pragma once
/// \file
/// A pickle disassembler whose output is byte-for-byte what CPython 3.11's `pickletools.dis`
/// prints (and so what `python3 -m pickletools FILE` prints): one line per opcode with its byte
/// offset, MARK indentation, decoded argument, "(MARK at N)" / "(as N)" notes, and the final
/// "highest protocol among opcodes = N" line. It also makes pickletools' sanity checks (stack
/// emulation, MARK matching, memo use); when one fails, the output holds exactly what
/// pickletools printed before it raised, and the error carries pickletools' exception message.
///
/// Example:
/// \code
///   std::string text;  // bytes = pickle.dumps('abc', protocol=4)
///   brine::Result<void> r = brine::disassemble(bytes, text);
///   std::cout << text;
///   //     0: \x80 PROTO      4
///   //     2: \x95 FRAME      7
///   //    11: \x8c SHORT_BINUNICODE 'abc'
///   //    16: \x94 MEMOIZE    (as 0)
///   //    17: .    STOP
///   // highest protocol among opcodes = 4
///   if (!r) std::cerr << r.error().to_string() << "\n";
///   // e.g. "byte 5 (0x68 BINGET): memo key 3 has never been stored into"
/// \endcode
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "brine/error.hpp"

namespace brine {

class DisMemo;
struct DisOptions;
/// Receives the disassembly text in order, in chunks of whole lines (except that, as with
/// pickletools, a line that fails midway may leave its "%5d: " offset column unterminated).
using DisSink = std::function<void(std::string_view)>;

namespace detail {
struct InputSource;
/// Internal: disassembles the pickle that starts at `in.position`; on success `in.position` is
/// left just after its STOP (so back-to-back pickles can be disassembled in turn). Text goes to
/// `*sink` if it is set, else is appended to `*out`.
Result<void> disassemble(InputSource& in, const DisSink* sink, std::string* out, const DisOptions& options);
}  // namespace detail

/// pickletools' memo emulation, kept between disassemblies: pass the same DisMemo to several
/// calls to disassemble pickles written by one pickler with one memo (what
/// `python -m pickletools -m a.pkl b.pkl` does). Without one, every call starts with an empty memo.
class DisMemo {
 public:
  DisMemo();
  DisMemo(DisMemo&&) noexcept;
  DisMemo& operator=(DisMemo&&) noexcept;
  ~DisMemo();

  /// Number of memo entries stored so far.
  std::size_t size() const noexcept;
  /// Forget every entry.
  void clear() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend Result<void> detail::disassemble(detail::InputSource&, const DisSink*, std::string*, const DisOptions&);
};

/// Options of `disassemble`.
struct DisOptions {
  /// Blanks by which each open MARK indents the following lines (pickletools' `indentlevel`,
  /// `-l`). Negative values count as 0.
  int indentlevel = 4;
  /// Memo shared with other disassemblies, or null for a fresh one.
  DisMemo* memo = nullptr;
  /// Stop with errc::limit_exceeded once the text produced exceeds this many bytes (checked after
  /// each line, so the text may overshoot by one line). 0 = unlimited, as pickletools. A hostile
  /// pickle can make the text quadratic in its size (N nested MARKs indent N lines by up to
  /// N * indentlevel blanks), so set this when the text is kept in memory.
  std::uint64_t max_output_bytes = 0;
};

/// Appends the disassembly of the first pickle of `data` to `out`. On a malformed pickle returns
/// the error (byte offset and opcode of the offending opcode; message = pickletools' exception
/// message, e.g. "memo key 3 has never been stored into", "tries to pop 2 items from stack with
/// only 1 items", "stack not empty after STOP: [any]"); `out` then holds everything pickletools
/// printed before raising.
Result<void> disassemble(std::span<const std::byte> data, std::string& out, const DisOptions& options = {});
/// As above, for a buffer of chars.
Result<void> disassemble(std::string_view data, std::string& out, const DisOptions& options = {});
/// As above, streaming the text to `sink` instead of accumulating it.
Result<void> disassemble(std::span<const std::byte> data, const DisSink& sink, const DisOptions& options = {});

/// Disassembles the first pickle of a file ("-" = standard input), streaming the text to `sink`.
/// Regular files are memory-mapped; pipes are read incrementally. Offsets count from the start of
/// the file (for a redirected standard input: from its current position). Errors carry the path.
Result<void> disassemble_file(const std::filesystem::path& path, const DisSink& sink,
                              const DisOptions& options = {});

}  // namespace brine
