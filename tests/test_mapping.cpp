// Typed mapping between C++ and Python values (include/brine/mapping.hpp, docs/mapping.md):
// unit tests on values, then round trips through brine's own writer/reader and through live
// CPython (tests/mapping/roundtrip.py, one Python process for every case and protocol).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "brine/brine.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;

// ---- user types ----------------------------------------------------------------------------------

namespace mapping_test {

struct Plain {
  int x = 0;
  std::string name;
  bool operator==(const Plain&) const = default;
};
BRINE_FIELDS(Plain, x, name)

struct Point {
  int x = 0;
  int y = 0;
  bool operator==(const Point&) const = default;
};
BRINE_CLASS(Point, "pytypes", "Point", x, y)

struct Layer {
  std::string kind;
  int width = 0;
  std::optional<double> dropout;
  bool operator==(const Layer&) const = default;
};
BRINE_CLASS(Layer, "pytypes", "Layer", kind, width, dropout)

struct Model {
  std::string name;
  std::vector<Layer> layers;
  std::map<std::string, double> params;
  std::set<std::string> tags;
  std::chrono::sys_time<std::chrono::microseconds> created;
  std::chrono::milliseconds timeout{};
  std::optional<std::int64_t> seed;
  std::optional<Point> origin;
  bool operator==(const Model&) const = default;
};
BRINE_CLASS(Model, "pytypes", "Model", name, layers, params, tags, created, timeout, seed, origin)

struct Frozen {
  std::string label;
  std::tuple<double, double> weights;
  bool operator==(const Frozen&) const = default;
};
BRINE_CLASS(Frozen, "pytypes", "Frozen", label, weights)

// Private members: described from inside the class.
class Secret {
 public:
  Secret() = default;
  Secret(int k, std::string v) : key_(k), value_(std::move(v)) {}
  bool operator==(const Secret&) const = default;
  friend BRINE_FIELDS(Secret, key_, value_)

 private:
  int key_ = 0;
  std::string value_;
};

// Members of a base class.
struct Base {
  int id = 0;
};
struct Derived : Base {
  std::string tag;
};
BRINE_FIELDS(Derived, id, tag)

struct Empty {
  bool operator==(const Empty&) const = default;
};
BRINE_FIELDS(Empty)

// Config / Section for the error-path example of the docs.
struct Section {
  std::vector<int> layers;
};
BRINE_FIELDS(Section, layers)
struct Config {
  Section config;
};
BRINE_FIELDS(Config, config)

// A hand-written codec: a temperature stored as a float.
struct Celsius {
  double deg = 0;
  bool operator==(const Celsius&) const = default;
};

struct NoMapping {};

}  // namespace mapping_test

template <>
struct brine::codec<mapping_test::Celsius> {
  static brine::Value to_value(brine::Builder& b, const mapping_test::Celsius& c) { return b.floating(c.deg); }
  static brine::Result<mapping_test::Celsius> from_value(const brine::Value& v) {
    auto d = brine::from_value<double>(v);
    if (!d) return std::move(d).error();
    if (*d < -273.15) return brine::detail::mapping_error(brine::errc::out_of_range, "below absolute zero");
    return mapping_test::Celsius{*d};
  }
};

static_assert(!brine::detail::has_codec<mapping_test::NoMapping>);
static_assert(!brine::detail::has_codec<char>);
static_assert(!brine::detail::has_codec<const char*>);
static_assert(brine::detail::has_codec<mapping_test::Celsius>);
static_assert(brine::detail::has_codec<std::map<std::string, std::vector<std::optional<mapping_test::Point>>>>);

namespace {

using brine::Builder;
using brine::Document;
using brine::Value;
using brine::errc;
using mapping_test::Point;

// A document + builder for one test.
struct Doc {
  Document doc = Document::create();
  Builder b{doc};
};

template <class T>
Value enc(Builder& b, const T& x) {
  return brine::to_value(b, x);
}

template <class T>
std::string err(const brine::Result<T>& r) {
  if (r) return "OK";
  return std::string(brine::errc_name(r.error().code)) + " " + r.error().to_string();
}

std::string rep(const Value& v) { return brine::repr(v); }

// An object built by Builder as `module.name(*args)` (brine::repr shows the library form only
// for values a reader recognised).
std::string ctor(const Value& v) {
  if (!v.is_object()) return "not an object: " + rep(v);
  return std::string(v.module()) + "." + std::string(v.name()) + rep(v.args());
}

std::vector<Value> vals(std::initializer_list<Value> v) { return v; }

std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

// ============================================================================================
// Scalars
// ============================================================================================

TEST(MappingScalars, Bool) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, true)), "True");
  EXPECT_EQ(brine::from_value<bool>(d.b.boolean(false)).value(), false);
  EXPECT_EQ(err(brine::from_value<bool>(d.b.integer(1))), "wrong_kind $: expected bool, got int");
  EXPECT_EQ(err(brine::from_value<bool>(d.b.none())), "wrong_kind $: expected bool, got NoneType");
}

TEST(MappingScalars, IntegersEncode) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, 0)), "0");
  EXPECT_EQ(rep(enc(d.b, std::int8_t{-128})), "-128");
  EXPECT_EQ(rep(enc(d.b, std::uint8_t{255})), "255");
  EXPECT_EQ(rep(enc(d.b, short{-300})), "-300");
  EXPECT_EQ(rep(enc(d.b, std::numeric_limits<std::int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(rep(enc(d.b, std::numeric_limits<std::int64_t>::max())), "9223372036854775807");
  EXPECT_EQ(rep(enc(d.b, std::numeric_limits<std::uint64_t>::max())), "18446744073709551615");
  EXPECT_EQ(rep(enc(d.b, std::uint64_t{1} << 63)), "9223372036854775808");
  EXPECT_EQ(rep(enc(d.b, 4000000000u)), "4000000000");
  EXPECT_EQ(rep(enc(d.b, -5LL)), "-5");
}

TEST(MappingScalars, IntegersDecodeAndRange) {
  Doc d;
  EXPECT_EQ(brine::from_value<int>(d.b.integer(-7)).value(), -7);
  EXPECT_EQ(brine::from_value<std::int8_t>(d.b.integer(127)).value(), 127);
  EXPECT_EQ(brine::from_value<std::int8_t>(d.b.integer(-128)).value(), -128);
  EXPECT_EQ(err(brine::from_value<std::int8_t>(d.b.integer(128))),
            "out_of_range $: int 128 does not fit std::int8_t (-128..127)");
  EXPECT_EQ(err(brine::from_value<std::uint8_t>(d.b.integer(256))),
            "out_of_range $: int 256 does not fit std::uint8_t (0..255)");
  EXPECT_EQ(err(brine::from_value<unsigned>(d.b.integer(-1))),
            "out_of_range $: int -1 does not fit std::uint32_t (0..4294967295)");
  EXPECT_EQ(err(brine::from_value<std::int32_t>(d.b.integer(std::int64_t{1} << 31))),
            "out_of_range $: int 2147483648 does not fit std::int32_t (-2147483648..2147483647)");
  EXPECT_EQ(brine::from_value<std::uint64_t>(enc(d.b, std::numeric_limits<std::uint64_t>::max())).value(),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(err(brine::from_value<std::int64_t>(enc(d.b, std::numeric_limits<std::uint64_t>::max()))),
            "out_of_range $: int 18446744073709551615 does not fit std::int64_t "
            "(-9223372036854775808..9223372036854775807)");
  std::uint8_t big[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1};  // 2**72
  EXPECT_EQ(err(brine::from_value<std::uint64_t>(d.b.integer_le(big))),
            "out_of_range $: int 4722366482869645213696 does not fit std::uint64_t (0..18446744073709551615)");
  EXPECT_EQ(err(brine::from_value<int>(d.b.boolean(true))), "wrong_kind $: expected int, got bool");
  EXPECT_EQ(err(brine::from_value<int>(d.b.floating(1.0))), "wrong_kind $: expected int, got float");
  EXPECT_EQ(err(brine::from_value<long>(d.b.str("1"))), "wrong_kind $: expected int, got str");
}

TEST(MappingScalars, BigInt) {
  Doc d;
  std::uint8_t le[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  Value v = d.b.integer_le(le);
  auto r = brine::from_value<brine::BigInt>(v);
  ASSERT_TRUE(r) << err(r);
  EXPECT_EQ(r->to_string(), "4722366482869645213696");
  EXPECT_EQ(rep(enc(d.b, *r)), "4722366482869645213696");
  EXPECT_EQ(rep(enc(d.b, brine::BigInt(-5))), "-5");
  EXPECT_EQ(rep(enc(d.b, brine::BigInt())), "0");
  EXPECT_EQ(err(brine::from_value<brine::BigInt>(d.b.floating(1))), "wrong_kind $: expected int, got float");
}

TEST(MappingScalars, Floats) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, 0.1)), "0.1");
  EXPECT_EQ(rep(enc(d.b, 1.5f)), "1.5");
  EXPECT_EQ(rep(enc(d.b, -0.0)), "-0.0");
  EXPECT_EQ(rep(enc(d.b, std::numeric_limits<double>::infinity())), "inf");
  EXPECT_EQ(rep(enc(d.b, 2.5L)), "2.5");
  EXPECT_EQ(brine::from_value<double>(d.b.floating(2.25)).value(), 2.25);
  EXPECT_TRUE(std::isnan(brine::from_value<double>(d.b.floating(NAN)).value()));
  EXPECT_EQ(brine::from_value<double>(d.b.integer(3)).value(), 3.0);  // exact ints convert
  EXPECT_EQ(brine::from_value<float>(d.b.floating(0.5)).value(), 0.5f);
  EXPECT_EQ(brine::from_value<long double>(d.b.floating(0.5)).value(), 0.5L);
  EXPECT_EQ(err(brine::from_value<double>(d.b.integer((std::int64_t{1} << 53) + 1))),
            "out_of_range $: int 9007199254740993 does not convert to a double exactly");
  EXPECT_EQ(err(brine::from_value<float>(d.b.floating(1e300))), "out_of_range $: float 1e+300 does not fit float");
  EXPECT_TRUE(std::isinf(brine::from_value<float>(d.b.floating(INFINITY)).value()));
  EXPECT_EQ(err(brine::from_value<double>(d.b.boolean(true))), "wrong_kind $: expected float, got bool");
  EXPECT_EQ(err(brine::from_value<double>(d.b.str("1.0"))), "wrong_kind $: expected float, got str");
}

TEST(MappingScalars, Complex) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, std::complex<double>(1.5, -2))), "(1.5-2j)");
  EXPECT_EQ(rep(enc(d.b, std::complex<float>(0, 1))), "1j");
  EXPECT_EQ(brine::from_value<std::complex<double>>(d.b.complex(1, 2)).value(), std::complex<double>(1, 2));
  EXPECT_EQ(brine::from_value<std::complex<float>>(d.b.floating(2)).value(), std::complex<float>(2, 0));
  EXPECT_EQ(brine::from_value<std::complex<double>>(d.b.integer(-3)).value(), std::complex<double>(-3, 0));
  EXPECT_EQ(err(brine::from_value<std::complex<double>>(d.b.str("1j"))), "wrong_kind $: expected complex, got str");
}

TEST(MappingScalars, Strings) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, std::string("h\xc3\xa9llo"))), "'h\xc3\xa9llo'");
  EXPECT_EQ(rep(enc(d.b, std::string_view("a'b"))), "\"a'b\"");
  EXPECT_EQ(brine::from_value<std::string>(d.b.str("x\0y")).value(), std::string("x"));
  EXPECT_EQ(brine::from_value<std::string>(d.b.str(std::string_view("x\0y", 3))).value(), std::string("x\0y", 3));
  Value s = d.b.str("view");
  EXPECT_EQ(brine::from_value<std::string_view>(s).value(), "view");
  EXPECT_EQ(err(brine::from_value<std::string>(d.b.bytes(std::string_view("ab")))), "wrong_kind $: expected str, got bytes");
  EXPECT_EQ(err(brine::from_value<std::string_view>(d.b.none())), "wrong_kind $: expected str, got NoneType");
  try {
    enc(d.b, std::vector<std::string>{"ok", "\xff"});
    ADD_FAILURE() << "invalid UTF-8 encoded";
  } catch (const brine::Exception& e) {
    EXPECT_EQ(e.error().code, errc::unicode_error);
    EXPECT_EQ(e.error().path, "$[1]");
  }
}

TEST(MappingScalars, Bytes) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, bytes_of(std::string_view("\x00\x01\xff", 3)))), "b'\\x00\\x01\\xff'");
  EXPECT_EQ(rep(enc(d.b, std::vector<std::byte>{})), "b''");
  EXPECT_EQ(rep(enc(d.b, std::array<std::byte, 2>{std::byte{'h'}, std::byte{'i'}})), "b'hi'");
  std::vector<std::byte> raw = bytes_of("raw");
  EXPECT_EQ(rep(enc(d.b, std::span<const std::byte>(raw))), "b'raw'");
  // std::vector<std::uint8_t> is a list of ints, not bytes.
  EXPECT_EQ(rep(enc(d.b, std::vector<std::uint8_t>{1, 2})), "[1, 2]");

  EXPECT_EQ(brine::from_value<std::vector<std::byte>>(d.b.bytes(std::string_view("ab"))).value(), bytes_of("ab"));
  EXPECT_EQ(brine::from_value<std::vector<std::byte>>(d.b.bytearray(bytes_of("xy"))).value(), bytes_of("xy"));
  auto arr = brine::from_value<std::array<std::byte, 2>>(d.b.bytes(std::string_view("ab")));
  ASSERT_TRUE(arr);
  EXPECT_EQ((*arr)[1], std::byte{'b'});
  EXPECT_EQ(err(brine::from_value<std::array<std::byte, 3>>(d.b.bytes(std::string_view("ab")))),
            "out_of_range $: expected bytes of length 3, got length 2");
  auto span = brine::from_value<std::span<const std::byte>>(d.b.bytes(std::string_view("abc")));
  ASSERT_TRUE(span);
  EXPECT_EQ(span->size(), 3u);
  EXPECT_EQ(err(brine::from_value<std::vector<std::byte>>(d.b.str("ab"))), "wrong_kind $: expected bytes, got str");
  EXPECT_EQ(err(brine::from_value<std::vector<std::uint8_t>>(d.b.bytes(std::string_view("ab")))),
            "wrong_kind $: expected list, got bytes");
}

// ============================================================================================
// Containers
// ============================================================================================

TEST(MappingContainers, Sequences) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, std::vector<int>{1, 2, 3})), "[1, 2, 3]");
  EXPECT_EQ(rep(enc(d.b, std::deque<double>{1.5})), "[1.5]");
  EXPECT_EQ(rep(enc(d.b, std::list<std::string>{"a", "b"})), "['a', 'b']");
  EXPECT_EQ(rep(enc(d.b, std::array<int, 2>{4, 5})), "[4, 5]");
  EXPECT_EQ(rep(enc(d.b, std::vector<bool>{true, false})), "[True, False]");
  EXPECT_EQ(rep(enc(d.b, std::vector<std::vector<int>>{{1}, {}})), "[[1], []]");

  Value l = d.b.list({d.b.integer(1), d.b.integer(2)});
  Value t = d.b.tuple({d.b.integer(1), d.b.integer(2)});
  EXPECT_EQ(brine::from_value<std::vector<int>>(l).value(), (std::vector<int>{1, 2}));
  EXPECT_EQ(brine::from_value<std::vector<int>>(t).value(), (std::vector<int>{1, 2}));  // tuples decode
  EXPECT_EQ(brine::from_value<std::deque<long>>(t).value(), (std::deque<long>{1, 2}));
  EXPECT_EQ(brine::from_value<std::list<short>>(l).value(), (std::list<short>{1, 2}));
  EXPECT_EQ((brine::from_value<std::array<int, 2>>(l).value()), (std::array<int, 2>{1, 2}));
  EXPECT_EQ(brine::from_value<std::vector<bool>>(d.b.list({d.b.boolean(true)})).value(), std::vector<bool>{true});
  EXPECT_EQ(err(brine::from_value<std::array<int, 3>>(l)), "out_of_range $: expected a list of 3 elements, got 2");
  EXPECT_EQ(err(brine::from_value<std::vector<int>>(d.b.set(vals({d.b.integer(1)})))), "wrong_kind $: expected list, got set");
  EXPECT_EQ(err(brine::from_value<std::vector<int>>(d.b.dict())), "wrong_kind $: expected list, got dict");
  Value bad = d.b.list({d.b.list({d.b.integer(1)}), d.b.list({d.b.integer(2), d.b.str("x")})});
  EXPECT_EQ(err(brine::from_value<std::vector<std::vector<int>>>(bad)), "wrong_kind $[1][1]: expected int, got str");

  // collections.deque objects decode as sequences too.
  Value dq = d.b.reduce(d.b.global("collections", "deque"), d.b.tuple({}));
  d.b.append(dq, d.b.integer(7));
  d.b.append(dq, d.b.integer(8));
  EXPECT_EQ(brine::from_value<std::deque<int>>(dq).value(), (std::deque<int>{7, 8}));
}

TEST(MappingContainers, Maps) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, std::map<std::string, int>{{"b", 2}, {"a", 1}})), "{'a': 1, 'b': 2}");
  EXPECT_EQ(rep(enc(d.b, std::map<std::tuple<int, int>, bool>{{{1, 2}, true}})), "{(1, 2): True}");
  // Lists cannot be keys in Python: they become tuples.
  EXPECT_EQ(rep(enc(d.b, std::map<std::vector<int>, int>{{{1, 2}, 3}})), "{(1, 2): 3}");
  EXPECT_EQ(rep(enc(d.b, std::unordered_map<int, std::string>{{1, "x"}})), "{1: 'x'}");
  EXPECT_EQ(rep(enc(d.b, std::map<std::string, int>{})), "{}");

  Value m = d.b.dict();
  d.b.set_item(m, d.b.str("a"), d.b.integer(1));
  d.b.set_item(m, d.b.str("b"), d.b.integer(2));
  EXPECT_EQ((brine::from_value<std::map<std::string, int>>(m).value()), (std::map<std::string, int>{{"a", 1}, {"b", 2}}));
  EXPECT_EQ((brine::from_value<std::unordered_map<std::string, double>>(m).value()),
            (std::unordered_map<std::string, double>{{"a", 1.0}, {"b", 2.0}}));
  d.b.set_item(m, d.b.str("c"), d.b.str("three"));
  EXPECT_EQ(err(brine::from_value<std::map<std::string, int>>(m)), "wrong_kind $['c']: expected int, got str");
  EXPECT_EQ(err(brine::from_value<std::map<int, brine::Value>>(m)), "wrong_kind $: key 'a': expected int, got str");
  EXPECT_EQ(err(brine::from_value<std::map<std::string, int>>(d.b.list())), "wrong_kind $: expected dict, got list");

  Value tk = d.b.dict();
  d.b.set_item(tk, d.b.tuple({d.b.integer(1), d.b.str("x")}), d.b.integer(0));
  EXPECT_EQ(err(brine::from_value<std::map<std::tuple<int, int>, int>>(tk)),
            "wrong_kind $: key (1, 'x') at $[1]: expected int, got str");
  EXPECT_EQ((brine::from_value<std::map<std::pair<int, std::string>, int>>(tk).value().begin()->first),
            (std::pair<int, std::string>(1, "x")));

  // OrderedDict objects decode as dicts.
  Value od = d.b.reduce(d.b.global("collections", "OrderedDict"), d.b.tuple({}));
  d.b.set_item(od, d.b.integer(5), d.b.integer(25));
  EXPECT_EQ((brine::from_value<std::map<int, int>>(od).value()), (std::map<int, int>{{5, 25}}));
}

TEST(MappingContainers, Sets) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, std::set<int>{3, 1, 2})), "{1, 2, 3}");
  EXPECT_EQ(rep(enc(d.b, std::unordered_set<std::string>{})), "set()");
  EXPECT_EQ(rep(enc(d.b, std::set<std::vector<int>>{{1, 2}})), "{(1, 2)}");
  EXPECT_EQ(rep(enc(d.b, std::set<std::set<int>>{{1}})), "{frozenset({1})}");

  Value s = d.b.set(vals({d.b.integer(1), d.b.integer(2)}));
  Value fs = d.b.frozenset(vals({d.b.integer(1), d.b.integer(2)}));
  EXPECT_EQ(brine::from_value<std::set<int>>(s).value(), (std::set<int>{1, 2}));
  EXPECT_EQ(brine::from_value<std::unordered_set<int>>(fs).value(), (std::unordered_set<int>{1, 2}));  // frozenset
  EXPECT_EQ(err(brine::from_value<std::set<int>>(d.b.list({d.b.integer(1)}))), "wrong_kind $: expected set, got list");
  Value mixed = d.b.set(vals({d.b.integer(1), d.b.str("x")}));
  EXPECT_EQ(err(brine::from_value<std::set<int>>(mixed)), "wrong_kind $: element 'x': expected int, got str");
  Value tuples = d.b.set(vals({d.b.tuple({d.b.integer(1), d.b.integer(2)})}));
  EXPECT_EQ(brine::from_value<std::set<std::vector<int>>>(tuples).value(), (std::set<std::vector<int>>{{1, 2}}));
}

TEST(MappingContainers, TuplesAndPairs) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, std::make_pair(1, std::string("a")))), "(1, 'a')");
  EXPECT_EQ(rep(enc(d.b, std::tuple<>())), "()");
  EXPECT_EQ(rep(enc(d.b, std::make_tuple(1, 2.5, std::string("x"), true))), "(1, 2.5, 'x', True)");

  Value t = d.b.tuple({d.b.integer(1), d.b.str("a")});
  EXPECT_EQ((brine::from_value<std::pair<int, std::string>>(t).value()), (std::pair<int, std::string>(1, "a")));
  EXPECT_EQ((brine::from_value<std::tuple<long, std::string>>(t).value()), (std::tuple<long, std::string>(1, "a")));
  Value l = d.b.list({d.b.integer(1), d.b.str("a")});
  EXPECT_EQ((brine::from_value<std::tuple<int, std::string>>(l).value()), (std::tuple<int, std::string>(1, "a")));
  EXPECT_EQ(brine::from_value<std::tuple<>>(d.b.tuple({})).ok(), true);
  EXPECT_EQ((err(brine::from_value<std::tuple<int, int, int>>(t))), "out_of_range $: expected a tuple of 3 elements, got 2");
  EXPECT_EQ((err(brine::from_value<std::tuple<int, int>>(t))), "wrong_kind $[1]: expected int, got str");
  EXPECT_EQ((err(brine::from_value<std::pair<int, int>>(d.b.str("ab")))), "wrong_kind $: expected tuple, got str");
}

TEST(MappingContainers, OptionalVariantMonostate) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, std::optional<int>())), "None");
  EXPECT_EQ(rep(enc(d.b, std::optional<int>(4))), "4");
  EXPECT_EQ(rep(enc(d.b, std::vector<std::optional<std::string>>{"a", std::nullopt})), "['a', None]");
  EXPECT_EQ(brine::from_value<std::optional<int>>(d.b.none()).value(), std::nullopt);
  EXPECT_EQ(brine::from_value<std::optional<int>>(d.b.integer(2)).value(), 2);
  EXPECT_EQ(err(brine::from_value<std::optional<int>>(d.b.str("2"))), "wrong_kind $: expected int, got str");

  EXPECT_EQ(rep(enc(d.b, std::monostate())), "None");
  EXPECT_TRUE(brine::from_value<std::monostate>(d.b.none()));
  EXPECT_EQ(err(brine::from_value<std::monostate>(d.b.integer(0))), "wrong_kind $: expected None, got int");

  using V = std::variant<std::monostate, int, double, std::string, std::vector<int>>;
  EXPECT_EQ(rep(enc(d.b, V(2.5))), "2.5");
  EXPECT_EQ(rep(enc(d.b, V(std::string("s")))), "'s'");
  EXPECT_EQ(rep(enc(d.b, V())), "None");
  EXPECT_EQ(brine::from_value<V>(d.b.integer(3)).value(), V(3));          // int before double
  EXPECT_EQ(brine::from_value<V>(d.b.floating(3)).value(), V(3.0));
  EXPECT_EQ(brine::from_value<V>(d.b.none()).value(), V());
  EXPECT_EQ(brine::from_value<V>(d.b.list({d.b.integer(1)})).value(), V(std::vector<int>{1}));
  // First alternative that decodes wins: double accepts an int.
  EXPECT_EQ((brine::from_value<std::variant<double, int>>(d.b.integer(3)).value().index()), 0u);
  EXPECT_EQ(err(brine::from_value<std::variant<int, std::string>>(d.b.list({d.b.str("x")}))),
            "wrong_kind $: no alternative of the std::variant matches (#0: expected int, got list; "
            "#1: expected str, got list)");
  EXPECT_EQ(err(brine::from_value<std::variant<std::vector<int>, std::uint8_t>>(d.b.integer(300))),
            "wrong_kind $: no alternative of the std::variant matches (#0: expected list, got int; "
            "#1: int 300 does not fit std::uint8_t (0..255))");
  EXPECT_EQ(err(brine::from_value<std::variant<std::vector<int>>>(d.b.list({d.b.str("x")}))),
            "wrong_kind $: no alternative of the std::variant matches (#0: $[0]: expected int, got str)");
}

TEST(MappingContainers, ValuePassThrough) {
  Doc d;
  Value inner = d.b.list({d.b.integer(1)});
  EXPECT_EQ(rep(enc(d.b, std::map<std::string, Value>{{"k", inner}})), "{'k': [1]}");
  auto r = brine::from_value<std::vector<Value>>(d.b.list({inner, d.b.none()}));
  ASSERT_TRUE(r);
  EXPECT_TRUE((*r)[0].same(inner));
}

TEST(MappingContainers, ErrorPathExample) {
  Doc d;
  Value layers = d.b.list({d.b.integer(1), d.b.integer(2), d.b.integer(3), d.b.str("four")});
  Value section = d.b.dict();
  d.b.set_item(section, d.b.str("layers"), layers);
  Value root = d.b.dict();
  d.b.set_item(root, d.b.str("config"), section);
  auto r = brine::from_value<mapping_test::Config>(root);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::wrong_kind);
  EXPECT_EQ(r.error().path, "$['config']['layers'][3]");
  EXPECT_EQ(r.error().message, "expected int, got str");
  EXPECT_EQ(r.error().to_string(), "$['config']['layers'][3]: expected int, got str");
  // Throwing convenience.
  EXPECT_THROW(brine::from_value<mapping_test::Config>(root).value(), brine::Exception);
  // Keys that need quoting print as Python reprs.
  Value m = d.b.dict();
  d.b.set_item(m, d.b.str("it's"), d.b.none());
  EXPECT_EQ(err(brine::from_value<std::map<std::string, int>>(m)), "wrong_kind $[\"it's\"]: expected int, got NoneType");
}

// ============================================================================================
// chrono
// ============================================================================================

TEST(MappingChrono, DurationEncode) {
  Doc d;
  // REDUCE(datetime.timedelta, (days, seconds, microseconds)), as CPython pickles it.
  EXPECT_EQ(ctor(enc(d.b, std::chrono::seconds(90061))), "datetime.timedelta(1, 3661, 0)");
  EXPECT_EQ(enc(d.b, std::chrono::seconds(1)).construction(), brine::Construction::reduce);
  EXPECT_EQ(ctor(enc(d.b, std::chrono::milliseconds(-1500))), "datetime.timedelta(-1, 86398, 500000)");
  EXPECT_EQ(ctor(enc(d.b, std::chrono::microseconds(0))), "datetime.timedelta(0, 0, 0)");
  // Rounded to microseconds, ties to even (as Python's timedelta constructor).
  EXPECT_EQ(ctor(enc(d.b, std::chrono::nanoseconds(1500))), "datetime.timedelta(0, 0, 2)");
  EXPECT_EQ(ctor(enc(d.b, std::chrono::nanoseconds(2500))), "datetime.timedelta(0, 0, 2)");
  EXPECT_EQ(ctor(enc(d.b, std::chrono::nanoseconds(2501))), "datetime.timedelta(0, 0, 3)");
  EXPECT_EQ(ctor(enc(d.b, std::chrono::nanoseconds(-1500))), "datetime.timedelta(-1, 86399, 999998)");
  EXPECT_EQ(ctor(enc(d.b, std::chrono::duration<double>(0.25))), "datetime.timedelta(0, 0, 250000)");
  EXPECT_EQ(ctor(enc(d.b, std::chrono::duration<float, std::milli>(-0.0015f))), "datetime.timedelta(-1, 86399, 999998)");
  EXPECT_EQ(ctor(enc(d.b, std::chrono::hours(24LL * 999999999))), "datetime.timedelta(999999999, 0, 0)");
  EXPECT_EQ(ctor(enc(d.b, std::chrono::days(-999999999))), "datetime.timedelta(-999999999, 0, 0)");
  try {
    enc(d.b, std::chrono::hours(24 * 1000000000LL));
    ADD_FAILURE() << "encoded a duration beyond timedelta.max";
  } catch (const brine::Exception& e) {
    EXPECT_EQ(e.error().code, errc::out_of_range);
  }
  EXPECT_THROW(enc(d.b, std::chrono::duration<double>(NAN)), brine::Exception);
  EXPECT_THROW(enc(d.b, std::chrono::duration<std::int64_t, std::ratio<86400 * 365>>(std::numeric_limits<std::int64_t>::max())),
               brine::Exception);
}

TEST(MappingChrono, DurationDecode) {
  Doc d;
  Value td = enc(d.b, std::chrono::milliseconds(-1500));
  EXPECT_EQ(brine::from_value<std::chrono::milliseconds>(td).value(), std::chrono::milliseconds(-1500));
  EXPECT_EQ(brine::from_value<std::chrono::nanoseconds>(td).value(), std::chrono::nanoseconds(-1500000000));
  EXPECT_EQ(brine::from_value<std::chrono::duration<double>>(td).value(), std::chrono::duration<double>(-1.5));
  EXPECT_EQ(brine::from_value<std::chrono::microseconds>(enc(d.b, std::chrono::hours(24LL * 100000000))).value(),
            std::chrono::hours(24LL * 100000000));
  EXPECT_EQ(brine::from_value<std::chrono::days>(enc(d.b, std::chrono::days(-999999999))).value(),
            std::chrono::days(-999999999));
  EXPECT_EQ(err(brine::from_value<std::chrono::seconds>(td)),
            "out_of_range $: datetime.timedelta(days=-1, seconds=86398, microseconds=500000) is not a whole "
            "number of ticks of this std::chrono duration type");
  EXPECT_EQ(err(brine::from_value<std::chrono::duration<std::int8_t>>(enc(d.b, std::chrono::seconds(200)))),
            "out_of_range $: datetime.timedelta(seconds=200) does not fit this std::chrono duration type");
  EXPECT_EQ(err(brine::from_value<std::chrono::nanoseconds>(enc(d.b, std::chrono::hours(24LL * 999999999)))),
            "out_of_range $: datetime.timedelta(days=999999999) does not fit this std::chrono duration type");
  EXPECT_EQ(err(brine::from_value<std::chrono::microseconds>(enc(d.b, std::chrono::days(-999999999)))),
            "out_of_range $: datetime.timedelta(days=-999999999) does not fit this std::chrono duration type");
  EXPECT_EQ(err(brine::from_value<std::chrono::seconds>(enc(d.b, std::chrono::microseconds(1)))),
            "out_of_range $: datetime.timedelta(microseconds=1) is not a whole number of ticks of this std::chrono "
            "duration type");
  EXPECT_EQ(err(brine::from_value<std::chrono::seconds>(d.b.integer(3))),
            "wrong_kind $: expected datetime.timedelta, got int");
}

std::chrono::sys_time<std::chrono::microseconds> at(std::chrono::year_month_day ymd, std::chrono::microseconds tod = {}) {
  return std::chrono::sys_days(ymd) + tod;
}

TEST(MappingChrono, TimePoint) {
  using namespace std::chrono;
  Doc d;
  // REDUCE(datetime.datetime, (10-byte state,)), as CPython pickles a naive datetime.
  EXPECT_EQ(ctor(enc(d.b, sys_seconds())), "datetime.datetime(b'\\x07\\xb2\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00',)");
  auto t = at(2024y / 2 / 29, 13h + 5min + 7s + 123456us);
  EXPECT_EQ(ctor(enc(d.b, t)), "datetime.datetime(b'\\x07\\xe8\\x02\\x1d\\r\\x05\\x07\\x01\\xe2@',)");
  // The state round-trips through the reader's own datetime view.
  auto view = [&](const Value& v) {
    auto doc = brine::loads(brine::dumps(v).value()).value();
    auto dt = doc.root().get<brine::DateTime>().value();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d", dt.year, dt.month, dt.day, dt.hour, dt.minute,
                  dt.second, dt.microsecond);
    return std::string(buf);
  };
  EXPECT_EQ(view(enc(d.b, t)), "2024-02-29 13:05:07.123456");
  EXPECT_EQ(view(enc(d.b, at(1900y / 1 / 1, -1us))), "1899-12-31 23:59:59.999999");
  EXPECT_EQ(view(enc(d.b, at(1y / 1 / 1))), "0001-01-01 00:00:00.000000");
  EXPECT_EQ(view(enc(d.b, at(9999y / 12 / 31, 24h - 1us))), "9999-12-31 23:59:59.999999");
  EXPECT_THROW(enc(d.b, at(10000y / 1 / 1)), brine::Exception);
  EXPECT_THROW(enc(d.b, at(1y / 1 / 1, -1us)), brine::Exception);
  EXPECT_EQ(view(enc(d.b, sys_time<nanoseconds>(nanoseconds(1500)))), "1970-01-01 00:00:00.000002");
  EXPECT_EQ(view(enc(d.b, sys_days(2000y / 1 / 1))), "2000-01-01 00:00:00.000000");

  EXPECT_EQ(brine::from_value<sys_time<microseconds>>(enc(d.b, t)).value(), t);
  EXPECT_EQ(brine::from_value<system_clock::time_point>(enc(d.b, t)).value(), t);
  EXPECT_EQ(brine::from_value<sys_days>(enc(d.b, sys_days(2000y / 1 / 1))).value(), sys_days(2000y / 1 / 1));
  EXPECT_EQ(err(brine::from_value<sys_seconds>(enc(d.b, t))),
            "out_of_range $: datetime.datetime(2024, 2, 29, 13, 5, 7, 123456) is not a whole number of ticks of this "
            "std::chrono duration type");
  EXPECT_EQ(err(brine::from_value<sys_time<nanoseconds>>(enc(d.b, at(1y / 1 / 1)))),
            "out_of_range $: datetime.datetime(1, 1, 1, 0, 0) does not fit this std::chrono duration type");
  EXPECT_EQ(err(brine::from_value<sys_seconds>(d.b.str("2020-01-01"))), "wrong_kind $: expected datetime.datetime, got str");
}

TEST(MappingChrono, AwareDateTimeDecodes) {
  using namespace std::chrono;
  Doc d;
  auto aware = [&](std::string_view state, Value tz) {
    return d.b.reduce(d.b.global("datetime", "datetime"), d.b.tuple({d.b.bytes(state), tz}));
  };
  auto tz = [&](std::int64_t days, std::int64_t secs) {
    return d.b.reduce(d.b.global("datetime", "timezone"),
                      d.b.tuple({brine::detail::make_timedelta(d.b, days, secs, 0)}));
  };
  // 2020-01-01 23:30 at UTC-5 is 2020-01-02 04:30 UTC.
  std::string st = {'\x07', '\xe4', 1, 1, 23, 30, 0, 0, 0, 0};
  EXPECT_EQ(brine::from_value<sys_seconds>(aware(st, tz(-1, 86400 - 5 * 3600))).value(),
            sys_days(2020y / 1 / 2) + 4h + 30min);
  // 2020-01-01 00:30 at UTC+2 is 2019-12-31 22:30 UTC.
  std::string st2 = {'\x07', '\xe4', 1, 1, 0, 30, 0, 0, 0, 0};
  EXPECT_EQ(brine::from_value<sys_seconds>(aware(st2, tz(0, 7200))).value(), sys_days(2019y / 12 / 31) + 22h + 30min);
  EXPECT_EQ(brine::from_value<sys_seconds>(aware(st2, d.b.none())).value(), sys_days(2020y / 1 / 1) + 30min);
  Value pytz_utc = d.b.reduce(d.b.global("pytz", "_UTC"), d.b.tuple({}));
  EXPECT_EQ(brine::from_value<sys_seconds>(aware(st2, pytz_utc)).value(), sys_days(2020y / 1 / 1) + 30min);
  Value zi = d.b.reduce(d.b.global("zoneinfo", "ZoneInfo._unpickle"), d.b.tuple({d.b.str("Europe/Paris"), d.b.integer(1)}));
  auto r = brine::from_value<sys_seconds>(aware(st2, zi));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unsupported);
  EXPECT_EQ(err(brine::from_value<sys_seconds>(aware("short", d.b.none()))),
            "value_error $: malformed datetime.datetime arguments (b'short', None)");
}

// ============================================================================================
// User types
// ============================================================================================

TEST(MappingUserTypes, Fields) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, mapping_test::Plain{3, "n"})), "{'x': 3, 'name': 'n'}");
  Value v = d.b.dict();
  d.b.set_item(v, d.b.str("name"), d.b.str("m"));
  d.b.set_item(v, d.b.str("x"), d.b.integer(9));
  d.b.set_item(v, d.b.str("extra"), d.b.none());  // ignored
  EXPECT_EQ(brine::from_value<mapping_test::Plain>(v).value(), (mapping_test::Plain{9, "m"}));
  Value missing = d.b.dict();
  d.b.set_item(missing, d.b.str("x"), d.b.integer(9));
  EXPECT_EQ(err(brine::from_value<mapping_test::Plain>(missing)), "key_not_found $: missing key 'name'");
  EXPECT_EQ(err(brine::from_value<mapping_test::Plain>(d.b.list())), "wrong_kind $: expected dict, got list");

  EXPECT_EQ(rep(enc(d.b, mapping_test::Secret(1, "s"))), "{'key_': 1, 'value_': 's'}");
  EXPECT_EQ(brine::from_value<mapping_test::Secret>(enc(d.b, mapping_test::Secret(1, "s"))).value(),
            mapping_test::Secret(1, "s"));
  mapping_test::Derived der;
  der.id = 4;
  der.tag = "t";
  EXPECT_EQ(rep(enc(d.b, der)), "{'id': 4, 'tag': 't'}");
  EXPECT_EQ(brine::from_value<mapping_test::Derived>(enc(d.b, der)).value().id, 4);
  EXPECT_EQ(rep(enc(d.b, mapping_test::Empty{})), "{}");
  EXPECT_TRUE(brine::from_value<mapping_test::Empty>(d.b.dict()));
}

TEST(MappingUserTypes, Class) {
  Doc d;
  Value p = enc(d.b, Point{1, 2});
  EXPECT_EQ(p.kind(), brine::Kind::object);
  EXPECT_TRUE(p.is_instance_of("pytypes", "Point"));
  EXPECT_EQ(p.construction(), brine::Construction::newobj);
  EXPECT_EQ(rep(p.args()), "()");
  EXPECT_EQ(rep(p.state()), "{'x': 1, 'y': 2}");
  EXPECT_EQ(brine::from_value<Point>(p).value(), (Point{1, 2}));

  // Optional fields may be absent; others may not.
  Value layer = d.b.object(d.b.global("pytypes", "Layer"), Value(), d.b.dict());
  Value st = layer.state();
  d.b.set_item(st, d.b.str("kind"), d.b.str("dense"));
  EXPECT_EQ(err(brine::from_value<mapping_test::Layer>(layer)), "key_not_found $: missing attribute 'width'");
  d.b.set_item(st, d.b.str("width"), d.b.integer(8));
  EXPECT_EQ(brine::from_value<mapping_test::Layer>(layer).value(), (mapping_test::Layer{"dense", 8, std::nullopt}));
  d.b.set_item(st, d.b.str("width"), d.b.str("8"));
  EXPECT_EQ(err(brine::from_value<mapping_test::Layer>(layer)), "wrong_kind $.width: expected int, got str");

  EXPECT_EQ(err(brine::from_value<Point>(d.b.dict())), "wrong_kind $: expected pytypes.Point, got dict");
  Value other = d.b.object(d.b.global("other", "Point"), Value(), d.b.dict());
  EXPECT_EQ(err(brine::from_value<Point>(other)), "wrong_kind $: expected pytypes.Point, got other.Point");

  // Slot state (dict, slots) is read too.
  Value slotted = d.b.object(d.b.global("pytypes", "Point"), Value());
  Value slots = d.b.dict();
  d.b.set_item(slots, d.b.str("x"), d.b.integer(5));
  d.b.set_item(slots, d.b.str("y"), d.b.integer(6));
  d.b.set_state(slotted, d.b.tuple({d.b.none(), slots}));
  EXPECT_EQ(brine::from_value<Point>(slotted).value(), (Point{5, 6}));

  // Nested paths through attributes.
  mapping_test::Model m;
  m.name = "net";
  m.layers = {{"dense", 4, 0.5}, {"relu", 0, std::nullopt}};
  Value mv = enc(d.b, m);
  EXPECT_EQ(brine::from_value<mapping_test::Model>(mv).value(), m);
  Value layers = mv.attr("layers");
  d.b.set_item(layers.elements()[1].state(), d.b.str("dropout"), d.b.str("x"));
  EXPECT_EQ(err(brine::from_value<mapping_test::Model>(mv)), "wrong_kind $.layers[1].dropout: expected float, got str");
}

TEST(MappingUserTypes, CustomCodec) {
  Doc d;
  EXPECT_EQ(rep(enc(d.b, std::vector<mapping_test::Celsius>{{21.5}})), "[21.5]");
  EXPECT_EQ(brine::from_value<mapping_test::Celsius>(d.b.integer(20)).value(), mapping_test::Celsius{20});
  EXPECT_EQ(err(brine::from_value<std::vector<mapping_test::Celsius>>(d.b.list({d.b.floating(-300)}))),
            "out_of_range $[0]: below absolute zero");
}

// ============================================================================================
// Bytes: encode / decode
// ============================================================================================

TEST(MappingBytes, EncodeDecode) {
  std::map<std::string, std::vector<int>> m{{"a", {1, 2}}, {"b", {}}};
  for (int proto = 0; proto <= 5; ++proto) {
    auto bytes = brine::encode(m, proto);
    ASSERT_TRUE(bytes) << err(bytes);
    EXPECT_EQ(brine_test::show(*bytes), "{'a': [1, 2], 'b': []}");
    EXPECT_EQ((brine::decode<std::map<std::string, std::vector<int>>>(*bytes).value()), m);
  }
  brine::WriteOptions o5;
  o5.protocol = 5;
  auto p5 = brine::encode(Point{1, 2}, o5);
  ASSERT_TRUE(p5) << err(p5);
  EXPECT_EQ(brine::decode<Point>(*p5).value(), (Point{1, 2}));
}

TEST(MappingBytes, Errors) {
  auto bad = brine::encode(std::vector<std::string>{"\xc3"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::unicode_error);
  EXPECT_EQ(bad.error().path, "$[0]");
  auto far = brine::encode(std::map<int, std::chrono::hours>{{1, std::chrono::hours(24'000'000'000LL)}});
  ASSERT_FALSE(far);
  EXPECT_EQ(far.error().to_string(), "$[1]: duration is outside datetime.timedelta's range");
  // Load errors keep their offset.
  auto trunc = brine::decode<int>(std::string_view("\x80\x04K", 3));
  ASSERT_FALSE(trunc);
  EXPECT_NE(trunc.error().offset, brine::Error::no_offset);
  // {'a': 'x'} written by CPython (protocol 2).
  auto wrong = brine::decode<std::map<std::string, int>>(brine_test::from_hex("80027d710058010000006171015801000000787102732e"));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().to_string(), "$['a']: expected int, got str");
}

// ============================================================================================
// Round trips through CPython
// ============================================================================================

enum class Dir { both, to_python, from_python };

struct PyCase {
  std::string name;
  std::string expr;  // the Python value, as an expression (datetime, collections, pytypes in scope)
  Dir dir;
  std::function<brine::Result<std::string>(int)> encode;
  std::function<std::string(std::string_view)> check;  // decode + compare; "" if equal
};

struct Cases {
  std::vector<PyCase> list;

  template <class T, class Eq = std::equal_to<>>
  void add(std::string name, T value, std::string expr, Dir dir = Dir::both, Eq eq = {}) {
    PyCase c;
    c.name = std::move(name);
    c.expr = std::move(expr);
    c.dir = dir;
    c.encode = [value](int proto) { return brine::encode(value, proto); };
    c.check = [value, eq](std::string_view bytes) -> std::string {
      auto r = brine::decode<T>(bytes);
      if (!r) return r.error().to_string();
      if (!eq(*r, value)) return "decoded value differs from the expected one; pickle: " + brine_test::show(bytes);
      return "";
    };
    list.push_back(std::move(c));
  }

  // Types decode<T> refuses (views into a document): only brine -> CPython.
  template <class T>
  void add_encode_only(std::string name, T value, std::string expr) {
    PyCase c;
    c.name = std::move(name);
    c.expr = std::move(expr);
    c.dir = Dir::to_python;
    c.encode = [value](int proto) { return brine::encode(value, proto); };
    list.push_back(std::move(c));
  }
  // CPython's pickle of `expr` must fail to decode as T with exactly this error.
  template <class T>
  void add_error(std::string name, std::string expr, std::string expected) {
    PyCase c;
    c.name = std::move(name);
    c.expr = std::move(expr);
    c.dir = Dir::from_python;
    c.check = [expected](std::string_view bytes) -> std::string {
      auto r = brine::decode<T>(bytes);
      if (r) return "decoded, expected the error " + expected;
      std::string got = std::string(brine::errc_name(r.error().code)) + " " + r.error().to_string();
      return got == expected ? "" : "error " + got + ", expected " + expected;
    };
    list.push_back(std::move(c));
  }
  std::shared_ptr<Document> keep = std::make_shared<Document>(Document::create());
};

struct SameDouble {
  bool operator()(double a, double b) const {
    return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
  }
};

struct SameBigInt {
  bool operator()(const brine::BigInt& a, const brine::BigInt& b) const { return a.to_string() == b.to_string(); }
};

Cases all_cases() {
  using namespace std::chrono;
  using mapping_test::Layer;
  using mapping_test::Model;
  Cases c;
  // scalars
  c.add("bool_true", true, "True");
  c.add("bool_false", false, "False");
  c.add("int_zero", 0, "0");
  c.add("int_small", 7, "7");
  c.add("int_neg", -1, "-1");
  c.add("int_255", std::uint8_t{255}, "255");
  c.add("int_256", 256, "256");
  c.add("int_65536", 65536L, "65536");
  c.add("int8_min", std::int8_t{-128}, "-128");
  c.add("int32_min", std::numeric_limits<std::int32_t>::min(), "-2147483648");
  c.add("uint32_max", std::numeric_limits<std::uint32_t>::max(), "4294967295");
  c.add("int64_min", std::numeric_limits<std::int64_t>::min(), "-9223372036854775808");
  c.add("int64_max", std::numeric_limits<std::int64_t>::max(), "9223372036854775807");
  c.add("uint64_2_63", std::uint64_t{1} << 63, "9223372036854775808");
  c.add("uint64_max", std::numeric_limits<std::uint64_t>::max(), "18446744073709551615");
  {
    std::uint8_t le[13] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};  // 2**100
    c.add("bigint_2_100", brine::BigInt(le), "2**100", Dir::both, SameBigInt{});
    std::uint8_t neg[13] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0};  // -(2**100)
    c.add("bigint_neg", brine::BigInt(neg), "-(2**100)", Dir::both, SameBigInt{});
  }
  c.add("double", 0.1, "0.1", Dir::both, SameDouble{});
  c.add("double_neg_zero", -0.0, "-0.0", Dir::both, SameDouble{});
  c.add("double_big", 1e300, "1e300", Dir::both, SameDouble{});
  c.add("double_inf", -std::numeric_limits<double>::infinity(), "float('-inf')", Dir::both, SameDouble{});
  c.add("double_nan", std::numeric_limits<double>::quiet_NaN(), "float('nan')", Dir::both, SameDouble{});
  c.add("float", 1.5f, "1.5");
  c.add("double_from_int", 3.0, "3", Dir::from_python);
  c.add("complex", std::complex<double>(1.5, -2), "complex(1.5, -2)");
  c.add("str_empty", std::string(), "''");
  c.add("str_ascii", std::string("hello"), "'hello'");
  c.add("str_unicode", std::string("h\xc3\xa9llo \xe2\x98\x83 \xf0\x9d\x84\x9e"), "'h\\u00e9llo \\u2603 \\U0001d11e'");
  c.add("str_escapes", std::string("a'b\"c\\d\ne\x01\x7f \\u"), "'a\\'b\"c\\\\d\\ne\\x01\\x7f \\\\u'");
  c.add("str_long", std::string(300, 'x'), "'x' * 300");
  c.add("bytes", bytes_of(std::string_view("\x00\x01\xff", 3)), "b'\\x00\\x01\\xff'");
  c.add("bytes_empty", std::vector<std::byte>(), "b''");
  c.add("bytes_long", bytes_of(std::string(300, '\xab')), "b'\\xab' * 300");
  c.add("bytes_array", std::array<std::byte, 3>{std::byte{'a'}, std::byte{'b'}, std::byte{0x80}}, "b'ab\\x80'");
  static const std::vector<std::byte> span_data = bytes_of("sp\x01");
  c.add_encode_only("bytes_span", std::span<const std::byte>(span_data), "b'sp\\x01'");
  c.add_encode_only("str_view", std::string_view("vi\xc3\xa9w"), "'vi\\xe9w'");
  c.add_encode_only("str_view_list", std::vector<std::string_view>{"a", "b"}, "['a', 'b']");
  {
    Builder kb(*c.keep);
    Value any = kb.list({kb.none(), kb.bytearray(bytes_of("ba")), kb.frozenset(vals({kb.integer(1)}))});
    c.add_encode_only("value_passthrough", std::map<std::string, Value>{{"any", any}},
                      "{'any': [None, bytearray(b'ba'), frozenset({1})]}");
  }
  c.add("bytes_from_bytearray", bytes_of("xy"), "bytearray(b'xy')", Dir::from_python);
  // sequences
  c.add("list_int", std::vector<int>{1, 2, 3}, "[1, 2, 3]");
  c.add("list_empty", std::vector<int>(), "[]");
  c.add("list_u8", std::vector<std::uint8_t>{0, 255}, "[0, 255]");
  c.add("list_bool", std::vector<bool>{true, false}, "[True, False]");
  c.add("list_str", std::vector<std::string>{"a", "b", "a"}, "['a', 'b', 'a']");
  c.add("list_nested", std::vector<std::vector<double>>{{1.5}, {}, {2, 3}}, "[[1.5], [], [2.0, 3.0]]");
  std::vector<int> big(2500);
  for (int i = 0; i < 2500; ++i) big[static_cast<std::size_t>(i)] = i * 7 - 5000;
  c.add("list_2500", big, "[i * 7 - 5000 for i in range(2500)]");
  c.add("deque", std::deque<int>{4, 5}, "[4, 5]");
  c.add("std_list", std::list<std::string>{"x"}, "['x']");
  c.add("array", std::array<int, 3>{1, 2, 3}, "[1, 2, 3]");
  c.add("list_from_tuple", std::vector<int>{1, 2}, "(1, 2)", Dir::from_python);
  c.add("deque_from_deque", std::deque<int>{1, 2}, "collections.deque([1, 2])", Dir::from_python);
  c.add("deque_from_deque_maxlen", std::deque<int>{2, 3}, "collections.deque([1, 2, 3], maxlen=2)", Dir::from_python);
  // dicts
  c.add("dict_str_int", std::map<std::string, int>{{"a", 1}, {"b", 2}}, "{'a': 1, 'b': 2}");
  c.add("dict_empty", std::map<std::string, int>(), "{}");
  c.add("dict_int_str", std::unordered_map<int, std::string>{{1, "x"}, {2, "y"}}, "{1: 'x', 2: 'y'}");
  c.add("dict_tuple_key", std::map<std::pair<int, int>, std::string>{{{1, 2}, "a"}}, "{(1, 2): 'a'}");
  c.add("dict_nested", std::map<std::string, std::map<std::string, std::vector<int>>>{{"o", {{"i", {1}}}}},
        "{'o': {'i': [1]}}");
  std::map<int, int> squares;
  for (int i = 0; i < 1500; ++i) squares[i] = i * i;
  c.add("dict_1500", squares, "{i: i * i for i in range(1500)}");
  c.add("dict_from_ordereddict", std::map<std::string, int>{{"z", 1}, {"a", 2}},
        "collections.OrderedDict([('z', 1), ('a', 2)])", Dir::from_python);
  c.add("dict_from_counter", std::map<std::string, int>{{"a", 2}, {"b", 1}}, "collections.Counter('aab')", Dir::from_python);
  // sets
  c.add("set_int", std::set<int>{1, 2, 3}, "{1, 2, 3}");
  c.add("set_empty", std::set<std::string>(), "set()");
  c.add("set_str", std::unordered_set<std::string>{"a", "bc"}, "{'a', 'bc'}");
  c.add("set_of_lists", std::set<std::vector<int>>{{1, 2}, {3}}, "{(1, 2), (3,)}");
  std::set<int> bigset;
  for (int i = 0; i < 1200; ++i) bigset.insert(i * 3);
  c.add("set_1200", bigset, "{i * 3 for i in range(1200)}");
  c.add("set_from_frozenset", std::set<int>{1, 2}, "frozenset({1, 2})", Dir::from_python);
  // tuples
  c.add("tuple_empty", std::tuple<>(), "()");
  c.add("tuple_1", std::tuple<int>(1), "(1,)");
  c.add("pair", std::pair<int, std::string>(1, "a"), "(1, 'a')");
  c.add("tuple_3", std::tuple<int, double, bool>(1, 2.5, true), "(1, 2.5, True)");
  c.add("tuple_5", std::tuple<int, int, int, std::string, std::optional<int>>(1, 2, 3, "4", std::nullopt),
        "(1, 2, 3, '4', None)");
  c.add("tuple_from_list", std::tuple<int, std::string>(1, "a"), "[1, 'a']", Dir::from_python);
  // optional, variant
  c.add("optional_none", std::optional<int>(), "None");
  c.add("optional_some", std::optional<int>(5), "5");
  c.add("list_optional", std::vector<std::optional<std::string>>{"a", std::nullopt}, "['a', None]");
  using V = std::variant<std::monostate, int, double, std::string>;
  c.add("variant_int", V(5), "5");
  c.add("variant_double", V(2.5), "2.5");
  c.add("variant_str", V(std::string("s")), "'s'");
  c.add("variant_none", V(), "None");
  c.add("list_variant", std::vector<V>{V(1), V(std::string("a")), V()}, "[1, 'a', None]");
  // chrono
  c.add("timedelta_secs", seconds(90061), "datetime.timedelta(days=1, seconds=3661)");
  c.add("timedelta_neg_ms", milliseconds(-1500), "datetime.timedelta(milliseconds=-1500)");
  c.add("timedelta_zero", microseconds(0), "datetime.timedelta(0)");
  c.add("timedelta_max_days", days(999999999), "datetime.timedelta(days=999999999)");
  c.add("timedelta_min", days(-999999999), "datetime.timedelta.min");
  c.add("timedelta_max_us", duration<std::int64_t, std::micro>(86399999999), "datetime.timedelta(seconds=86399, microseconds=999999)");
  c.add("timedelta_ns_rounded", nanoseconds(1500), "datetime.timedelta(microseconds=2)", Dir::to_python);
  c.add("timedelta_double", duration<double>(0.25), "datetime.timedelta(seconds=0.25)");
  c.add("timedelta_hours", hours(-5), "datetime.timedelta(hours=-5)");
  c.add("datetime_epoch", sys_seconds(), "datetime.datetime(1970, 1, 1)");
  c.add("datetime_us", at(2024y / 2 / 29, 13h + 5min + 7s + 123456us), "datetime.datetime(2024, 2, 29, 13, 5, 7, 123456)");
  c.add("datetime_min", at(1y / 1 / 1), "datetime.datetime.min");
  c.add("datetime_max", at(9999y / 12 / 31, 24h - 1us), "datetime.datetime.max");
  c.add("datetime_pre_epoch", at(1969y / 12 / 31, 23h + 59min + 59s + 999999us),
        "datetime.datetime(1969, 12, 31, 23, 59, 59, 999999)");
  c.add("datetime_ns", sys_time<nanoseconds>(at(2001y / 9 / 9, 1h + 46min + 40s + 500us)),
        "datetime.datetime(2001, 9, 9, 1, 46, 40, 500)");
  c.add("datetime_days", sys_days(2000y / 1 / 1), "datetime.datetime(2000, 1, 1)");
  c.add("datetime_aware_utc", sys_seconds(sys_days(2020y / 1 / 1) + 12h),
        "datetime.datetime(2020, 1, 1, 12, tzinfo=datetime.timezone.utc)", Dir::from_python);
  c.add("datetime_aware_plus2", sys_seconds(sys_days(2020y / 1 / 1) + 10h),
        "datetime.datetime(2020, 1, 1, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))", Dir::from_python);
  c.add("datetime_aware_minus5", sys_seconds(sys_days(2020y / 1 / 2) + 4h + 30min),
        "datetime.datetime(2020, 1, 1, 23, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-5), 'EST'))",
        Dir::from_python);
  c.add("datetime_fold", sys_seconds(sys_days(2020y / 11 / 1) + 1h + 30min),
        "datetime.datetime(2020, 11, 1, 1, 30, fold=1)", Dir::from_python);
  // user types
  c.add("fields_dict", mapping_test::Plain{3, "n"}, "{'x': 3, 'name': 'n'}");
  c.add("dataclass_point", Point{1, -2}, "pytypes.Point(1, -2)");
  c.add("dataclass_list", std::vector<Point>{{1, 2}, {3, 4}}, "[pytypes.Point(1, 2), pytypes.Point(3, 4)]");
  Model m;
  m.name = "net";
  m.layers = {Layer{"dense", 64, 0.5}, Layer{"relu", 0, std::nullopt}};
  m.params = {{"lr", 0.001}, {"momentum", 0.9}};
  m.tags = {"a", "b"};
  m.created = at(2023y / 5 / 17, 8h + 30min + 15s + 250us);
  m.timeout = milliseconds(2500);
  m.seed = 42;
  m.origin = Point{0, 0};
  c.add("dataclass_model", m,
        "pytypes.Model(name='net', layers=[pytypes.Layer('dense', 64, 0.5), pytypes.Layer('relu', 0)], "
        "params={'lr': 0.001, 'momentum': 0.9}, tags={'a', 'b'}, "
        "created=datetime.datetime(2023, 5, 17, 8, 30, 15, 250), timeout=datetime.timedelta(seconds=2.5), "
        "seed=42, origin=pytypes.Point(0, 0))");
  Model m2;
  m2.name = "empty";
  m2.created = at(1999y / 12 / 31);
  c.add("dataclass_model_defaults", m2,
        "pytypes.Model('empty', [], {}, set(), datetime.datetime(1999, 12, 31), datetime.timedelta(0))");
  c.add("dataclass_frozen", mapping_test::Frozen{"w", {0.5, -1.0}}, "pytypes.Frozen('w', (0.5, -1.0))");
  c.add("dataclass_shared", std::vector<Point>{{7, 7}, {7, 7}}, "[pytypes.Point(7, 7)] * 2", Dir::from_python);
  // errors on CPython's pickles
  c.add_error<mapping_test::Config>("error_path_example", "{'config': {'layers': [1, 2, 3, 'four']}}",
                                    "wrong_kind $['config']['layers'][3]: expected int, got str");
  c.add_error<Model>("error_dataclass_field",
                     "pytypes.Model('m', [pytypes.Layer('a', 1), pytypes.Layer('b', '2')], {}, set(), "
                     "datetime.datetime(2000, 1, 1), datetime.timedelta(0))",
                     "wrong_kind $.layers[1].width: expected int, got str");
  c.add_error<Point>("error_wrong_class", "pytypes.Layer('a', 1)", "wrong_kind $: expected pytypes.Point, got pytypes.Layer");
  c.add_error<std::map<std::string, std::uint8_t>>("error_range", "{'batch': 300}",
                                                   "out_of_range $['batch']: int 300 does not fit std::uint8_t (0..255)");
  c.add_error<std::vector<std::int64_t>>("error_bigint", "[1, 2**64]",
                                         "out_of_range $[1]: int 18446744073709551616 does not fit std::int64_t "
                                         "(-9223372036854775808..9223372036854775807)");
  c.add_error<std::map<int, int>>("error_key", "{'a': 1}", "wrong_kind $: key 'a': expected int, got str");
  c.add_error<std::tuple<int, int>>("error_tuple_len", "(1, 2, 3)", "out_of_range $: expected a tuple of 2 elements, got 3");
  c.add_error<std::chrono::seconds>("error_td_ticks", "datetime.timedelta(seconds=1.5)",
                                    "out_of_range $: datetime.timedelta(seconds=1, microseconds=500000) is not a whole "
                                    "number of ticks of this std::chrono duration type");
  c.add_error<std::chrono::sys_seconds>("error_dt_str", "'2020-01-01'", "wrong_kind $: expected datetime.datetime, got str");
  c.add_error<std::vector<std::string>>("error_bytes_for_str", "['a', b'b']", "wrong_kind $[1]: expected str, got bytes");
  return c;
}

std::string run_capture(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = pclose(p);
  return out;
}

void write_file(const std::filesystem::path& path, std::string_view data) {
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(f.good()) << path;
}

// Every case at every protocol: brine writes -> CPython loads and compares (strict types) and
// brine reads its own bytes back; CPython writes -> brine decodes and compares. One Python run.
TEST(MappingPython, RoundTripThroughCPython) {
  const std::string python = "/usr/bin/python3";
  if (!std::filesystem::exists(python)) GTEST_SKIP() << "no " << python;
  std::string tmpl = (std::filesystem::temp_directory_path() / "brine_mapping_XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;

  Cases cases = all_cases();
  nlohmann::json manifest = {{"check", nlohmann::json::array()}, {"make", nlohmann::json::array()}};
  std::set<std::string> names;
  int brine_written = 0;
  for (const PyCase& c : cases.list) {
    ASSERT_TRUE(names.insert(c.name).second) << "duplicate case name " << c.name;
    if (c.dir == Dir::from_python) {
      manifest["make"].push_back({{"name", c.name}, {"expr", c.expr}});
      continue;
    }
    for (int proto = 0; proto <= 5; ++proto) {
      auto bytes = c.encode(proto);
      if (!bytes) {
        ADD_FAILURE() << c.name << " protocol " << proto << ": encode failed: " << bytes.error().to_string();
        continue;
      }
      if (c.dir == Dir::both) {
        std::string why = c.check(*bytes);
        EXPECT_EQ(why, "") << c.name << " protocol " << proto << ": brine -> brine";
      }
      std::string file = "brine_" + c.name + ".p" + std::to_string(proto) + ".pkl";
      write_file(dir / file, *bytes);
      manifest["check"].push_back({{"file", file}, {"expr", c.expr}});
      ++brine_written;
    }
    if (c.dir == Dir::both) manifest["make"].push_back({{"name", c.name}, {"expr", c.expr}});
  }
  write_file(dir / "manifest.json", manifest.dump(1));

  int status = 0;
  std::string out = run_capture(python + " " + brine_test::source_dir() + "/tests/mapping/roundtrip.py " +
                                    dir.string() + " 2>&1",
                                status);
  nlohmann::json result = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(result.is_discarded()) << "roundtrip.py output: " << out;
  for (const auto& f : result["failures"]) ADD_FAILURE() << "brine -> CPython: " << f.get<std::string>();
  EXPECT_EQ(result["checked"].get<int>(), brine_written);
  EXPECT_EQ(status == 0, result["failures"].empty()) << out;

  int decoded = 0;
  for (const PyCase& c : cases.list) {
    if (c.dir == Dir::to_python) continue;
    for (int proto = 0; proto <= 5; ++proto) {
      std::string file = (dir / (c.name + ".p" + std::to_string(proto) + ".pkl")).string();
      std::string bytes = brine_test::read_file(file);
      std::string why = c.check(bytes);
      EXPECT_EQ(why, "") << c.name << " protocol " << proto << ": CPython -> brine (" << c.expr << ")";
      ++decoded;
    }
  }
  EXPECT_EQ(result["made"].get<int>(), decoded);
  std::filesystem::remove_all(dir);
}

}  // namespace

// brine::encode writes the bytes CPython's pickle.dumps writes for the equivalent Python value
// (field names are one str object per name, as CPython's identifiers and literals are; '' and
// one-character strs are CPython's shared objects; every other str is a fresh object).
namespace {

std::vector<std::string> cpython_dumps_0_to_5(const std::string& expr) {
  const std::string script = brine_test::unique_path(::testing::TempDir(), "brine_mapping_bytes", ".py");
  {
    std::ofstream f(script);
    f << "import sys, os, pickle, datetime\n"
      << "sys.path.insert(0, " << nlohmann::json(brine_test::source_dir() + "/tests/mapping").dump() << ")\n"
      << "import pytypes\n"
      << "obj = " << expr << "\n"
      << "for p in range(6):\n"
      << "    b = pickle.dumps(obj, p)\n"
      << "    sys.stdout.buffer.write(len(b).to_bytes(8, 'little') + b)\n";
  }
  int status = 0;
  std::string all = run_capture("PYTHONHASHSEED=0 /usr/bin/python3 " + script, status);
  std::remove(script.c_str());
  std::vector<std::string> out;
  std::size_t i = 0;
  while (status == 0 && i + 8 <= all.size()) {
    std::uint64_t n = 0;
    for (int k = 0; k < 8; ++k) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(all[i + k])) << (8 * k);
    out.push_back(all.substr(i + 8, n));
    i += 8 + n;
  }
  return out;
}

template <class T>
void expect_encodes_like_cpython(const T& x, const std::string& expr) {
  std::vector<std::string> want = cpython_dumps_0_to_5(expr);
  ASSERT_EQ(want.size(), 6u) << expr;
  for (int p = 0; p < 6; ++p) {
    auto got = brine::encode(x, p);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(brine_test::to_hex(*got), brine_test::to_hex(want[static_cast<std::size_t>(p)]))
        << expr << " at protocol " << p;
  }
}

}  // namespace

TEST(MappingBytes, EncodeIsWhatCPythonWrites) {
  using namespace mapping_test;
  expect_encodes_like_cpython(std::vector<Plain>{{1, "a"}, {2, ""}, {300, "abc"}, {-5, "abc"}},
                              "[{'x': 1, 'name': 'a'}, {'x': 2, 'name': ''}, {'x': 300, 'name': 'abc'}, "
                              "{'x': -5, 'name': ''.join(['ab', 'c'])}]");
  expect_encodes_like_cpython(std::vector<Point>{{1, 2}, {3, 4}, {5, 6}},
                              "[pytypes.Point(1, 2), pytypes.Point(3, 4), pytypes.Point(5, 6)]");
  expect_encodes_like_cpython(std::vector<Layer>{{"dense", 64, std::nullopt}, {"drop", 0, 0.5}},
                              "[pytypes.Layer('dense', 64), pytypes.Layer('drop', 0, 0.5)]");
  std::vector<std::int64_t> ints;
  for (int i = 0; i < 2500; ++i) ints.push_back(static_cast<std::int64_t>(i) * 7919 - 5000000);
  expect_encodes_like_cpython(ints, "[i * 7919 - 5000000 for i in range(2500)]");
  expect_encodes_like_cpython(std::map<std::string, std::vector<double>>{{"lr", {0.1, 0.01}}, {"w", {}}},
                              "{'lr': [0.1, 0.01], 'w': []}");
  expect_encodes_like_cpython(std::tuple<int, std::string, std::optional<bool>>{7, "x", std::nullopt},
                              "(7, 'x', None)");
  // batching edges (1000 per batch; exact dicts end a full last batch with an empty one)
  for (int n : {0, 1, 2, 999, 1000, 1001, 2000}) {
    std::vector<int> l(static_cast<std::size_t>(n), 5);
    std::map<int, int> m;
    for (int i = 0; i < n; ++i) m[i] = -i;
    const std::string ns = std::to_string(n);
    expect_encodes_like_cpython(l, "[5] * " + ns);
    expect_encodes_like_cpython(m, "{i: -i for i in range(" + ns + ")}");
  }
  // CPython's shared '' and one-character strs, fresh longer ones, tuples of every short size,
  // a str big enough to go outside the frames, floats, unsigned ints beyond int64
  expect_encodes_like_cpython(std::vector<std::string>{"", "", "a", "a", "\xc3\xa9", "\xc3\xa9", "ab", "ab", "\xe2\x82\xac"},
                              "['', '', 'a', 'a', '\\xe9', '\\xe9', 'ab', ''.join(['a', 'b']), '\\u20ac']");
  expect_encodes_like_cpython(
      std::tuple<std::tuple<>, std::tuple<int>, std::pair<int, int>, std::tuple<int, int, int>, std::tuple<int, int, int, int>>{
          {}, {1}, {1, 2}, {1, 2, 3}, {1, 2, 3, 4}},
      "((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4))");
  expect_encodes_like_cpython(std::vector<std::string>{std::string(70000, 'x'), "tail"}, "['x' * 70000, 'tail']");
  expect_encodes_like_cpython(std::vector<double>{0.5, -0.0, 1e300}, "[0.5, -0.0, 1e300]");
  expect_encodes_like_cpython(std::vector<std::uint64_t>{1, 18446744073709551615ull}, "[1, 18446744073709551615]");
  expect_encodes_like_cpython(std::map<std::string, std::optional<std::variant<int, std::string>>>{
                                  {"a", std::nullopt}, {"b", 3}, {"c", std::string("xyz")}},
                              "{'a': None, 'b': 3, 'c': 'xyz'}");
}

TEST(MappingBytes, EncodeErrorsNameThePath) {
  using namespace mapping_test;
  auto r = brine::encode(std::vector<Plain>{{1, "ok"}, {2, "bad \xff"}}, 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, brine::errc::unicode_error);
  EXPECT_EQ(r.error().path, "$[1]['name']");
  auto r2 = brine::encode(std::map<std::string, std::string>{{"k", "\xc3"}}, 2);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().path, "$['k']");
}

// Emitter::name shares one str per text; a caller's buffer that holds another name by the next
// call is another str (the writer's cache of the last name per address compares the text).
TEST(MappingBytes, EmitterNamesAreTheirText) {
  struct Arg {
    std::string buf;
  } arg;
  auto body = [](brine::detail::Emitter& e, const void* p) {
    auto& buf = const_cast<Arg*>(static_cast<const Arg*>(p))->buf;
    e.begin_list(4);
    buf = "alpha";
    e.name(buf);
    buf = "bravo";  // same address (short-string buffer), other text
    e.name(buf);
    buf = "alpha";
    e.name(buf);
    e.str("caf\xc3\xa9 ok");
    e.end_list();
  };
  auto r = brine::detail::emit_pickle(brine::WriteOptions{.protocol = 4}, body, &arg);
  ASSERT_TRUE(r) << r.error().message;
  auto doc = brine::loads(*r).value();
  EXPECT_EQ(brine::repr(doc.root()), "['alpha', 'bravo', 'alpha', 'café ok']");
  EXPECT_TRUE(doc.root()[0].same(doc.root()[2]));
  EXPECT_FALSE(doc.root()[0].same(doc.root()[1]));
  // invalid UTF-8 of every length class is refused
  for (std::string bad : {std::string("\xff"), std::string("ab\xff"), std::string("abcd\xff"), std::string("abcdefghij\xff"),
                          std::string(40, 'a') + "\xc3"}) {
    auto b = [](brine::detail::Emitter& e, const void* p) { e.str(*static_cast<const std::string*>(p)); };
    auto rb = brine::detail::emit_pickle(brine::WriteOptions{.protocol = 4}, b, &bad);
    ASSERT_FALSE(rb) << bad;
    EXPECT_EQ(rb.error().code, brine::errc::unicode_error);
  }
}
