// brine::to_json: the value graph as JSON (docs/json-format.md), written without recursion.
#include "brine/json.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "graph.hpp"
#include "pytext.hpp"
#include "walker.hpp"

namespace brine {
namespace {

using detail::Access;
using detail::Tag;
using Piece = detail::PrintPiece;
using Frame = detail::PrintFrame;

// (stop_at: stop once out holds that many bytes, for a printer with an output budget)
void json_string(std::string& out, std::string_view s, std::size_t stop_at = SIZE_MAX) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    if (out.size() >= stop_at) return;
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    char32_t cp;
    std::size_t n = detail::decode_utf8(s.data() + i, s.size() - i, cp);
    if (cp >= 0xD800 && cp <= 0xDFFF) {  // lone surrogate: not valid UTF-8 output
      out += "\\u";
      for (int sh = 12; sh >= 0; sh -= 4) out.push_back(hex[(cp >> sh) & 15]);
    } else {
      out.append(s.data() + i, n);
    }
    i += n;
  }
  out.push_back('"');
}

void base64(std::string& out, const std::uint8_t* p, std::size_t n) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out.push_back(t[v >> 18]);
    out.push_back(t[(v >> 12) & 63]);
    out.push_back(t[(v >> 6) & 63]);
    out.push_back(t[v & 63]);
  }
  if (n - i == 1) {
    std::uint32_t v = p[i] << 16;
    out.push_back(t[v >> 18]);
    out.push_back(t[(v >> 12) & 63]);
    out += "==";
  } else if (n - i == 2) {
    std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out.push_back(t[v >> 18]);
    out.push_back(t[(v >> 12) & 63]);
    out.push_back(t[(v >> 6) & 63]);
    out.push_back('=');
  }
}

void json_float(std::string& out, double d) {
  if (std::isnan(d)) { out += "{\"$float\": \"nan\"}"; return; }
  if (std::isinf(d)) { out += d < 0 ? "{\"$float\": \"-inf\"}" : "{\"$float\": \"inf\"}"; return; }
  detail::repr_float(out, d);
}

bool is_labelable(Tag t) {
  return t == Tag::list || t == Tag::dict || t == Tag::set || t == Tag::bytearray || t == Tag::object ||
         t == Tag::persistent;
}

bool plain_object_keys(std::span<const DictItem> items) {
  for (const DictItem& it : items) {
    if (it.key.tag() != Tag::str) return false;
    std::string_view k = Access::sv(it.key);
    if (!k.empty() && k[0] == '$') return false;
  }
  return true;
}

std::string qualname(const Value& g) {
  auto* gn = Access::node<detail::GlobalNode>(g);
  return std::string(Access::sv(gn->module)) + "." + std::string(Access::sv(gn->name));
}

std::string two(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

std::string iso_time(int h, int m, int s, int us) {
  std::string r = two(h) + ":" + two(m) + ":" + two(s);
  if (us) {
    char b[16];
    std::snprintf(b, sizeof b, ".%06d", us);
    r += b;
  }
  return r;
}

// "+HH:MM[:SS[.ffffff]]" for a datetime.timezone tzinfo; empty if unknown.
std::string iso_offset(const Value& tz) {
  if (!tz.valid()) return "";
  auto z = tz.get<TimeZone>();
  if (!z) return "";
  std::int64_t total_us = (z->offset.days * 86400 + z->offset.seconds) * 1000000LL + z->offset.microseconds;
  char sign = total_us < 0 ? '-' : '+';
  if (total_us < 0) total_us = -total_us;
  std::int64_t secs = total_us / 1000000, us = total_us % 1000000;
  std::string r(1, sign);
  r += two(static_cast<int>(secs / 3600)) + ":" + two(static_cast<int>(secs / 60 % 60));
  if (secs % 60 || us) {
    r += ":" + two(static_cast<int>(secs % 60));
    if (us) {
      char b[16];
      std::snprintf(b, sizeof b, ".%06lld", static_cast<long long>(us));
      r += b;
    }
  }
  return r;
}

class Writer : public detail::FrameWalker<Writer> {
 public:
  Writer(std::string& out, const JsonOptions& o) : FrameWalker(out), opt_(o), start_(out.size()) {}

  ReprStatus run(const Value& root) {
    count(root);
    emit(root);
    while (!frames_.empty() && !over()) step();
    if (over()) {
      out_.resize(start_ + opt_.max_output);
      out_ += "\n... output truncated at " + std::to_string(opt_.max_output) + " bytes";
      return ReprStatus::truncated;
    }
    return ReprStatus::complete;
  }

 private:
  friend FrameWalker;

  bool over() const { return opt_.max_output && out_.size() - start_ > opt_.max_output; }
  // Where a long str may stop being written, and how many bytes of a bytes value to encode:
  // just past the budget (run() cuts there).
  std::size_t stop_at() const { return opt_.max_output ? start_ + opt_.max_output + 1 : SIZE_MAX; }
  std::size_t budgeted(std::size_t n) const {
    if (!opt_.max_output) return n;
    const std::size_t room = stop_at() > out_.size() ? stop_at() - out_.size() : 0;
    return std::min(n, room / 4 * 3 + 3);
  }

  // The values a node's JSON contains, in writing order (shared by the pre-pass and the writer).
  void children(const Value& v, std::vector<Piece>& pieces) {
    auto add = [&](std::string text, const Value& x) { pieces.push_back({std::move(text), x}); };
    auto* o = Access::node<detail::ObjectNode>(v);
    std::string head = o->cls.tag() == Tag::global ? qualname(o->cls) : std::string();
    static const char* kinds[] = {"reduce", "newobj", "newobj_ex", "inst", "obj"};
    std::string s = "{\"$object\": ";
    if (!head.empty()) {
      json_string(s, head);
    } else {
      s += "null";
    }
    s += ", \"construction\": \"";
    s += kinds[o->h.kind < 5 ? o->h.kind : 0];
    s += "\"";
    if (!o->cls.same(o->callable)) add(s + ", \"callable\": ", o->callable), s.clear();
    if (o->args.valid()) add(s + ", \"args\": ", o->args), s.clear();
    if (o->kwargs.valid()) add(s + ", \"kwargs\": ", o->kwargs), s.clear();
    if (o->list_items && o->list_items->size)
      add(s + ", \"listitems\": ", Access::make_ptr(Tag::list, 0, o->list_items)), s.clear();
    if (o->dict_items && o->dict_items->size) {
      // always the pairs form: keys of arbitrary objects' items need not be str
      add(s + ", \"dictitems\": ", Access::make_ptr(Tag::dict, 0, o->dict_items)), s.clear();
      dictitems_as_pairs_.insert(o->dict_items);
    }
    if (o->earlier_states) {
      add(s + ", \"states\": [", Value()), s.clear();
      for (std::uint64_t k = 0; k < o->earlier_states->size; ++k)
        add(k ? ", " : "", o->earlier_states->items[k]);
      add(", ", o->state);
      add("]", Value());
    } else if (o->state.valid()) {
      add(s + ", \"state\": ", o->state), s.clear();
    }
    if (o->state_setter.valid()) add(s + ", \"state_setter\": ", o->state_setter), s.clear();
    std::string lib = library_value(v);
    s += lib;
    s += "}";
    add(s, Value());
  }

  // "$value" of recognised scalar-like library objects.
  std::string library_value(const Value& v) {
    std::string r;
    switch (v.library_type()) {
      case LibraryType::date:
        if (auto d = v.get<Date>()) {
          char b[32];
          std::snprintf(b, sizeof b, "%04d-%02d-%02d", d->year, d->month, d->day);
          r = std::string(", \"$value\": \"") + b + "\"";
        }
        break;
      case LibraryType::datetime:
        if (auto d = v.get<DateTime>()) {
          char b[32];
          std::snprintf(b, sizeof b, "%04d-%02d-%02dT", d->year, d->month, d->day);
          r = std::string(", \"$value\": \"") + b + iso_time(d->hour, d->minute, d->second, d->microsecond) +
              iso_offset(d->tzinfo) + "\"";
        }
        break;
      case LibraryType::time:
        if (auto t = v.get<Time>())
          r = ", \"$value\": \"" + iso_time(t->hour, t->minute, t->second, t->microsecond) + iso_offset(t->tzinfo) + "\"";
        break;
      case LibraryType::timedelta:
        if (auto t = v.get<TimeDelta>())
          r = ", \"$value\": {\"days\": " + std::to_string(t->days) + ", \"seconds\": " + std::to_string(t->seconds) +
              ", \"microseconds\": " + std::to_string(t->microseconds) + "}";
        break;
      case LibraryType::decimal: {
        Value a = v.args();
        if (a.tag() == Tag::tuple && a.size() == 1 && a.elements()[0].tag() == Tag::str) {
          r = ", \"$value\": ";
          json_string(r, Access::sv(a.elements()[0]));
        }
        break;
      }
      case LibraryType::uuid:
        if (auto u = v.get<Uuid>()) r = ", \"$value\": \"" + u->to_string() + "\"";
        break;
      default:
        break;
    }
    return r;
  }

  void count(const Value& root) {
    std::vector<Value> work{root};
    std::unordered_map<const void*, int> seen;
    std::uint64_t budget = opt_.max_output ? opt_.max_output : ~std::uint64_t{0};
    std::vector<Piece> tmp;
    while (!work.empty() && budget) {
      Value v = work.back();
      work.pop_back();
      --budget;
      Tag t = v.tag();
      if (is_labelable(t)) {
        const void* id = Access::identity(v);
        if (++seen[id] == 2) labels_.emplace(id, -1);
        if (seen[id] > 1) continue;
      }
      switch (t) {
        case Tag::list: case Tag::tuple: case Tag::set: case Tag::frozenset:
          for (auto it = v.elements().rbegin(); it != v.elements().rend(); ++it) work.push_back(*it);
          break;
        case Tag::dict:
          for (auto it = v.items().rbegin(); it != v.items().rend(); ++it) {
            work.push_back(it->value);
            work.push_back(it->key);
          }
          break;
        case Tag::persistent:
          work.push_back(v.persistent_id());
          break;
        case Tag::object: {
          tmp.clear();
          children(v, tmp);
          for (auto it = tmp.rbegin(); it != tmp.rend(); ++it)
            if (it->value.valid()) work.push_back(it->value);
          break;
        }
        default:
          break;
      }
    }
  }

  void leaf(const Value& v) {
    switch (v.tag()) {
      case Tag::invalid: out_ += "null"; return;
      case Tag::none: out_ += "null"; return;
      case Tag::boolean: out_ += Access::i(v) ? "true" : "false"; return;
      case Tag::int64: out_ += std::to_string(Access::i(v)); return;
      case Tag::bigint:
        if (opt_.max_int_digits && detail::bigint_decimal_digits(Access::bytes(v), v.inline_length()) > opt_.max_int_digits) {
          out_ += "{\"$int\": \"";
          ReprOptions ro;
          ro.max_int_digits = opt_.max_int_digits;
          ro.max_output = 0;
          repr_append(out_, v, ro);
          out_ += "\"}";
        } else {
          detail::bigint_to_decimal(out_, Access::bytes(v), v.inline_length());
        }
        return;
      case Tag::float64: json_float(out_, Access::d(v)); return;
      case Tag::complex: {
        auto* c = Access::node<detail::ComplexNode>(v);
        out_ += "{\"$complex\": [";
        json_float(out_, c->re);
        out_ += ", ";
        json_float(out_, c->im);
        out_ += "]}";
        return;
      }
      case Tag::str: json_string(out_, Access::sv(v), stop_at()); return;
      case Tag::bytes:
        out_ += "{\"$bytes\": \"";
        base64(out_, Access::bytes(v), budgeted(v.inline_length()));
        out_ += "\"}";
        return;
      case Tag::bytearray: {
        auto* b = Access::node<detail::ByteArrayNode>(v);
        out_ += "{\"$bytearray\": \"";
        base64(out_, b->data, budgeted(b->size));
        out_ += "\"}";
        return;
      }
      case Tag::global:
        out_ += "{\"$global\": ";
        json_string(out_, qualname(v));
        out_ += "}";
        return;
      case Tag::buffer: {
        auto* b = Access::node<detail::BufferNode>(v);
        out_ += "{\"$buffer\": " + std::to_string(b->index) + ", \"size\": " + std::to_string(b->size) +
                ", \"readonly\": " + ((b->h.flags & 1) ? "true" : "false") + "}";
        return;
      }
      default:
        out_ += "null";
        return;
    }
  }

  void push(Frame f, std::string_view open) {
    out_ += open;
    push_frame(std::move(f));
  }

  void emit(const Value& v) {
    Tag t = v.tag();
    if (is_labelable(t)) {
      auto it = labels_.find(Access::identity(v));
      if (it != labels_.end()) {
        if (it->second >= 0) {
          out_ += "{\"$ref\": " + std::to_string(it->second) + "}";
          return;
        }
        it->second = next_label_++;
        out_ += "{\"$id\": " + std::to_string(it->second) + ", \"$value\": ";
        Frame closer;
        closer.t = Frame::T::pieces;  // no pieces: only its close
        closer.close = "}";
        push_frame(std::move(closer));
      }
    }
    Frame f;
    switch (t) {
      case Tag::list:
      case Tag::tuple:
      case Tag::set:
      case Tag::frozenset: {
        auto el = v.elements();
        f.t = Frame::T::seq;
        f.items = el.data();
        f.n = el.size();
        const char* open = t == Tag::list ? "[" : t == Tag::tuple ? "{\"$tuple\": [" : t == Tag::set ? "{\"$set\": [" : "{\"$frozenset\": [";
        f.close = t == Tag::list ? "]" : "]}";
        push(std::move(f), open);
        return;
      }
      case Tag::dict: {
        auto it = v.items();
        f.ditems = it.data();
        f.n = it.size();
        bool force_pairs = dictitems_as_pairs_.count(Access::node<detail::DictNode>(v)) != 0;
        if (!force_pairs && plain_object_keys(it)) {
          f.t = Frame::T::text_key_dict;
          f.close = "}";
          push(std::move(f), "{");
        } else {
          f.t = Frame::T::pairs;
          f.pair_open = "[";
          f.pair_close = "]";
          f.close = force_pairs ? "]" : "]}";
          push(std::move(f), force_pairs ? "[" : "{\"$dict\": [");
        }
        return;
      }
      case Tag::persistent: {
        Piece ps[] = {{"{\"$persistent_id\": ", v.persistent_id()}, {"}", Value()}};
        f.t = Frame::T::pieces;
        push_frame(std::move(f), ps);
        return;
      }
      case Tag::object: {
        std::vector<Piece> ps;
        children(v, ps);
        f.t = Frame::T::pieces;
        push_frame(std::move(f), ps);
        return;
      }
      default:
        leaf(v);
        return;
    }
  }

  void emit_text_key(const Value& k) { json_string(out_, Access::sv(k)); }

  const JsonOptions& opt_;
  std::size_t start_;
  std::unordered_map<const void*, int> labels_;
  std::unordered_set<const void*> dictitems_as_pairs_;
  int next_label_ = 0;
};

}  // namespace

ReprStatus to_json_append(std::string& out, const Value& v, const JsonOptions& options) {
  Writer w(out, options);
  return w.run(v);
}

std::string to_json(const Value& v, const JsonOptions& options) {
  std::string s;
  to_json_append(s, v, options);
  return s;
}

}  // namespace brine
