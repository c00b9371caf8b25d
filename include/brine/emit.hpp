#pragma once
/// \file
/// The direct pickle writer behind `brine::encode` (internal: used by the codecs of
/// <brine/mapping.hpp>; not a stable API). A codec with
/// `static void write(brine::detail::Emitter&, const T&)` writes its value straight into the
/// output, with no value graph in between; its bytes are exactly those of `to_value` + `dumps`
/// (and so CPython's for the equivalent Python value). Codecs without `write` go through
/// `to_value` on a scratch document (Emitter::value).
///
/// \code
///   // a list of two ints, written as pickle.dumps([1, 2]) writes it
///   e.begin_list(2); e.integer(1); e.integer(2); e.end_list();
/// \endcode
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "brine/error.hpp"
#include "brine/value.hpp"

namespace brine {

struct WriteOptions;
class Builder;

namespace detail {

class EmitterImpl;

/// Writes one pickle value by value: scalars, strs, and lists / dicts / tuples whose size is
/// given up front (items are the calls between begin_* and end_*; a dict's items alternate key,
/// value). Throws brine::Exception on errors (invalid UTF-8, what the protocol cannot write).
class Emitter {
 public:
  void none();
  void boolean(bool b);
  void integer(std::int64_t i);
  void floating(double d);
  /// A str object of its own (CPython's shared objects for '' and one-character latin-1 strs).
  void str(std::string_view utf8);
  /// A str shared by every call with the same text in this pickle (field names, like Python's
  /// interned identifiers): written once, then referred back to.
  void name(std::string_view utf8);
  void begin_list(std::size_t n);
  void end_list();
  void begin_dict(std::size_t n);
  void end_dict();
  void begin_tuple(std::size_t n);
  void end_tuple();
  /// Any value (of `builder()`'s scratch document, or another live document).
  void value(const Value& v);
  /// A Builder over a scratch document that lives as long as this pickle is written.
  Builder& builder();

  explicit Emitter(EmitterImpl& impl) noexcept : impl_(&impl) {}

 private:
  EmitterImpl* impl_;
};

/// Runs `body` with an Emitter writing one pickle with `options`; the pickle's bytes, or the
/// error (a brine::Exception thrown by `body` included).
Result<std::string> emit_pickle(const WriteOptions& options, void (*body)(Emitter&, const void*), const void* arg);

}  // namespace detail
}  // namespace brine
