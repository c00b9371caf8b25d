#include "brine/builder.hpp"

#include <cstdint>
#include <iterator>
#include <string>

#include "document.hpp"
#include "graph.hpp"
#include "input.hpp"
#include "known_globals.hpp"
#include "pytext.hpp"

namespace brine {

using detail::Access;
using detail::Tag;

namespace {

// Runs f with a graph context over the document, converting internal failures to exceptions.
template <class F>
auto with_graph(detail::DocumentState* s, F&& f) {
  detail::GraphCtx g{s->arena, ~std::uint64_t{0}, s->next_serial};
  try {
    auto r = f(g);
    s->next_serial = g.next_serial;
    return r;
  } catch (const detail::ReadFailure& e) {
    s->next_serial = g.next_serial;
    Error err;
    err.code = e.code;
    err.message = e.message;
    throw Exception(std::move(err));
  }
}

[[noreturn]] void wrong(const char* what, const Value& v) {
  Error e;
  e.code = errc::wrong_kind;
  e.message = std::string(what) + ", got " + detail::python_type_name(v);
  throw Exception(std::move(e));
}

}  // namespace

// A Builder can add references anywhere: what the reader knew of sharing no longer holds.
Builder::Builder(Document& doc) : s_(&doc.state()) {
  s_->builder_made = true;
  s_->sharing_known = false;
}
Builder::Builder(detail::DocumentState& state) : s_(&state) {
  s_->builder_made = true;
  s_->sharing_known = false;
}

Value Builder::none() { return detail::make_none(); }
Value Builder::boolean(bool b) { return detail::make_bool(b); }
Value Builder::integer(std::int64_t i) { return detail::make_int(i); }
Value Builder::floating(double d) { return detail::make_float(d); }

Value Builder::integer_le(std::span<const std::uint8_t> le) {
  return with_graph(s_, [&](detail::GraphCtx& g) { return detail::make_int_le(g, le.data(), le.size(), false); });
}

Value Builder::complex(double re, double im) {
  return with_graph(s_, [&](detail::GraphCtx& g) { return detail::make_complex(g, re, im); });
}

Value Builder::str(std::string_view utf8) {
  if (!detail::is_valid_utf8(reinterpret_cast<const std::uint8_t*>(utf8.data()), utf8.size())) {
    Error e;
    e.code = errc::unicode_error;
    e.message = "str must be valid UTF-8";
    throw Exception(std::move(e));
  }
  return with_graph(s_, [&](detail::GraphCtx& g) { return detail::make_str(g, utf8.data(), utf8.size(), false); });
}

Value Builder::interned(std::string_view utf8) {
  InternCache& c = intern_cache_[(reinterpret_cast<std::uintptr_t>(utf8.data()) >> 3) % std::size(intern_cache_)];
  if (c.p == utf8.data() && c.n == utf8.size() && c.v.valid() && detail::Access::sv(c.v) == utf8) return c.v;
  Value v;
  if (auto it = s_->interned.find(utf8); it != s_->interned.end()) {
    v = it->second;
  } else {
    v = str(utf8);
    s_->interned.emplace(detail::Access::sv(v), v);
  }
  c = InternCache{utf8.data(), utf8.size(), v};
  return v;
}

Value Builder::bytes(std::span<const std::byte> data) {
  return with_graph(s_, [&](detail::GraphCtx& g) {
    return detail::make_bytes(g, reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), false);
  });
}

Value Builder::bytes(std::string_view data) {
  return bytes(std::as_bytes(std::span<const char>(data.data(), data.size())));
}

Value Builder::bytearray(std::span<const std::byte> data) {
  return with_graph(s_, [&](detail::GraphCtx& g) {
    return detail::make_bytearray(g, reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  });
}

Value Builder::tuple(std::span<const Value> items) {
  return with_graph(s_, [&](detail::GraphCtx& g) { return detail::make_tuple(g, items.data(), items.size()); });
}

Value Builder::list(std::span<const Value> items) {
  return with_graph(s_, [&](detail::GraphCtx& g) { return detail::make_list(g, items.data(), items.size()); });
}

Value Builder::dict() {
  return with_graph(s_, [&](detail::GraphCtx& g) { return detail::make_dict(g); });
}

Value Builder::set(std::span<const Value> items) {
  return with_graph(s_, [&](detail::GraphCtx& g) {
    Value v = detail::make_set(g, false);
    for (const Value& x : items) detail::set_add(g, Access::node<detail::SetNode>(v), x);
    detail::finalize_set(g, Access::node<detail::SetNode>(v));
    return v;
  });
}

Value Builder::frozenset(std::span<const Value> items) {
  return with_graph(s_, [&](detail::GraphCtx& g) {
    Value v = detail::make_set(g, true);
    for (const Value& x : items) detail::set_add(g, Access::node<detail::SetNode>(v), x);
    detail::finalize_set(g, Access::node<detail::SetNode>(v));
    return v;
  });
}

Value Builder::global(std::string_view module, std::string_view name) {
  std::string key = detail::global_key(module, name);
  auto it = s_->globals.find(key);
  if (it != s_->globals.end()) return Access::make_ptr(Tag::global, 0, it->second);
  return with_graph(s_, [&](detail::GraphCtx& g) {
    auto k = detail::lookup_known_global(module, name);
    auto* gn = g.arena.make<detail::GlobalNode>();
    gn->h.tag = Tag::global;
    gn->h.kind = static_cast<std::uint16_t>(k.id);
    gn->h.aux = static_cast<std::uint32_t>(k.kind);
    gn->module = detail::make_str(g, module.data(), module.size(), false);
    gn->name = detail::make_str(g, name.data(), name.size(), false);
    s_->globals.emplace(key, gn);
    return Access::make_ptr(Tag::global, 0, gn);
  });
}

Value Builder::object(const Value& cls, const Value& args, const Value& state) {
  return with_graph(s_, [&](detail::GraphCtx& g) {
    auto* o = g.arena.make<detail::ObjectNode>();
    o->h.tag = Tag::object;
    o->h.kind = static_cast<std::uint16_t>(Construction::newobj);
    o->h.aux = g.next_serial++;
    o->callable = cls;
    o->cls = cls;
    o->args = args.valid() ? args : detail::empty_tuple();
    o->state = state;
    return Access::make_ptr(Tag::object, 0, o);
  });
}

Value Builder::reduce(const Value& callable, const Value& args) {
  return with_graph(s_, [&](detail::GraphCtx& g) {
    auto* o = g.arena.make<detail::ObjectNode>();
    o->h.tag = Tag::object;
    o->h.kind = static_cast<std::uint16_t>(Construction::reduce);
    o->h.aux = g.next_serial++;
    o->callable = callable;
    o->cls = callable.tag() == Tag::global ? callable : Value();
    o->args = args.valid() ? args : detail::empty_tuple();
    return Access::make_ptr(Tag::object, 0, o);
  });
}

Value Builder::persistent(const Value& pid) {
  return with_graph(s_, [&](detail::GraphCtx& g) {
    auto* p = g.arena.make<detail::PersistentNode>();
    p->h.tag = Tag::persistent;
    p->h.aux = g.next_serial++;
    p->pid = pid;
    return Access::make_ptr(Tag::persistent, 0, p);
  });
}

void Builder::append(const Value& list, const Value& item) {
  with_graph(s_, [&](detail::GraphCtx& g) {
    if (list.tag() == Tag::list) {
      detail::list_extend(g, Access::node<detail::SeqNode>(list), &item, 1);
    } else if (list.tag() == Tag::object) {
      auto* o = Access::node<detail::ObjectNode>(list);
      if (!o->list_items) o->list_items = Access::node<detail::SeqNode>(detail::make_list(g, nullptr, 0));
      detail::list_extend(g, o->list_items, &item, 1);
    } else {
      wrong("append needs a list or object", list);
    }
    return 0;
  });
}

void Builder::set_item(const Value& dict, const Value& key, const Value& value) {
  with_graph(s_, [&](detail::GraphCtx& g) {
    if (dict.tag() == Tag::dict) {
      detail::dict_set(g, Access::node<detail::DictNode>(dict), key, value);
    } else if (dict.tag() == Tag::object) {
      auto* o = Access::node<detail::ObjectNode>(dict);
      if (!o->dict_items) o->dict_items = detail::new_dict_node(g, false);
      detail::dict_set(g, o->dict_items, key, value);
    } else {
      wrong("set_item needs a dict or object", dict);
    }
    return 0;
  });
}

void Builder::add(const Value& set, const Value& item) {
  with_graph(s_, [&](detail::GraphCtx& g) {
    if (set.tag() != Tag::set) wrong("add needs a set", set);
    detail::set_add(g, Access::node<detail::SetNode>(set), item);
    detail::finalize_set(g, Access::node<detail::SetNode>(set));
    return 0;
  });
}

void Builder::set_state(const Value& object, const Value& state) {
  if (object.tag() != Tag::object) wrong("set_state needs an object", object);
  Access::node<detail::ObjectNode>(object)->state = state;
}

}  // namespace brine
