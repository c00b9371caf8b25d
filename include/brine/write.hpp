#pragma once
/// \file
/// Writing pickles: `dumps`, `dump_file`.
///
/// For a graph of builtin values the bytes are the ones CPython 3.11's `pickle.dumps(obj,
/// protocol)` writes for the same object graph (same memo, framing, batching and encodings):
/// a document read by brine and written at the protocol it was read at gives back the input of
/// a CPython-written pickle. Objects of other classes are written from the record of how they
/// were built; when the target protocol differs from the one they were read at, brine writes
/// what CPython writes for such an object at the target protocol (see docs/write.md).
///
/// Example:
/// \code
///   brine::Document doc = brine::Document::create();
///   brine::Builder b(doc);
///   brine::Value cfg = b.dict();
///   b.set_item(cfg, b.str("lr"), b.floating(0.001));
///   b.set_item(cfg, b.str("layers"), b.list({b.integer(64), b.integer(128)}));
///   std::string bytes = brine::dumps(cfg, {.protocol = 4}).value();  // pickle.loads() reads it
///   brine::dump_file("config.pkl", cfg).value();                      // atomic: temp + rename
/// \endcode
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "brine/error.hpp"
#include "brine/value.hpp"

namespace brine {

/// Options of a write. The defaults are CPython 3.11's `pickle.dumps(obj)`.
struct WriteOptions {
  /// Pickle protocol 0..5 (CPython 3.11's default is 4); -1 means the highest (5).
  int protocol = 4;
  /// At protocols 0-2, write Python 3 module/class names under their Python 2 names, as
  /// CPython's `fix_imports=True`.
  bool fix_imports = true;

  /// Persistent IDs, as `Pickler.persistent_id`: called for every value written (atoms too, as
  /// CPython does; not for the ID itself); return a missing Value (or None) to write the value
  /// itself, or the ID to write instead (PERSID at protocol 0, which needs an ASCII str or an
  /// int; else BINPERSID). The ID may live in any document that outlives the call. Values of
  /// `Kind::persistent` (IDs read from a pickle and left unresolved) are always written back
  /// as persistent IDs.
  std::function<Value(const Value& v)> persistent_id{};

  /// Protocol-5 buffers (`Kind::buffer` values), as `pickle.dumps(buffer_callback=...)`: return
  /// true to write the buffer in band, false to write NEXT_BUFFER (the caller then transfers the
  /// data). Without a callback, buffers are written in band (read-only ones as bytes, writable
  /// ones as bytearray), as CPython does.
  std::function<bool(const Value& buffer)> buffer_callback{};

  /// copyreg's extension registry: (module, qualified name) -> code (1..2^31-1), used at
  /// protocol 2 and above (EXT1/EXT2/EXT4).
  std::map<std::pair<std::string, std::string>, std::int32_t> extensions{};
};

/// Writes `v` and everything it references as one pickle.
///
/// Fails with errc::unpicklable for what the target protocol cannot express as CPython would
/// (non-ASCII global names below protocol 3, str/bytes of 4 GiB or more below protocol 4,
/// buffers below protocol 5, an object whose construction arguments lead back to the object
/// itself), and with errc::type_error for a record no pickle can hold (e.g. an object without a
/// callable).
Result<std::string> dumps(const Value& v, const WriteOptions& options = {});

/// Appends the pickle to `out` (for several pickles back to back).
Result<void> dump(const Value& v, std::string& out, const WriteOptions& options = {});

/// Writes the pickle to a file atomically: the bytes go to a temporary file in the same
/// directory, which is flushed and then renamed over `path`. On any failure `path` is left as it
/// was and the temporary file is removed; `path` may be the file the value was read from.
Result<void> dump_file(const std::filesystem::path& path, const Value& v, const WriteOptions& options = {});

/// The same three for a whole document (its root). For a document just read, faster than the
/// Value forms on big pickles: the reader knows which lists, tuples, dicts, strs and bytes the
/// pickle refers to more than once, and the writer's memo needs entries for those alone. The
/// bytes are the same. (A Builder made on the document, or set_root, drops that knowledge; the
/// writer then memoizes everything, as the Value forms do.)
///
/// \code
///   brine::Document doc = brine::load_file("in.pkl").value();
///   std::string p2 = brine::dumps(doc, {.protocol = 2}).value();
/// \endcode
Result<std::string> dumps(const Document& doc, const WriteOptions& options = {});
Result<void> dump(const Document& doc, std::string& out, const WriteOptions& options = {});
Result<void> dump_file(const std::filesystem::path& path, const Document& doc, const WriteOptions& options = {});

}  // namespace brine
