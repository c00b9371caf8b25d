// The non-template parts of the typed mapping (include/brine/mapping.hpp): error paths, number
// range checks, and datetime.timedelta / datetime.datetime values.
#include "brine/mapping.hpp"

#include <chrono>
#include <cstring>
#include <string>

#include "brine/repr.hpp"
#include "pytext.hpp"

namespace brine::detail {

namespace {

bool is_class(const Value& v, std::string_view module, std::string_view name) {
  return v.is_object() && v.module() == module && v.name() == name;
}

// The bytes of a bytes value, or of a str of code points < 256 (the state of a datetime in a
// Python 2 pickle loaded with encoding='latin1').
bool state_bytes(const Value& v, std::string& out) {
  out.clear();
  if (v.kind() == Kind::bytes) {
    auto s = v.get<std::span<const std::byte>>();
    if (!s) return false;
    out.assign(reinterpret_cast<const char*>(s->data()), s->size());
    return true;
  }
  if (!v.is_str()) return false;
  std::string_view s = v.get<std::string_view>().value();
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    std::size_t n = decode_utf8(s.data() + i, s.size() - i, cp);
    if (n == 0 || cp > 0xFF) return false;
    i += n;
    out.push_back(static_cast<char>(cp));
  }
  return true;
}

bool small_int(const Value& v, std::int64_t& out) {
  if (!v.is_int()) return false;
  auto r = v.get<std::int64_t>();
  if (!r) return false;
  out = *r;
  return true;
}

}  // namespace

// ---- errors and paths --------------------------------------------------------------------------

namespace {
// a + b + c in one allocation. (Also avoids `"lit" + std::string`, on which g++ 12 -O3 reports a
// false -Wrestrict, GCC PR105329.)
std::string bracketed(std::string_view a, std::string_view b, std::string_view c) {
  std::string s;
  s.reserve(a.size() + b.size() + c.size());
  s.append(a).append(b).append(c);
  return s;
}
}  // namespace

Error mapping_error(errc code, std::string message) {
  Error e;
  e.code = code;
  e.path.assign(1, '$');  // (not `= "$"`: g++ 12 -O3 reports a false -Wrestrict on that, PR105329)
  e.message = std::move(message);
  return e;
}

Error kind_mismatch(const Value& v, std::string_view expected) {
  return mapping_error(errc::wrong_kind, "expected " + std::string(expected) + ", got " + v.type_name());
}

void nest_path(Error& e, std::string_view segment) {
  if (!e.path.empty() && e.path[0] == '$')
    e.path.insert(1, segment);
  else
    e.path = bracketed("$", segment, e.path);
}

std::string index_segment(std::size_t i) { return bracketed("[", std::to_string(i), "]"); }

std::string short_repr(const Value& v) {
  ReprOptions o;
  o.max_output = 1024;
  std::string s = repr(v, o);
  constexpr std::size_t max_len = 60;
  if (s.size() > max_len) {
    std::size_t cut = max_len - 3;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
    s.resize(cut);
    s += "...";
  }
  return s;
}

std::string key_segment(const Value& key) { return bracketed("[", short_repr(key), "]"); }

void as_member_error(Error& e, std::string_view what, const Value& member) {
  std::string msg(what);
  msg += ' ';
  msg += short_repr(member);
  if (!e.path.empty() && e.path != "$") {
    msg += " at ";
    msg += e.path;
  }
  msg += ": ";
  msg += e.message;
  e.message = std::move(msg);
  e.path.assign(1, '$');
}

void rethrow_nested(const Exception& e, std::string_view segment) {
  Error err = e.error();
  nest_path(err, segment);
  throw Exception(std::move(err));
}

void throw_mapping_error(errc code, std::string message) { throw Exception(mapping_error(code, std::move(message))); }

// ---- numbers -----------------------------------------------------------------------------------

Result<std::int64_t> read_signed(const Value& v, std::int64_t lo, std::int64_t hi, std::string_view cxx_type) {
  if (!v.is_int()) return kind_mismatch(v, "int");
  auto r = v.get<std::int64_t>();
  if (!r || *r < lo || *r > hi)
    return mapping_error(errc::out_of_range, "int " + short_repr(v) + " does not fit " + std::string(cxx_type) +
                                                 " (" + std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return *r;
}

Result<std::uint64_t> read_unsigned(const Value& v, std::uint64_t hi, std::string_view cxx_type) {
  if (!v.is_int()) return kind_mismatch(v, "int");
  auto r = v.get<std::uint64_t>();
  if (!r || *r > hi)
    return mapping_error(errc::out_of_range,
                         "int " + short_repr(v) + " does not fit " + std::string(cxx_type) + " (0.." + std::to_string(hi) + ")");
  return *r;
}

Value make_unsigned(Builder& b, std::uint64_t u) {
  if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return b.integer(static_cast<std::int64_t>(u));
  std::uint8_t le[9] = {};
  for (int i = 0; i < 8; ++i) le[i] = static_cast<std::uint8_t>(u >> (8 * i));
  return b.integer_le(le);
}

Result<double> read_double(const Value& v) {
  if (v.is_float()) return v.get<double>();
  if (v.is_int()) {
    auto r = v.get<double>();
    if (!r) return mapping_error(errc::out_of_range, "int " + short_repr(v) + " does not convert to a double exactly");
    return *r;
  }
  return kind_mismatch(v, "float");
}

Result<std::complex<double>> read_complex(const Value& v) {
  if (v.kind() == Kind::complex) return v.get<std::complex<double>>();
  if (v.is_float() || v.is_int()) {
    auto d = read_double(v);
    if (!d) return std::move(d).error();
    return std::complex<double>(*d, 0.0);
  }
  return kind_mismatch(v, "complex");
}

// ---- containers --------------------------------------------------------------------------------

bool is_dict_like(const Value& v) {
  if (v.is_dict()) return true;
  switch (v.library_type()) {
    case LibraryType::ordered_dict:
    case LibraryType::defaultdict:
    case LibraryType::counter:
      return true;
    default:
      return is_class(v, "collections", "OrderedDict") || is_class(v, "collections", "defaultdict") ||
             is_class(v, "collections", "Counter");
  }
}

std::optional<std::span<const Value>> sequence_elements(const Value& v) {
  if (v.is_list() || v.is_tuple()) return v.elements();
  if (v.library_type() == LibraryType::deque || is_class(v, "collections", "deque")) {
    // deque.__reduce__: (deque, () or ((), maxlen), None, iterator) -> items appended; older
    // Pythons passed the items as the first argument.
    if (!v.elements().empty()) return v.elements();
    Value a = v.args();
    if (a.is_tuple() && !a.elements().empty() && (a.elements()[0].is_list() || a.elements()[0].is_tuple()))
      return a.elements()[0].elements();
    return std::span<const Value>();
  }
  return std::nullopt;
}

Value hashable(Builder& b, const Value& v) {
  switch (v.kind()) {
    case Kind::list:
    case Kind::tuple: {
      bool changed = v.is_list();
      std::vector<Value> items;
      items.reserve(v.elements().size());
      for (const Value& x : v.elements()) {
        items.push_back(hashable(b, x));
        if (!items.back().same(x)) changed = true;
      }
      return changed ? b.tuple(items) : v;
    }
    case Kind::set: {
      std::vector<Value> items;
      for (const Value& x : v.elements()) items.push_back(hashable(b, x));
      return b.frozenset(items);
    }
    default:
      return v;
  }
}

// ---- datetime ----------------------------------------------------------------------------------

Value make_timedelta(Builder& b, std::int64_t days, std::int64_t seconds, std::int64_t microseconds) {
  return b.reduce(b.global("datetime", "timedelta"),
                  b.tuple({b.integer(days), b.integer(seconds), b.integer(microseconds)}));
}

Result<std::int64_t> read_timedelta_days(const Value& v, std::int64_t& us_of_day) {
  if (!is_class(v, "datetime", "timedelta")) return kind_mismatch(v, "datetime.timedelta");
  Value a = v.args();
  std::int64_t p[3] = {0, 0, 0};
  bool ok = a.is_tuple() && a.elements().size() <= 3;
  for (std::size_t i = 0; ok && i < a.elements().size(); ++i) ok = small_int(a.elements()[i], p[i]);
  // A pickle holds the normalised triple (|days| <= 999999999, 0 <= seconds < 86400,
  // 0 <= microseconds < 1000000).
  if (!ok || p[0] < -999999999 || p[0] > 999999999 || p[1] < 0 || p[1] >= 86400 || p[2] < 0 || p[2] >= 1000000)
    return mapping_error(errc::value_error, "malformed datetime.timedelta arguments " + short_repr(a));
  us_of_day = p[1] * 1000000 + p[2];
  return p[0];
}

Value make_datetime(Builder& b, std::int64_t days, std::int64_t us_of_day) {
  using namespace std::chrono;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  int year = static_cast<int>(ymd.year());
  if (year < 1 || year > 9999) throw_mapping_error(errc::out_of_range, "time point is outside datetime.datetime's range");
  std::int64_t s = us_of_day / 1000000;
  std::int64_t us = us_of_day % 1000000;
  unsigned char st[10] = {
      static_cast<unsigned char>(year >> 8),
      static_cast<unsigned char>(year & 0xFF),
      static_cast<unsigned char>(static_cast<unsigned>(ymd.month())),
      static_cast<unsigned char>(static_cast<unsigned>(ymd.day())),
      static_cast<unsigned char>(s / 3600),
      static_cast<unsigned char>(s / 60 % 60),
      static_cast<unsigned char>(s % 60),
      static_cast<unsigned char>(us >> 16),
      static_cast<unsigned char>((us >> 8) & 0xFF),
      static_cast<unsigned char>(us & 0xFF),
  };
  return b.reduce(b.global("datetime", "datetime"),
                  b.tuple({b.bytes(std::string_view(reinterpret_cast<const char*>(st), sizeof st))}));
}

std::string timedelta_text(std::int64_t days, std::int64_t us_of_day) {
  std::string out = "datetime.timedelta(";
  std::string sep;
  auto field = [&](const char* name, std::int64_t x) {
    if (x == 0) return;
    out += sep + name + "=" + std::to_string(x);
    sep = ", ";
  };
  field("days", days);
  field("seconds", us_of_day / 1000000);
  field("microseconds", us_of_day % 1000000);
  return out + (sep.empty() ? "0)" : ")");
}

std::string datetime_text(std::int64_t days, std::int64_t us_of_day) {
  using namespace std::chrono;
  year_month_day ymd{sys_days{std::chrono::days{days}}};
  std::int64_t s = us_of_day / 1000000, us = us_of_day % 1000000;
  std::string out = "datetime.datetime(" + std::to_string(static_cast<int>(ymd.year())) + ", " +
                    std::to_string(static_cast<unsigned>(ymd.month())) + ", " +
                    std::to_string(static_cast<unsigned>(ymd.day())) + ", " + std::to_string(s / 3600) + ", " +
                    std::to_string(s / 60 % 60);
  if (s % 60 != 0 || us != 0) out += ", " + std::to_string(s % 60);
  if (us != 0) out += ", " + std::to_string(us);
  return out + ")";
}

Result<std::int64_t> read_datetime_utc_days(const Value& v, std::int64_t& us_of_day) {
  using namespace std::chrono;
  if (!is_class(v, "datetime", "datetime")) return kind_mismatch(v, "datetime.datetime");
  Value a = v.args();
  std::string st;
  if (!a.is_tuple() || a.elements().empty() || a.elements().size() > 2 || !state_bytes(a.elements()[0], st) ||
      st.size() != 10)
    return mapping_error(errc::value_error, "malformed datetime.datetime arguments " + short_repr(a));
  auto u = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(st[i])); };
  year_month_day ymd{year{static_cast<int>(u(0) * 256 + u(1))}, month{u(2) & 0x7F}, day{u(3)}};
  unsigned h = u(4), mi = u(5), s = u(6), us = (u(7) << 16) | (u(8) << 8) | u(9);
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59 || us > 999999)
    return mapping_error(errc::value_error, "malformed datetime.datetime arguments " + short_repr(a));
  std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  std::int64_t tod = ((std::int64_t{h} * 60 + mi) * 60 + s) * 1000000 + us;

  Value tz = a.elements().size() == 2 ? a.elements()[1] : Value();
  if (tz.valid() && !tz.is_none()) {
    std::int64_t offset_us = 0;
    if (is_class(tz, "datetime", "timezone")) {
      Value ta = tz.args();
      if (!ta.is_tuple() || ta.elements().empty())
        return mapping_error(errc::value_error, "malformed datetime.timezone arguments " + short_repr(ta));
      std::int64_t off_tod = 0;
      auto off_days = read_timedelta_days(ta.elements()[0], off_tod);
      if (!off_days) return std::move(off_days).error();
      offset_us = *off_days * us_per_day + off_tod;  // |offset| < 1 day
    } else if (is_class(tz, "pytz", "_UTC")) {
      offset_us = 0;
    } else {
      return mapping_error(errc::unsupported, "datetime with tzinfo " + tz.type_name() +
                                                  ": no fixed UTC offset known to brine (use datetime.timezone)");
    }
    std::int64_t t = tod - offset_us;
    std::int64_t shift = t < 0 ? -1 : (t >= us_per_day ? 1 : 0);
    days += shift;
    tod = t - shift * us_per_day;
  }
  us_of_day = tod;
  return days;
}

}  // namespace brine::detail
