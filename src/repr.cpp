// brine::repr: CPython 3.11's repr() of the value graph, without recursion on the value's depth.
//
// The printer walks an explicit stack of frames (walker.hpp). A frame prints a sequence (list,
// tuple, set, the items of a deque...), a dict's items, (key, value) pairs, or a list of "pieces"
// (literal text, each optionally followed by a value) for everything with a custom layout
// (objects, library types). The same expansion of a node into frames drives the pre-pass that
// finds shared values for --refs.
#include "brine/repr.hpp"

#include "brine/read.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "graph.hpp"
#include "known_globals.hpp"
#include "pytext.hpp"
#include "walker.hpp"

namespace brine {
namespace {

using detail::Access;
using detail::Tag;

// ---- leaves ---------------------------------------------------------------------------------

// PyOS_double_to_string(x, 'r', 0, flags) without Py_DTSF_ADD_DOT_0 (as complex's repr uses it).
void float_r_no_dot0(std::string& out, double d, bool sign) {
  std::string s;
  detail::repr_float(s, d);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  if (sign && s[0] != '-') out.push_back('+');
  out += s;
}

void repr_complex(std::string& out, double re, double im) {
  if (re == 0.0 && !std::signbit(re)) {
    float_r_no_dot0(out, im, false);
    out.push_back('j');
    return;
  }
  out.push_back('(');
  float_r_no_dot0(out, re, false);
  float_r_no_dot0(out, im, true);
  out += "j)";
}

void repr_bigint(std::string& out, const std::uint8_t* le, std::size_t n, std::uint32_t max_digits) {
  if (max_digits == 0 || detail::bigint_decimal_digits(le, n) <= max_digits) {
    detail::bigint_to_decimal(out, le, n);
    return;
  }
  // Too long for decimal: hexadecimal of the magnitude.
  std::vector<std::uint8_t> mag(le, le + n);
  bool neg = n && (le[n - 1] & 0x80);
  if (neg) {
    unsigned carry = 1;
    for (auto& b : mag) {
      unsigned t = static_cast<std::uint8_t>(~b) + carry;
      b = static_cast<std::uint8_t>(t);
      carry = t >> 8;
    }
  }
  while (mag.size() > 1 && mag.back() == 0) mag.pop_back();
  if (neg) out.push_back('-');
  out += "0x";
  static const char* hex = "0123456789abcdef";
  bool leading = true;
  for (std::size_t i = mag.size(); i-- > 0;) {
    unsigned hi = mag[i] >> 4, lo = mag[i] & 15;
    if (!(leading && hi == 0)) { out.push_back(hex[hi]); leading = false; }
    if (!(leading && lo == 0) || i == 0) { out.push_back(hex[lo]); leading = false; }
  }
}

std::string_view gname(const Value& g) { return Access::sv(Access::node<detail::GlobalNode>(g)->name); }
std::string_view gmodule(const Value& g) { return Access::sv(Access::node<detail::GlobalNode>(g)->module); }

void repr_global(std::string& out, const Value& g) {
  auto* gn = Access::node<detail::GlobalNode>(g);
  auto id = static_cast<detail::KnownId>(gn->h.kind);
  auto kind = static_cast<detail::KnownKind>(gn->h.aux);
  std::string_view m = Access::sv(gn->module), n = Access::sv(gn->name);
  if (id == detail::KnownId::b_ellipsis) { out += "Ellipsis"; return; }
  if (id == detail::KnownId::b_notimplemented) { out += "NotImplemented"; return; }
  if (kind == detail::KnownKind::type) {
    out += "<class '";
    if (m != "builtins") { out += m; out.push_back('.'); }
    out += n;
    out += "'>";
    return;
  }
  if (kind == detail::KnownKind::function && m == "builtins") {
    out += "<built-in function ";
    out += n;
    out.push_back('>');
    return;
  }
  out += "<global ";
  out += m;
  out.push_back('.');
  out += n;
  out.push_back('>');
}

// Values --refs labels: those that are mutable in Python. Immutable library objects (datetime,
// Decimal, ...) are printed in full at every occurrence, like tuples.
bool is_labelable(const Value& v) {
  switch (v.tag()) {
    case Tag::list: case Tag::dict: case Tag::set: case Tag::bytearray: case Tag::persistent:
      return true;
    case Tag::object:
      switch (v.library_type()) {
        case LibraryType::date: case LibraryType::time: case LibraryType::datetime:
        case LibraryType::timedelta: case LibraryType::timezone: case LibraryType::decimal:
        case LibraryType::uuid: case LibraryType::range:
          return false;
        default:
          return true;
      }
    default:
      return false;
  }
}

// bytearray's repr differs from bytes': it always escapes the single quote (bytearray_repr).
// OSError(errno, ...) builds the subclass for that errno (Objects/exceptions.c, errnomap; Linux
// errno values).
const char* oserror_subclass(std::int64_t e) {
  switch (e) {
    case 11: case 114: case 115: return "BlockingIOError";  // EAGAIN/EWOULDBLOCK, EALREADY, EINPROGRESS
    case 10: return "ChildProcessError";                    // ECHILD
    case 32: case 108: return "BrokenPipeError";            // EPIPE, ESHUTDOWN
    case 103: return "ConnectionAbortedError";
    case 111: return "ConnectionRefusedError";
    case 104: return "ConnectionResetError";
    case 17: return "FileExistsError";
    case 2: return "FileNotFoundError";
    case 21: return "IsADirectoryError";
    case 20: return "NotADirectoryError";
    case 4: return "InterruptedError";
    case 13: case 1: return "PermissionError";              // EACCES, EPERM
    case 3: return "ProcessLookupError";
    case 110: return "TimeoutError";
    default: return nullptr;
  }
}

bool is_oserror_family(std::string_view n) {
  static const std::string_view names[] = {
      "OSError", "BlockingIOError", "ChildProcessError", "ConnectionError", "BrokenPipeError",
      "ConnectionAbortedError", "ConnectionRefusedError", "ConnectionResetError", "FileExistsError",
      "FileNotFoundError", "InterruptedError", "IsADirectoryError", "NotADirectoryError",
      "PermissionError", "ProcessLookupError", "TimeoutError"};
  for (auto x : names)
    if (x == n) return true;
  return false;
}

bool is_container(Tag t) {
  return t == Tag::tuple || t == Tag::list || t == Tag::dict || t == Tag::set || t == Tag::frozenset ||
         t == Tag::object || t == Tag::persistent;
}

// ---- expansion of container values into frames -------------------------------------------------

using Piece = detail::PrintPiece;
using Frame = detail::PrintFrame;  // id: the value's identity, for recursion markers

std::span<const Value> arg_elements(const detail::ObjectNode* o) {
  if (o->args.tag() != Tag::tuple) return {};
  return o->args.elements();
}

// Decodes a datetime-family state; false if the object's record is not in the expected shape.
struct Expansion {
  Frame frame;
  std::vector<Piece> pieces;  // for T::pieces
  std::string text;           // for a leaf-like rendering (no children)
  bool is_text = false;
};

class Expander {
 public:
  explicit Expander(const ReprOptions&) {}
  // How to print a container value (tuple/list/dict/set/frozenset/object/persistent).
  Expansion expand(const Value& v) const;
  // Marker printed when v is reached again while being printed.
  static std::string_view recursion_marker(const Value& v);

 private:
  Expansion expand_object(const Value& v) const;
  bool expand_library(const Value& v, const detail::ObjectNode* o, Expansion& e) const;
  void constructor_form(const Value& v, const detail::ObjectNode* o, Expansion& e) const;
  static bool expand_builtin_call(const detail::ObjectNode* o, Expansion& e);
};

std::string_view Expander::recursion_marker(const Value& v) {
  switch (v.tag()) {
    case Tag::list: return "[...]";
    case Tag::dict: return "{...}";
    case Tag::tuple: return "(...)";
    case Tag::set: return "set(...)";
    case Tag::frozenset: return "frozenset(...)";
    case Tag::object:
      if (v.library_type() == LibraryType::deque) return "[...]";
      if (v.library_type() == LibraryType::defaultdict || v.library_type() == LibraryType::counter)
        return "{...}";
      return "...";
    default:
      return "...";
  }
}

Expansion Expander::expand(const Value& v) const {
  Expansion e;
  Frame& f = e.frame;
  f.id = Access::identity(v);
  switch (v.tag()) {
    case Tag::list: {
      auto el = v.elements();
      f.t = Frame::T::seq;
      f.items = el.data();
      f.n = el.size();
      e.text = "[";
      f.close = "]";
      return e;
    }
    case Tag::tuple: {
      auto el = v.elements();
      f.t = Frame::T::seq;
      f.items = el.data();
      f.n = el.size();
      e.text = "(";
      f.close = el.size() == 1 ? ",)" : ")";
      return e;
    }
    case Tag::set:
    case Tag::frozenset: {
      auto el = v.elements();
      bool frozen = v.tag() == Tag::frozenset;
      if (el.empty()) {
        e.is_text = true;
        e.text = frozen ? "frozenset()" : "set()";
        return e;
      }
      f.t = Frame::T::seq;
      f.items = el.data();
      f.n = el.size();
      e.text = frozen ? "frozenset({" : "{";
      f.close = frozen ? "})" : "}";
      return e;
    }
    case Tag::dict: {
      auto it = v.items();
      f.t = Frame::T::dict;
      f.ditems = it.data();
      f.n = it.size();
      e.text = "{";
      f.close = "}";
      return e;
    }
    case Tag::persistent: {
      f.t = Frame::T::pieces;
      e.pieces.push_back({"persistent_id(", v.persistent_id()});
      e.pieces.push_back({")", Value()});
      return e;
    }
    case Tag::object:
      return expand_object(v);
    default:
      e.is_text = true;
      return e;
  }
}

Expansion Expander::expand_object(const Value& v) const {
  Expansion e;
  e.frame.id = Access::identity(v);
  auto* o = Access::node<detail::ObjectNode>(v);
  if (o->user_type) {
    auto* ut = static_cast<const UserType*>(o->user_type);
    if (ut->repr) {
      if (auto s = ut->repr(v)) {
        e.is_text = true;
        e.text = *s;
        return e;
      }
    }
  }
  if (v.library_type() != LibraryType::none && v.library_type() != LibraryType::plain_instance &&
      v.library_type() != LibraryType::user && expand_library(v, o, e))
    return e;
  if (o->h.kind == static_cast<std::uint16_t>(Construction::reduce) && expand_builtin_call(o, e)) return e;
  e = Expansion();
  e.frame.id = Access::identity(v);
  constructor_form(v, o, e);
  return e;
}

// type(None) / type(Ellipsis) / type(NotImplemented) and slice(...): how CPython pickles those
// builtin types and objects (save_reduce of (type, (x,)) and slice.__reduce__).
bool Expander::expand_builtin_call(const detail::ObjectNode* o, Expansion& e) {
  if (o->callable.tag() != Tag::global || o->args.tag() != Tag::tuple) return false;
  auto id = static_cast<detail::KnownId>(Access::node<detail::GlobalNode>(o->callable)->h.kind);
  auto a = o->args.elements();
  if (id == detail::KnownId::b_type && a.size() == 1) {
    std::string n;
    const Value& x = a[0];
    if (x.tag() == Tag::global) {
      auto xid = static_cast<detail::KnownId>(Access::node<detail::GlobalNode>(x)->h.kind);
      auto xk = static_cast<detail::KnownKind>(Access::node<detail::GlobalNode>(x)->h.aux);
      if (xid == detail::KnownId::b_ellipsis) n = "ellipsis";
      else if (xid == detail::KnownId::b_notimplemented) n = "NotImplementedType";
      else if (xk == detail::KnownKind::type) n = "type";
      else if (xk == detail::KnownKind::function && gmodule(x) == "builtins") n = "builtin_function_or_method";
      else return false;
    } else if (x.tag() != Tag::object && x.tag() != Tag::persistent && x.tag() != Tag::buffer) {
      n = detail::python_type_name(x);
    } else {
      return false;
    }
    e.is_text = true;
    e.text = "<class '" + n + "'>";
    return true;
  }
  if (id == detail::KnownId::b_slice && !a.empty() && a.size() <= 3) {
    e.frame.t = Frame::T::pieces;
    e.frame.id = nullptr;
    // slice(stop) / slice(start, stop) / slice(start, stop, step); absent parts are None
    Value none = Access::make(Tag::none, 0, 0);
    Value parts[3] = {none, none, none};
    if (a.size() == 1) parts[1] = a[0];
    else for (std::size_t i = 0; i < a.size(); ++i) parts[i] = a[i];
    e.pieces.push_back({"slice(", parts[0]});
    e.pieces.push_back({", ", parts[1]});
    e.pieces.push_back({", ", parts[2]});
    e.pieces.push_back({")", Value()});
    return true;
  }
  return false;
}

void Expander::constructor_form(const Value&, const detail::ObjectNode* o, Expansion& e) const {
  e.frame.t = Frame::T::pieces;
  auto args = arg_elements(o);
  Value kwargs = o->kwargs;
  std::span<const Value> shown_args = args;
  // copyreg helpers name the class in their first argument.
  auto callable_id = o->callable.tag() == Tag::global
                         ? static_cast<detail::KnownId>(Access::node<detail::GlobalNode>(o->callable)->h.kind)
                         : detail::KnownId::unknown;
  bool head_is_cls = false;
  if (callable_id == detail::KnownId::copyreg_reconstructor && !args.empty()) {
    head_is_cls = true;
    shown_args = args.subspan(1);
    if (shown_args.size() == 2 && shown_args[0].tag() == Tag::global &&
        static_cast<detail::KnownId>(Access::node<detail::GlobalNode>(shown_args[0])->h.kind) ==
            detail::KnownId::b_object &&
        shown_args[1].is_none())
      shown_args = {};
  } else if (callable_id == detail::KnownId::copyreg_newobj && !args.empty()) {
    head_is_cls = true;
    shown_args = args.subspan(1);
  } else if (callable_id == detail::KnownId::copyreg_newobj_ex && args.size() == 3 &&
             args[1].tag() == Tag::tuple) {
    head_is_cls = true;
    shown_args = args[1].elements();
    kwargs = args[2];
  }
  Value head = head_is_cls ? args[0] : o->callable;
  std::string open;
  if (head.tag() == Tag::global) {
    open = std::string(gmodule(head)) + "." + std::string(gname(head)) + "(";
    e.pieces.push_back({open, Value()});
  } else {
    e.pieces.push_back({"", head});
    e.pieces.push_back({"(", Value()});
  }
  bool first = true;
  auto sep = [&]() -> std::string {
    std::string s = first ? "" : ", ";
    first = false;
    return s;
  };
  if (!shown_args.empty()) {
    // A virtual tuple: printed as "(a, b)" / "(a,)".
    std::string s = sep() + "args=(";
    for (std::size_t i = 0; i < shown_args.size(); ++i) {
      e.pieces.push_back({s, shown_args[i]});
      s = ", ";
    }
    e.pieces.push_back({shown_args.size() == 1 ? ",)" : ")", Value()});
  }
  if (kwargs.valid() && !(kwargs.tag() == Tag::dict && kwargs.size() == 0))
    e.pieces.push_back({sep() + "kwargs=", kwargs});
  if (o->list_items && o->list_items->size) e.pieces.push_back({sep() + "items=", Access::make_ptr(Tag::list, 0, o->list_items)});
  if (o->dict_items && o->dict_items->size) e.pieces.push_back({sep() + "items=", Access::make_ptr(Tag::dict, 0, o->dict_items)});
  if (o->earlier_states)
    for (std::uint64_t i = 0; i < o->earlier_states->size; ++i)
      e.pieces.push_back({sep() + "state=", o->earlier_states->items[i]});
  if (o->state_setter.valid()) e.pieces.push_back({sep() + "state_setter=", o->state_setter});
  if (o->state.valid()) e.pieces.push_back({sep() + "state=", o->state});
  e.pieces.push_back({")", Value()});
}

bool Expander::expand_library(const Value& v, const detail::ObjectNode* o, Expansion& e) const {
  auto args = arg_elements(o);
  Frame& f = e.frame;
  auto text = [&](std::string s) {
    e.is_text = true;
    e.text = std::move(s);
    return true;
  };
  switch (v.library_type()) {
    case LibraryType::ordered_dict: {
      auto it = v.items();
      if (it.empty()) return text("OrderedDict()");
      f.t = Frame::T::pairs;
      f.ditems = it.data();
      f.n = it.size();
      f.pair_open = "(";
      f.pair_close = ")";
      e.text = "OrderedDict([";
      f.close = "])";
      return true;
    }
    case LibraryType::defaultdict: {
      if (args.size() > 1) return false;
      f.t = Frame::T::pieces;
      f.id = nullptr;  // only the dict part detects recursion, as dict_repr does in CPython
      Value factory = args.empty() ? Value() : args[0];
      if (!factory.valid() || factory.is_none()) e.pieces.push_back({"defaultdict(None", Value()});
      else e.pieces.push_back({"defaultdict(", factory});
      Value items = o->dict_items ? Access::make_ptr(Tag::dict, 0, o->dict_items) : Value();
      if (items.valid()) e.pieces.push_back({", ", items});
      else e.pieces.push_back({", {}", Value()});
      e.pieces.push_back({")", Value()});
      return true;
    }
    case LibraryType::counter: {
      auto it = v.items();
      if (it.empty()) return text("Counter()");
      auto sorted = std::make_shared<std::vector<DictItem>>(it.begin(), it.end());
      bool numeric = std::all_of(sorted->begin(), sorted->end(), [](const DictItem& d) {
        Tag t = d.value.tag();
        return t == Tag::int64 || t == Tag::boolean || t == Tag::float64;
      });
      if (numeric) {
        auto num = [](const Value& x) {
          return x.tag() == Tag::float64 ? Access::d(x) : static_cast<double>(Access::i(x));
        };
        // most_common(): sorted by count, descending, ties in insertion order
        std::stable_sort(sorted->begin(), sorted->end(),
                         [&](const DictItem& a, const DictItem& b) { return num(a.value) > num(b.value); });
      }
      f.t = Frame::T::dict;
      f.owned_items = sorted;
      f.ditems = sorted->data();
      f.n = sorted->size();
      e.text = "Counter({";
      f.close = "})";
      return true;
    }
    case LibraryType::deque: {
      std::int64_t maxlen = -1;
      if (args.size() == 2) {
        if (args[1].tag() == Tag::int64) maxlen = Access::i(args[1]);
        else if (!args[1].is_none()) return false;
      } else if (args.size() > 2) {
        return false;
      }
      auto el = v.elements();
      if (maxlen >= 0 && el.size() > static_cast<std::size_t>(maxlen))
        el = el.subspan(el.size() - static_cast<std::size_t>(maxlen));
      f.t = Frame::T::seq;
      f.items = el.data();
      f.n = el.size();
      e.text = "deque([";
      f.close = maxlen >= 0 ? "], maxlen=" + std::to_string(maxlen) + ")" : "])";
      return true;
    }
    case LibraryType::date: {
      auto d = v.get<Date>();
      if (!d) return false;
      return text("datetime.date(" + std::to_string(d->year) + ", " + std::to_string(d->month) + ", " +
                  std::to_string(d->day) + ")");
    }
    case LibraryType::time:
    case LibraryType::datetime: {
      std::string s;
      int fold;
      Value tz;
      if (v.library_type() == LibraryType::datetime) {
        auto d = v.get<DateTime>();
        if (!d) return false;
        s = "datetime.datetime(" + std::to_string(d->year) + ", " + std::to_string(d->month) + ", " +
            std::to_string(d->day) + ", " + std::to_string(d->hour) + ", " + std::to_string(d->minute);
        if (d->microsecond) s += ", " + std::to_string(d->second) + ", " + std::to_string(d->microsecond);
        else if (d->second) s += ", " + std::to_string(d->second);
        fold = d->fold;
        tz = d->tzinfo;
      } else {
        auto t = v.get<Time>();
        if (!t) return false;
        s = "datetime.time(" + std::to_string(t->hour) + ", " + std::to_string(t->minute);
        if (t->microsecond) s += ", " + std::to_string(t->second) + ", " + std::to_string(t->microsecond);
        else if (t->second) s += ", " + std::to_string(t->second);
        fold = t->fold;
        tz = t->tzinfo;
      }
      if (fold) s += ", fold=1";
      if (!tz.valid()) return text(s + ")");
      f.t = Frame::T::pieces;
      e.pieces.push_back({s + ", tzinfo=", tz});
      e.pieces.push_back({")", Value()});
      return true;
    }
    case LibraryType::timedelta: {
      auto d = v.get<TimeDelta>();
      if (!d) return false;
      std::string s;
      if (d->days) s += "days=" + std::to_string(d->days);
      if (d->seconds) s += std::string(s.empty() ? "" : ", ") + "seconds=" + std::to_string(d->seconds);
      if (d->microseconds) s += std::string(s.empty() ? "" : ", ") + "microseconds=" + std::to_string(d->microseconds);
      return text("datetime.timedelta(" + (s.empty() ? std::string("0") : s) + ")");
    }
    case LibraryType::timezone: {
      auto tz = v.get<TimeZone>();
      if (!tz) return false;
      if (!tz->name.valid() && tz->offset.days == 0 && tz->offset.seconds == 0 && tz->offset.microseconds == 0)
        return text("datetime.timezone.utc");
      f.t = Frame::T::pieces;
      e.pieces.push_back({"datetime.timezone(", args[0]});
      if (tz->name.valid()) e.pieces.push_back({", ", tz->name});
      e.pieces.push_back({")", Value()});
      return true;
    }
    case LibraryType::decimal: {
      if (args.size() != 1 || args[0].tag() != Tag::str) return false;
      return text("Decimal('" + std::string(Access::sv(args[0])) + "')");
    }
    case LibraryType::uuid: {
      auto u = v.get<Uuid>();
      if (!u) return false;
      return text("UUID('" + u->to_string() + "')");
    }
    case LibraryType::range: {
      if (args.size() != 3 && args.size() != 2 && args.size() != 1) return false;
      for (const Value& a : args)
        if (a.tag() != Tag::int64 && a.tag() != Tag::bigint && a.tag() != Tag::boolean) return false;
      f.t = Frame::T::pieces;
      if (args.size() == 1) {
        e.pieces.push_back({"range(0, ", args[0]});
      } else {
        e.pieces.push_back({"range(", args[0]});
        e.pieces.push_back({", ", args[1]});
        bool step1 = args.size() == 2 || (args[2].tag() == Tag::int64 && Access::i(args[2]) == 1);
        if (!step1) e.pieces.push_back({", ", args[2]});
      }
      e.pieces.push_back({")", Value()});
      return true;
    }
    case LibraryType::exception: {
      if (o->args.tag() != Tag::tuple || o->cls.tag() != Tag::global) return false;
      std::string name(gname(o->cls));
      if (name == "EnvironmentError" || name == "IOError") name = "OSError";
      std::span<const Value> a = args;
      bool truncated_args = false;
      if (is_oserror_family(name) && a.size() >= 2 && a.size() <= 5) {
        // OSError.__new__ picks the errno's subclass; __init__ keeps only (errno, strerror) in
        // args when a filename is given (BlockingIOError's third argument is a count instead).
        if (name == "OSError" && a[0].tag() == Tag::int64)
          if (const char* sub = oserror_subclass(Access::i(a[0]))) name = sub;
        bool written = name == "BlockingIOError" && a.size() >= 3 && a[2].tag() == Tag::int64;
        if (a.size() >= 3 && !a[2].is_none() && !written) {
          a = a.first(2);
          truncated_args = true;
        }
      }
      f.t = Frame::T::pieces;
      if (a.size() == 1) {
        e.pieces.push_back({name + "(", a[0]});
        e.pieces.push_back({")", Value()});
      } else if (!truncated_args) {
        e.pieces.push_back({name, o->args});
      } else {
        std::string sep = name + "(";
        for (const Value& x : a) {
          e.pieces.push_back({sep, x});
          sep = ", ";
        }
        e.pieces.push_back({")", Value()});
      }
      return true;
    }
    default:
      return false;
  }
}

// ---- the printer --------------------------------------------------------------------------------

class Printer : public detail::FrameWalker<Printer> {
 public:
  Printer(std::string& out, const ReprOptions& opt) : FrameWalker(out), opt_(opt), exp_(opt), start_(out.size()) {}

  ReprStatus run(const Value& root) {
    if (opt_.refs) count_refs(root);
    emit(root);
    while (!frames_.empty() && !over()) step();
    if (over()) {
      out_.resize(start_ + opt_.max_output);
      out_ += "\n... output truncated at " + std::to_string(opt_.max_output) +
              " bytes (raise --max-output; --refs prints shared lists, dicts, sets and objects once)";
      return ReprStatus::truncated;
    }
    return ReprStatus::complete;
  }

 private:
  friend FrameWalker;

  bool over() const { return opt_.max_output && out_.size() - start_ > opt_.max_output; }
  // Where a long str/bytes may stop being rendered: just past the budget (run() cuts there).
  std::size_t stop_at() const { return opt_.max_output ? start_ + opt_.max_output + 1 : SIZE_MAX; }

  void leaf(const Value& v) {
    switch (v.tag()) {
      case Tag::invalid: out_ += "<missing>"; return;
      case Tag::none: out_ += "None"; return;
      case Tag::boolean: out_ += Access::i(v) ? "True" : "False"; return;
      case Tag::int64: out_ += std::to_string(Access::i(v)); return;
      case Tag::bigint: repr_bigint(out_, Access::bytes(v), v.inline_length(), opt_.max_int_digits); return;
      case Tag::float64: detail::repr_float(out_, Access::d(v)); return;
      case Tag::complex: {
        auto* c = Access::node<detail::ComplexNode>(v);
        repr_complex(out_, c->re, c->im);
        return;
      }
      case Tag::str: detail::repr_str(out_, Access::sv(v), stop_at()); return;
      case Tag::bytes: detail::repr_bytes(out_, Access::bytes(v), v.inline_length(), stop_at()); return;
      case Tag::bytearray: {
        auto* b = Access::node<detail::ByteArrayNode>(v);
        detail::repr_bytearray(out_, b->data, b->size, stop_at());
        return;
      }
      case Tag::global: repr_global(out_, v); return;
      case Tag::buffer: {
        auto* b = Access::node<detail::BufferNode>(v);
        out_ += "<out-of-band buffer #" + std::to_string(b->index) + ", " + std::to_string(b->size) + " bytes";
        if (b->h.flags & 1) out_ += ", read-only";
        out_.push_back('>');
        return;
      }
      default:
        return;
    }
  }

  // Print v: leaves immediately, containers by pushing a frame.
  void emit(const Value& v) {
    Tag t = v.tag();
    if (!is_container(t) && t != Tag::bytearray) {
      leaf(v);
      return;
    }
    const void* id = Access::identity(v);
    if (opt_.refs && is_labelable(v)) {
      auto it = labels_.find(id);
      if (it != labels_.end()) {
        if (it->second >= 0) {
          out_ += "#" + std::to_string(it->second) + "#";
          return;
        }
        it->second = next_label_++;
        out_ += "#" + std::to_string(it->second) + "=";
      }
    }
    if (t == Tag::bytearray) {
      leaf(v);
      return;
    }
    if (t != Tag::tuple || !v.elements().empty()) {
      if (in_progress_.count(id)) {
        out_ += Expander::recursion_marker(v);
        return;
      }
    }
    Expansion e = exp_.expand(v);
    if (e.is_text) {
      if (e.text.empty()) leaf(v);
      else out_ += e.text;
      return;
    }
    out_ += e.text;
    if (e.frame.id) in_progress_.insert(e.frame.id);
    push_frame(std::move(e.frame), e.pieces);
  }

  void on_pop(const Frame& f) {
    if (f.id) in_progress_.erase(f.id);
  }

  // --refs pre-pass: which labelable values are reached more than once when printing.
  // --refs pre-pass: which labelable values the printer will reach more than once. It walks the
  // graph in printing order, and like the printer it does not descend into a value that is
  // already being printed (that occurrence prints as a recursion marker or a label).
  void count_refs(const Value& root) {
    struct Item {
      Value v;
      const void* exit_id;  // non-null: leaving this frame
    };
    std::vector<Item> work{{root, nullptr}};
    std::uint64_t budget = opt_.max_output ? opt_.max_output : ~std::uint64_t{0};
    std::unordered_map<const void*, int> seen;
    std::unordered_set<const void*> path;
    std::vector<Value> kids;
    while (!work.empty() && budget) {
      Item item = work.back();
      work.pop_back();
      if (item.exit_id) {
        path.erase(item.exit_id);
        continue;
      }
      const Value& v = item.v;
      --budget;
      Tag t = v.tag();
      if (!is_container(t) && t != Tag::bytearray) continue;
      const void* id = Access::identity(v);
      if (is_labelable(v)) {
        int& c = seen[id];
        if (++c == 2) labels_.emplace(id, -1);
        if (c > 1 || t == Tag::bytearray) continue;
      } else if (path.count(id)) {
        continue;
      }
      Expansion e = exp_.expand(v);
      if (e.is_text) continue;
      kids.clear();
      const Frame& f = e.frame;
      switch (f.t) {
        case Frame::T::seq:
          for (std::size_t i = 0; i < f.n; ++i) kids.push_back(f.items[i]);
          break;
        case Frame::T::dict:
        case Frame::T::text_key_dict:
        case Frame::T::pairs:
          for (std::size_t i = 0; i < f.n; ++i) {
            kids.push_back(f.ditems[i].key);
            kids.push_back(f.ditems[i].value);
          }
          break;
        case Frame::T::pieces:
          for (auto& p : e.pieces)
            if (p.value.valid()) kids.push_back(p.value);
          break;
      }
      if (f.id) {
        path.insert(f.id);
        work.push_back({Value(), f.id});
      }
      for (auto it = kids.rbegin(); it != kids.rend(); ++it) work.push_back({*it, nullptr});
    }
  }

  const ReprOptions& opt_;
  Expander exp_;
  std::size_t start_;
  std::unordered_set<const void*> in_progress_;
  std::unordered_map<const void*, int> labels_;  // -1: needs a label, not printed yet
  int next_label_ = 0;
};

}  // namespace

ReprStatus repr_append(std::string& out, const Value& v, const ReprOptions& options) {
  Printer p(out, options);
  return p.run(v);
}

std::string repr(const Value& v, const ReprOptions& options) {
  std::string s;
  repr_append(s, v, options);
  return s;
}

}  // namespace brine
