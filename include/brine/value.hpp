#pragma once
/// \file
/// The value graph: what a pickle means, as data.
///
/// A `brine::Value` is a 16-byte handle into a `brine::Document`. Scalars and strings live in the
/// handle itself; containers, objects and other values with identity are nodes in the document's
/// arena. A value stays valid as long as its document lives. Nothing named in a pickle is ever
/// imported or called: objects of classes brine does not know are kept as a record of how they
/// were built (callable, arguments, state, items).
///
/// Example:
/// \code
///   brine::Document doc = brine::load_file("config.pkl").value();
///   brine::Value cfg = doc.root();
///   std::int64_t layers = cfg["model"]["layers"].as<std::int64_t>();
///   for (const brine::DictItem& it : cfg["tags"].items())
///     std::cout << it.key.as<std::string_view>() << "\n";
///   if (cfg["when"].is_instance_of("datetime", "datetime"))
///     std::cout << cfg["when"].as<brine::DateTime>().year << "\n";
/// \endcode
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "brine/error.hpp"

namespace brine {

/// The Python type a value has, as far as the value graph is concerned.
enum class Kind : std::uint8_t {
  missing,     ///< not a value: a key that is not there, an attribute never set
  none,        ///< None
  boolean,     ///< bool
  integer,     ///< int (any size)
  floating,    ///< float
  complex,     ///< complex
  str,         ///< str
  bytes,       ///< bytes
  bytearray,   ///< bytearray
  tuple,       ///< tuple
  list,        ///< list
  dict,        ///< dict
  set,         ///< set
  frozenset,   ///< frozenset
  global,      ///< a reference to a module-level name (class, function or constant)
  object,      ///< any other object, kept as a record of how it was built
  persistent,  ///< a persistent ID reference (PERSID / BINPERSID) left unresolved
  buffer,      ///< a protocol-5 out-of-band buffer supplied by the caller
};

/// Python's name for the kind ("NoneType", "int", "str", ...; "global", "object", ...).
std::string_view kind_name(Kind k) noexcept;

/// How an object was built by the pickle.
enum class Construction : std::uint8_t {
  reduce,     ///< REDUCE: callable(*args)
  newobj,     ///< NEWOBJ: cls.__new__(cls, *args)
  newobj_ex,  ///< NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
  inst,       ///< INST (protocol 0 class instance): module.name(*args)
  obj,        ///< OBJ (protocol 1 class instance): cls(*args)
};

/// Library types brine recognises on top of an object's record (see `Value::library_type`).
enum class LibraryType : std::uint16_t {
  none = 0,
  ordered_dict,   ///< collections.OrderedDict
  defaultdict,    ///< collections.defaultdict
  counter,        ///< collections.Counter
  deque,          ///< collections.deque
  date,           ///< datetime.date
  time,           ///< datetime.time
  datetime,       ///< datetime.datetime
  timedelta,      ///< datetime.timedelta
  timezone,       ///< datetime.timezone
  decimal,        ///< decimal.Decimal
  uuid,           ///< uuid.UUID
  range,          ///< builtins.range
  exception,      ///< a builtin exception class (builtins.ValueError, ...)
  plain_instance, ///< an instance made by copyreg._reconstructor(cls, object, None)
  user,           ///< a type registered by the caller (ReadOptions::types)
};

namespace detail {

enum class Tag : std::uint8_t {
  invalid = 0,  // "no value"
  none,
  boolean,      // payload i: 0 or 1
  int64,        // payload i
  bigint,       // payload p: minimal little-endian two's complement bytes, length in head
  float64,      // payload d
  str,          // payload p: UTF-8 (lone surrogates as 3-byte sequences, as CPython's
                // 'surrogatepass' writes them), byte length in head
  bytes,        // payload p, length in head
  complex,      // ComplexNode
  bytearray,    // ByteArrayNode
  tuple,        // SeqNode
  list,         // SeqNode
  dict,         // DictNode
  set,          // SetNode
  frozenset,    // SetNode
  global,       // GlobalNode
  object,       // ObjectNode
  persistent,   // PersistentNode
  buffer,       // BufferNode
};

inline constexpr int tag_bits = 8;
inline constexpr std::uint64_t max_inline_length = (std::uint64_t{1} << (64 - tag_bits)) - 1;

struct ComplexNode;
struct SeqNode;
struct DictNode;
struct SetNode;
struct ByteArrayNode;
struct GlobalNode;
struct ObjectNode;
struct PersistentNode;
struct BufferNode;
struct DocumentState;
struct Access;
class PySetTable;

}  // namespace detail

struct DictItem;
class BigInt;
struct Date;
struct Time;
struct DateTime;
struct TimeDelta;
struct TimeZone;
struct Uuid;

/// A handle to one Python value. Cheap to copy (16 bytes); valid while its Document lives.
class Value {
 public:
  /// A missing value (`kind() == Kind::missing`).
  constexpr Value() noexcept = default;

  Kind kind() const noexcept;
  /// False only for a missing value.
  bool valid() const noexcept { return tag() != detail::Tag::invalid; }

  bool is_none() const noexcept { return tag() == detail::Tag::none; }
  bool is_bool() const noexcept { return tag() == detail::Tag::boolean; }
  bool is_int() const noexcept { return tag() == detail::Tag::int64 || tag() == detail::Tag::bigint; }
  bool is_float() const noexcept { return tag() == detail::Tag::float64; }
  bool is_str() const noexcept { return tag() == detail::Tag::str; }
  bool is_bytes() const noexcept { return tag() == detail::Tag::bytes; }
  bool is_tuple() const noexcept { return tag() == detail::Tag::tuple; }
  bool is_list() const noexcept { return tag() == detail::Tag::list; }
  bool is_dict() const noexcept { return tag() == detail::Tag::dict; }
  bool is_object() const noexcept { return tag() == detail::Tag::object; }
  bool is_global() const noexcept { return tag() == detail::Tag::global; }

  /// Python's type name: "int", "str", ... or the qualified class name of an object
  /// ("collections.OrderedDict"), "global" for a global reference.
  std::string type_name() const;

  // ---- scalars ---------------------------------------------------------------------------
  /// Typed access without exceptions. Supported T: bool; every integral type (range-checked;
  /// bool converts to 0/1 as in Python); float/double (ints convert when exact);
  /// std::string_view / std::string (str; the bytes of a bytes object are not text);
  /// std::span<const std::byte> (bytes, bytearray, buffer); std::complex<double>;
  /// brine::BigInt; brine::Date, Time, DateTime, TimeDelta, TimeZone, Uuid (recognised objects).
  template <class T>
  Result<T> get() const;

  /// Like get<T>() but throws brine::Exception (code wrong_kind / out_of_range) on failure.
  template <class T>
  T as() const {
    return get<T>().value();
  }

  // ---- containers ------------------------------------------------------------------------
  /// len(): items of a list/tuple/dict/set/frozenset; bytes of str (UTF-8), bytes, bytearray;
  /// for an object, its dict items if it has any, else its list items. 0 for anything else.
  std::size_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }

  /// Elements of a list, tuple, set or frozenset (sets in CPython's iteration order); for an
  /// object, the items appended to it (APPEND/APPENDS/ADDITEMS). Empty for anything else.
  std::span<const Value> elements() const noexcept;
  /// Items of a dict in insertion order; for an object, the items set on it (SETITEM/SETITEMS).
  std::span<const DictItem> items() const noexcept;

  /// list/tuple element (negative counts from the end, as in Python). Throws out_of_range.
  template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0>
  Value operator[](I index) const {
    return at_index(static_cast<std::int64_t>(index));
  }
  /// dict (or dict-like object) lookup by str key. Throws key_not_found.
  Value operator[](std::string_view key) const;
  Value operator[](const char* key) const { return (*this)[std::string_view(key)]; }

  /// dict lookup by str key; a missing Value if absent (never throws).
  Value find(std::string_view key) const noexcept;
  /// dict lookup by any key with Python equality (1 == 1.0 == True); missing if absent.
  Value find(const Value& key) const noexcept;
  bool contains(std::string_view key) const noexcept { return find(key).valid(); }

  // ---- globals and objects ---------------------------------------------------------------
  /// For a global: its module. For an object: its class's module (empty if the class is not a
  /// plain global).
  std::string_view module() const noexcept;
  /// For a global: its (qualified) name. For an object: its class's name.
  std::string_view name() const noexcept;
  /// True if this is an object whose class is `module.qualname`, or a native value of that
  /// builtin type (`is_instance_of("builtins", "list")`). Exact class match, no inheritance.
  bool is_instance_of(std::string_view module, std::string_view qualname) const noexcept;

  /// How the object was built. Only meaningful for objects.
  Construction construction() const noexcept;
  /// What REDUCE called, or the class NEWOBJ/INST/OBJ instantiated.
  Value callable() const noexcept;
  /// The object's class: a global, or missing if unknown (e.g. made by a factory function).
  Value cls() const noexcept;
  /// The construction arguments (a tuple).
  Value args() const noexcept;
  /// NEWOBJ_EX keyword arguments (a dict), else missing.
  Value kwargs() const noexcept;
  /// The state given to BUILD (the last one if BUILD ran more than once), else missing; also
  /// the state a `__reduce__` state_setter was called with (see state_setter()).
  Value state() const noexcept;
  /// The state_setter of a `__reduce__` (Python 3.8+) that was called as `setter(obj, state)`
  /// instead of BUILD (a REDUCE whose result the pickle POPs), else missing.
  ///
  /// \code
  ///   // cloudpickle's dynamic functions: state_setter() is cloudpickle...._function_setstate
  ///   if (v.state_setter().valid()) std::cout << brine::repr(v.state_setter()) << "\n";
  /// \endcode
  Value state_setter() const noexcept;
  /// An attribute from the object's state: the state dict, or the slot-state dict of a
  /// `(dict, slots)` state. Missing if absent.
  Value attr(std::string_view name) const noexcept;
  /// Which library type the object was recognised as.
  LibraryType library_type() const noexcept;
  /// For a persistent reference: the persistent ID.
  Value persistent_id() const noexcept;

  /// Python's `is`: the same object (for str/bytes: the same storage).
  bool same(const Value& other) const noexcept { return head_ == other.head_ && u_.i == other.u_.i; }

  // ---- internal ---------------------------------------------------------------------------
  detail::Tag tag() const noexcept { return static_cast<detail::Tag>(head_ & 0xff); }
  std::uint64_t inline_length() const noexcept { return head_ >> detail::tag_bits; }

 private:
  friend struct detail::Access;
  Value at_index(std::int64_t index) const;
  template <class T>
  const T* node() const noexcept {
    return static_cast<const T*>(u_.n);
  }

  std::uint64_t head_ = 0;
  union {
    std::int64_t i;
    double d;
    const char* p;
    const void* n;
  } u_{};
};
static_assert(sizeof(Value) == 16);

/// A key/value pair of a dict (or of the items set on an object).
struct DictItem {
  Value key;
  Value value;
};

/// Python equality (`==`) between two values: numbers across int/float/bool/complex, str, bytes,
/// containers element-wise (cycles are handled), other objects by identity.
bool equal(const Value& a, const Value& b);

// ---- typed views of recognised values -------------------------------------------------------

/// An int of any size, as minimal little-endian two's complement bytes (a copy).
class BigInt {
 public:
  BigInt() = default;
  explicit BigInt(std::span<const std::uint8_t> le_bytes) : bytes_(le_bytes.begin(), le_bytes.end()) {}
  explicit BigInt(std::int64_t v);
  std::span<const std::uint8_t> bytes() const noexcept { return bytes_; }
  bool negative() const noexcept { return !bytes_.empty() && (bytes_.back() & 0x80); }
  /// Decimal text, as Python's str(int).
  std::string to_string() const;
  /// Number of bits of the absolute value (Python's int.bit_length()).
  std::uint64_t bit_length() const noexcept;

 private:
  std::vector<std::uint8_t> bytes_;
};

struct Date {
  int year = 1, month = 1, day = 1;
};
struct Time {
  int hour = 0, minute = 0, second = 0, microsecond = 0;
  int fold = 0;
  Value tzinfo;  ///< missing if naive
};
struct DateTime {
  int year = 1, month = 1, day = 1;
  int hour = 0, minute = 0, second = 0, microsecond = 0;
  int fold = 0;
  Value tzinfo;  ///< missing if naive
};
struct TimeDelta {
  std::int64_t days = 0;
  std::int32_t seconds = 0;
  std::int32_t microseconds = 0;
};
struct TimeZone {
  TimeDelta offset;
  Value name;  ///< str, or missing
};
struct Uuid {
  std::uint8_t bytes[16] = {};
  std::string to_string() const;  ///< "12345678-1234-5678-1234-567812345678"
};

/// A parsed pickle: owns the memory of every value in it (and keeps its input alive when values
/// point into it).
class Document {
 public:
  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  ~Document();

  /// An empty document to build values in (see brine::Builder).
  static Document create();

  /// The value the pickle's STOP returned.
  Value root() const noexcept;
  /// Replace the root (documents made with create()).
  void set_root(const Value& v) noexcept;
  /// The protocol given by the PROTO opcode, or -1 if the pickle has none (protocol 0 or 1).
  int declared_protocol() const noexcept;
  /// The highest protocol among the opcodes used (as pickletools reports it).
  int opcode_protocol() const noexcept;
  /// Byte offset where this pickle started and where it ended (just after STOP) in its input.
  std::uint64_t start_offset() const noexcept;
  std::uint64_t end_offset() const noexcept;
  /// Bytes this document allocated (arena and copies; not mapped input).
  std::uint64_t bytes_allocated() const noexcept;

  /// Internal state (for brine's own components).
  detail::DocumentState& state() noexcept { return *s_; }
  const detail::DocumentState& state() const noexcept { return *s_; }
  explicit Document(std::unique_ptr<detail::DocumentState> s) noexcept;

 private:
  std::unique_ptr<detail::DocumentState> s_;
};

// ============================================================================================
// Internal node layout (brine::detail). Not a stable API.
// ============================================================================================
namespace detail {

struct NodeHeader {
  Tag tag;
  std::uint8_t flags;
  std::uint16_t kind;  // per-kind small enum
  std::uint32_t aux;
};

struct ComplexNode {
  NodeHeader h;
  double re, im;
};

// list and tuple (a tuple never changes after it is built).
struct SeqNode {
  NodeHeader h;
  std::uint64_t size;
  std::uint64_t cap;
  Value* items;
};

// dict: items in insertion order; `index` (open addressing over item positions + 1, 0 = empty)
// is built once the dict grows past a few items so duplicate keys are found in O(1).
struct DictNode {
  NodeHeader h;  // flags bit 0: keep duplicate keys (items set on an object of unknown class)
  std::uint64_t size;
  std::uint64_t cap;
  DictItem* items;
  std::uint32_t* index;
  std::uint64_t index_mask;
};

// set and frozenset. `items` holds the distinct elements in insertion order; `table` emulates
// CPython's set table so that iteration order (and so repr and re-pickled bytes) is CPython's;
// `order` holds the elements in that iteration order, rebuilt by `finalize_set` whenever the set
// has changed (the reader does it once at the end of a load).
struct SetNode {
  NodeHeader h;
  std::uint64_t size;
  std::uint64_t cap;
  Value* items;
  PySetTable* table;
  Value* order;
  std::uint64_t order_cap;  // capacity of `order` (rebuilt in place while it fits)
};

struct ByteArrayNode {
  NodeHeader h;
  std::uint64_t size;
  std::uint64_t cap;
  std::uint8_t* data;
};

// A reference to module.qualname: inert, never imported. Interned per document.
inline constexpr std::uint8_t k_global_own_strs = 1;  // module/name are the pickle's str objects
struct GlobalNode {
  NodeHeader h;  // kind: known-global id (0 = unknown); aux: KnownKind; flags: k_global_own_strs
  Value module;  // str
  Value name;    // str
};

// Anything built by REDUCE / NEWOBJ / NEWOBJ_EX / INST / OBJ.
struct ObjectNode {
  NodeHeader h;  // kind: Construction; flags: LibraryType; aux: serial number (identity hash)
  Value callable;
  Value cls;
  Value args;
  Value kwargs;
  Value state;
  Value state_setter;       // what set `state` instead of BUILD (__reduce__'s 6th item), or missing
  SeqNode* earlier_states;  // states of earlier BUILDs (rare), oldest first
  SeqNode* list_items;      // APPEND/APPENDS/ADDITEMS applied to the object, or null
  DictNode* dict_items;     // SETITEM/SETITEMS applied to the object, or null
  const void* user_type;    // caller-registered type handler, if any
};

struct PersistentNode {
  NodeHeader h;  // aux: serial number
  Value pid;
};

struct BufferNode {
  NodeHeader h;  // flags bit 0: read-only; aux: serial number
  const std::uint8_t* data;
  std::uint64_t size;
  std::uint64_t index;
};

// Construction and inspection of Value bits, for brine's own components.
struct Access {
  static Value make(Tag t, std::uint64_t len, std::int64_t i) noexcept {
    Value v;
    v.head_ = static_cast<std::uint64_t>(t) | (len << tag_bits);
    v.u_.i = i;
    return v;
  }
  static Value make_ptr(Tag t, std::uint64_t len, const void* p) noexcept {
    Value v;
    v.head_ = static_cast<std::uint64_t>(t) | (len << tag_bits);
    v.u_.n = p;
    return v;
  }
  static Value make_float(double d) noexcept {
    Value v;
    v.head_ = static_cast<std::uint64_t>(Tag::float64);
    v.u_.d = d;
    return v;
  }
  static std::int64_t i(const Value& v) noexcept { return v.u_.i; }
  static double d(const Value& v) noexcept { return v.u_.d; }
  static const char* p(const Value& v) noexcept { return v.u_.p; }
  static const std::uint8_t* bytes(const Value& v) noexcept {
    return reinterpret_cast<const std::uint8_t*>(v.u_.p);
  }
  template <class T>
  static T* node(const Value& v) noexcept {
    return static_cast<T*>(const_cast<void*>(v.u_.n));
  }
  static const void* identity(const Value& v) noexcept { return v.u_.n; }
  static std::string_view sv(const Value& v) noexcept {
    return {v.u_.p, static_cast<std::size_t>(v.inline_length())};
  }
};

}  // namespace detail

// ---- inline accessors -----------------------------------------------------------------------

inline std::span<const Value> Value::elements() const noexcept {
  switch (tag()) {
    case detail::Tag::tuple:
    case detail::Tag::list: {
      auto* n = node<detail::SeqNode>();
      return {n->items, static_cast<std::size_t>(n->size)};
    }
    case detail::Tag::set:
    case detail::Tag::frozenset: {
      auto* n = node<detail::SetNode>();
      return {n->order, static_cast<std::size_t>(n->size)};
    }
    case detail::Tag::object: {
      auto* l = node<detail::ObjectNode>()->list_items;
      if (!l) return {};
      return {l->items, static_cast<std::size_t>(l->size)};
    }
    default:
      return {};
  }
}

inline std::span<const DictItem> Value::items() const noexcept {
  switch (tag()) {
    case detail::Tag::dict: {
      auto* n = node<detail::DictNode>();
      return {n->items, static_cast<std::size_t>(n->size)};
    }
    case detail::Tag::object: {
      auto* d = node<detail::ObjectNode>()->dict_items;
      if (!d) return {};
      return {d->items, static_cast<std::size_t>(d->size)};
    }
    default:
      return {};
  }
}

namespace detail {
Result<bool> get_bool(const Value& v);
Result<std::int64_t> get_int64(const Value& v);
Result<std::uint64_t> get_uint64(const Value& v);
Result<double> get_double(const Value& v);
Result<std::string_view> get_str(const Value& v);
Result<std::span<const std::byte>> get_bytes(const Value& v);
Result<std::complex<double>> get_complex(const Value& v);
Result<BigInt> get_bigint(const Value& v);
Result<Date> get_date(const Value& v);
Result<Time> get_time(const Value& v);
Result<DateTime> get_datetime(const Value& v);
Result<TimeDelta> get_timedelta(const Value& v);
Result<TimeZone> get_timezone(const Value& v);
Result<Uuid> get_uuid(const Value& v);
Error range_error(const Value& v, std::string_view type);

template <class>
inline constexpr bool unsupported_get_type = false;
}  // namespace detail

template <class T>
Result<T> Value::get() const {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) {
    return detail::get_bool(*this);
  } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    auto r = detail::get_int64(*this);
    if (!r) return std::move(r).error();
    if (*r < static_cast<std::int64_t>(std::numeric_limits<U>::min()) ||
        *r > static_cast<std::int64_t>(std::numeric_limits<U>::max()))
      return detail::range_error(*this, "a signed integer of this width");
    return static_cast<U>(*r);
  } else if constexpr (std::is_integral_v<U>) {
    auto r = detail::get_uint64(*this);
    if (!r) return std::move(r).error();
    if (*r > static_cast<std::uint64_t>(std::numeric_limits<U>::max()))
      return detail::range_error(*this, "an unsigned integer of this width");
    return static_cast<U>(*r);
  } else if constexpr (std::is_same_v<U, double>) {
    return detail::get_double(*this);
  } else if constexpr (std::is_same_v<U, float>) {
    auto r = detail::get_double(*this);
    if (!r) return std::move(r).error();
    return static_cast<float>(*r);
  } else if constexpr (std::is_same_v<U, std::string_view>) {
    return detail::get_str(*this);
  } else if constexpr (std::is_same_v<U, std::string>) {
    auto r = detail::get_str(*this);
    if (!r) return std::move(r).error();
    return std::string(*r);
  } else if constexpr (std::is_same_v<U, std::span<const std::byte>>) {
    return detail::get_bytes(*this);
  } else if constexpr (std::is_same_v<U, std::complex<double>>) {
    return detail::get_complex(*this);
  } else if constexpr (std::is_same_v<U, BigInt>) {
    return detail::get_bigint(*this);
  } else if constexpr (std::is_same_v<U, Date>) {
    return detail::get_date(*this);
  } else if constexpr (std::is_same_v<U, Time>) {
    return detail::get_time(*this);
  } else if constexpr (std::is_same_v<U, DateTime>) {
    return detail::get_datetime(*this);
  } else if constexpr (std::is_same_v<U, TimeDelta>) {
    return detail::get_timedelta(*this);
  } else if constexpr (std::is_same_v<U, TimeZone>) {
    return detail::get_timezone(*this);
  } else if constexpr (std::is_same_v<U, Uuid>) {
    return detail::get_uuid(*this);
  } else {
    static_assert(detail::unsupported_get_type<T>,
                  "brine::Value::get<T>: T is not a supported scalar type (see value.hpp)");
  }
}

}  // namespace brine
