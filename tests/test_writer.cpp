// Unit tests of the pickle writer. Expected bytes come from CPython 3.11 (/usr/bin/python3,
// PYTHONHASHSEED=0) run at test time on the equivalent Python object graph: the writer must
// produce exactly what pickle.dumps produces. (The whole generated corpus is compared the same
// way by tests/corpus/roundtrip.py.)
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "brine/brine.hpp"
#include "test_util.hpp"

using namespace std::literals;

namespace {

// Runs Python code that writes bytes to stdout; returns them.
std::string python_bytes(const std::string& code) {
  std::string path = brine_test::unique_path(::testing::TempDir(), "brine_writer_test", ".py");
  {
    std::ofstream f(path);
    f << "import sys, pickle, collections, argparse\n" << code << "\n";
  }
  std::string cmd = "PYTHONHASHSEED=0 /usr/bin/python3 " + path;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::string out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  std::remove(path.c_str());
  if (st != 0) throw std::runtime_error("python failed: " + code);
  return out;
}

std::vector<std::string> split_records(const std::string& all) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i + 8 <= all.size()) {
    std::uint64_t n = 0;
    for (int k = 0; k < 8; ++k) n |= static_cast<std::uint64_t>(static_cast<unsigned char>(all[i + k])) << (8 * k);
    out.push_back(all.substr(i + 8, n));
    i += 8 + n;
  }
  return out;
}

const char* const k_emit = "def emit(b):\n    sys.stdout.buffer.write(len(b).to_bytes(8, 'little') + b)\n";

// pickle.dumps(<expr>, p) for p = 0..5.
std::vector<std::string> cpython_dumps_all(const std::string& setup, const std::string& expr) {
  return split_records(python_bytes(setup + "\n" + k_emit + "obj = " + expr + "\nfor p in range(6):\n    emit(pickle.dumps(obj, p))\n"));
}

std::string dumps(const brine::Value& v, int proto) {
  brine::WriteOptions o;
  o.protocol = proto;
  auto r = brine::dumps(v, o);
  if (!r) return "ERROR " + std::string(brine::errc_name(r.error().code)) + ": " + r.error().message;
  return *r;
}

// For X = CPython's protocol-f pickle of `expr` (f = 0..5): brine reads X and writes it at every
// protocol t; the bytes must be CPython's pickle.dumps(pickle.loads(X), t) (identity after a load
// is what the pickle says, plus CPython's shared one-character str and one-byte bytes objects).
void expect_rewrites_like_cpython(const std::string& setup, const std::string& expr) {
  auto all = split_records(python_bytes(setup + "\n" + k_emit + "obj = " + expr +
                                        "\nfor f in range(6):\n    x = pickle.dumps(obj, f)\n    emit(x)\n"
                                        "    for t in range(6):\n        emit(pickle.dumps(pickle.loads(x), t))\n"));
  ASSERT_EQ(all.size(), 42u);
  for (int from = 0; from < 6; ++from) {
    const std::string& x = all[static_cast<std::size_t>(from) * 7];
    brine::ReadOptions ro;
    ro.encoding = brine::StringEncoding::latin1;
    auto doc = brine::loads(x, ro);
    ASSERT_TRUE(doc) << doc.error().to_string();
    for (int to = 0; to < 6; ++to)
      EXPECT_EQ(dumps(doc->root(), to), all[static_cast<std::size_t>(from) * 7 + 1 + static_cast<std::size_t>(to)])
          << expr << " read at protocol " << from << ", written at " << to;
  }
}

TEST(Writer, ScalarsAtEveryProtocol) {
  expect_rewrites_like_cpython("", "[None, True, False, 0, 1, 255, 256, 65535, 65536, -1, -256, 2**31-1, -2**31, "
                                   "2**31, -2**31-1, 2**63-1, -2**63, 2**64, -2**64, 2**100, -(2**100), 255 << 2040, "
                                   "0.0, -0.0, 1.5, 1e16, 1e-05, float('inf'), float('-inf'), 5e-324]");
}

TEST(Writer, StrAndBytes) {
  expect_rewrites_like_cpython("", "['', 'a', 'é', '\\u20ac', '\\U0001f600', '\\ud800', 'a\\\\b\\n\\r\\x1a\\x00', "
                                   "'x' * 300, b'', b'a', b'\\xff\\x00', b'y' * 300, bytearray(b''), "
                                   "bytearray(b'abc'), bytearray(b'z')]");
}

TEST(Writer, ContainersAndBatching) {
  expect_rewrites_like_cpython("", "[(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [1], list(range(1000)), "
                                   "list(range(1001)), list(range(2001)), {}, {1: 2}, dict.fromkeys(range(1000)), "
                                   "dict.fromkeys(range(1001)), dict.fromkeys(range(2000)), set(), {1}, "
                                   "set(range(1000)), set(range(1001)), frozenset(), frozenset(range(5)), "
                                   "complex(1, -2)]");
}

TEST(Writer, SharedAndRecursive) {
  expect_rewrites_like_cpython("l = [1]\nd = {}\nd['self'] = d\nr = []\nr.append(r)\nt = (r, l)\n"
                               "a = []\nrt = (a,)\na.append(rt)",
                               "[l, l, d, r, t, t, rt, a, (l, l), frozenset([1, 2])]");
}

TEST(Writer, LargePayloadsAndFrames) {
  expect_rewrites_like_cpython("", "[b'x' * 70000, 'y' * 65536, 's' * 65535, list(range(30000)), "
                                   "['k%d' % i for i in range(20000)], bytearray(b'q' * 70000)]");
}

TEST(Writer, LibraryTypes) {
  expect_rewrites_like_cpython(
      "import datetime, decimal, uuid\nfrom collections import OrderedDict, defaultdict, Counter, deque",
      "[OrderedDict([('a', 1), ('b', [2])]), defaultdict(list, {'x': [1]}), Counter('abracadabra'), "
      "deque([1, 2, 3], maxlen=5), deque(), datetime.date(2024, 2, 29), "
      "datetime.datetime(2024, 3, 1, 12, 30, 5, 17, tzinfo=datetime.timezone.utc), datetime.time(1, 2, 3, 4), "
      "datetime.timedelta(days=-1, seconds=5), decimal.Decimal('-1.50'), "
      "uuid.UUID('12345678-1234-5678-1234-567812345678')]");
}

std::string hex_of(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out.push_back(d[static_cast<unsigned char>(c) >> 4]);
    out.push_back(d[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

// For a pickle X that CPython loads (not necessarily one it writes): brine reads X and writes it
// at every protocol t; CPython must load each output as an object equal (repr) to
// pickle.loads(X). With `bytes_too`, the bytes must also be CPython's pickle.dumps(pickle.loads(X), t).
void expect_loads_back_like_cpython(std::string_view x, bool bytes_too) {
  auto doc = brine::loads(x);
  ASSERT_TRUE(doc) << doc.error().to_string();
  std::string code = k_emit + std::string("x = bytes.fromhex('") + hex_of(x) +
                     "')\nemit(repr(pickle.loads(x)).encode())\nfor t in range(6):\n"
                     "    emit(pickle.dumps(pickle.loads(x), t))\n";
  std::vector<std::string> outs;
  for (int t = 0; t < 6; ++t) {
    outs.push_back(dumps(doc->root(), t));
    code += "emit(repr(pickle.loads(bytes.fromhex('" + hex_of(outs.back()) + "'))).encode())\n";
  }
  auto all = split_records(python_bytes(code));
  ASSERT_EQ(all.size(), 13u);
  for (int t = 0; t < 6; ++t) {
    auto i = static_cast<std::size_t>(t);
    EXPECT_EQ(all[7 + i], all[0]) << hex_of(x) << " written at " << t;
    if (bytes_too) {
      EXPECT_EQ(outs[i], all[1 + i]) << hex_of(x) << " written at " << t;
    }
  }
}

TEST(Writer, LibraryTypesWithTheirItemsAsArguments) {
  // Python 2 / hand-written forms that call the class with the items: written in the class's
  // own __reduce__ form + the items, once (INST / OBJ used to write the arguments and the items
  // again: deque([1, 2, 1, 2])).
  for (std::string_view x : {"((lI1\naI2\naicollections\ndeque\n."sv, "(ccollections\ndeque\n(lI1\naI2\naoI3\na."sv,
                             "((l(I1\nI2\ntaicollections\nOrderedDict\n(dVx\nI1\nsb."sv,
                             "ccollections\nOrderedDict\n((l(I1\nI2\ntatRI3\nI4\ns."sv,
                             "ccollections\nCounter\n((dI1\nI2\nstRI3\nI4\ns."sv,
                             "((dI1\nI2\nsicollections\nCounter\nI3\nI4\ns."sv})
    expect_loads_back_like_cpython(x, true);
  // With a maxlen: CPython's deque keeps only the last 2 items, the record all of them (the same
  // deque once loaded).
  expect_loads_back_like_cpython("ccollections\ndeque\n((lI1\naI2\naI3\naI2\ntRI9\na."sv, false);
}

TEST(Writer, LibraryTypeArgumentsThatAreNotItemsAreKept) {
  // Counter('abc') counts letters: the argument is kept (was written as Counter({})).
  expect_loads_back_like_cpython("ccollections\nCounter\n(Vabc\ntR."sv, false);
  expect_loads_back_like_cpython("ccollections\nCounter\n((lp0\n(I1\nI2\ntatR."sv, false);
  // cls.__new__(cls, [1, 2]) ignores the list: CPython loads deque([]); written at any protocol it
  // must stay empty (it grew by [1, 2] at every round trip).
  expect_loads_back_like_cpython("\x80\x02" "ccollections\ndeque\n]q\x00(K\x01K\x02" "e\x85\x81."sv, false);
  expect_loads_back_like_cpython("ccopyreg\n__newobj__\n(ccollections\ndeque\n(lI1\naI2\natR."sv, false);
  // copyreg helper records of library types keep their class (were written as
  // copyreg.__newobj__(), which CPython cannot load).
  expect_loads_back_like_cpython("ccopyreg\n__newobj__\n(ccollections\nOrderedDict\n(ltR."sv, false);
  expect_loads_back_like_cpython(
      "\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00" "ccopyreg\n__newobj_ex__\n(ccollections\nOrderedDict\n)}tR."sv, false);
}

TEST(Writer, FoldIsOnlyWrittenAtProtocol4AndAbove) {
  expect_rewrites_like_cpython("import datetime",
                               "[datetime.datetime(2021, 11, 7, 1, 30, fold=1), datetime.time(1, 30, fold=1)]");
}

TEST(Writer, ModuleNamesAreMemoizedByContent) {
  // CPython's module names are interned: the bytearray's REDUCE (builtins.bytearray) and the
  // class builtins.object share one 'builtins' str. Read back, the global keeps the pickle's str
  // object while the bytearray is folded into a native value; written again, the module name
  // must still be found by content (fuzz/crashes/roundtrip-stack-global-str-identity.pkl).
  expect_rewrites_like_cpython("", "[bytearray(b'ab'), object]");
  expect_rewrites_like_cpython("", "[object, bytearray(b'ab'), int, complex(1, 2), {1}, bytearray(b'c')]");
}

TEST(Writer, PlainInstanceFromProtocol0BecomesNewobj) {
  // Python 3's protocol-0 pickle of a plain instance is copyreg._reconstructor + BUILD; at protocol
  // 2+ CPython writes NEWOBJ + BUILD, and so must brine.
  std::string p0 = python_bytes("sys.stdout.buffer.write(pickle.dumps(argparse.Namespace(x=1), 0))");
  ASSERT_NE(p0.find("_reconstructor"), std::string::npos);
  auto doc = brine::loads(p0);
  ASSERT_TRUE(doc) << doc.error().to_string();
  std::string expected = python_bytes("sys.stdout.buffer.write(pickle.dumps(argparse.Namespace(x=1), 2))");
  std::string out = dumps(doc->root(), 2);
  EXPECT_EQ(out, expected);
  EXPECT_NE(out.find('\x81'), std::string::npos);  // NEWOBJ
}

TEST(Writer, BuiltDocumentIsWhatCPythonWrites) {
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  brine::Value d = b.dict();
  b.set_item(d, b.str("name"), b.str("brine"));
  b.set_item(d, b.str("sizes"), b.list({b.integer(1), b.integer(2), b.integer(70000)}));
  b.set_item(d, b.str("lr"), b.floating(0.001));
  b.set_item(d, b.str("blob"), b.bytes("\x00\xffxy"sv));
  b.set_item(d, b.str("pair"), b.tuple({b.integer(-3), b.none()}));
  b.set_item(d, b.str("ids"), b.set({b.integer(3), b.integer(1), b.integer(2)}));
  std::uint8_t big[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16};  // 2**100
  b.set_item(d, b.str("big"), b.integer_le(big));
  b.set_item(d, b.str("z"), b.complex(1, 2));
  b.set_item(d, b.str("ok"), b.boolean(true));
  auto expected = cpython_dumps_all("", "{'name': 'brine', 'sizes': [1, 2, 70000], 'lr': 0.001, 'blob': b'\\x00\\xffxy', "
                                        "'pair': (-3, None), 'ids': {3, 1, 2}, 'big': 2**100, 'z': complex(1, 2), 'ok': True}");
  ASSERT_EQ(expected.size(), 6u);
  for (int p = 0; p < 6; ++p) EXPECT_EQ(dumps(d, p), expected[p]) << "protocol " << p;
}

TEST(Writer, ObjectsBuiltInCppLoadInPython) {
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  brine::Value state = b.dict();
  b.set_item(state, b.str("a"), b.integer(1));
  b.set_item(state, b.str("b"), b.str("two"));
  brine::Value ns = b.object(b.global("argparse", "Namespace"), brine::Value(), state);
  for (int p = 0; p < 6; ++p) {
    std::string expected = python_bytes("sys.stdout.buffer.write(pickle.dumps(argparse.Namespace(a=1, b='two'), " +
                                        std::to_string(p) + "))");
    EXPECT_EQ(dumps(ns, p), expected) << "protocol " << p;
  }
}

TEST(Writer, DeepNestingWithoutRecursion) {
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  brine::Value v = b.list();
  for (int i = 0; i < 1000000; ++i) v = b.list({v});
  for (int p : {0, 2, 4}) {
    std::string out = dumps(v, p);
    ASSERT_EQ(out.rfind("ERROR", 0), std::string::npos) << out;
    auto back = brine::loads(out);
    ASSERT_TRUE(back) << back.error().to_string();
    std::size_t depth = 0;
    for (brine::Value x = back->root(); !x.elements().empty(); x = x.elements()[0]) ++depth;
    EXPECT_EQ(depth, 1000000u);
  }
}

TEST(Writer, CycleThroughConstructionArgumentsIsAnError) {
  // s = set(); o = f(s); s.add(o): below protocol 4 the set is written as set([...]) before it
  // can be memoized, so its items lead back to it forever (CPython: RecursionError).
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  brine::Value s = b.set();
  brine::Value o = b.reduce(b.global("m", "f"), b.tuple({s}));
  b.add(s, o);
  EXPECT_EQ(dumps(s, 3).substr(0, 18), "ERROR unpicklable:");
  // At protocol 4 the set is memoized before its items: fine.
  auto r = brine::loads(dumps(s, 4));
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(brine::repr(r->root()), "{m.f(args=(set(...),))}");
}

TEST(Writer, ProtocolErrors) {
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  brine::Value g = b.global("caf\xc3\xa9", "x");
  EXPECT_EQ(dumps(g, 2).substr(0, 18), "ERROR unpicklable:");
  EXPECT_EQ(dumps(g, 3), "\x80\x03" "ccaf\xc3\xa9\nx\nq\x00."s);
  EXPECT_EQ(dumps(b.none(), 6).rfind("ERROR unsupported_protocol", 0), 0u);
  EXPECT_EQ(dumps(b.none(), -1), "\x80\x05N."s);
  EXPECT_EQ(dumps(brine::Value(), 4).rfind("ERROR type_error", 0), 0u);
}

TEST(Writer, NewobjArgumentsThatAreNotATuple) {
  // NEWOBJ(m.C, <m.D object>): kept by the reader (CPython refuses it), written as it is at 2+;
  // below 2, copyreg.__newobj__(cls, *args) cannot spread it (was written without it).
  std::string x = "\x80\x02" "cm\nC\nq\x00" "cm\nD\n)\x81\x81."s;
  auto doc = brine::loads(x);
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ(dumps(doc->root(), 0).rfind("ERROR unpicklable", 0), 0u);
  EXPECT_EQ(dumps(doc->root(), 1).rfind("ERROR unpicklable", 0), 0u);
  EXPECT_EQ(dumps(doc->root(), 2), "\x80\x02" "cm\nC\nq\x00" "cm\nD\nq\x01)\x81q\x02\x81q\x03."s);
}

TEST(Writer, DottedGlobalNameWithAnEmptyPart) {
  // GLOBAL 'm' '.a' (fuzz/crashes/roundtrip-global-leading-dot.pkl): below protocol 4 a dotted
  // name is written as getattr(parent, last), and the parent '' cannot be written (GLOBAL with an
  // empty name line); CPython's pickler refuses any empty part (no attribute ''). At 4+
  // STACK_GLOBAL carries the name as read.
  auto doc = brine::loads("cm\n.a\n."sv);
  ASSERT_TRUE(doc) << doc.error().to_string();
  for (int p = 0; p < 4; ++p) EXPECT_EQ(dumps(doc->root(), p).rfind("ERROR unpicklable", 0), 0u) << p;
  EXPECT_EQ(dumps(doc->root(), 4), "\x80\x04\x95\x0c\0\0\0\0\0\0\0\x8c\x01m\x94\x8c\x02.a\x94\x93\x94."s);
  brine::Document built = brine::Document::create();
  brine::Builder b(built);
  for (const char* name : {".", "a.", "a..b"})
    EXPECT_EQ(dumps(b.global("m", name), 2).rfind("ERROR unpicklable", 0), 0u) << name;
  EXPECT_EQ(dumps(b.global("m", "a.b"), 2).rfind("ERROR", 0), std::string::npos);
}

TEST(Writer, NewobjOnlyForWhatCanBeAClass) {
  // copyreg helpers whose first argument cannot be a class (a native value, a known function)
  // stay REDUCEs at every protocol (were NEWOBJ / NEWOBJ_EX, which neither brine nor CPython
  // loads: fuzz/crashes/roundtrip-newobj-non-class.pkl); so do __newobj_ex__ records whose
  // arguments are not a tuple and a dict.
  for (std::string_view x : {"ccopyreg\n_reconstructor\n(}cbuiltins\nobject\nNtR."sv,
                             "ccopyreg\n_reconstructor\n(cbuiltins\nlen\ncbuiltins\nobject\nNtR."sv,
                             "ccopyreg\n__newobj__\n(}tR."sv, "ccopyreg\n__newobj_ex__\n(cbuiltins\nlen\n)}tR."sv,
                             "ccopyreg\n__newobj_ex__\n(cm\nC\nI1\n}tR."sv}) {
    auto doc = brine::loads(x);
    ASSERT_TRUE(doc) << doc.error().to_string();
    for (int p = 0; p < 6; ++p) {
      std::string out = dumps(doc->root(), p);
      auto back = brine::loads(out);
      ASSERT_TRUE(back) << x << " written at " << p << ": " << back.error().to_string();
      EXPECT_EQ(brine::repr(back->root()), brine::repr(doc->root())) << x << " written at " << p;
    }
  }
  // INST / OBJ of a function without arguments call it (CPython's instantiate calls cls() unless
  // cls is a type): REDUCE(f, ()) at the other protocols, not NEWOBJ(f, ()) / _reconstructor(f, ...).
  auto doc = brine::loads("(cbuiltins\ndir\no."sv);
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ(dumps(doc->root(), 2), "\x80\x02" "c__builtin__\ndir\nq\x00)Rq\x01."s);
  EXPECT_EQ(dumps(doc->root(), 0), "c__builtin__\ndir\np0\n(tRp1\n."s);
  EXPECT_EQ(python_bytes("x = pickle.loads(" + std::string("b'\\x80\\x02c__builtin__\\ndir\\nq\\x00)Rq\\x01.'") +
                         ")\nsys.stdout.write(type(x).__name__)"),
            "list");
}

TEST(Writer, ItemsSetOnAnObjectThatAreNotADict) {
  // Below protocol 2 an object with set items only is written as _reconstructor(cls, dict,
  // {items}); the items set on an object of an unknown class are kept as they were set (its
  // __setitem__ decides), and when they are not a valid dict (an unhashable key: fuzz/crashes/
  // roundtrip-dict-base-items-not-dict.pkl; keys equal to each other) the object is written as
  // _reconstructor(cls, object, None) + SETITEM(S) instead, which keeps them all.
  for (std::string_view x : {"\x80\x02" "cm\nC\n)\x81}K\x01s."sv, "\x80\x02" "cm\nC\n)\x81(K\x01K\x02K\x01K\x03u."sv,
                             "\x80\x02" "cm\nC\n)\x81(K\x01K\x02\x88K\x03u."sv}) {
    auto doc = brine::loads(x);
    ASSERT_TRUE(doc) << doc.error().to_string();
    for (int p = 0; p < 2; ++p) {
      std::string out = dumps(doc->root(), p);
      EXPECT_NE(out.find("object"), std::string::npos) << out;
      auto back = brine::loads(out);
      ASSERT_TRUE(back) << x << " written at " << p << ": " << back.error().to_string();
      EXPECT_EQ(back->root().items().size(), doc->root().items().size());
      EXPECT_EQ(brine::repr(back->root()), brine::repr(doc->root()));
    }
  }
  // Distinct keys: the dict form, as CPython writes a dict subclass.
  auto doc = brine::loads("\x80\x02" "cm\nC\n)\x81(K\x01K\x02K\x02K\x03u."sv);
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ(dumps(doc->root(), 1), "ccopy_reg\n_reconstructor\nq\x00(cm\nC\nq\x01" "c__builtin__\ndict\nq\x02}q\x03"
                                   "(K\x01K\x02K\x02K\x03utq\x04Rq\x05."s);
}

TEST(Writer, ListAndDictSubclassesThatContainThemselves) {
  // Below protocol 2 CPython writes a list / dict subclass object as _reconstructor(cls, list|dict,
  // base(obj)), a fresh base(obj) at each write: again inside the argument when the items lead
  // back to the object. Read back, the record's argument is referenced from nowhere else, and is
  // written as that fresh copy (it was written by identity: the inner write referred back to it,
  // so CPython's bytes were no fixed point: fuzz/crashes/roundtrip-reconstructor-base-cycle.pkl).
  const std::string setup = "class DC(list): pass\nclass DD(dict): pass\nx = DC()\nx.append([x])\nd = DD()\nd['z'] = [d]";
  expect_rewrites_like_cpython(setup, "x");
  expect_rewrites_like_cpython(setup, "d");
  expect_rewrites_like_cpython(setup, "[x, d, x]");
  // The document form too (it memoizes only what the reader saw shared: the NEWOBJ form's inner
  // list is not, and below protocol 2 it is written twice).
  auto all = split_records(python_bytes(setup + "\n" + k_emit + "for f in range(6):\n    x2 = pickle.dumps(x, f)\n"
                                        "    emit(x2)\n    emit(pickle.dumps(pickle.loads(x2), 0))\n"));
  ASSERT_EQ(all.size(), 12u);
  for (std::size_t f = 0; f < 6; ++f) {
    auto doc = brine::loads(all[2 * f]);
    ASSERT_TRUE(doc) << doc.error().to_string();
    brine::WriteOptions o;
    o.protocol = 0;
    auto by_doc = brine::dumps(*doc, o);
    ASSERT_TRUE(by_doc) << "from protocol " << f << ": " << by_doc.error().to_string();
    EXPECT_EQ(*by_doc, all[2 * f + 1]) << "from protocol " << f;
  }
  // Hand-written forms whose items lead back to the object through a list the pickle refers to
  // once (a second item written after the inner write; a Counter's items, which go into its
  // argument): both forms write CPython's bytes (the document form wrote such a list twice, or
  // failed on the cycle).
  for (std::string_view x : {"\x80\x02" "c__main__\nDC\n)\x81q\x00(]h\x00" "a]e."sv,
                             "ccopy_reg\n_reconstructor\n(c__main__\nDC\nc__builtin__\nlist\n((lp0\n(lltRp1\ng0\ng1\na0g1\n."sv,
                             "\x80\x02" "ccollections\nCounter\n)Rq\x00X\x01\x00\x00\x00k]h\x00" "as."sv}) {
    auto doc = brine::loads(x);
    ASSERT_TRUE(doc) << doc.error().to_string();
    auto expected = split_records(python_bytes(setup + "\n" + k_emit + "x = bytes.fromhex('" + hex_of(x) +
                                               "')\nfor t in range(6):\n    emit(pickle.dumps(pickle.loads(x), t))\n"));
    ASSERT_EQ(expected.size(), 6u);
    for (int t = 0; t < 6; ++t) {
      brine::WriteOptions o;
      o.protocol = t;
      auto by_doc = brine::dumps(*doc, o);
      ASSERT_TRUE(by_doc) << hex_of(x) << " written at " << t << ": " << by_doc.error().to_string();
      EXPECT_EQ(hex_of(*by_doc), hex_of(expected[static_cast<std::size_t>(t)])) << hex_of(x) << " written at " << t;
      EXPECT_EQ(hex_of(dumps(doc->root(), t)), hex_of(*by_doc)) << hex_of(x) << " written at " << t;
    }
  }
  // An argument the graph refers to elsewhere too stays shared (written by identity).
  auto doc = brine::loads("(ccopy_reg\n_reconstructor\n(cm\nC\nc__builtin__\nlist\n(lp0\nI1\natRg0\nl."sv);
  ASSERT_TRUE(doc) << doc.error().to_string();
  for (int p = 0; p < 2; ++p) {
    std::string out = dumps(doc->root(), p);
    auto back = brine::loads(out);
    ASSERT_TRUE(back) << out << ": " << back.error().to_string();
    auto root = back->root().elements();
    ASSERT_EQ(root.size(), 2u);
    ASSERT_EQ(root[0].kind(), brine::Kind::object);
    EXPECT_TRUE(root[0].args().elements()[2].same(root[1])) << "protocol " << p;
  }
}

TEST(Writer, OutOfBandBuffers) {
  // pickle.dumps(PickleBuffer(b'abc'), 5, buffer_callback=lambda b: False) == b'\x80\x05\x97\x98.'
  std::string data = "\x80\x05\x97\x98."s;
  std::vector<brine::Buffer> bufs{{std::as_bytes(std::span("abc", 3)), true}};
  brine::ReadOptions ro;
  ro.buffers = &bufs;
  auto doc = brine::loads(data, ro);
  ASSERT_TRUE(doc) << doc.error().to_string();
  brine::WriteOptions wo;
  wo.protocol = 5;
  EXPECT_EQ(*brine::dumps(doc->root(), wo), "\x80\x05\x95\x07\0\0\0\0\0\0\0C\x03" "abc\x94."s);
  wo.buffer_callback = [](const brine::Value&) { return false; };
  EXPECT_EQ(*brine::dumps(doc->root(), wo), data);
  wo.protocol = 4;
  auto r = brine::dumps(doc->root(), wo);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, brine::errc::unpicklable);
}

TEST(Writer, PersistentIds) {
  std::string expected = python_bytes(
      "class P(pickle.Pickler):\n"
      "    def persistent_id(self, obj):\n"
      "        return ('storage', 7) if obj == 'tensor' else None\n"
      "import io\n"
      "for p in (0, 2, 4):\n"
      "    f = io.BytesIO(); P(f, p).dump(['a', 'tensor', 5])\n"
      "    b = f.getvalue(); sys.stdout.buffer.write(len(b).to_bytes(8, 'little') + b)\n");
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  brine::Value pid = b.tuple({b.str("storage"), b.integer(7)});
  brine::WriteOptions wo;
  wo.persistent_id = [&](const brine::Value& v) {
    return v.is_str() && v.as<std::string_view>() == "tensor" ? pid : brine::Value();
  };
  auto records = split_records(expected);
  ASSERT_EQ(records.size(), 3u);
  std::size_t i = 0;
  for (int p : {0, 2, 4}) {
    const std::string& exp = records[i++];
    brine::Value root = b.list({b.str("a"), b.str("tensor"), b.integer(5)});
    wo.protocol = p;
    auto r = brine::dumps(root, wo);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, exp) << "protocol " << p;
  }
  // A persistent reference read from a pickle is written back as one.
  // pickle.dumps(["a", <persistent id 7>], 2) with a persistent_id hook
  std::string with_pid = brine_test::from_hex("80025d7100285801000000617101" "4b0751" "652e");
  auto doc2 = brine::loads(with_pid);
  ASSERT_TRUE(doc2) << doc2.error().to_string();
  EXPECT_EQ(dumps(doc2->root(), 2), with_pid);
}

TEST(Writer, DumpFileIsAtomic) {
  namespace fs = std::filesystem;
  fs::path dir = brine_test::unique_path(::testing::TempDir(), "brine_dump_file");
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path f = dir / "out.pkl";
  {
    std::ofstream(f, std::ios::binary) << "\x80\x04K\x07.";
  }
  // Read the file, write it back over itself at another protocol.
  {
    auto doc = brine::load_file(f);
    ASSERT_TRUE(doc) << doc.error().to_string();
    brine::WriteOptions o;
    o.protocol = 0;
    ASSERT_TRUE(brine::dump_file(f, doc->root(), o));
  }
  EXPECT_EQ(brine_test::read_file(f.string()), "I7\n.");
  // A failing write leaves the file as it was and no temporary file behind.
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  brine::WriteOptions o;
  o.protocol = 2;
  auto r = brine::dump_file(f, b.global("caf\xc3\xa9", "x"), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, brine::errc::unpicklable);
  EXPECT_EQ(brine_test::read_file(f.string()), "I7\n.");
  // An unwritable directory: an io_error, nothing created.
  auto r2 = brine::dump_file(dir / "missing" / "x.pkl", b.none());
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, brine::errc::io_error);
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
  fs::remove_all(dir);
}

TEST(Writer, DumpAppendsAndLeavesOutputAloneOnFailure) {
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  std::string out = "prefix";
  ASSERT_TRUE(brine::dump(b.integer(1), out, {}));
  EXPECT_EQ(out, "prefix\x80\x04K\x01."s);
  brine::WriteOptions o;
  o.protocol = 1;
  ASSERT_FALSE(brine::dump(b.global("caf\xc3\xa9", "x"), out, o));
  EXPECT_EQ(out, "prefix\x80\x04K\x01."s);
}

}  // namespace

TEST(Writer, InternedStrsAreOneObject) {
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  const std::string id = "id";
  brine::Value k1 = b.interned("id");
  brine::Value k2 = b.interned(id);  // other address, same text
  brine::Value k3 = b.interned("name");
  EXPECT_TRUE(k1.same(k2));
  EXPECT_FALSE(k1.same(k3));
  EXPECT_FALSE(k1.same(b.str("id")));
  brine::Value root = b.list({k1, k2, k3, b.interned("name"), b.str("id")});
  std::string expected = python_bytes("a = 'id'\nb = 'name'\nsys.stdout.buffer.write(pickle.dumps([a, a, b, b, ''.join(['i', 'd'])], 4))");
  EXPECT_EQ(dumps(root, 4), expected);
}

// dumps(doc) skips memo entries for what the reader saw referenced once; the bytes must be those
// of dumps(doc.root()), which memoizes everything, for every pickle of the generated corpus and
// of ../shared/corpus, at every protocol (and a Builder on the document drops the knowledge).
TEST(Writer, DocumentFormWritesWhatTheValueFormWrites) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const fs::path& dir : {fs::path(brine_test::source_dir()) / "tests/corpus/gen", fs::path(brine_test::shared_dir()) / "corpus"}) {
    if (!fs::exists(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".pkl" || ext == ".pickle" || ext == ".p")) files.push_back(e.path());
    }
  }
  ASSERT_GT(files.size(), 500u);
  std::size_t compared = 0;
  for (const fs::path& f : files) {
    brine::ReadOptions ro;
    ro.encoding = brine::StringEncoding::latin1;
    auto doc = brine::load_file(f, ro);
    if (!doc) continue;
    for (int p = 0; p <= 5; ++p) {
      brine::WriteOptions o;
      o.protocol = p;
      auto by_value = brine::dumps(doc->root(), o);
      auto by_doc = brine::dumps(*doc, o);
      ASSERT_EQ(static_cast<bool>(by_value), static_cast<bool>(by_doc)) << f << " protocol " << p;
      if (!by_value) continue;
      EXPECT_EQ(brine_test::to_hex(*by_doc), brine_test::to_hex(*by_value)) << f << " protocol " << p;
      ++compared;
    }
  }
  EXPECT_GT(compared, 3000u);
}

TEST(Writer, BuilderOnALoadedDocumentKeepsSharing) {
  // [l, l] with l = ['abc']: after a Builder adds another reference to l's str, the document
  // form must still write it once and refer back.
  std::string data = python_bytes("l = ['abc']\nsys.stdout.buffer.write(pickle.dumps([l, l], 4))");
  auto doc = brine::loads(data);
  ASSERT_TRUE(doc) << doc.error().to_string();
  EXPECT_EQ(*brine::dumps(*doc), data);
  brine::Value s = doc->root().elements()[0].elements()[0];
  {
    brine::Builder b(*doc);
    b.append(doc->root(), s);
  }
  std::string expected = python_bytes("l = ['abc']\nsys.stdout.buffer.write(pickle.dumps([l, l, l[0]], 4))");
  EXPECT_EQ(*brine::dumps(*doc), expected);
  EXPECT_EQ(*brine::dumps(doc->root()), expected);
}

TEST(Writer, GlobalsWithNewlinesInTheirNamesStayApart) {
  // [STACK_GLOBAL('a\nb', 'c'), STACK_GLOBAL('a', 'b\nc')]: a key joining module and name with
  // '\n' made them one global (read as the same node, written as BINGET of the first).
  const std::string data = "\x80\x04(\x8c\x03" "a\nb\x8c\x01" "c\x93\x8c\x01" "a\x8c\x03" "b\nc\x93l."s;
  auto doc = brine::loads(data);
  ASSERT_TRUE(doc) << doc.error().to_string();
  auto items = doc->root().elements();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_FALSE(items[0].same(items[1]));
  EXPECT_EQ(items[0].module(), "a\nb");
  EXPECT_EQ(items[1].name(), "b\nc");
  brine::Document built = brine::Document::create();
  brine::Builder b(built);
  EXPECT_FALSE(b.global("a\nb", "c").same(b.global("a", "b\nc")));
  for (int p = 4; p <= 5; ++p) {
    std::string out = dumps(doc->root(), p);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\x93'), 2) << "protocol " << p;
    auto back = brine::loads(out);
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->root().elements()[1].module(), "a");
  }
}
