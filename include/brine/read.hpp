#pragma once
/// \file
/// Reading pickles: `loads`, `load_file`, and `Reader` for streams of back-to-back pickles.
///
/// Example:
/// \code
///   brine::ReadOptions opt;
///   opt.encoding = brine::StringEncoding::latin1;        // Python 2 pickles
///   opt.limits.max_alloc_bytes = 1ull << 30;             // refuse to build more than 1 GiB
///   brine::Result<brine::Document> doc = brine::load_file("model.pkl", opt);
///   if (!doc) { std::cerr << doc.error().to_string() << "\n"; return 1; }
///   std::cout << brine::repr(doc->root()) << "\n";
/// \endcode
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brine/error.hpp"
#include "brine/value.hpp"

namespace brine {

class Builder;

/// How Python 2 `str` (STRING, BINSTRING, SHORT_BINSTRING) is decoded, as CPython's
/// `pickle.loads(..., encoding=...)`.
enum class StringEncoding : std::uint8_t {
  ascii,   ///< CPython's default: non-ASCII bytes are an error
  latin1,  ///< every byte is the code point of the same value (what numpy/datetime pickles need)
  utf8,    ///< decode as UTF-8
  bytes,   ///< keep them as `bytes` objects
};

/// Safety limits. Every length and count read from the input is checked against the input that
/// remains and against these limits before anything is allocated.
struct Limits {
  /// Bytes a document may allocate in total (nodes, arrays, decoded text, copies). Data that is
  /// referenced in place (memory-mapped or borrowed input) does not count.
  std::uint64_t max_alloc_bytes = std::uint64_t{16} << 30;
  /// Amplification bound: beyond a first 64 MiB, a document may allocate at most this many
  /// bytes per byte of its pickle read so far (a few bytes of input must not cost gigabytes:
  /// the 32-byte pickle of `bytearray(10**9)` is refused; CPython-written pickles need well
  /// under 100). 0: no such bound, max_alloc_bytes alone.
  std::uint32_t max_alloc_per_input_byte = 256;
  /// Items in one list, tuple, dict, set or object; also the stack depth.
  std::uint64_t max_container_len = std::uint64_t{1} << 32;
  /// Largest memo index PUT/GET may use (CPython on 32-bit platforms stops at 2^31-1).
  std::uint64_t max_memo_index = 0x7fffffff;
  /// Maximum nesting depth of the values (a list in a list in a list is 3 deep; an object
  /// counts one level, its arguments and state the next; a cycle is not followed), checked
  /// when the pickle is complete, and of simultaneously open MARKs while it is read. For code
  /// that recurses on the values it gets. 0 means unlimited.
  std::uint64_t max_depth = 0;
  /// Decimal digits allowed in a text integer (INT/LONG), as CPython's int_max_str_digits.
  std::uint32_t max_int_digits = 4300;
};

/// An out-of-band buffer for protocol 5's NEXT_BUFFER, owned by the caller (it must outlive
/// the document).
struct Buffer {
  std::span<const std::byte> data;
  bool readonly = true;
};

/// What to do with a global (GLOBAL, STACK_GLOBAL, INST, EXT*) the pickle names.
enum class GlobalPolicy : std::uint8_t {
  allow,   ///< keep it (as inert data, or as a recognised library type)
  forbid,  ///< fail the load with errc::forbidden_global
};

/// A type the caller wants recognised: objects of `module.name` get LibraryType::user and are
/// printed by `repr` (if given) instead of brine's constructor form.
struct UserType {
  std::string module;
  std::string name;
  /// Returns the text to print for the object, or nullopt for brine's default form.
  std::function<std::optional<std::string>(const Value& object)> repr;
};

/// Options of a read. The defaults load anything CPython's `pickle.loads` would, safely.
struct ReadOptions {
  /// Decoding of Python 2 `str` objects.
  StringEncoding encoding = StringEncoding::ascii;
  /// Map Python 2 module/class names to Python 3 ones in protocol 0-2 pickles, as CPython's
  /// `fix_imports=True` does.
  bool fix_imports = true;
  Limits limits;

  /// Persistent IDs (PERSID / BINPERSID). Default (empty): the ID is kept as an inert
  /// `Kind::persistent` value. Otherwise called with the ID; return the value to use (built with
  /// the Builder) or an Error to fail the load.
  std::function<Result<Value>(const Value& pid, Builder& builder)> persistent_load;

  /// Extension codes (EXT1/EXT2/EXT4) → (module, name), as copyreg's extension registry.
  /// A code that is not here fails the load with errc::extension_code.
  std::map<std::int32_t, std::pair<std::string, std::string>> extensions;

  /// Out-of-band buffers for NEXT_BUFFER, consumed in order. Null (the default) means the caller
  /// supplied none: NEXT_BUFFER then fails with errc::out_of_band_buffer, as in CPython.
  const std::vector<Buffer>* buffers = nullptr;

  /// Decides about every global the pickle names (after Python 2 name mapping). Default: allow
  /// all — they are only ever data. Use it to enforce an allow-list.
  std::function<GlobalPolicy(std::string_view module, std::string_view name)> global_filter;

  /// Extra library types to recognise.
  std::vector<UserType> types;

  /// loads(): reference the caller's buffer instead of copying it. The buffer must then outlive
  /// the document and not change.
  bool borrow_input = false;
};

/// Parse one pickle from memory. By default the input is copied once so the document owns it
/// (str/bytes values then point into that copy); see ReadOptions::borrow_input.
Result<Document> loads(std::span<const std::byte> data, const ReadOptions& options = {});
Result<Document> loads(std::string_view data, const ReadOptions& options = {});
/// Parse one pickle from memory, taking ownership of the buffer (no copy).
Result<Document> loads(std::string&& data, const ReadOptions& options = {});

/// Parse the first pickle of a file. Regular files are memory-mapped and str/bytes values point
/// into the mapping; "-" reads standard input.
Result<Document> load_file(const std::filesystem::path& path, const ReadOptions& options = {});

/// Reads pickles one after another from a buffer, a file or a stream (several pickles written
/// back to back, as by repeated `pickle.dump` to one file). Each `next()` returns one document and
/// leaves the reader just after that pickle's STOP.
///
/// \code
///   auto reader = brine::Reader::open("events.pkl").value();
///   while (!reader.at_end()) {
///     brine::Document doc = reader.next().value();
///     std::cout << doc.end_offset() << ": " << brine::repr(doc.root()) << "\n";
///   }
/// \endcode
class Reader {
 public:
  /// Opens a file ("-" = standard input). Regular files are memory-mapped; pipes and other
  /// streams are read incrementally, never further than the current pickle needs... plus what
  /// one read() call returns.
  static Result<Reader> open(const std::filesystem::path& path);
  /// Reads from a file descriptor (not closed by the reader).
  static Reader from_fd(int fd);
  /// Reads from memory. With `copy` false the caller keeps `data` alive and unchanged.
  static Reader from_memory(std::span<const std::byte> data, bool copy = true);

  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  /// The next pickle.
  Result<Document> next(const ReadOptions& options = {});
  /// True if no bytes are left (for streams this may block to find out).
  bool at_end();
  /// Byte offset of the next pickle in the input.
  std::uint64_t offset() const noexcept;

  struct Impl;

 private:
  explicit Reader(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace brine
