#pragma once
/// \file
/// Creating values inside a Document (for hooks such as ReadOptions::persistent_load, and for
/// building documents to write).
///
/// Example:
/// \code
///   brine::Document doc = brine::Document::create();
///   brine::Builder b(doc);
///   brine::Value d = b.dict();
///   b.set_item(d, b.str("name"), b.str("brine"));
///   b.set_item(d, b.str("sizes"), b.list({b.integer(1), b.integer(2)}));
///   doc.set_root(d);
/// \endcode
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "brine/value.hpp"

namespace brine {

/// Makes values in a document's arena. Methods throw brine::Exception on limit errors and on
/// operations Python would reject (unhashable dict keys, ...).
class Builder {
 public:
  explicit Builder(Document& doc);
  explicit Builder(detail::DocumentState& state);

  Value none();
  Value boolean(bool b);
  Value integer(std::int64_t i);
  /// An int of any size from little-endian two's complement bytes.
  Value integer_le(std::span<const std::uint8_t> le_bytes);
  Value floating(double d);
  Value complex(double re, double im);
  /// str from UTF-8 (copied; validated — throws unicode_error if not valid UTF-8).
  Value str(std::string_view utf8);
  /// An interned str: every call with the same text on this document gives the same str object,
  /// as Python shares one object per string literal or identifier (a writer then writes it once
  /// and refers back to it). For repeated names such as dict keys of records or field names.
  ///
  /// \code
  ///   brine::Value k = b.interned("id");
  ///   b.set_item(d1, k, b.integer(1));
  ///   b.set_item(d2, b.interned("id"), b.integer(2));   // the same key object as in d1
  /// \endcode
  Value interned(std::string_view utf8);
  /// bytes (copied).
  Value bytes(std::span<const std::byte> data);
  Value bytes(std::string_view data);
  Value bytearray(std::span<const std::byte> data);
  Value tuple(std::span<const Value> items);
  Value tuple(std::initializer_list<Value> items) { return tuple(std::span<const Value>(items.begin(), items.size())); }
  Value list(std::span<const Value> items = {});
  Value list(std::initializer_list<Value> items) { return list(std::span<const Value>(items.begin(), items.size())); }
  Value dict();
  Value set(std::span<const Value> items = {});
  Value set(std::initializer_list<Value> items) { return set(std::span<const Value>(items.begin(), items.size())); }
  Value frozenset(std::span<const Value> items = {});
  Value frozenset(std::initializer_list<Value> items) {
    return frozenset(std::span<const Value>(items.begin(), items.size()));
  }
  /// A reference to module.name (interned: the same name gives the same value).
  Value global(std::string_view module, std::string_view name);
  /// An object of class `cls` built as `cls.__new__(cls, *args)` (NEWOBJ), with optional state.
  Value object(const Value& cls, const Value& args, const Value& state = Value());
  /// An object built by calling `callable(*args)` (REDUCE).
  Value reduce(const Value& callable, const Value& args);
  /// A persistent-ID reference.
  Value persistent(const Value& pid);

  /// list.append / object list items.
  void append(const Value& list, const Value& item);
  /// dict[key] = value (Python semantics) / object dict items.
  void set_item(const Value& dict, const Value& key, const Value& value);
  /// set.add.
  void add(const Value& set, const Value& item);
  /// Set an object's BUILD state.
  void set_state(const Value& object, const Value& state);

 private:
  detail::DocumentState* s_;
  // Last names given to interned() by address (the same literal is usually asked again):
  // checked by content, then the document's table.
  struct InternCache {
    const char* p = nullptr;
    std::size_t n = 0;
    Value v;
  };
  InternCache intern_cache_[16];
};

}  // namespace brine
