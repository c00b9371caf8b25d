#pragma once
/// \file
/// Typed mapping between C++ values and Python values (the full table: docs/mapping.md).
///
/// `brine::encode(x, protocol)` turns a C++ value into pickle bytes and `brine::decode<T>(bytes)`
/// turns pickle bytes into a C++ value; `brine::to_value` / `brine::from_value<T>` do the same
/// on `brine::Value`s. Decoding never throws: errors name the path of the value that did not fit,
/// e.g. `$['config']['layers'][3]: expected int, got str`.
///
/// Example:
/// \code
///   struct Layer { std::string kind; int width = 0; };
///   BRINE_FIELDS(Layer, kind, width)                          // Layer <-> {'kind': ..., 'width': ...}
///
///   struct Config { std::vector<Layer> layers; std::optional<double> lr; };
///   BRINE_CLASS(Config, "mymod", "Config", layers, lr)        // Config <-> mymod.Config dataclass
///
///   std::string bytes = brine::encode(Config{{{"dense", 64}}, 0.1}, 5).value();
///   brine::Result<Config> back = brine::decode<Config>(bytes);
///   if (!back) std::cerr << back.error().to_string() << "\n";
///
///   auto m = brine::decode<std::map<std::string, std::vector<int>>>(bytes);  // {'a': [1, 2]}
/// \endcode
///
/// Other types plug in through one customization point, `brine::codec<T>`:
/// \code
///   template <>
///   struct brine::codec<Celsius> {
///     static brine::Value to_value(brine::Builder& b, const Celsius& c) { return b.floating(c.deg); }
///     static brine::Result<Celsius> from_value(const brine::Value& v) {
///       auto d = brine::from_value<double>(v);
///       if (!d) return std::move(d).error();
///       return Celsius{*d};
///     }
///   };
/// \endcode
#include <array>
#include <chrono>
#include <cmath>
#include <complex>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <ratio>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "brine/builder.hpp"
#include "brine/emit.hpp"
#include "brine/error.hpp"
#include "brine/read.hpp"
#include "brine/value.hpp"
#include "brine/write.hpp"

namespace brine {

/// The customization point: how a C++ type maps to a Python value. Specialize it for your type
/// with two static functions (see the file comment for an example):
///
///   static brine::Value to_value(brine::Builder& b, const T& x);    // may throw brine::Exception
///   static brine::Result<T> from_value(const brine::Value& v);      // never throws
///
/// brine specializes it for the standard types of docs/mapping.md, and for structs described with
/// BRINE_FIELDS / BRINE_CLASS. This primary template marks a type without a mapping.
template <class T>
struct codec {
  using brine_unsupported_type = void;
};

namespace detail {
template <class T>
concept has_codec = !requires { typename codec<T>::brine_unsupported_type; };
template <class T>
concept codec_has_to_value = requires(Builder& b, const T& x) {
  { codec<T>::to_value(b, x) } -> std::convertible_to<Value>;
};
template <class T>
concept codec_has_from_value = requires(const Value& v) {
  { codec<T>::from_value(v) } -> std::convertible_to<Result<T>>;
};
}  // namespace detail

/// Makes the Python value for `x` in the builder's document. Throws brine::Exception
/// (out_of_range, unicode_error, type_error) for what Python cannot hold; the error's path names
/// the part of `x` that failed.
///
/// \code
///   brine::Document doc = brine::Document::create();
///   brine::Builder b(doc);
///   doc.set_root(brine::to_value(b, std::map<std::string, int>{{"a", 1}}));   // {'a': 1}
/// \endcode
template <class T>
Value to_value(Builder& b, const T& x) {
  static_assert(detail::has_codec<T>,
                "brine::to_value: no mapping for this C++ type; specialize brine::codec<T> "
                "(to_value/from_value) or describe the struct with BRINE_FIELDS / BRINE_CLASS");
  static_assert(!detail::has_codec<T> || detail::codec_has_to_value<T>,
                "brine::to_value: brine::codec<T> needs `static brine::Value to_value(brine::Builder&, const T&)`");
  if constexpr (detail::codec_has_to_value<T>) {
    return codec<T>::to_value(b, x);
  } else {
    return Value();
  }
}

/// Converts a Python value to T. On failure the error (code wrong_kind, out_of_range or
/// key_not_found) has the path of the offending value in `path`, e.g. `$['layers'][3]`.
/// `T = std::string_view`, `std::span<const std::byte>` and `brine::Value` point into the
/// value's document.
///
/// \code
///   brine::Result<std::vector<int>> xs = brine::from_value<std::vector<int>>(doc.root());
///   if (!xs) std::cerr << xs.error().to_string() << "\n";   // "$[2]: expected int, got str"
/// \endcode
template <class T>
Result<T> from_value(const Value& v) {
  static_assert(std::is_same_v<T, std::remove_cvref_t<T>>, "brine::from_value<T>: T must not be const or a reference");
  static_assert(detail::has_codec<T>,
                "brine::from_value: no mapping for this C++ type; specialize brine::codec<T> "
                "(to_value/from_value) or describe the struct with BRINE_FIELDS / BRINE_CLASS");
  static_assert(!detail::has_codec<T> || detail::codec_has_from_value<T>,
                "brine::from_value: brine::codec<T> needs `static brine::Result<T> from_value(const brine::Value&)`");
  if constexpr (detail::codec_has_from_value<T>) {
    Result<T> r = codec<T>::from_value(v);
    if (!r && r.error().path.empty()) {
      Error e = std::move(r).error();
      e.path = "$";
      return e;
    }
    return r;
  } else {
    return Error{};
  }
}

// ============================================================================================
// Helpers shared by the codecs (src/mapping.cpp). Not a stable API.
// ============================================================================================
namespace detail {

__extension__ using int128 = __int128;

/// An error at the current value (path "$").
Error mapping_error(errc code, std::string message);
/// wrong_kind: "expected <expected>, got <Python type of v>".
Error kind_mismatch(const Value& v, std::string_view expected);
/// Puts `segment` ("[3]", "['a']", ".x") in front of the error's path (below "$").
void nest_path(Error& e, std::string_view segment);
/// "[3]".
std::string index_segment(std::size_t i);
/// "['a']": the key's repr (shortened if long) in brackets.
std::string key_segment(const Value& key);
/// repr(v), shortened to about 60 characters.
std::string short_repr(const Value& v);
/// Turns an error decoding a dict key or a set element into an error at the container
/// ("key 'a': expected int, got str").
void as_member_error(Error& e, std::string_view what, const Value& member);
/// Rethrows `e` with `segment` put in front of its path.
[[noreturn]] void rethrow_nested(const Exception& e, std::string_view segment);
[[noreturn]] void throw_mapping_error(errc code, std::string message);

Result<std::int64_t> read_signed(const Value& v, std::int64_t lo, std::int64_t hi, std::string_view cxx_type);
Result<std::uint64_t> read_unsigned(const Value& v, std::uint64_t hi, std::string_view cxx_type);
Value make_unsigned(Builder& b, std::uint64_t u);
/// float, or an int that converts exactly (not bool).
Result<double> read_double(const Value& v);
/// complex, float or int (not bool).
Result<std::complex<double>> read_complex(const Value& v);
/// dict, collections.OrderedDict / defaultdict / Counter.
bool is_dict_like(const Value& v);
/// Elements of a list, a tuple or a collections.deque; nullopt for anything else.
std::optional<std::span<const Value>> sequence_elements(const Value& v);
/// A value usable as a dict key / set element: lists become tuples, sets frozensets.
Value hashable(Builder& b, const Value& v);

inline constexpr std::int64_t us_per_day = 86400000000;
inline constexpr int128 max_timedelta_us = int128{999999999} * us_per_day + (us_per_day - 1);
inline constexpr int128 min_timedelta_us = -int128{999999999} * us_per_day;
/// datetime.datetime(1, 1, 1) and datetime.datetime(9999, 12, 31, 23, 59, 59, 999999) in
/// microseconds since 1970-01-01.
inline constexpr int128 min_datetime_us = int128{-719162} * us_per_day;
inline constexpr int128 max_datetime_us = int128{2932897} * us_per_day - 1;

/// datetime.timedelta(days, seconds, microseconds) (normalised arguments).
Value make_timedelta(Builder& b, std::int64_t days, std::int64_t seconds, std::int64_t microseconds);
/// The microseconds of a datetime.timedelta.
Result<std::int64_t> read_timedelta_days(const Value& v, std::int64_t& us_of_day);
/// A naive datetime.datetime, `days` after 1970-01-01 plus `us_of_day` (throws out_of_range
/// outside years 1..9999).
Value make_datetime(Builder& b, std::int64_t days, std::int64_t us_of_day);
/// Python's repr of timedelta(days, microseconds=us_of_day) and of a naive datetime that many
/// days after 1970-01-01 (for messages).
std::string timedelta_text(std::int64_t days, std::int64_t us_of_day);
std::string datetime_text(std::int64_t days, std::int64_t us_of_day);
/// A datetime.datetime as days since 1970-01-01 and microseconds into that day, in UTC (naive:
/// taken as UTC; aware: its fixed offset subtracted).
Result<std::int64_t> read_datetime_utc_days(const Value& v, std::int64_t& us_of_day);

template <class T>
inline constexpr bool always_false = false;

template <class T>
std::string_view int_type_name() {
  constexpr bool s = std::is_signed_v<T>;
  switch (sizeof(T)) {
    case 1: return s ? "std::int8_t" : "std::uint8_t";
    case 2: return s ? "std::int16_t" : "std::uint16_t";
    case 4: return s ? "std::int32_t" : "std::uint32_t";
    default: return s ? "std::int64_t" : "std::uint64_t";
  }
}

template <class T>
concept mapped_integer = std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
                         !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char8_t> &&
                         !std::is_same_v<T, char16_t> && !std::is_same_v<T, char32_t>;

/// to_value(b, x), with `segment()` put in front of the path of any error.
template <class T, class Segment>
Value to_value_at(Builder& b, const T& x, Segment&& segment) {
  try {
    return brine::to_value(b, x);
  } catch (const Exception& e) {
    rethrow_nested(e, segment());
  }
}

/// Codecs that can write their value straight into the pickle (brine/emit.hpp).
template <class T>
concept codec_has_write = requires(Emitter& e, const T& x) { codec<T>::write(e, x); };

/// Writes x with codec<T>::write, or as to_value on the emitter's scratch document.
template <class T>
void write_value(Emitter& e, const T& x) {
  if constexpr (codec_has_write<T>) {
    codec<T>::write(e, x);
  } else {
    e.value(brine::to_value(e.builder(), x));
  }
}

/// write_value(e, x), with `segment()` put in front of the path of any error.
template <class T, class Segment>
void write_at(Emitter& e, const T& x, Segment&& segment) {
  try {
    write_value(e, x);
  } catch (const Exception& ex) {
    rethrow_nested(ex, segment());
  }
}

/// from_value<T>(v), with `segment()` put in front of the path of any error.
template <class T, class Segment>
Result<T> from_value_at(const Value& v, Segment&& segment) {
  Result<T> r = brine::from_value<T>(v);
  if (!r) {
    Error e = std::move(r).error();
    nest_path(e, segment());
    return e;
  }
  return r;
}

// ---- sequences, maps, sets ---------------------------------------------------------------------

template <class C>
struct list_codec {
  using E = typename C::value_type;
  static Value to_value(Builder& b, const C& c) {
    std::vector<Value> items;
    items.reserve(c.size());
    for (const auto& x : c) {
      std::size_t i = items.size();
      items.push_back(to_value_at(b, static_cast<const E&>(x), [i] { return index_segment(i); }));
    }
    return b.list(items);
  }
  static void write(Emitter& e, const C& c) {
    e.begin_list(static_cast<std::size_t>(std::distance(c.begin(), c.end())));
    std::size_t i = 0;
    for (const auto& x : c) {
      write_at(e, static_cast<const E&>(x), [i] { return index_segment(i); });
      ++i;
    }
    e.end_list();
  }
  static Result<C> from_value(const Value& v) {
    auto els = sequence_elements(v);
    if (!els) return kind_mismatch(v, "list");
    C out;
    if constexpr (requires { out.reserve(std::size_t{}); }) out.reserve(els->size());
    for (std::size_t i = 0; i < els->size(); ++i) {
      Result<E> r = from_value_at<E>((*els)[i], [i] { return index_segment(i); });
      if (!r) return std::move(r).error();
      out.push_back(std::move(*r));
    }
    return out;
  }
};

template <class M>
struct map_codec {
  using K = typename M::key_type;
  using V = typename M::mapped_type;
  static Value to_value(Builder& b, const M& m) {
    Value d = b.dict();
    for (const auto& [k, x] : m) {
      Value key = hashable(b, brine::to_value(b, k));
      b.set_item(d, key, to_value_at(b, x, [&] { return key_segment(key); }));
    }
    return d;
  }
  // Direct only for keys distinct in C++ that are distinct in Python too (strs, ints).
  static void write(Emitter& e, const M& m)
    requires(std::is_same_v<K, std::string> || std::is_same_v<K, std::string_view> || mapped_integer<K>)
  {
    e.begin_dict(m.size());
    for (const auto& item : m) {
      const K& k = item.first;
      write_value(e, k);
      write_at(e, item.second, [&] { return key_segment(brine::to_value(e.builder(), k)); });
    }
    e.end_dict();
  }
  static Result<M> from_value(const Value& v) {
    if (!is_dict_like(v)) return kind_mismatch(v, "dict");
    M out;
    for (const DictItem& it : v.items()) {
      Result<K> k = brine::from_value<K>(it.key);
      if (!k) {
        Error e = std::move(k).error();
        as_member_error(e, "key", it.key);
        return e;
      }
      Result<V> x = from_value_at<V>(it.value, [&] { return key_segment(it.key); });
      if (!x) return std::move(x).error();
      out.insert_or_assign(std::move(*k), std::move(*x));
    }
    return out;
  }
};

template <class S>
struct set_codec {
  using K = typename S::key_type;
  static Value to_value(Builder& b, const S& s) {
    std::vector<Value> items;
    items.reserve(s.size());
    for (const auto& x : s) items.push_back(hashable(b, brine::to_value(b, x)));
    return b.set(items);
  }
  static Result<S> from_value(const Value& v) {
    if (v.kind() != Kind::set && v.kind() != Kind::frozenset) return kind_mismatch(v, "set");
    S out;
    for (const Value& x : v.elements()) {
      Result<K> k = brine::from_value<K>(x);
      if (!k) {
        Error e = std::move(k).error();
        as_member_error(e, "element", x);
        return e;
      }
      out.insert(std::move(*k));
    }
    return out;
  }
};

// ---- chrono ---------------------------------------------------------------------------------

/// A duration in microseconds, rounded to the nearest (ties to even, as Python's timedelta
/// constructor rounds); nullopt if its magnitude is far beyond any timedelta.
template <class Rep, class Period>
std::optional<int128> to_micros(const std::chrono::duration<Rep, Period>& d) {
  using R = std::ratio_divide<Period, std::micro>;  // microseconds per tick
  if constexpr (std::is_floating_point_v<Rep>) {
    long double us = static_cast<long double>(d.count()) * R::num / R::den;
    if (!(std::fabs(us) <= 1e21L)) return std::nullopt;  // also NaN
    return static_cast<int128>(std::nearbyint(us));
  } else {
    int128 x = static_cast<int128>(d.count()) * R::num;
    int128 q = x / R::den;
    int128 r = x % R::den;
    if (r != 0) {
      int128 twice = 2 * (r < 0 ? -r : r);
      if (twice > R::den || (twice == R::den && q % 2 != 0)) q += x < 0 ? -1 : 1;
    }
    return q;
  }
}

/// The duration of `us` microseconds; out_of_range if it is not a whole number of ticks or does
/// not fit Rep (`describe()` names the Python value in the message).
template <class Rep, class Period, class Describe>
Result<std::chrono::duration<Rep, Period>> from_micros(int128 us, Describe&& describe) {
  using D = std::chrono::duration<Rep, Period>;
  using R = std::ratio_divide<Period, std::micro>;
  if constexpr (std::is_floating_point_v<Rep>) {
    return D(static_cast<Rep>(static_cast<long double>(us) * R::den / R::num));
  } else {
    int128 mag = us < 0 ? -us : us;
    if (mag > (int128{1} << 125) / R::den)
      return mapping_error(errc::out_of_range, describe() + " does not fit this std::chrono duration type");
    int128 x = us * R::den;
    if (x % R::num != 0)
      return mapping_error(errc::out_of_range,
                           describe() + " is not a whole number of ticks of this std::chrono duration type");
    int128 c = x / R::num;
    if (c < static_cast<int128>(std::numeric_limits<Rep>::min()) ||
        c > static_cast<int128>(std::numeric_limits<Rep>::max()))
      return mapping_error(errc::out_of_range, describe() + " does not fit this std::chrono duration type");
    return D(static_cast<Rep>(c));
  }
}

inline int128 floor_div(int128 a, int128 b) {
  int128 q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// ---- described structs (BRINE_FIELDS / BRINE_CLASS) -------------------------------------------

template <class T>
struct type_tag {};

template <class C, class M>
struct field_info {
  std::string_view name;
  M C::*member;
};

template <class P>
struct member_of;
template <class M, class B>
struct member_of<M B::*> {
  using type = M;
};

template <class C, class P>
constexpr auto make_field(std::string_view name, P member) {
  using M = typename member_of<P>::type;
  return field_info<C, M>{name, member};
}

template <class C, class... Fs>
struct type_description {
  std::string_view module;    ///< empty: a dict of the fields
  std::string_view qualname;
  std::tuple<Fs...> fields;
};

template <class C, class... Fs>
constexpr type_description<C, Fs...> describe_type(std::string_view module, std::string_view qualname, Fs... fields) {
  return {module, qualname, std::tuple<Fs...>(fields...)};
}

template <class T>
concept described = requires { brine_describe(type_tag<T>{}); };

template <class T>
inline constexpr bool is_optional = false;
template <class T>
inline constexpr bool is_optional<std::optional<T>> = true;

template <class T>
inline constexpr bool is_view = std::is_same_v<T, std::string_view> ||
                                std::is_same_v<T, std::span<const std::byte>> || std::is_same_v<T, Value>;

}  // namespace detail

// ============================================================================================
// Codecs of the standard types (docs/mapping.md)
// ============================================================================================

/// bool <-> bool (only bool decodes; 0 and 1 do not).
template <>
struct codec<bool> {
  static Value to_value(Builder& b, bool x) { return b.boolean(x); }
  static void write(detail::Emitter& e, bool x) { e.boolean(x); }
  static Result<bool> from_value(const Value& v) {
    if (!v.is_bool()) return detail::kind_mismatch(v, "bool");
    return v.get<bool>();
  }
};

/// Integers <-> int, range-checked on decoding (bool does not decode as an int).
template <detail::mapped_integer T>
struct codec<T> {
  static Value to_value(Builder& b, T x) {
    if constexpr (std::is_signed_v<T> || sizeof(T) < sizeof(std::int64_t)) {
      return b.integer(static_cast<std::int64_t>(x));
    } else {
      return detail::make_unsigned(b, static_cast<std::uint64_t>(x));
    }
  }
  static void write(detail::Emitter& e, T x) {
    if constexpr (std::is_signed_v<T> || sizeof(T) < sizeof(std::int64_t)) {
      e.integer(static_cast<std::int64_t>(x));
    } else if (static_cast<std::uint64_t>(x) <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      e.integer(static_cast<std::int64_t>(x));
    } else {
      e.value(detail::make_unsigned(e.builder(), static_cast<std::uint64_t>(x)));
    }
  }
  static Result<T> from_value(const Value& v) {
    if constexpr (std::is_signed_v<T>) {
      auto r = detail::read_signed(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max(),
                                   detail::int_type_name<T>());
      if (!r) return std::move(r).error();
      return static_cast<T>(*r);
    } else {
      auto r = detail::read_unsigned(v, std::numeric_limits<T>::max(), detail::int_type_name<T>());
      if (!r) return std::move(r).error();
      return static_cast<T>(*r);
    }
  }
};

/// brine::BigInt <-> int of any size.
template <>
struct codec<BigInt> {
  static Value to_value(Builder& b, const BigInt& x) {
    if (x.bytes().empty()) return b.integer(0);
    return b.integer_le(x.bytes());
  }
  static Result<BigInt> from_value(const Value& v) {
    if (!v.is_int()) return detail::kind_mismatch(v, "int");
    return v.get<BigInt>();
  }
};

/// float, double, long double <-> float (ints that convert exactly also decode).
template <std::floating_point T>
struct codec<T> {
  static Value to_value(Builder& b, T x) { return b.floating(static_cast<double>(x)); }
  static void write(detail::Emitter& e, T x) { e.floating(static_cast<double>(x)); }
  static Result<T> from_value(const Value& v) {
    auto r = detail::read_double(v);
    if (!r) return std::move(r).error();
    if constexpr (sizeof(T) < sizeof(double)) {
      if (std::isfinite(*r) && std::fabs(*r) > static_cast<double>(std::numeric_limits<T>::max()))
        return detail::mapping_error(errc::out_of_range, "float " + detail::short_repr(v) + " does not fit float");
    }
    return static_cast<T>(*r);
  }
};

/// std::complex <-> complex (floats and ints also decode).
template <std::floating_point T>
struct codec<std::complex<T>> {
  static Value to_value(Builder& b, const std::complex<T>& x) {
    return b.complex(static_cast<double>(x.real()), static_cast<double>(x.imag()));
  }
  static Result<std::complex<T>> from_value(const Value& v) {
    auto r = detail::read_complex(v);
    if (!r) return std::move(r).error();
    return std::complex<T>(static_cast<T>(r->real()), static_cast<T>(r->imag()));
  }
};

/// std::string <-> str (UTF-8; encoding throws unicode_error for invalid UTF-8).
template <>
struct codec<std::string> {
  static Value to_value(Builder& b, const std::string& s) { return b.str(s); }
  static void write(detail::Emitter& e, const std::string& s) { e.str(s); }
  static Result<std::string> from_value(const Value& v) {
    if (!v.is_str()) return detail::kind_mismatch(v, "str");
    return v.get<std::string>();
  }
};

/// std::string_view <-> str (decoded views point into the value's document).
template <>
struct codec<std::string_view> {
  static Value to_value(Builder& b, std::string_view s) { return b.str(s); }
  static void write(detail::Emitter& e, std::string_view s) { e.str(s); }
  static Result<std::string_view> from_value(const Value& v) {
    if (!v.is_str()) return detail::kind_mismatch(v, "str");
    return v.get<std::string_view>();
  }
};

/// std::vector<std::byte> <-> bytes (bytearray also decodes). A std::vector<std::uint8_t> is a
/// list of ints.
template <class A>
struct codec<std::vector<std::byte, A>> {
  static Value to_value(Builder& b, const std::vector<std::byte, A>& x) {
    return b.bytes(std::span<const std::byte>(x.data(), x.size()));
  }
  static Result<std::vector<std::byte, A>> from_value(const Value& v) {
    if (v.kind() != Kind::bytes && v.kind() != Kind::bytearray && v.kind() != Kind::buffer)
      return detail::kind_mismatch(v, "bytes");
    auto s = v.get<std::span<const std::byte>>();
    if (!s) return std::move(s).error();
    return std::vector<std::byte, A>(s->begin(), s->end());
  }
};

/// std::span<const std::byte> <-> bytes (decoded spans point into the value's document).
template <>
struct codec<std::span<const std::byte>> {
  static Value to_value(Builder& b, std::span<const std::byte> x) { return b.bytes(x); }
  static Result<std::span<const std::byte>> from_value(const Value& v) {
    if (v.kind() != Kind::bytes && v.kind() != Kind::bytearray && v.kind() != Kind::buffer)
      return detail::kind_mismatch(v, "bytes");
    return v.get<std::span<const std::byte>>();
  }
};

/// std::array<std::byte, N> <-> bytes of length N.
template <std::size_t N>
struct codec<std::array<std::byte, N>> {
  static Value to_value(Builder& b, const std::array<std::byte, N>& x) { return b.bytes(std::span<const std::byte>(x)); }
  static Result<std::array<std::byte, N>> from_value(const Value& v) {
    if (v.kind() != Kind::bytes && v.kind() != Kind::bytearray && v.kind() != Kind::buffer)
      return detail::kind_mismatch(v, "bytes");
    auto s = v.get<std::span<const std::byte>>();
    if (!s) return std::move(s).error();
    if (s->size() != N)
      return detail::mapping_error(errc::out_of_range, "expected bytes of length " + std::to_string(N) +
                                                           ", got length " + std::to_string(s->size()));
    std::array<std::byte, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = (*s)[i];
    return out;
  }
};

/// std::vector <-> list (tuples and collections.deque also decode).
template <class T, class A>
struct codec<std::vector<T, A>> : detail::list_codec<std::vector<T, A>> {};
/// std::deque <-> list (tuples and collections.deque also decode).
template <class T, class A>
struct codec<std::deque<T, A>> : detail::list_codec<std::deque<T, A>> {};
/// std::list <-> list (tuples and collections.deque also decode).
template <class T, class A>
struct codec<std::list<T, A>> : detail::list_codec<std::list<T, A>> {};

/// std::array<T, N> <-> list of exactly N elements (tuples also decode).
template <class T, std::size_t N>
struct codec<std::array<T, N>> {
  static Value to_value(Builder& b, const std::array<T, N>& a) {
    std::vector<Value> items;
    items.reserve(N);
    for (std::size_t i = 0; i < N; ++i)
      items.push_back(detail::to_value_at(b, a[i], [i] { return detail::index_segment(i); }));
    return b.list(items);
  }
  static void write(detail::Emitter& e, const std::array<T, N>& a) {
    e.begin_list(N);
    for (std::size_t i = 0; i < N; ++i) detail::write_at(e, a[i], [i] { return detail::index_segment(i); });
    e.end_list();
  }
  static Result<std::array<T, N>> from_value(const Value& v) {
    static_assert(std::is_default_constructible_v<T>, "brine: decoding std::array<T, N> needs a default-constructible T");
    auto els = detail::sequence_elements(v);
    if (!els) return detail::kind_mismatch(v, "list");
    if (els->size() != N)
      return detail::mapping_error(errc::out_of_range, "expected a list of " + std::to_string(N) +
                                                           " elements, got " + std::to_string(els->size()));
    std::array<T, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
      Result<T> r = detail::from_value_at<T>((*els)[i], [i] { return detail::index_segment(i); });
      if (!r) return std::move(r).error();
      out[i] = std::move(*r);
    }
    return out;
  }
};

/// std::map <-> dict (OrderedDict, defaultdict and Counter also decode).
template <class K, class V, class C, class A>
struct codec<std::map<K, V, C, A>> : detail::map_codec<std::map<K, V, C, A>> {};
/// std::unordered_map <-> dict (OrderedDict, defaultdict and Counter also decode).
template <class K, class V, class H, class E, class A>
struct codec<std::unordered_map<K, V, H, E, A>> : detail::map_codec<std::unordered_map<K, V, H, E, A>> {};

/// std::set <-> set (frozenset also decodes).
template <class K, class C, class A>
struct codec<std::set<K, C, A>> : detail::set_codec<std::set<K, C, A>> {};
/// std::unordered_set <-> set (frozenset also decodes).
template <class K, class H, class E, class A>
struct codec<std::unordered_set<K, H, E, A>> : detail::set_codec<std::unordered_set<K, H, E, A>> {};

/// std::tuple <-> tuple of the same length (lists of that length also decode).
template <class... Ts>
struct codec<std::tuple<Ts...>> {
  static Value to_value(Builder& b, const std::tuple<Ts...>& t) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      std::array<Value, sizeof...(Ts)> items{
          detail::to_value_at(b, std::get<I>(t), [] { return detail::index_segment(I); })...};
      return b.tuple(std::span<const Value>(items.data(), items.size()));
    }(std::index_sequence_for<Ts...>{});
  }
  static void write(detail::Emitter& e, const std::tuple<Ts...>& t) {
    e.begin_tuple(sizeof...(Ts));
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (..., detail::write_at(e, std::get<I>(t), [] { return detail::index_segment(I); }));
    }(std::index_sequence_for<Ts...>{});
    e.end_tuple();
  }
  static Result<std::tuple<Ts...>> from_value(const Value& v) {
    auto els = detail::sequence_elements(v);
    if (!els || v.kind() == Kind::object) return detail::kind_mismatch(v, "tuple");
    if (els->size() != sizeof...(Ts))
      return detail::mapping_error(errc::out_of_range, "expected a tuple of " + std::to_string(sizeof...(Ts)) +
                                                           " elements, got " + std::to_string(els->size()));
    std::optional<Error> err;
    std::tuple<std::optional<Ts>...> parts;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      static_cast<void>((... && [&] {
        using E = std::tuple_element_t<I, std::tuple<Ts...>>;
        Result<E> r = detail::from_value_at<E>((*els)[I], [] { return detail::index_segment(I); });
        if (!r) {
          err = std::move(r).error();
          return false;
        }
        std::get<I>(parts).emplace(std::move(*r));
        return true;
      }()));
    }(std::index_sequence_for<Ts...>{});
    if (err) return std::move(*err);
    return std::apply([](auto&... p) { return std::tuple<Ts...>(std::move(*p)...); }, parts);
  }
};

/// std::pair <-> tuple of 2 (lists of 2 also decode).
template <class A, class B>
struct codec<std::pair<A, B>> {
  static Value to_value(Builder& b, const std::pair<A, B>& p) {
    return codec<std::tuple<A, B>>::to_value(b, std::tuple<A, B>(p.first, p.second));
  }
  static void write(detail::Emitter& e, const std::pair<A, B>& p) {
    e.begin_tuple(2);
    detail::write_at(e, p.first, [] { return detail::index_segment(0); });
    detail::write_at(e, p.second, [] { return detail::index_segment(1); });
    e.end_tuple();
  }
  static Result<std::pair<A, B>> from_value(const Value& v) {
    auto r = codec<std::tuple<A, B>>::from_value(v);
    if (!r) return std::move(r).error();
    return std::pair<A, B>(std::move(std::get<0>(*r)), std::move(std::get<1>(*r)));
  }
};

/// std::optional <-> None or the value.
template <class T>
struct codec<std::optional<T>> {
  static Value to_value(Builder& b, const std::optional<T>& o) { return o ? brine::to_value(b, *o) : b.none(); }
  static void write(detail::Emitter& e, const std::optional<T>& o) {
    if (o)
      detail::write_value(e, *o);
    else
      e.none();
  }
  static Result<std::optional<T>> from_value(const Value& v) {
    if (v.is_none()) return std::optional<T>();
    auto r = brine::from_value<T>(v);
    if (!r) return std::move(r).error();
    return std::optional<T>(std::move(*r));
  }
};

/// std::monostate <-> None.
template <>
struct codec<std::monostate> {
  static Value to_value(Builder& b, std::monostate) { return b.none(); }
  static void write(detail::Emitter& e, std::monostate) { e.none(); }
  static Result<std::monostate> from_value(const Value& v) {
    if (!v.is_none()) return detail::kind_mismatch(v, "None");
    return std::monostate{};
  }
};

/// std::variant <-> the held alternative; decoding takes the first alternative that decodes.
template <class... Ts>
struct codec<std::variant<Ts...>> {
  static Value to_value(Builder& b, const std::variant<Ts...>& x) {
    if (x.valueless_by_exception()) detail::throw_mapping_error(errc::value_error, "std::variant is valueless");
    return std::visit([&](const auto& alt) { return brine::to_value(b, alt); }, x);
  }
  static void write(detail::Emitter& e, const std::variant<Ts...>& x) {
    if (x.valueless_by_exception()) detail::throw_mapping_error(errc::value_error, "std::variant is valueless");
    std::visit([&](const auto& alt) { detail::write_value(e, alt); }, x);
  }
  static Result<std::variant<Ts...>> from_value(const Value& v) {
    std::optional<std::variant<Ts...>> out;
    std::string why;
    errc code = errc::ok;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      static_cast<void>((... || [&] {
        using E = std::variant_alternative_t<I, std::variant<Ts...>>;
        Result<E> r = brine::from_value<E>(v);
        if (r) {
          out.emplace(std::in_place_index<I>, std::move(*r));
          return true;
        }
        const Error& e = r.error();
        if (!why.empty()) why += "; ";
        why += "#" + std::to_string(I) + ": ";
        if (e.path != "$") why += e.path + ": ";
        why += e.message;
        code = (code == errc::ok || code == e.code) ? e.code : errc::wrong_kind;
        return false;
      }()));
    }(std::index_sequence_for<Ts...>{});
    if (out) return std::move(*out);
    return detail::mapping_error(code, "no alternative of the std::variant matches (" + why + ")");
  }
};

/// std::chrono::duration <-> datetime.timedelta. Encoding rounds to whole microseconds (ties to
/// even, as Python does); decoding fails (out_of_range) if the timedelta is not a whole number of
/// the duration's ticks or does not fit its Rep.
template <class Rep, class Period>
struct codec<std::chrono::duration<Rep, Period>> {
  static_assert(std::is_arithmetic_v<Rep>, "brine: std::chrono::duration needs an arithmetic Rep");
  static Value to_value(Builder& b, const std::chrono::duration<Rep, Period>& d) {
    auto us = detail::to_micros(d);
    if (!us || *us < detail::min_timedelta_us || *us > detail::max_timedelta_us)
      detail::throw_mapping_error(errc::out_of_range, "duration is outside datetime.timedelta's range");
    auto days = detail::floor_div(*us, detail::us_per_day);
    auto rem = static_cast<std::int64_t>(*us - days * detail::us_per_day);
    return detail::make_timedelta(b, static_cast<std::int64_t>(days), rem / 1000000, rem % 1000000);
  }
  static Result<std::chrono::duration<Rep, Period>> from_value(const Value& v) {
    std::int64_t us_of_day = 0;
    auto days = detail::read_timedelta_days(v, us_of_day);
    if (!days) return std::move(days).error();
    return detail::from_micros<Rep, Period>(detail::int128{*days} * detail::us_per_day + us_of_day,
                                            [&] { return detail::timedelta_text(*days, us_of_day); });
  }
};

/// std::chrono::system_clock::time_point (any duration) <-> naive datetime.datetime in UTC.
/// Encoding rounds to whole microseconds (ties to even) and fails outside years 1..9999;
/// decoding an aware datetime subtracts its fixed UTC offset (datetime.timezone).
template <class D>
struct codec<std::chrono::time_point<std::chrono::system_clock, D>> {
  using TP = std::chrono::time_point<std::chrono::system_clock, D>;
  static Value to_value(Builder& b, const TP& t) {
    auto us = detail::to_micros(t.time_since_epoch());
    if (!us || *us < detail::min_datetime_us || *us > detail::max_datetime_us)
      detail::throw_mapping_error(errc::out_of_range, "time point is outside datetime.datetime's range (years 1..9999)");
    auto days = detail::floor_div(*us, detail::us_per_day);
    return detail::make_datetime(b, static_cast<std::int64_t>(days),
                                 static_cast<std::int64_t>(*us - days * detail::us_per_day));
  }
  static Result<TP> from_value(const Value& v) {
    std::int64_t us_of_day = 0;
    auto days = detail::read_datetime_utc_days(v, us_of_day);
    if (!days) return std::move(days).error();
    auto d = detail::from_micros<typename D::rep, typename D::period>(
        detail::int128{*days} * detail::us_per_day + us_of_day,
        [&] { return detail::datetime_text(*days, us_of_day); });
    if (!d) return std::move(d).error();
    return TP(*d);
  }
};

/// brine::Value <-> itself (for parts left untyped; decoded values point into the document).
template <>
struct codec<Value> {
  static Value to_value(Builder&, const Value& v) { return v; }
  static Result<Value> from_value(const Value& v) { return v; }
};

/// Structs described with BRINE_FIELDS (a dict of the fields) or BRINE_CLASS (an object of a
/// Python class whose state is that dict, as CPython pickles a dataclass instance).
template <detail::described T>
struct codec<T> {
  static Value to_value(Builder& b, const T& x) {
    const auto desc = brine_describe(detail::type_tag<T>{});
    const bool as_object = !desc.module.empty();
    Value state = b.dict();
    std::apply(
        [&](const auto&... f) {
          (..., b.set_item(state, b.interned(f.name), detail::to_value_at(b, x.*(f.member), [&] {
                             return as_object ? "." + std::string(f.name) : "['" + std::string(f.name) + "']";
                           })));
        },
        desc.fields);
    if (!as_object) return state;
    return b.object(b.global(desc.module, desc.qualname), Value(), state);
  }
  // A dict of the fields, written directly; an object of a class through to_value.
  static void write(detail::Emitter& e, const T& x) {
    const auto desc = brine_describe(detail::type_tag<T>{});
    if (!desc.module.empty()) return e.value(to_value(e.builder(), x));
    e.begin_dict(std::tuple_size_v<decltype(desc.fields)>);
    std::apply(
        [&](const auto&... f) {
          (..., (e.name(f.name), detail::write_at(e, x.*(f.member), [&] { return "['" + std::string(f.name) + "']"; })));
        },
        desc.fields);
    e.end_dict();
  }

  static Result<T> from_value(const Value& v) {
    static_assert(std::is_default_constructible_v<T>,
                  "brine: decoding a BRINE_FIELDS / BRINE_CLASS struct needs a default-constructible type");
    const auto desc = brine_describe(detail::type_tag<T>{});
    const bool as_object = !desc.module.empty();
    if (as_object) {
      if (!v.is_object() || v.module() != desc.module || v.name() != desc.qualname)
        return detail::kind_mismatch(v, std::string(desc.module) + "." + std::string(desc.qualname));
    } else if (!detail::is_dict_like(v)) {
      return detail::kind_mismatch(v, "dict");
    }
    T out{};
    std::optional<Error> err;
    std::apply(
        [&](const auto&... f) {
          static_cast<void>((... && [&](const auto& field) {
            using M = std::remove_cvref_t<decltype(out.*(field.member))>;
            Value fv = as_object ? v.attr(field.name) : v.find(field.name);
            if (!fv.valid()) {
              if constexpr (detail::is_optional<M>) {
                out.*(field.member) = std::nullopt;
                return true;
              } else {
                err = detail::mapping_error(errc::key_not_found, (as_object ? "missing attribute '" : "missing key '") +
                                                                     std::string(field.name) + "'");
                return false;
              }
            }
            Result<M> r = detail::from_value_at<M>(fv, [&] {
              return as_object ? "." + std::string(field.name) : "['" + std::string(field.name) + "']";
            });
            if (!r) {
              err = std::move(r).error();
              return false;
            }
            out.*(field.member) = std::move(*r);
            return true;
          }(f)));
        },
        desc.fields);
    if (err) return std::move(*err);
    return out;
  }
};

// ============================================================================================
// Bytes
// ============================================================================================

/// Pickles a C++ value (see docs/mapping.md for what each type becomes).
///
/// \code
///   std::string bytes = brine::encode(std::vector<int>{1, 2, 3}, 2).value();
/// \endcode
template <class T>
Result<std::string> encode(const T& x, const WriteOptions& options) {
  if constexpr (detail::codec_has_write<T>) {
    return detail::emit_pickle(
        options, [](detail::Emitter& e, const void* p) { detail::write_value(e, *static_cast<const T*>(p)); }, &x);
  }
  Document doc = Document::create();
  try {
    Builder b(doc);
    Value v = brine::to_value(b, x);
    return dumps(v, options);
  } catch (const Exception& e) {
    return e.error();
  }
}

/// Pickles a C++ value at `protocol` (0..5; -1 = highest; CPython's default is 4).
///
/// \code
///   std::string bytes = brine::encode(std::map<std::string, double>{{"lr", 0.1}}, 5).value();
/// \endcode
template <class T>
Result<std::string> encode(const T& x, int protocol = 4) {
  WriteOptions o;
  o.protocol = protocol;
  return brine::encode(x, o);
}

/// Unpickles bytes into a C++ value. Load errors keep their byte offset; mapping errors carry
/// the path of the value that did not fit (`$['layers'][3]: expected int, got str`).
///
/// \code
///   brine::Result<std::vector<std::string>> names = brine::decode<std::vector<std::string>>(bytes);
/// \endcode
template <class T>
Result<T> decode(std::string_view bytes, const ReadOptions& options = {}) {
  static_assert(!detail::is_view<T>,
                "brine::decode<T>: T would point into a document destroyed on return; decode an owning "
                "type (std::string, std::vector<std::byte>) or use brine::loads + brine::from_value<T>");
  ReadOptions o = options;
  o.borrow_input = true;  // the document does not outlive this call
  Result<Document> doc = loads(bytes, o);
  if (!doc) return std::move(doc).error();
  return brine::from_value<T>(doc->root());
}

}  // namespace brine

// ============================================================================================
// BRINE_FIELDS / BRINE_CLASS
// ============================================================================================

#define BRINE_DETAIL_PARENS ()
#define BRINE_DETAIL_EXPAND(...) BRINE_DETAIL_EXPAND4(BRINE_DETAIL_EXPAND4(BRINE_DETAIL_EXPAND4(BRINE_DETAIL_EXPAND4(__VA_ARGS__))))
#define BRINE_DETAIL_EXPAND4(...) BRINE_DETAIL_EXPAND3(BRINE_DETAIL_EXPAND3(BRINE_DETAIL_EXPAND3(BRINE_DETAIL_EXPAND3(__VA_ARGS__))))
#define BRINE_DETAIL_EXPAND3(...) BRINE_DETAIL_EXPAND2(BRINE_DETAIL_EXPAND2(BRINE_DETAIL_EXPAND2(BRINE_DETAIL_EXPAND2(__VA_ARGS__))))
#define BRINE_DETAIL_EXPAND2(...) BRINE_DETAIL_EXPAND1(BRINE_DETAIL_EXPAND1(BRINE_DETAIL_EXPAND1(BRINE_DETAIL_EXPAND1(__VA_ARGS__))))
#define BRINE_DETAIL_EXPAND1(...) __VA_ARGS__
#define BRINE_DETAIL_FOR_EACH(m, T, ...) __VA_OPT__(BRINE_DETAIL_EXPAND(BRINE_DETAIL_FOR_EACH_STEP(m, T, __VA_ARGS__)))
#define BRINE_DETAIL_FOR_EACH_STEP(m, T, first, ...) \
  m(T, first) __VA_OPT__(BRINE_DETAIL_FOR_EACH_AGAIN BRINE_DETAIL_PARENS(m, T, __VA_ARGS__))
#define BRINE_DETAIL_FOR_EACH_AGAIN() BRINE_DETAIL_FOR_EACH_STEP
#define BRINE_DETAIL_FIELD(T, f) , ::brine::detail::make_field<T>(#f, &T::f)
#define BRINE_DETAIL_DESCRIBE(T, module, qualname, ...)                                     \
  inline auto brine_describe(::brine::detail::type_tag<T>) {                                \
    return ::brine::detail::describe_type<T>(module, qualname BRINE_DETAIL_FOR_EACH(BRINE_DETAIL_FIELD, T, __VA_ARGS__)); \
  }

/// Maps a struct to a dict of the listed fields: `BRINE_FIELDS(Point, x, y)` makes Point
/// <-> {'x': ..., 'y': ...}. Write it in the struct's namespace (or `friend BRINE_FIELDS(...)`
/// inside the struct, for private members). Decoding needs a default-constructible struct;
/// absent keys are an error except for std::optional fields; other keys are ignored.
/// Up to 256 fields.
///
/// \code
///   namespace geo { struct Point { double x = 0, y = 0; }; BRINE_FIELDS(Point, x, y) }
///   std::string bytes = brine::encode(geo::Point{1, 2}).value();   // {'x': 1.0, 'y': 2.0}
/// \endcode
#define BRINE_FIELDS(T, ...) BRINE_DETAIL_DESCRIBE(T, "", "", __VA_ARGS__)

/// Maps a struct to an object of the Python class `module.qualname` whose state (its __dict__)
/// holds the listed fields, built as CPython pickles a plain dataclass instance:
/// NEWOBJ(module.qualname, ()) + BUILD({'x': ..., 'y': ...}). Decoding requires an object of
/// exactly that class and reads its attributes (absent ones are an error except for
/// std::optional fields). Same placement rules as BRINE_FIELDS.
///
/// \code
///   struct Point { int x = 0, y = 0; };
///   BRINE_CLASS(Point, "geometry", "Point", x, y)   // @dataclass class Point: x: int; y: int
/// \endcode
#define BRINE_CLASS(T, module, qualname, ...) BRINE_DETAIL_DESCRIBE(T, module, qualname, __VA_ARGS__)
