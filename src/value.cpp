// Public accessors of the value graph, typed access, and decoding of recognised library types.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "brine/value.hpp"
#include "document.hpp"
#include "graph.hpp"
#include "input.hpp"
#include "known_globals.hpp"
#include "pytext.hpp"

namespace brine {

using detail::Access;
using detail::Tag;

std::string_view kind_name(Kind k) noexcept {
  switch (k) {
    case Kind::missing: return "missing";
    case Kind::none: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::complex: return "complex";
    case Kind::str: return "str";
    case Kind::bytes: return "bytes";
    case Kind::bytearray: return "bytearray";
    case Kind::tuple: return "tuple";
    case Kind::list: return "list";
    case Kind::dict: return "dict";
    case Kind::set: return "set";
    case Kind::frozenset: return "frozenset";
    case Kind::global: return "global";
    case Kind::object: return "object";
    case Kind::persistent: return "persistent_id";
    case Kind::buffer: return "buffer";
  }
  return "?";
}

Kind Value::kind() const noexcept {
  switch (tag()) {
    case Tag::invalid: return Kind::missing;
    case Tag::none: return Kind::none;
    case Tag::boolean: return Kind::boolean;
    case Tag::int64:
    case Tag::bigint: return Kind::integer;
    case Tag::float64: return Kind::floating;
    case Tag::complex: return Kind::complex;
    case Tag::str: return Kind::str;
    case Tag::bytes: return Kind::bytes;
    case Tag::bytearray: return Kind::bytearray;
    case Tag::tuple: return Kind::tuple;
    case Tag::list: return Kind::list;
    case Tag::dict: return Kind::dict;
    case Tag::set: return Kind::set;
    case Tag::frozenset: return Kind::frozenset;
    case Tag::global: return Kind::global;
    case Tag::object: return Kind::object;
    case Tag::persistent: return Kind::persistent;
    case Tag::buffer: return Kind::buffer;
  }
  return Kind::missing;
}

std::string Value::type_name() const { return detail::python_type_name(*this); }

std::size_t Value::size() const noexcept {
  switch (tag()) {
    case Tag::str:
    case Tag::bytes:
      return static_cast<std::size_t>(inline_length());
    case Tag::bytearray:
      return static_cast<std::size_t>(node<detail::ByteArrayNode>()->size);
    case Tag::buffer:
      return static_cast<std::size_t>(node<detail::BufferNode>()->size);
    case Tag::tuple:
    case Tag::list:
    case Tag::set:
    case Tag::frozenset:
      return elements().size();
    case Tag::dict:
      return items().size();
    case Tag::object:
      return items().empty() ? elements().size() : items().size();
    default:
      return 0;
  }
}

namespace {

Error err(errc code, std::string msg) {
  Error e;
  e.code = code;
  e.message = std::move(msg);
  return e;
}

Error wrong_kind(const Value& v, std::string_view expected) {
  return err(errc::wrong_kind, "expected " + std::string(expected) + ", got " + detail::python_type_name(v));
}

const detail::ObjectNode* obj(const Value& v) noexcept {
  return v.tag() == Tag::object ? Access::node<detail::ObjectNode>(v) : nullptr;
}

const detail::DictNode* dict_node(const Value& v) noexcept {
  if (v.tag() == Tag::dict) return Access::node<detail::DictNode>(v);
  if (auto* o = obj(v)) return o->dict_items;
  return nullptr;
}

// Bytes of a bytes value, or of a str made of code points < 256 (how Python 2 pickles of
// datetime loaded with encoding='latin1' carry their state).
bool latin1_bytes(const Value& v, std::string& out) {
  out.clear();
  if (v.tag() == Tag::bytes) {
    out.assign(Access::p(v), v.inline_length());
    return true;
  }
  if (v.tag() != Tag::str) return false;
  std::string_view s = Access::sv(v);
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp;
    i += detail::decode_utf8(s.data() + i, s.size() - i, cp);
    if (cp > 0xFF) return false;
    out.push_back(static_cast<char>(cp));
  }
  return true;
}

std::span<const Value> obj_args(const Value& v) noexcept {
  auto* o = obj(v);
  if (!o || o->args.tag() != Tag::tuple) return {};
  return o->args.elements();
}

}  // namespace

Value Value::at_index(std::int64_t index) const {
  auto el = elements();
  if (tag() != Tag::list && tag() != Tag::tuple && tag() != Tag::object)
    throw Exception(err(errc::wrong_kind, "cannot index a " + detail::python_type_name(*this) + " by position"));
  auto n = static_cast<std::int64_t>(el.size());
  std::int64_t i = index < 0 ? index + n : index;
  if (i < 0 || i >= n)
    throw Exception(err(errc::out_of_range, "index " + std::to_string(index) + " out of range for " +
                                                detail::python_type_name(*this) + " of length " + std::to_string(n)));
  return el[static_cast<std::size_t>(i)];
}

Value Value::find(std::string_view key) const noexcept {
  const detail::DictNode* d = dict_node(*this);
  if (!d) return {};
  if (d->h.flags & 1) {  // items of an unknown class's object: the last assignment wins
    for (std::uint64_t k = d->size; k-- > 0;) {
      const Value& kv = d->items[k].key;
      if (kv.tag() == Tag::str && Access::sv(kv) == key) return d->items[k].value;
    }
    return {};
  }
  std::int64_t i = detail::dict_find_str(d, key);
  return i < 0 ? Value() : d->items[i].value;
}

Value Value::find(const Value& key) const noexcept {
  const detail::DictNode* d = dict_node(*this);
  if (!d || !detail::is_hashable(key)) return {};
  try {
    if (d->h.flags & 1) {
      for (std::uint64_t k = d->size; k-- > 0;)
        if (detail::key_equal(d->items[k].key, key)) return d->items[k].value;
      return {};
    }
    std::int64_t i = detail::dict_find(d, key);
    return i < 0 ? Value() : d->items[i].value;
  } catch (...) {
    return {};
  }
}

Value Value::operator[](std::string_view key) const {
  if (!dict_node(*this))
    throw Exception(err(errc::wrong_kind, "cannot look up key '" + std::string(key) + "' in a " +
                                              detail::python_type_name(*this)));
  Value v = find(key);
  if (!v.valid()) throw Exception(err(errc::key_not_found, "key '" + std::string(key) + "' not found"));
  return v;
}

std::string_view Value::module() const noexcept {
  Value g = tag() == Tag::global ? *this : cls();
  if (g.tag() != Tag::global) return {};
  return Access::sv(Access::node<detail::GlobalNode>(g)->module);
}

std::string_view Value::name() const noexcept {
  Value g = tag() == Tag::global ? *this : cls();
  if (g.tag() != Tag::global) return {};
  return Access::sv(Access::node<detail::GlobalNode>(g)->name);
}

bool Value::is_instance_of(std::string_view m, std::string_view q) const noexcept {
  if (tag() == Tag::object) return module() == m && name() == q && !m.empty();
  if (m != "builtins") return false;
  std::string t = detail::python_type_name(*this);
  return t == q;
}

Construction Value::construction() const noexcept {
  auto* o = obj(*this);
  return o ? static_cast<Construction>(o->h.kind) : Construction::reduce;
}
Value Value::callable() const noexcept { auto* o = obj(*this); return o ? o->callable : Value(); }
Value Value::cls() const noexcept { auto* o = obj(*this); return o ? o->cls : Value(); }
Value Value::args() const noexcept { auto* o = obj(*this); return o ? o->args : Value(); }
Value Value::kwargs() const noexcept { auto* o = obj(*this); return o ? o->kwargs : Value(); }
Value Value::state() const noexcept { auto* o = obj(*this); return o ? o->state : Value(); }
Value Value::state_setter() const noexcept { auto* o = obj(*this); return o ? o->state_setter : Value(); }
LibraryType Value::library_type() const noexcept {
  auto* o = obj(*this);
  return o ? static_cast<LibraryType>(o->h.flags) : LibraryType::none;
}
Value Value::persistent_id() const noexcept {
  return tag() == Tag::persistent ? Access::node<detail::PersistentNode>(*this)->pid : Value();
}

Value Value::attr(std::string_view attr_name) const noexcept {
  Value st = state();
  if (st.tag() == Tag::dict) return st.find(attr_name);
  if (st.tag() == Tag::tuple && st.elements().size() == 2) {
    Value d = st.elements()[0];
    if (d.tag() == Tag::dict) {
      Value v = d.find(attr_name);
      if (v.valid()) return v;
    }
    Value slots = st.elements()[1];
    if (slots.tag() == Tag::dict) return slots.find(attr_name);
  }
  return {};
}

// ---- equality -----------------------------------------------------------------------------------

bool equal(const Value& a, const Value& b) {
  struct PairHash {
    std::size_t operator()(const std::pair<const void*, const void*>& p) const noexcept {
      return std::hash<const void*>()(p.first) * 31 + std::hash<const void*>()(p.second);
    }
  };
  std::unordered_set<std::pair<const void*, const void*>, PairHash> seen;
  std::vector<std::pair<Value, Value>> work{{a, b}};
  auto push_seq = [&](std::span<const Value> x, std::span<const Value> y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) work.emplace_back(x[i], y[i]);
    return true;
  };
  while (!work.empty()) {
    auto [x, y] = work.back();
    work.pop_back();
    Tag tx = x.tag(), ty = y.tag();
    bool x_node = tx >= Tag::complex, y_node = ty >= Tag::complex;
    if (x.same(y)) continue;
    if (x_node && y_node && tx != Tag::complex) {
      if (!seen.emplace(Access::identity(x), Access::identity(y)).second) continue;  // cycle: assume equal
    }
    switch (tx) {
      case Tag::list:
      case Tag::tuple:
        if (ty != tx || !push_seq(x.elements(), y.elements())) return false;
        break;
      case Tag::dict: {
        if (ty != Tag::dict || x.size() != y.size()) return false;
        auto* dy = Access::node<detail::DictNode>(y);
        for (const DictItem& it : x.items()) {
          std::int64_t j;
          try {
            j = detail::dict_find(dy, it.key);
          } catch (...) {
            return false;
          }
          if (j < 0) return false;
          work.emplace_back(it.value, dy->items[j].value);
        }
        break;
      }
      case Tag::set:
      case Tag::frozenset: {
        if ((ty != Tag::set && ty != Tag::frozenset) || x.size() != y.size()) return false;
        try {
          if (!detail::sets_equal(x, y)) return false;
        } catch (...) {  // nested too deep to compare (CPython: RecursionError)
          return false;
        }
        break;
      }
      case Tag::bytearray: {
        if (ty != Tag::bytearray) return false;
        auto* p = Access::node<detail::ByteArrayNode>(x);
        auto* q = Access::node<detail::ByteArrayNode>(y);
        if (p->size != q->size || (p->size && std::memcmp(p->data, q->data, p->size))) return false;
        break;
      }
      case Tag::object: {
        if (ty != Tag::object) return false;
        auto* p = Access::node<detail::ObjectNode>(x);
        auto* q = Access::node<detail::ObjectNode>(y);
        if (p->h.kind != q->h.kind) return false;
        if (p->callable.valid() != q->callable.valid() || p->args.valid() != q->args.valid() ||
            p->kwargs.valid() != q->kwargs.valid() || p->state.valid() != q->state.valid())
          return false;
        if (p->callable.valid()) work.emplace_back(p->callable, q->callable);
        if (p->args.valid()) work.emplace_back(p->args, q->args);
        if (p->kwargs.valid()) work.emplace_back(p->kwargs, q->kwargs);
        if (p->state.valid()) work.emplace_back(p->state, q->state);
        if (!push_seq(x.elements(), y.elements())) return false;
        auto ix = x.items(), iy = y.items();
        if (ix.size() != iy.size()) return false;
        for (std::size_t i = 0; i < ix.size(); ++i) {
          work.emplace_back(ix[i].key, iy[i].key);
          work.emplace_back(ix[i].value, iy[i].value);
        }
        break;
      }
      case Tag::persistent:
        if (ty != Tag::persistent) return false;
        work.emplace_back(x.persistent_id(), y.persistent_id());
        break;
      case Tag::buffer: {
        if (ty != Tag::buffer) return false;
        auto* p = Access::node<detail::BufferNode>(x);
        auto* q = Access::node<detail::BufferNode>(y);
        if (p->size != q->size || (p->size && std::memcmp(p->data, q->data, p->size))) return false;
        break;
      }
      case Tag::invalid:
        if (ty != Tag::invalid) return false;
        break;
      default:
        try {
          if (!detail::key_equal(x, y)) return false;
        } catch (...) {
          return false;
        }
        break;
    }
  }
  return true;
}

// ---- typed access ----------------------------------------------------------------------------

namespace detail {

Error range_error(const Value& v, std::string_view type) {
  std::string what = v.tag() == Tag::int64 ? std::to_string(Access::i(v)) : python_type_name(v);
  return err(errc::out_of_range, "value " + what + " does not fit " + std::string(type));
}

Result<bool> get_bool(const Value& v) {
  if (v.tag() == Tag::boolean) return Access::i(v) != 0;
  return wrong_kind(v, "bool");
}

Result<std::int64_t> get_int64(const Value& v) {
  if (v.tag() == Tag::int64 || v.tag() == Tag::boolean) return Access::i(v);
  if (v.tag() == Tag::bigint) return err(errc::out_of_range, "int does not fit in 64 bits");
  return wrong_kind(v, "int");
}

Result<std::uint64_t> get_uint64(const Value& v) {
  if (v.tag() == Tag::int64 || v.tag() == Tag::boolean) {
    if (Access::i(v) < 0) return range_error(v, "an unsigned integer");
    return static_cast<std::uint64_t>(Access::i(v));
  }
  if (v.tag() == Tag::bigint) {
    const std::uint8_t* b = Access::bytes(v);
    if (v.inline_length() == 9 && b[8] == 0) {
      std::uint64_t u;
      std::memcpy(&u, b, 8);
      return u;
    }
    return err(errc::out_of_range, "int does not fit in 64 bits");
  }
  return wrong_kind(v, "int");
}

Result<double> get_double(const Value& v) {
  if (v.tag() == Tag::float64) return Access::d(v);
  if (v.tag() == Tag::int64 || v.tag() == Tag::boolean) {
    std::int64_t i = Access::i(v);
    auto d = static_cast<double>(i);
    if (d >= 9223372036854775808.0 || static_cast<std::int64_t>(d) != i)
      return range_error(v, "a double exactly");
    return d;
  }
  return wrong_kind(v, "float");
}

Result<std::string_view> get_str(const Value& v) {
  if (v.tag() == Tag::str) return Access::sv(v);
  return wrong_kind(v, "str");
}

Result<std::span<const std::byte>> get_bytes(const Value& v) {
  switch (v.tag()) {
    case Tag::bytes:
      return std::span<const std::byte>(reinterpret_cast<const std::byte*>(Access::p(v)), v.inline_length());
    case Tag::bytearray: {
      auto* b = Access::node<ByteArrayNode>(v);
      return std::span<const std::byte>(reinterpret_cast<const std::byte*>(b->data), b->size);
    }
    case Tag::buffer: {
      auto* b = Access::node<BufferNode>(v);
      return std::span<const std::byte>(reinterpret_cast<const std::byte*>(b->data), b->size);
    }
    default:
      return wrong_kind(v, "bytes");
  }
}

Result<std::complex<double>> get_complex(const Value& v) {
  if (v.tag() == Tag::complex) {
    auto* c = Access::node<ComplexNode>(v);
    return std::complex<double>(c->re, c->im);
  }
  auto d = get_double(v);
  if (d) return std::complex<double>(*d, 0.0);
  return wrong_kind(v, "complex");
}

Result<BigInt> get_bigint(const Value& v) {
  if (v.tag() == Tag::bigint) return BigInt(std::span<const std::uint8_t>(Access::bytes(v), v.inline_length()));
  if (v.tag() == Tag::int64 || v.tag() == Tag::boolean) return BigInt(Access::i(v));
  return wrong_kind(v, "int");
}

namespace {
Error not_lib(const Value& v, std::string_view what) {
  return err(errc::wrong_kind, "expected " + std::string(what) + ", got " + python_type_name(v));
}
bool small_int(const Value& v, std::int64_t& out) {
  if (v.tag() != Tag::int64 && v.tag() != Tag::boolean) return false;
  out = Access::i(v);
  return true;
}
}  // namespace

Result<Date> get_date(const Value& v) {
  if (v.library_type() != LibraryType::date) return not_lib(v, "datetime.date");
  auto a = obj_args(v);
  std::string b;
  if (a.size() != 1 || !latin1_bytes(a[0], b) || b.size() != 4) return err(errc::value_error, "bad datetime.date state");
  auto u = [&](std::size_t i) { return static_cast<unsigned char>(b[i]); };
  Date d{u(0) * 256 + u(1), u(2), u(3)};
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) return err(errc::value_error, "bad datetime.date state");
  return d;
}

Result<Time> get_time(const Value& v) {
  if (v.library_type() != LibraryType::time) return not_lib(v, "datetime.time");
  auto a = obj_args(v);
  std::string b;
  if (a.empty() || a.size() > 2 || !latin1_bytes(a[0], b) || b.size() != 6)
    return err(errc::value_error, "bad datetime.time state");
  auto u = [&](std::size_t i) { return static_cast<unsigned char>(b[i]); };
  Time t;
  t.fold = u(0) & 0x80 ? 1 : 0;
  t.hour = u(0) & 0x7F;
  t.minute = u(1);
  t.second = u(2);
  t.microsecond = (u(3) << 16) | (u(4) << 8) | u(5);
  if (a.size() == 2 && !a[1].is_none()) t.tzinfo = a[1];
  if (t.hour > 23 || t.minute > 59 || t.second > 59 || t.microsecond > 999999)
    return err(errc::value_error, "bad datetime.time state");
  return t;
}

Result<DateTime> get_datetime(const Value& v) {
  if (v.library_type() != LibraryType::datetime) return not_lib(v, "datetime.datetime");
  auto a = obj_args(v);
  std::string b;
  if (a.empty() || a.size() > 2 || !latin1_bytes(a[0], b) || b.size() != 10)
    return err(errc::value_error, "bad datetime.datetime state");
  auto u = [&](std::size_t i) { return static_cast<unsigned char>(b[i]); };
  DateTime t;
  t.year = u(0) * 256 + u(1);
  t.fold = u(2) & 0x80 ? 1 : 0;
  t.month = u(2) & 0x7F;
  t.day = u(3);
  t.hour = u(4);
  t.minute = u(5);
  t.second = u(6);
  t.microsecond = (u(7) << 16) | (u(8) << 8) | u(9);
  if (a.size() == 2 && !a[1].is_none()) t.tzinfo = a[1];
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59 ||
      t.second > 59 || t.microsecond > 999999)
    return err(errc::value_error, "bad datetime.datetime state");
  return t;
}

Result<TimeDelta> get_timedelta(const Value& v) {
  if (v.library_type() != LibraryType::timedelta) return not_lib(v, "datetime.timedelta");
  auto a = obj_args(v);
  std::int64_t p[3] = {0, 0, 0};
  if (a.size() > 3) return err(errc::value_error, "bad datetime.timedelta state");
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!small_int(a[i], p[i])) return err(errc::value_error, "bad datetime.timedelta state");
  // The pickle holds the normalised triple (days, 0 <= seconds < 86400, 0 <= us < 1e6).
  if (p[1] < 0 || p[1] >= 86400 || p[2] < 0 || p[2] >= 1000000 || p[0] < -999999999 || p[0] > 999999999)
    return err(errc::value_error, "bad datetime.timedelta state");
  return TimeDelta{p[0], static_cast<std::int32_t>(p[1]), static_cast<std::int32_t>(p[2])};
}

Result<TimeZone> get_timezone(const Value& v) {
  if (v.library_type() != LibraryType::timezone) return not_lib(v, "datetime.timezone");
  auto a = obj_args(v);
  if (a.empty() || a.size() > 2) return err(errc::value_error, "bad datetime.timezone state");
  auto off = get_timedelta(a[0]);
  if (!off) return err(errc::value_error, "bad datetime.timezone offset");
  TimeZone tz;
  tz.offset = *off;
  if (a.size() == 2) {
    if (a[1].tag() != Tag::str) return err(errc::value_error, "bad datetime.timezone name");
    tz.name = a[1];
  }
  return tz;
}

Result<Uuid> get_uuid(const Value& v) {
  if (v.library_type() != LibraryType::uuid) return not_lib(v, "uuid.UUID");
  Value i = v.attr("int");
  Uuid u;
  std::uint8_t le[17] = {};
  std::size_t n;
  if (i.tag() == Tag::int64) {
    if (Access::i(i) < 0) return err(errc::value_error, "bad uuid.UUID state");
    std::int64_t x = Access::i(i);
    std::memcpy(le, &x, 8);
    n = 8;
  } else if (i.tag() == Tag::bigint && i.inline_length() <= 17) {
    n = i.inline_length();
    std::memcpy(le, Access::bytes(i), n);
    if (le[n - 1] & 0x80) return err(errc::value_error, "bad uuid.UUID state");
    if (n == 17 && le[16] != 0) return err(errc::value_error, "bad uuid.UUID state");
  } else {
    return err(errc::value_error, "bad uuid.UUID state");
  }
  for (int k = 0; k < 16; ++k) u.bytes[k] = le[15 - k];
  return u;
}

}  // namespace detail

// ---- BigInt / Uuid -------------------------------------------------------------------------

BigInt::BigInt(std::int64_t v) {
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i)));
  while (bytes_.size() > 1) {
    std::uint8_t top = bytes_.back(), next = bytes_[bytes_.size() - 2];
    if ((top == 0 && !(next & 0x80)) || (top == 0xFF && (next & 0x80))) bytes_.pop_back();
    else break;
  }
  if (v == 0) bytes_.clear();
}

std::string BigInt::to_string() const {
  if (bytes_.empty()) return "0";
  std::string s;
  detail::bigint_to_decimal(s, bytes_.data(), bytes_.size());
  return s;
}

std::uint64_t BigInt::bit_length() const noexcept {
  // |value| bits: for negatives, bit_length(-x) == bit_length(x); two's complement of -2^k has
  // k+1 significant bits but |value| has k+1 too, except exact powers of two.
  if (bytes_.empty()) return 0;
  std::vector<std::uint8_t> mag(bytes_.begin(), bytes_.end());
  if (negative()) {
    unsigned carry = 1;
    for (auto& b : mag) {
      unsigned t = static_cast<std::uint8_t>(~b) + carry;
      b = static_cast<std::uint8_t>(t);
      carry = t >> 8;
    }
  }
  std::size_t n = mag.size();
  while (n > 0 && mag[n - 1] == 0) --n;
  if (n == 0) return 0;
  std::uint64_t bits = (n - 1) * 8;
  for (unsigned top = mag[n - 1]; top; top >>= 1) ++bits;
  return bits;
}

std::string Uuid::to_string() const {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(hex[bytes[i] >> 4]);
    s.push_back(hex[bytes[i] & 15]);
  }
  return s;
}

// ---- Document ----------------------------------------------------------------------------------

Document::Document(std::unique_ptr<detail::DocumentState> s) noexcept : s_(std::move(s)) {}
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;
Document::~Document() = default;

Document Document::create() {
  return Document(std::make_unique<detail::DocumentState>(std::uint64_t{16} << 30));
}

Value Document::root() const noexcept { return s_->root; }
void Document::set_root(const Value& v) noexcept {
  s_->root = v;
  s_->sharing_known = false;  // (v may come from anywhere)
}
int Document::declared_protocol() const noexcept { return s_->declared_protocol; }
int Document::opcode_protocol() const noexcept { return s_->opcode_protocol; }
std::uint64_t Document::start_offset() const noexcept { return s_->start_offset; }
std::uint64_t Document::end_offset() const noexcept { return s_->end_offset; }
std::uint64_t Document::bytes_allocated() const noexcept { return s_->arena.allocated(); }

}  // namespace brine
