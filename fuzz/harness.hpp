#pragma once
// The checks behind brine's fuzz targets, shared with tests/test_hostile.cpp (which replays the
// saved crash inputs through them under the normal build).
//
// Each check_* function runs one input through a part of the public API and verifies the
// contract every input must meet: a typed error or a result, never a crash, an exception other
// than the documented brine::Exception (from as<>() / operator[]), or unbounded output; and
// a few invariants that are cheap to state (typed accessors agree with kind(), memory and stream
// readers agree, complete JSON is valid JSON, ...). A violated invariant calls
// BRINE_HARNESS_FAIL(message): by default it prints the message and aborts (what libFuzzer wants);
// the tests define it to throw instead.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "brine/brine.hpp"
#include "graph.hpp"  // brine::detail::py_hash, key_equal (src/, private)

#ifndef BRINE_HARNESS_FAIL
#define BRINE_HARNESS_FAIL(msg)                                        \
  do {                                                                 \
    std::fprintf(stderr, "brine harness: %s\n", std::string(msg).c_str()); \
    std::abort();                                                      \
  } while (0)
#endif

#define BRINE_CHECK(cond, msg)                                                        \
  do {                                                                                \
    if (!(cond))                                                                      \
      BRINE_HARNESS_FAIL(std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " + \
                         "check failed: " #cond ": " + std::string(msg));             \
  } while (0)

namespace brine_harness {

using brine::Value;

// Limits small enough that a hostile input hits them long before the process runs out of
// memory (libFuzzer's -rss_limit_mb), and output bounds that keep every run fast.
inline constexpr std::uint64_t kMaxAlloc = std::uint64_t{64} << 20;
inline constexpr std::uint64_t kMaxOutput = std::uint64_t{1} << 20;
// Longest truncation note repr/to_json append after max_output bytes.
inline constexpr std::uint64_t kNoteSlack = 256;
// Values the traversal visits at most (each distinct node once).
inline constexpr std::size_t kVisitBudget = 200000;

inline brine::ReadOptions default_options() {
  brine::ReadOptions o;
  o.limits.max_alloc_bytes = kMaxAlloc;
  return o;
}

// ---- a strict, non-recursive JSON validator ------------------------------------------------
// RFC 8259 plus: raw text must be valid UTF-8 (no encoded surrogates, no overlong forms); any
// \uXXXX escape is accepted, lone surrogates included (what brine writes for them, as Python's
// json module does).
inline bool valid_utf8_at(std::string_view s, std::size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return k < s.size() && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80;
  };
  if (c < 0x80) { ++i; return true; }
  if (c >= 0xC2 && c <= 0xDF) {
    if (!cont(i + 1)) return false;
    i += 2;
    return true;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return false;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xE0 && c1 < 0xA0) return false;   // overlong
    if (c == 0xED && c1 >= 0xA0) return false;  // surrogate
    i += 3;
    return true;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return false;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xF0 && c1 < 0x90) return false;
    if (c == 0xF4 && c1 >= 0x90) return false;
    i += 4;
    return true;
  }
  return false;
}

inline bool json_valid(std::string_view s, std::string* why = nullptr) {
  std::size_t i = 0;
  auto fail = [&](const char* w) {
    if (why) *why = std::string(w) + " at byte " + std::to_string(i);
    return false;
  };
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  };
  auto string = [&]() -> bool {
    ++i;  // opening quote
    while (i < s.size()) {
      char c = s[i];
      if (c == '"') { ++i; return true; }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c == '\\') {
        if (++i >= s.size()) return false;
        char e = s[i];
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k)
            if (i + k >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + k]))) return false;
          i += 5;
        } else if (std::strchr("\"\\/bfnrt", e) && e != 0) {
          ++i;
        } else {
          return false;
        }
        continue;
      }
      if (!valid_utf8_at(s, i)) return false;
    }
    return false;
  };
  auto number = [&]() -> bool {
    if (s[i] == '-') ++i;
    if (i >= s.size()) return false;
    if (s[i] == '0') {
      ++i;
    } else if (s[i] >= '1' && s[i] <= '9') {
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    } else {
      return false;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    }
    return true;
  };
  // Containers on an explicit stack: '[' or '{'.
  std::vector<char> stack;
  enum class Want { value, after_value };
  Want want = Want::value;
  for (;;) {
    ws();
    if (want == Want::value) {
      if (i >= s.size()) return fail("value expected");
      char c = s[i];
      if (c == '{' || c == '[') {
        stack.push_back(c);
        ++i;
        ws();
        if (i < s.size() && s[i] == (c == '{' ? '}' : ']')) {
          ++i;
          stack.pop_back();
          want = Want::after_value;
          continue;
        }
        if (c == '{') {
          if (i >= s.size() || s[i] != '"' || !string()) return fail("object key expected");
          ws();
          if (i >= s.size() || s[i] != ':') return fail("':' expected");
          ++i;
        }
        continue;
      }
      if (c == '"') {
        if (!string()) return fail("bad string");
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number()) return fail("bad number");
      } else if (s.substr(i, 4) == "true" || s.substr(i, 4) == "null") {
        i += 4;
      } else if (s.substr(i, 5) == "false") {
        i += 5;
      } else {
        return fail("bad value");
      }
      want = Want::after_value;
      continue;
    }
    // after a value
    if (stack.empty()) {
      if (i != s.size()) return fail("trailing text");
      return true;
    }
    if (i >= s.size()) return fail("unterminated container");
    char close = stack.back() == '{' ? '}' : ']';
    if (s[i] == close) {
      ++i;
      stack.pop_back();
      continue;
    }
    if (s[i] != ',') return fail("',' expected");
    ++i;
    ws();
    if (stack.back() == '{') {
      if (i >= s.size() || s[i] != '"' || !string()) return fail("object key expected");
      ws();
      if (i >= s.size() || s[i] != ':') return fail("':' expected");
      ++i;
    }
    want = Want::value;
  }
}

// ---- typed access ----------------------------------------------------------------------------

// Values checked with the throwing accessors (as<T>(), operator[] out of range): exceptions are
// slow under ASan, so only the first ones of each document.
inline constexpr std::size_t kThrowingChecks = 64;

// get<T>() must never throw; as<T>() must throw brine::Exception exactly when get<T>() fails.
template <class T>
std::optional<T> probe(const Value& v, bool throwing) {
  brine::Result<T> r = v.get<T>();
  if (throwing) {
    bool threw = false;
    try {
      (void)v.as<T>();
    } catch (const brine::Exception& e) {
      threw = true;
      BRINE_CHECK(e.error().code != brine::errc::ok, "as<T>() threw an Exception with code ok");
    }
    BRINE_CHECK(threw == !r.ok(), "as<T>() and get<T>() disagree");
  }
  if (!r) {
    BRINE_CHECK(r.error().code != brine::errc::ok, "get<T>() failed with code ok");
    (void)r.error().to_string();
    return std::nullopt;
  }
  return *r;
}

inline bool is_node(const Value& v) {
  return v.tag() >= brine::detail::Tag::complex;
}

inline void check_scalars(const Value& v, bool t) {
  using brine::Kind;
  const Kind k = v.kind();
  (void)brine::kind_name(k);
  (void)v.type_name();

  auto b = probe<bool>(v, t);
  auto i64 = probe<std::int64_t>(v, t);
  auto u64 = probe<std::uint64_t>(v, t);
  auto i8 = probe<std::int8_t>(v, t);
  auto u8 = probe<std::uint8_t>(v, t);
  auto i16 = probe<std::int16_t>(v, t);
  auto u16 = probe<std::uint16_t>(v, t);
  auto i32 = probe<std::int32_t>(v, t);
  auto u32 = probe<std::uint32_t>(v, t);
  (void)probe<long long>(v, t);
  (void)probe<unsigned long>(v, t);
  (void)probe<char>(v, t);
  auto d = probe<double>(v, t);
  (void)probe<float>(v, t);
  auto sv = probe<std::string_view>(v, t);
  auto s = probe<std::string>(v, t);
  auto bytes = probe<std::span<const std::byte>>(v, t);
  auto c = probe<std::complex<double>>(v, t);
  auto big = probe<brine::BigInt>(v, t);
  (void)probe<brine::Date>(v, t);
  (void)probe<brine::Time>(v, t);
  (void)probe<brine::DateTime>(v, t);
  (void)probe<brine::TimeDelta>(v, t);
  if (auto tz = probe<brine::TimeZone>(v, t)) (void)tz->name.kind();
  if (auto u = probe<brine::Uuid>(v, t)) BRINE_CHECK(u->to_string().size() == 36, "uuid text");

  // Agreement with kind().
  if (i64) BRINE_CHECK(k == Kind::integer || k == Kind::boolean, "get<int64> on a non-int");
  if (u64) BRINE_CHECK(k == Kind::integer || k == Kind::boolean, "get<uint64> on a non-int");
  if (i64 && u64) BRINE_CHECK(*i64 >= 0 && static_cast<std::uint64_t>(*i64) == *u64, "int64/uint64 disagree");
  if (i64) {
    BRINE_CHECK(i8.has_value() == (*i64 >= INT8_MIN && *i64 <= INT8_MAX), "int8 range");
    BRINE_CHECK(i16.has_value() == (*i64 >= INT16_MIN && *i64 <= INT16_MAX), "int16 range");
    BRINE_CHECK(i32.has_value() == (*i64 >= INT32_MIN && *i64 <= INT32_MAX), "int32 range");
  }
  if (u64) {
    BRINE_CHECK(u8.has_value() == (*u64 <= UINT8_MAX), "uint8 range");
    BRINE_CHECK(u16.has_value() == (*u64 <= UINT16_MAX), "uint16 range");
    BRINE_CHECK(u32.has_value() == (*u64 <= UINT32_MAX), "uint32 range");
  }
  if (k == Kind::boolean) BRINE_CHECK(b && i64 && *i64 == (*b ? 1 : 0), "bool as int");
  if (sv) {
    BRINE_CHECK(k == Kind::str, "get<string_view> on a non-str");
    BRINE_CHECK(s && *s == *sv, "string and string_view disagree");
    BRINE_CHECK(v.size() == sv->size(), "size() of a str");
  } else {
    BRINE_CHECK(k != Kind::str, "get<string_view> failed on a str");
  }
  if (bytes) {
    BRINE_CHECK(k == Kind::bytes || k == Kind::bytearray || k == Kind::buffer, "bytes of a non-bytes");
    BRINE_CHECK(v.size() == bytes->size(), "size() of bytes");
  }
  if (k == Kind::integer) {
    BRINE_CHECK(big.has_value(), "get<BigInt> failed on an int");
    std::string text = big->to_string();
    BRINE_CHECK(!text.empty(), "BigInt text");
    (void)big->bit_length();
    if (i64) BRINE_CHECK(text == std::to_string(*i64), "BigInt text of an int64: " + text);
    if (!i64 && u64) BRINE_CHECK(text == std::to_string(*u64), "BigInt text of a uint64: " + text);
    if (i64 || u64) BRINE_CHECK(big->negative() == (i64 && *i64 < 0), "BigInt sign");
  }
  if (k == Kind::floating) BRINE_CHECK(d.has_value(), "get<double> failed on a float");
  if (c) BRINE_CHECK(k == Kind::complex || k == Kind::floating || k == Kind::integer || k == Kind::boolean,
                     "get<complex> on a non-number");
}

inline void check_indexing(const Value& v, bool throwing) {
  using brine::Kind;
  const Kind k = v.kind();
  auto el = v.elements();
  auto n = static_cast<std::int64_t>(el.size());
  for (std::int64_t idx : {std::int64_t{0}, std::int64_t{-1}, n, -n, -n - 1, n - 1,
                           std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    bool in_range = idx < n && idx >= -n;
    bool indexable = k == Kind::list || k == Kind::tuple || k == Kind::object;
    if (!throwing && !(in_range && indexable)) continue;
    try {
      Value got = v[idx];
      BRINE_CHECK(k == Kind::list || k == Kind::tuple || k == Kind::object, "operator[](int) on " + v.type_name());
      BRINE_CHECK(in_range, "operator[](int) out of range did not throw");
      BRINE_CHECK(got.same(el[static_cast<std::size_t>(idx < 0 ? idx + n : idx)]), "operator[](int) element");
    } catch (const brine::Exception& e) {
      BRINE_CHECK(e.error().code == brine::errc::wrong_kind || e.error().code == brine::errc::out_of_range,
                  "operator[](int) error code");
      if (k == Kind::list || k == Kind::tuple || k == Kind::object)
        BRINE_CHECK(!in_range, "operator[](int) threw in range");
    }
  }
  // Keyed access: every str key of a dict is found; lookups of absent keys throw key_not_found.
  auto items = v.items();
  std::size_t probes = 0;
  for (const brine::DictItem& it : items) {
    if (++probes > 64) break;
    if (auto key = it.key.get<std::string_view>()) {
      BRINE_CHECK(v.find(*key).valid(), "find(str key) misses a key of items()");
      BRINE_CHECK(v.contains(*key), "contains(str key)");
      try {
        (void)v[*key];
      } catch (const brine::Exception&) {
        BRINE_HARNESS_FAIL("operator[](str) threw for a present key");
      }
    }
    if (k == Kind::dict && brine::detail::key_equal(it.key, it.key)) {
      // Any key (but NaN, never equal to itself) is found again by Python equality.
      Value found = v.find(it.key);
      BRINE_CHECK(found.valid(), "find(Value key) misses a key of items(): " + brine::repr(it.key));
    } else {
      (void)v.find(it.key);
    }
  }
  for (const char* key : {"", "a", "__dict__", "\xff"}) {
    Value f = v.find(std::string_view(key));
    if (!throwing && !f.valid()) continue;
    try {
      Value g = v[key];
      BRINE_CHECK(f.valid() && g.same(f), "operator[](str) and find disagree");
    } catch (const brine::Exception& e) {
      BRINE_CHECK(!f.valid(), "operator[](str) threw for a key find() sees");
      BRINE_CHECK(e.error().code == brine::errc::wrong_kind || e.error().code == brine::errc::key_not_found,
                  "operator[](str) error code");
    }
  }
}

inline void check_container_sizes(const Value& v) {
  using brine::Kind;
  switch (v.kind()) {
    case Kind::list:
    case Kind::tuple:
    case Kind::set:
    case Kind::frozenset:
      BRINE_CHECK(v.size() == v.elements().size(), "size() of a sequence");
      BRINE_CHECK(v.items().empty(), "items() of a sequence");
      break;
    case Kind::dict:
      BRINE_CHECK(v.size() == v.items().size(), "size() of a dict");
      BRINE_CHECK(v.elements().empty(), "elements() of a dict");
      break;
    case Kind::object:
      BRINE_CHECK(v.size() == (v.items().empty() ? v.elements().size() : v.items().size()), "size() of an object");
      break;
    default:
      BRINE_CHECK(v.elements().empty() && v.items().empty(), "children of a scalar");
  }
}

// Python's rule: a == b implies hash(a) == hash(b). Checked on numbers, where brine mixes
// int/bool/float/complex/bigint representations.
inline void check_number_pair(const Value& a, const Value& b) {
  using brine::Kind;
  auto numeric = [](const Value& x) {
    Kind k = x.kind();
    return k == Kind::integer || k == Kind::boolean || k == Kind::floating || k == Kind::complex;
  };
  if (!numeric(a) || !numeric(b)) return;
  bool eq = brine::equal(a, b);
  BRINE_CHECK(eq == brine::equal(b, a), "equal() is not symmetric: " + brine::repr(a) + " vs " + brine::repr(b));
  if (eq) {
    std::int64_t ha = brine::detail::py_hash(a), hb = brine::detail::py_hash(b);
    BRINE_CHECK(ha == hb, "equal numbers hash differently: " + brine::repr(a) + " vs " + brine::repr(b));
  }
}

inline void touch(const Value& v, bool throwing) {
  check_scalars(v, throwing);
  check_container_sizes(v);
  check_indexing(v, throwing);
  (void)v.module();
  (void)v.name();
  (void)v.is_instance_of("builtins", "list");
  (void)v.is_instance_of("collections", "OrderedDict");
  if (v.kind() == brine::Kind::object && !v.module().empty())
    BRINE_CHECK(v.is_instance_of(v.module(), v.name()), "is_instance_of(own class)");
  (void)v.construction();
  (void)v.library_type();
  (void)v.attr("a");
  (void)v.attr("__dict__");
  if (auto st = v.state(); st.kind() == brine::Kind::dict)
    for (const brine::DictItem& it : st.items())
      if (auto key = it.key.get<std::string_view>()) {
        BRINE_CHECK(v.attr(*key).valid(), "attr() misses a key of the state dict");
        break;
      }
}

// Walks every value reachable from root (each node once), calling every accessor on it.
inline void traverse(const Value& root) {
  std::vector<Value> work{root};
  std::unordered_set<const void*> seen;
  std::vector<Value> numbers;  // a sample of numbers for the equality/hash checks
  std::size_t budget = kVisitBudget, visited = 0;
  while (!work.empty() && budget > 0) {
    --budget;
    Value v = work.back();
    work.pop_back();
    if (is_node(v) && !seen.insert(brine::detail::Access::identity(v)).second) continue;
    touch(v, visited++ < kThrowingChecks);
    if (numbers.size() < 16) {
      auto k = v.kind();
      if (k == brine::Kind::integer || k == brine::Kind::boolean || k == brine::Kind::floating ||
          k == brine::Kind::complex)
        numbers.push_back(v);
    }
    for (const Value& e : v.elements()) work.push_back(e);
    for (const brine::DictItem& it : v.items()) {
      work.push_back(it.key);
      work.push_back(it.value);
    }
    for (Value c : {v.callable(), v.cls(), v.args(), v.kwargs(), v.state(), v.persistent_id()})
      if (c.valid()) work.push_back(c);
    if (auto t = v.get<brine::Time>(); t && t->tzinfo.valid()) work.push_back(t->tzinfo);
    if (auto t = v.get<brine::DateTime>(); t && t->tzinfo.valid()) work.push_back(t->tzinfo);
    if (auto t = v.get<brine::TimeZone>(); t && t->name.valid()) work.push_back(t->name);
  }
  for (const Value& a : numbers)
    for (const Value& b : numbers) check_number_pair(a, b);
}

// repr and JSON of a document's root, bounded; checks the bounds and that complete JSON parses.
inline std::string render(const Value& root) {
  brine::ReprOptions ro;
  ro.max_output = kMaxOutput;
  std::string text;
  brine::ReprStatus st = brine::repr_append(text, root, ro);
  BRINE_CHECK(text.size() <= kMaxOutput + kNoteSlack, "repr output exceeds max_output");
  if (st == brine::ReprStatus::complete) BRINE_CHECK(text.size() <= kMaxOutput, "complete repr over max_output");
  ro.refs = true;
  std::string with_refs;
  (void)brine::repr_append(with_refs, root, ro);
  BRINE_CHECK(with_refs.size() <= kMaxOutput + kNoteSlack, "repr(refs) output exceeds max_output");

  brine::JsonOptions jo;
  jo.max_output = kMaxOutput;
  std::string json;
  brine::ReprStatus js = brine::to_json_append(json, root, jo);
  BRINE_CHECK(json.size() <= kMaxOutput + kNoteSlack, "JSON output exceeds max_output");
  if (js == brine::ReprStatus::complete) {
    std::string why;
    BRINE_CHECK(json_valid(json, &why), "to_json produced invalid JSON (" + why + "): " + json.substr(0, 2000));
  }
  return text;
}

// Hooks and tables that make the reader take its optional paths.
struct HookedOptions {
  std::vector<std::byte> buffer_bytes = std::vector<std::byte>(16, std::byte{0x41});
  std::vector<brine::Buffer> buffers;
  brine::ReadOptions options;

  explicit HookedOptions(std::uint8_t variant) {
    options.limits.max_alloc_bytes = kMaxAlloc;
    options.limits.max_depth = (variant & 8) ? 50 : 0;
    options.limits.max_container_len = (variant & 8) ? 1000 : options.limits.max_container_len;
    options.limits.max_memo_index = (variant & 8) ? 100000 : options.limits.max_memo_index;
    options.encoding = static_cast<brine::StringEncoding>(variant & 3);
    options.fix_imports = (variant & 4) == 0;
    options.borrow_input = (variant & 16) != 0;
    buffers.push_back({std::span<const std::byte>(buffer_bytes), true});
    buffers.push_back({std::span<const std::byte>(buffer_bytes).subspan(0, 3), false});
    options.buffers = &buffers;
    options.extensions[1] = {"collections", "OrderedDict"};
    options.extensions[2] = {"builtins", "list"};
    options.extensions[0x1234] = {"copyreg", "_reconstructor"};
    options.extensions[0x7fffffff] = {"datetime", "datetime"};
    options.persistent_load = [](const Value& pid, brine::Builder& b) -> brine::Result<Value> {
      if (pid.is_str()) {
        std::string_view s = pid.get<std::string_view>().value_or(std::string_view());
        if (s == "fail") {
          brine::Error e;
          e.code = brine::errc::persistent_id;
          e.message = "rejected";
          return e;
        }
        if (s == "ok") return b.str("resolved");
        return b.list({pid, b.integer(1)});
      }
      if (pid.is_int()) return b.tuple({pid, b.floating(0.5), b.none()});
      if (pid.is_tuple()) {
        Value d = b.dict();
        b.set_item(d, b.str("pid"), pid);  // may throw brine::Exception (unhashable, ...)
        return d;
      }
      return b.persistent(pid);
    };
    options.global_filter = [](std::string_view module, std::string_view name) {
      return (module == "os" || name == "system" || name == "eval") ? brine::GlobalPolicy::forbid
                                                                     : brine::GlobalPolicy::allow;
    };
    brine::UserType t1{"__main__", "Foo", [](const Value& o) -> std::optional<std::string> {
                         if (o.state().is_dict()) return std::string("Foo<") + std::to_string(o.state().size()) + ">";
                         return std::nullopt;
                       }};
    brine::UserType t2{"numpy.core.multiarray", "_reconstruct", nullptr};
    options.types.push_back(std::move(t1));
    options.types.push_back(std::move(t2));
  }
};

inline void check_error(const brine::Error& e) {
  BRINE_CHECK(e.code != brine::errc::ok, "failed with code ok");
  BRINE_CHECK(!brine::errc_name(e.code).empty(), "errc_name");
  (void)e.to_string();
}

inline void check_document(const brine::Document& doc, std::size_t size, std::uint64_t max_alloc) {
  BRINE_CHECK(doc.end_offset() <= size, "end_offset past the input");
  BRINE_CHECK(doc.start_offset() < doc.end_offset(), "empty pickle accepted");
  BRINE_CHECK(doc.bytes_allocated() <= max_alloc, "allocated more than max_alloc_bytes");
  BRINE_CHECK(doc.root().valid(), "a loaded document has a missing root");
  (void)doc.declared_protocol();
  (void)doc.opcode_protocol();
}

// ---- fuzz_loads ------------------------------------------------------------------------------
inline void check_loads(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const brine::ReadOptions opt = default_options();
  brine::Result<brine::Document> doc = brine::loads(bytes, opt);
  std::string text;
  if (doc) {
    check_document(*doc, size, opt.limits.max_alloc_bytes);
    text = render(doc->root());
    traverse(doc->root());
  } else {
    check_error(doc.error());
  }

  // The other entry points agree with the first.
  {
    brine::Result<brine::Document> owned =
        brine::loads(std::string(reinterpret_cast<const char*>(data), size), opt);
    BRINE_CHECK(owned.ok() == doc.ok(), "loads(string&&) and loads(span) disagree");
    if (owned) BRINE_CHECK(render(owned->root()) == text, "loads(string&&) repr differs");
    else BRINE_CHECK(owned.error().code == doc.error().code, "loads(string&&) error code differs");
  }

  // Options with hooks, other encodings, borrowed input; chosen by the input so that the fuzzer
  // explores them too.
  std::uint8_t variant = 0;
  for (std::size_t i = 0; i < size; ++i) variant = static_cast<std::uint8_t>(variant * 31 + data[i]);
  HookedOptions hooked(variant);
  brine::Result<brine::Document> doc2 = brine::loads(bytes, hooked.options);
  if (doc2) {
    check_document(*doc2, size, hooked.options.limits.max_alloc_bytes);
    (void)render(doc2->root());
    traverse(doc2->root());
  } else {
    check_error(doc2.error());
  }
}

// ---- fuzz_reader_stream ----------------------------------------------------------------------

struct Outcome {
  bool ok;
  brine::errc code;
  std::string text;        // repr on success
  std::uint64_t end = 0;   // end_offset on success
};

template <class NextFn, class AtEndFn>
std::vector<Outcome> read_all(NextFn next, AtEndFn at_end, std::size_t size) {
  std::vector<Outcome> out;
  const std::size_t max_docs = size / 2 + 2;  // every pickle takes at least two bytes
  while (out.size() <= max_docs) {
    if (at_end()) break;
    brine::Result<brine::Document> doc = next();
    if (!doc) {
      check_error(doc.error());
      out.push_back({false, doc.error().code, {}, 0});
      break;
    }
    check_document(*doc, size, kMaxAlloc);
    Outcome o{true, brine::errc::ok, render(doc->root()), doc->end_offset()};
    out.push_back(std::move(o));
  }
  BRINE_CHECK(out.size() <= max_docs, "more pickles than the input can hold");
  return out;
}

// Writes `data` to a pipe from a thread, `chunk` bytes per write (0 = all at once), and returns
// the read end. Join the writer after closing the read end.
struct PipeFeeder {
  int read_fd = -1;
  std::thread writer;

  PipeFeeder(const std::uint8_t* data, std::size_t size, std::size_t chunk) {
    static const bool sigpipe_ignored = [] {
      ::signal(SIGPIPE, SIG_IGN);
      return true;
    }();
    (void)sigpipe_ignored;
    int fds[2];
    if (::pipe(fds) != 0) BRINE_HARNESS_FAIL("pipe() failed");
    read_fd = fds[0];
    int wfd = fds[1];
    writer = std::thread([data, size, chunk, wfd] {
      std::size_t off = 0;
      while (off < size) {
        std::size_t n = chunk ? std::min(chunk, size - off) : size - off;
        ssize_t w = ::write(wfd, data + off, n);
        if (w < 0) {
          if (errno == EINTR) continue;
          break;  // EPIPE: the reader stopped early
        }
        off += static_cast<std::size_t>(w);
      }
      ::close(wfd);
    });
  }
  ~PipeFeeder() {
    ::close(read_fd);
    writer.join();
  }
};

inline void compare(const std::vector<Outcome>& a, const std::vector<Outcome>& b, const char* what) {
  BRINE_CHECK(a.size() == b.size(), std::string(what) + ": number of pickles differs: " +
                                        std::to_string(a.size()) + " vs " + std::to_string(b.size()));
  for (std::size_t i = 0; i < a.size(); ++i) {
    BRINE_CHECK(a[i].ok == b[i].ok, std::string(what) + ": success differs at pickle " + std::to_string(i) +
                                        " (" + std::string(brine::errc_name(a[i].code)) + " vs " +
                                        std::string(brine::errc_name(b[i].code)) + ")");
    if (a[i].ok) {
      BRINE_CHECK(a[i].text == b[i].text, std::string(what) + ": repr differs at pickle " + std::to_string(i));
      BRINE_CHECK(a[i].end == b[i].end, std::string(what) + ": end offset differs at pickle " + std::to_string(i));
    }
  }
}

inline void check_reader_stream(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const brine::ReadOptions opt = default_options();

  brine::Reader mem = brine::Reader::from_memory(bytes, true);
  std::vector<Outcome> from_mem = read_all([&] { return mem.next(opt); }, [&] { return mem.at_end(); }, size);

  // loads() reads the first pickle exactly as the reader does.
  {
    brine::Result<brine::Document> first = brine::loads(bytes, opt);
    if (from_mem.empty()) {
      BRINE_CHECK(size == 0 && !first, "reader saw no pickle in a non-empty input");
    } else {
      BRINE_CHECK(first.ok() == from_mem[0].ok, "loads and Reader disagree on the first pickle");
      if (first) BRINE_CHECK(render(first->root()) == from_mem[0].text, "loads and Reader repr differ");
    }
  }

  // The borrowed-memory reader.
  {
    brine::Reader borrowed = brine::Reader::from_memory(bytes, false);
    std::vector<Outcome> got =
        read_all([&] { return borrowed.next(opt); }, [&] { return borrowed.at_end(); }, size);
    compare(from_mem, got, "borrowed memory vs memory");
  }

  // A pipe, written all at once, then in pieces (so reads return partial data): a few bytes at a
  // time for one input in four, else 64..256 (every read() costs the stream reader a 64 KiB
  // zero-filled window, so byte-sized pieces make a run slow).
  std::uint8_t h = 0;
  for (std::size_t i = 0; i < size; ++i) h = static_cast<std::uint8_t>(h * 31 + data[i]);
  const std::size_t pieces = (h & 3) == 0 ? 1 + h % 7 : 64 + h % 193;
  for (std::size_t chunk : {std::size_t{0}, pieces}) {
    PipeFeeder feed(data, size, chunk);
    brine::Reader stream = brine::Reader::from_fd(feed.read_fd);
    std::vector<Outcome> got =
        read_all([&] { return stream.next(opt); }, [&] { return stream.at_end(); }, size);
    compare(from_mem, got, chunk ? "memory vs trickled pipe" : "memory vs pipe");
  }
}

// ---- fuzz_dis ---------------------------------------------------------------------------------
inline void check_dis(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  brine::DisOptions o;
  o.max_output_bytes = kMaxOutput;
  std::string text;
  brine::Result<void> r = brine::disassemble(bytes, text, o);
  if (!r) check_error(r.error());
  // "may overshoot by one line": one line is bounded by the indentation plus the longest
  // argument text, itself bounded by the input size.
  BRINE_CHECK(text.size() <= kMaxOutput + 64 * size + 4096, "disassembly exceeds max_output_bytes");

  // The streaming form produces the same text and result.
  std::string streamed;
  brine::Result<void> r2 = brine::disassemble(bytes, [&](std::string_view s) { streamed += s; }, o);
  BRINE_CHECK(r2.ok() == r.ok(), "disassemble: sink and string forms disagree on success");
  if (!r) BRINE_CHECK(r2.error().code == r.error().code, "disassemble: sink and string forms disagree on the error");
  BRINE_CHECK(streamed == text, "disassemble: sink and string forms produce different text");

  // Through a pipe (disassemble_file reads a non-regular file as a stream).
  {
    PipeFeeder feed(data, size, 0);
    std::string piped;
    brine::Result<void> r3 = brine::disassemble_file("/dev/fd/" + std::to_string(feed.read_fd),
                                                     [&](std::string_view s) { piped += s; }, o);
    BRINE_CHECK(r3.ok() == r.ok(), "disassemble_file(pipe) and disassemble disagree on success");
    if (!r) BRINE_CHECK(r3.error().code == r.error().code, "disassemble_file(pipe): error code differs");
    BRINE_CHECK(piped == text, "disassemble_file(pipe): text differs");
  }

  // A memo shared between two disassemblies, and a different indentation.
  brine::DisMemo memo;
  brine::DisOptions o2 = o;
  o2.memo = &memo;
  o2.indentlevel = static_cast<int>(size % 3) - 1;
  std::string t1, t2;
  (void)brine::disassemble(bytes, t1, o2);
  (void)brine::disassemble(bytes, t2, o2);
  (void)memo.size();
}

}  // namespace brine_harness
