// Unit tests of the unpickler: opcodes, identity, library types, hooks, limits, errors.
// The pickles in kCpythonVectors were written by CPython 3.11 (/usr/bin/python3) and the expected
// text is the repr() CPython printed after loading them.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "brine/brine.hpp"
#include "test_util.hpp"

using namespace std::literals;
using brine_test::from_hex;
using brine_test::show;
using brine_test::show_hex;

namespace {

struct Vector {
  const char* name;
  const char* hex;
  const char* repr;
};

const Vector kCpythonVectors[] = {
    {"big_pos_p2",
     "80028a090000000000000000012e",
     "18446744073709551616"},
    {"big_neg_p2",
     "80028a09fbfffffffffffffffe2e",
     "-18446744073709551621"},
    {"int_min_p2",
     "80028a0800000000000000802e",
     "-9223372036854775808"},
    {"u64max_p4",
     "8004950c000000000000008a09ffffffffffffffff002e",
     "18446744073709551615"},
    {"floats_p0",
     "286c70300a46302e310a61462d302e300a614631652b31360a614631652d30350a6146696e660a61462d696e660a6146"
     "35652d3332340a6146312e37393736393331333438363233313537652b3330380a61463130302e300a612e",
     "[0.1, -0.0, 1e+16, 1e-05, inf, -inf, 5e-324, 1.7976931348623157e+308, 100.0]"},
    {"floats_p1",
     "5d710028473fb999999999999a478000000000000000474341c37937e08000473ee4f8b588e368f1477ff00000000000"
     "00470000000000000001652e",
     "[0.1, -0.0, 1e+16, 1e-05, inf, 5e-324]"},
    {"str_p0",
     "286c70300a56697427730a70310a61566122620a70320a61565c75303035630a70330a61565c7530303061095c753030"
     "30307f805c75323030620a70340a61565c5530303031663630300a70350a61565c75643830300a70360a612e",
     "[\"it's\", 'a\"b', '\\\\', '\\n\\t\\x00\\x7f\\x80\\u200b', '😀', '\\ud800']"},
    {"str_p3",
     "80035d71002858040000006974277371015803000000612262710258010000005c710358090000000a09007fc280e280"
     "8b71045804000000f09f988071055803000000eda0807106652e",
     "[\"it's\", 'a\"b', '\\\\', '\\n\\t\\x00\\x7f\\x80\\u200b', '😀', '\\ud800']"},
    {"bytes_p2",
     "80025d710028635f5f6275696c74696e5f5f0a62797465730a710129527102635f636f646563730a656e636f64650a71"
     "03580300000000c3bf710458060000006c6174696e317105867106527107635f5f6275696c74696e5f5f0a6279746561"
     "727261790a71086803580200000061627109680586710a52710b85710c52710d652e",
     "[b'', b'\\x00\\xff', bytearray(b'ab')]"},
    {"bytes_p5",
     "80059519000000000000005d9428430094430200ff94960200000000000000616294652e",
     "[b'', b'\\x00\\xff', bytearray(b'ab')]"},
    {"frozen_p4",
     "8004950a00000000000000284b014b024b0391942e",
     "frozenset({1, 2, 3})"},
    {"frozen_p2",
     "8002635f5f6275696c74696e5f5f0a66726f7a656e7365740a71005d7101284b014b024b03658571025271032e",
     "frozenset({1, 2, 3})"},
    {"tuples_p2",
     "80025d710028294b018571014b014b028671024b014b024b03877103284b014b024b034b04747104652e",
     "[(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)]"},
    {"tuples_p0",
     "286c70300a2874612849310a7470310a612849310a49320a7470320a612849310a49320a49330a7470330a612849310a"
     "49320a49330a49340a7470340a612e",
     "[(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)]"},
    {"range_p2",
     "80025d710028635f5f6275696c74696e5f5f0a7872616e67650a71014b004b054b0187710252710368014b014b0a4b03"
     "877104527105652e",
     "[range(0, 5), range(1, 10, 3)]"},
    {"exc_p4",
     "8004956d000000000000005d94288c086275696c74696e73948c0a56616c75654572726f729493948c03626164948594"
     "529468018c084b65794572726f7294939429529468018c12556e69636f6465456e636f64654572726f72949394288c05"
     "6173636969948c0178944b004b018c01729474945294652e",
     "[ValueError('bad'), KeyError(), UnicodeEncodeError('ascii', 'x', 0, 1, 'r')]"},
    {"nested_p4",
     "80049524000000000000007d948c0161947d948c0162947d948c0163945d94284b017d948c0164942973657373732e",
     "{'a': {'b': {'c': [1, {'d': ()}]}}}"},
    {"ellipsis_p2",
     "80025d710028635f5f6275696c74696e5f5f0a456c6c69707369730a7101635f5f6275696c74696e5f5f0a4e6f74496d"
     "706c656d656e7465640a7102635f5f6275696c74696e5f5f0a6c6f6e670a7103635f5f6275696c74696e5f5f0a6c656e"
     "0a7104652e",
     "[Ellipsis, NotImplemented, <class 'int'>, <built-in function len>]"},
    {"rec_tuple_p2",
     "80025d71006800857101613068012e",
     "([(...)],)"},
    {"rec_dict_p0",
     "286470300a566d650a70310a67300a732e",
     "{'me': {...}}"},
    {"shared_p3",
     "80035d7100285d71014b01616801652e",
     "[[1], [1]]"},
    {"dict_p2",
     "80027d71002858010000006171015d7102284b014740040000000000004e886558010000006271034b01857104580100"
     "0000637105635f636f646563730a656e636f64650a710658020000007879710758060000006c6174696e317108867109"
     "52710a752e",
     "{'a': [1, 2.5, None, True], 'b': (1,), 'c': b'xy'}"},
    {"odict_p2",
     "800263636f6c6c656374696f6e730a4f726465726564446963740a7100295271012858010000007871024b0158010000"
     "007971035d71044b0261752e",
     "OrderedDict([('x', 1), ('y', [2])])"},
    {"dt_p0",
     "636461746574696d650a6461746574696d650a70300a28635f636f646563730a656e636f64650a70310a285607e40511"
     "5c75303030642d1e01e2400a70320a566c6174696e310a70330a7470340a5270350a636461746574696d650a74696d65"
     "7a6f6e650a70360a28636461746574696d650a74696d6564656c74610a70370a2849300a49373230300a49300a747038"
     "0a5270390a56434553540a7031300a747031310a527031320a747031330a527031340a2e",
     "datetime.datetime(2020, 5, 17, 13, 45, 30, 123456, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200), 'CEST'))"},
    {"dt_p4",
     "8004955f000000000000008c086461746574696d65948c086461746574696d65949394430a07e405110d2d1e01e24094"
     "68008c0874696d657a6f6e6594939468008c0974696d6564656c74619493944b004d201c4b00879452948c0443455354"
     "9486945294869452942e",
     "datetime.datetime(2020, 5, 17, 13, 45, 30, 123456, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200), 'CEST'))"},
    {"set_p2",
     "8002635f5f6275696c74696e5f5f0a7365740a71005d7101284b034b644b054b094affffffff658571025271032e",
     "{3, 100, 5, 9, -1}"},
    {"set_p4",
     "80049512000000000000008f94284b034b644b054b094affffffff902e",
     "{3, 100, 5, 9, -1}"},
    {"dd_p2",
     "800263636f6c6c656374696f6e730a64656661756c74646963740a7100635f5f6275696c74696e5f5f0a6c6973740a71"
     "0185710252710358010000006b71045d71054b0161732e",
     "defaultdict(<class 'list'>, {'k': [1]})"},
    {"counter_p4",
     "80049541000000000000008c0b636f6c6c656374696f6e73948c07436f756e7465729493947d94288c0161944b058c01"
     "62944b028c0172944b028c0163944b018c0164944b0175859452942e",
     "Counter({'a': 5, 'b': 2, 'r': 2, 'c': 1, 'd': 1})"},
    {"deque_p4",
     "80049526000000000000008c0b636f6c6c656374696f6e73948c056465717565949394294b0286945294284b024b0365"
     "2e",
     "deque([2, 3], maxlen=2)"},
    {"uuid_p0",
     "63636f70795f7265670a5f7265636f6e7374727563746f720a70300a2863757569640a555549440a70310a635f5f6275"
     "696c74696e5f5f0a6f626a6563740a70320a4e7470330a5270340a286470350a56696e740a70360a4c32343139373835"
     "373136313031313731353136323137313833393633363938383737383130344c0a73622e",
     "UUID('12345678-1234-5678-1234-567812345678')"},
    {"dec_p2",
     "800263646563696d616c0a446563696d616c0a710058080000002d312e3530452b3371018571025271032e",
     "Decimal('-1.50E+3')"},
    {"td_p2",
     "8002636461746574696d650a74696d6564656c74610a71004affffffff4b054b078771015271022e",
     "datetime.timedelta(days=-1, seconds=5, microseconds=7)"},
    {"complex_p0",
     "286c70300a635f5f6275696c74696e5f5f0a636f6d706c65780a70310a2846312e300a46322e300a7470320a5270330a"
     "6167310a28462d302e300a462d312e300a7470340a5270350a6167310a2846302e300a46322e300a7470360a5270370a"
     "6167310a2846312e350a466e616e0a7470380a5270390a612e",
     "[(1+2j), (-0-1j), 2j, (1.5+nanj)]"},
};

brine::Document load(std::string_view data, const brine::ReadOptions& opt = {}) {
  auto r = brine::loads(data, opt);
  if (!r) ADD_FAILURE() << r.error().to_string();
  return std::move(r).value();
}

brine::Error load_error(std::string_view data, const brine::ReadOptions& opt = {}) {
  auto r = brine::loads(data, opt);
  EXPECT_FALSE(r.ok()) << "expected an error for " << brine::repr(r.ok() ? r->root() : brine::Value());
  if (r) return {};
  return r.error();
}

}  // namespace

TEST(Reader, CpythonVectors) {
  for (const Vector& v : kCpythonVectors) EXPECT_EQ(show_hex(v.hex), v.repr) << v.name;
}

TEST(Reader, TextOpcodes) {
  EXPECT_EQ(show("N."), "None");
  EXPECT_EQ(show("I01\n."), "True");
  EXPECT_EQ(show("I00\n."), "False");
  EXPECT_EQ(show("I-0\n."), "False");   // load_int: a 3-byte line with value 0 is False
  EXPECT_EQ(show("I0x10\n."), "16");
  EXPECT_EQ(show("I010\n."), "8");      // C strtol base 0: leading 0 is octal
  EXPECT_EQ(show("I 5\n."), "5");
  EXPECT_EQ(show("I1_0\n."), "10");     // falls back to int(s, 0)
  EXPECT_EQ(show("I\x00\n."sv), "0");      // strtol stops at the NUL: accepted, value 0
  EXPECT_EQ(show("I0\x00\n."sv), "False");  // a 3-byte line with value 0
  EXPECT_EQ(show("I999999999999999999999999999999\n."), "999999999999999999999999999999");
  EXPECT_EQ(show("L123L\n."), "123");
  EXPECT_EQ(show("L123\n."), "123");
  EXPECT_EQ(show("L-0x10L\n."), "-16");
  EXPECT_EQ(show("Finf\n."), "inf");
  EXPECT_EQ(show("F-nan\n."), "nan");
  EXPECT_EQ(show("F1e-999\n."), "0.0");
  EXPECT_EQ(show("S'a\\x00\\'b'\n."), "\"a\\x00'b\"");
  EXPECT_EQ(show("S\"\\n\"\n."), "'\\n'");
  EXPECT_EQ(show("V\\u03c0\\U0001f600\n."), "'\xcf\x80\xf0\x9f\x98\x80'");
  EXPECT_EQ(show("(Vab\nVcd\nl."), "['ab', 'cd']");
  EXPECT_EQ(show("(I1\nI2\nd."), "{1: 2}");
  EXPECT_EQ(show("(I1\nI2\nt."), "(1, 2)");
}

TEST(Reader, TextOpcodeErrors) {
  EXPECT_EQ(load_error("I12").code, brine::errc::truncated);
  EXPECT_EQ(load_error("Iabc\n.").code, brine::errc::bad_argument);
  EXPECT_EQ(load_error("Lxyz\n.").code, brine::errc::bad_argument);
  EXPECT_EQ(load_error("L010\n.").code, brine::errc::bad_argument);
  EXPECT_EQ(load_error("F1e999\n.").code, brine::errc::bad_argument);
  EXPECT_EQ(load_error("F 1.5\n.").code, brine::errc::bad_argument);
  EXPECT_EQ(load_error("Fnan(1)\n.").code, brine::errc::bad_argument);
  EXPECT_EQ(load_error("Sabc\n.").code, brine::errc::bad_argument);
  EXPECT_EQ(load_error("S'\\'\n.").code, brine::errc::bad_argument);
  EXPECT_EQ(load_error("Va\\u12\n.").code, brine::errc::unicode_error);
  EXPECT_EQ(load_error("Va\np-1\n.").code, brine::errc::bad_argument);
}

TEST(Reader, Python2Strings) {
  std::string p = "U\x05" "caf\xc3\xa9.";
  EXPECT_EQ(load_error(p).code, brine::errc::unicode_error);
  brine::ReadOptions latin1;
  latin1.encoding = brine::StringEncoding::latin1;
  EXPECT_EQ(show(p, latin1), "'caf\xc3\x83\xc2\xa9'");  // 'cafÃ©'
  brine::ReadOptions bytes;
  bytes.encoding = brine::StringEncoding::bytes;
  EXPECT_EQ(show(p, bytes), "b'caf\\xc3\\xa9'");
  brine::ReadOptions utf8;
  utf8.encoding = brine::StringEncoding::utf8;
  EXPECT_EQ(show(p, utf8), "'caf\xc3\xa9'");
  EXPECT_EQ(show("T\x03\x00\x00\x00" "abc."sv), "'abc'");
  EXPECT_EQ(show("S'\\xe9'\n.", latin1), "'\xc3\xa9'");
}

TEST(Reader, FixImports) {
  // protocol 2 pickle naming Python 2 modules
  EXPECT_EQ(show("\x80\x02" "c__builtin__\nset\n]K\x01" "a\x85R."sv), "{1}");
  EXPECT_EQ(show("\x80\x02" "cexceptions\nStandardError\nU\x03ugh\x85R."sv), "Exception('ugh')");
  EXPECT_EQ(show("\x80\x02" "cUserDict\nUserDict\n)\x81."sv), "collections.UserDict()");
  brine::ReadOptions raw;
  raw.fix_imports = false;
  EXPECT_EQ(show("\x80\x02" "cUserDict\nUserDict\n)\x81."sv, raw), "UserDict.UserDict()");
  // protocol 3 pickles are not mapped
  EXPECT_EQ(show("\x80\x03" "cUserDict\nUserDict\n)\x81."sv), "UserDict.UserDict()");
}

TEST(Reader, IdentityAndCycles) {
  auto doc = load(from_hex("80035d7100285d71014b01616801652e"));  // x = [1]; [x, x]
  brine::Value root = doc.root();
  ASSERT_EQ(root.size(), 2u);
  EXPECT_TRUE(root[0].same(root[1]));
  brine::ReprOptions refs;
  refs.refs = true;
  EXPECT_EQ(brine::repr(root, refs), "[#0=[1], #0#]");

  auto rec = load("(lp0\ng0\na."sv);  // l = []; l.append(l)
  EXPECT_EQ(brine::repr(rec.root()), "[[...]]");
  EXPECT_EQ(brine::repr(rec.root(), refs), "#0=[#0#]");
  EXPECT_TRUE(rec.root()[0].same(rec.root()));

  auto d = load(from_hex("286470300a566d650a70310a67300a732e"));  // d['me'] = d
  EXPECT_TRUE(d.root()["me"].same(d.root()));

  // The same str object memoized twice stays one object; equal strings written twice do not.
  auto s = load("\x80\x04]\x94(\x8c\x03" "abc\x94h\x01\x8c\x03" "abc\x94" "e."sv);
  EXPECT_TRUE(s.root()[0].same(s.root()[1]));
  EXPECT_FALSE(s.root()[0].same(s.root()[2]));
  // CPython caches empty and one-character latin-1 strings: they are one object.
  auto c = load("\x80\x04]\x94(\x8c\x01" "a\x8c\x01" "a\x8c\x00\x8c\x00\x8c\x02\xc3\xa9\x8c\x02\xc3\xa9" "e."sv);
  EXPECT_TRUE(c.root()[0].same(c.root()[1]));
  EXPECT_TRUE(c.root()[2].same(c.root()[3]));
  EXPECT_TRUE(c.root()[4].same(c.root()[5]));
}

TEST(Reader, DictSemantics) {
  // duplicate keys: later value wins, first position kept; 1 == 1.0 == True
  EXPECT_EQ(show("(I1\nI2\nF1.0\nI3\nI01\nI4\nS'a'\nI5\nd."), "{1: 4, 'a': 5}");
  EXPECT_EQ(load_error("(]I1\nd."sv).code, brine::errc::type_error);  // unhashable key
  EXPECT_EQ(load_error("}]K\x01s."sv).code, brine::errc::type_error);
  // tuple keys hash element-wise; a list inside makes them unhashable
  EXPECT_EQ(show("}(K\x01K\x02\x86K\x03K\x01K\x02\x86K\x04u."sv), "{(1, 2): 4}");
  EXPECT_EQ(load_error("}(]\x85K\x03u."sv).code, brine::errc::type_error);
  // a big dict goes through the hash index
  std::string big = "}(";
  auto binint = [&big](std::int32_t i, char value) {
    big.push_back('J');
    big.append(reinterpret_cast<const char*>(&i), 4);
    big.push_back('K');
    big.push_back(value);
  };
  for (int i = 0; i < 3000; ++i) binint(i, 1);
  for (int i = 0; i < 3000; i += 7) binint(i, 2);
  big += "u.";
  auto doc = load(big);
  EXPECT_EQ(doc.root().size(), 3000u);
  EXPECT_EQ(doc.root().find(brine::Builder(doc).integer(7)).as<int>(), 2);
  EXPECT_EQ(doc.root().find(brine::Builder(doc).integer(8)).as<int>(), 1);
}

TEST(Reader, DictsWithTheSameKeysShareTheirIndex) {
  // Two dicts of 10 items built from the same memoized keys; then the second gets more items and
  // an update: copy-on-write must keep the first one intact.
  std::string p = "\x80\x04]\x94(}\x94("s;
  for (int i = 0; i < 10; ++i) {
    p += "\x8c\x02k"s;
    p.push_back(static_cast<char>('0' + i));
    p += "\x94K"s;
    p.push_back(static_cast<char>(i));
  }
  p += "u}\x94("s;
  for (int i = 0; i < 10; ++i) {
    p += "h"s;
    p.push_back(static_cast<char>(2 + i));
    p += "K"s;
    p.push_back(static_cast<char>(100 + i));
  }
  p += "u\x8c\x03new\x94K\x07sh\x02K\x63s" "e."s;  // d2['new'] = 7; d2['k0'] = 99
  auto doc = load(p);
  brine::Value d1 = doc.root()[0], d2 = doc.root()[1];
  EXPECT_EQ(d1.size(), 10u);
  EXPECT_EQ(d2.size(), 11u);
  EXPECT_FALSE(d1.find("new").valid());
  EXPECT_EQ(d2["new"].as<int>(), 7);
  EXPECT_EQ(d2["k0"].as<int>(), 99);
  EXPECT_EQ(d1["k0"].as<int>(), 0);
  EXPECT_EQ(d2["k9"].as<int>(), 109);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d1[std::string("k") + char('0' + i)].as<int>(), i);
}

TEST(Reader, SetOrderIsCpythons) {
  EXPECT_EQ(show("\x8f(K\x03Kd\x8a\x01\xffK\x05K\x09\x90."sv), "{3, 100, 5, 9, -1}");
  EXPECT_EQ(show("(K\x01K\x01" "F1.0\nI01\n\x91."sv), "frozenset({1})");
  EXPECT_EQ(load_error("\x8f(]\x90."sv).code, brine::errc::type_error);
}

TEST(Reader, TypedAccess) {
  auto doc = load(from_hex("80027d71002858010000006171015d7102284b014740040000000000004e886558010000006271034b018571"
                           "045801000000637105635f636f646563730a656e636f64650a710658020000007879710758060000006c61"
                           "74696e31710886710952710a752e"));
  brine::Value r = doc.root();
  EXPECT_TRUE(r.is_dict());
  EXPECT_EQ(r["a"][0].as<int>(), 1);
  EXPECT_EQ(r["a"][-3].as<double>(), 2.5);
  EXPECT_EQ(r["a"][1].as<double>(), 2.5);
  EXPECT_TRUE(r["a"][2].is_none());
  EXPECT_TRUE(r["a"][3].as<bool>());
  EXPECT_EQ(r["b"].kind(), brine::Kind::tuple);
  auto bytes = r["c"].as<std::span<const std::byte>>();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "xy");
  EXPECT_FALSE(r.find("zz").valid());
  try {
    (void)r["zz"];
    FAIL();
  } catch (const brine::Exception& e) {
    EXPECT_EQ(e.error().code, brine::errc::key_not_found);
  }
  try {
    (void)r["a"][9];
    FAIL();
  } catch (const brine::Exception& e) {
    EXPECT_EQ(e.error().code, brine::errc::out_of_range);
  }
  auto bad = r["a"][0].get<std::string>();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, brine::errc::wrong_kind);
  EXPECT_EQ(bad.error().message, "expected str, got int");
  EXPECT_FALSE(r["a"][0].get<std::uint8_t>().ok() == false);
  auto big = load(from_hex("80028a090000000000000000012e"));  // 2**64
  EXPECT_EQ(big.root().get<std::int64_t>().error().code, brine::errc::out_of_range);
  EXPECT_EQ(big.root().as<brine::BigInt>().to_string(), "18446744073709551616");
  auto u64 = load(from_hex("8004950c000000000000008a09ffffffffffffffff002e"));
  EXPECT_EQ(u64.root().as<std::uint64_t>(), 18446744073709551615ull);
  EXPECT_EQ(load("K\xff."sv).root().get<std::int8_t>().error().code, brine::errc::out_of_range);
}

TEST(Reader, LibraryTypes) {
  auto dt = load(from_hex("8004955f000000000000008c086461746574696d65948c086461746574696d65949394430a07e405110d2d1e"
                          "01e2409468008c0874696d657a6f6e6594939468008c0974696d6564656c74619493944b004d201c4b0087"
                          "9452948c04434553549486945294869452942e"));
  EXPECT_TRUE(dt.root().is_instance_of("datetime", "datetime"));
  EXPECT_EQ(dt.root().library_type(), brine::LibraryType::datetime);
  auto v = dt.root().as<brine::DateTime>();
  EXPECT_EQ(v.year, 2020);
  EXPECT_EQ(v.month, 5);
  EXPECT_EQ(v.microsecond, 123456);
  auto tz = v.tzinfo.as<brine::TimeZone>();
  EXPECT_EQ(tz.offset.seconds, 7200);
  EXPECT_EQ(tz.name.as<std::string_view>(), "CEST");
  auto u = load(from_hex("63636f70795f7265670a5f7265636f6e7374727563746f720a70300a2863757569640a555549440a70310a63"
                         "5f5f6275696c74696e5f5f0a6f626a6563740a70320a4e7470330a5270340a286470350a56696e740a70360a"
                         "4c32343139373835373136313031313731353136323137313833393633363938383737383130344c0a73622e"));
  EXPECT_EQ(u.root().as<brine::Uuid>().to_string(), "12345678-1234-5678-1234-567812345678");
  auto od = load(from_hex("800263636f6c6c656374696f6e730a4f726465726564446963740a7100295271012858010000007871024b01"
                          "58010000007971035d71044b0261752e"));
  EXPECT_EQ(od.root()["y"][0].as<int>(), 2);
  EXPECT_EQ(od.root().size(), 2u);
  // Python 2 form: OrderedDict([[k, v], ...])
  EXPECT_EQ(show("ccollections\nOrderedDict\n(((S'a'\nI1\nl(S'a'\nI2\nlltR."),
            "OrderedDict([('a', 2)])");
}

TEST(Reader, LibraryItemsFromConstructorArgumentsOnlyWhenTheClassIsCalled) {
  // deque / OrderedDict / Counter called with their items (REDUCE, INST, OBJ) hold them...
  EXPECT_EQ(show("ccollections\ndeque\n((lI1\naI2\natR."), "deque([1, 2])");
  EXPECT_EQ(show("((lI1\naI2\naicollections\ndeque\n."), "deque([1, 2])");
  EXPECT_EQ(show("(ccollections\ndeque\n(lI1\naI2\nao."), "deque([1, 2])");
  EXPECT_EQ(show("((l(I1\nI2\ntaicollections\nOrderedDict\n."), "OrderedDict([(1, 2)])");
  EXPECT_EQ(show("ccollections\nCounter\n((dI1\nI2\nstR."), "Counter({1: 2})");
  // ...but cls.__new__ ignores its arguments: NEWOBJ(deque, ([1, 2],)) is CPython's deque([])
  // (fuzz/crashes/roundtrip-newobj-args-as-items.pkl), and so is copyreg.__newobj__.
  EXPECT_EQ(show_hex("800263636f6c6c656374696f6e730a64657175650a5d7100284b014b026585812e"), "deque([])");
  EXPECT_EQ(show("\x80\x02" "ccollections\nOrderedDict\n]](K\x01K\x02" "ea\x85\x81."sv), "OrderedDict()");
  auto d = load("ccopyreg\n__newobj__\n(ccollections\ndeque\n(lI1\naI2\natR."sv);
  EXPECT_EQ(d.root().library_type(), brine::LibraryType::deque);
  EXPECT_EQ(d.root().elements().size(), 0u);
  // Counter(iterable) counts the iterable's elements (CPython: Counter({(1, 2): 1})): not items.
  auto c = load("ccollections\nCounter\n((lp0\n(I1\nI2\ntatR."sv);
  EXPECT_EQ(c.root().library_type(), brine::LibraryType::counter);
  EXPECT_EQ(c.root().items().size(), 0u);
  // deque() takes at most 2 arguments: with more, CPython fails; the record keeps them.
  EXPECT_EQ(show("ccollections\ndeque\n((lI1\naI2\naI5\nI7\ntR."), "collections.deque(args=([1, 2], 5, 7))");
}

TEST(Reader, UnknownObjectsAreInertRecords) {
  // A pickle naming os.system as a REDUCE callable is only data.
  auto doc = load("cos\nsystem\n(S'echo hacked'\ntR."sv);
  brine::Value v = doc.root();
  EXPECT_EQ(v.kind(), brine::Kind::object);
  EXPECT_EQ(v.construction(), brine::Construction::reduce);
  EXPECT_EQ(v.callable().module(), "os");
  EXPECT_EQ(v.callable().name(), "system");
  EXPECT_EQ(brine::repr(v), "os.system(args=('echo hacked',))");
  // NEWOBJ + BUILD: state and attributes
  auto obj = load("\x80\x02" "c__main__\nPoint\n)\x81}(X\x01\x00\x00\x00xK\x01X\x01\x00\x00\x00yK\x02ub."sv);
  EXPECT_EQ(brine::repr(obj.root()), "__main__.Point(state={'x': 1, 'y': 2})");
  EXPECT_EQ(obj.root().attr("y").as<int>(), 2);
  EXPECT_TRUE(obj.root().is_instance_of("__main__", "Point"));
  EXPECT_EQ(obj.root().type_name(), "__main__.Point");
  // A forbidding global filter
  brine::ReadOptions strict;
  strict.global_filter = [](std::string_view m, std::string_view) {
    return m == "os" ? brine::GlobalPolicy::forbid : brine::GlobalPolicy::allow;
  };
  EXPECT_EQ(load_error("cos\nsystem\n(S'x'\ntR."sv, strict).code, brine::errc::forbidden_global);
}

TEST(Reader, ReduceValidation) {
  EXPECT_EQ(load_error("N)R."sv).code, brine::errc::type_error);
  EXPECT_EQ(load_error("cbuiltins\nint\nNR."sv).code, brine::errc::type_error);
  EXPECT_EQ(load_error("cbuiltins\nlen\n)\x81."sv).code, brine::errc::type_error);
  EXPECT_EQ(load_error("cbuiltins\nint\n)N\x92."sv).code, brine::errc::type_error);
  EXPECT_EQ(show("cbuiltins\nint\n)R."sv), "0");
  EXPECT_EQ(show("cbuiltins\nint\n)\x81."sv), "0");
  EXPECT_EQ(show("c__builtin__\nbytearray\n(V\x00U\xaa\xff\nS'latin-1'\ntR."sv), "bytearray(b'\\x00U\\xaa\\xff')");
  EXPECT_EQ(load_error("\x80\x03" "c_codecs\nencode\nX\x03\x00\x00\x00\xe2\x82\xacX\x06\x00\x00\x00latin1\x86R."sv).code,
            brine::errc::value_error);
}

TEST(Reader, Hooks) {
  // persistent IDs: inert by default
  EXPECT_EQ(show("Pstorage0\n."), "persistent_id('storage0')");
  EXPECT_EQ(show("K\x05Q."sv), "persistent_id(5)");
  brine::ReadOptions o;
  o.persistent_load = [](const brine::Value& pid, brine::Builder& b) -> brine::Result<brine::Value> {
    if (pid.as<std::string_view>() == "bad") {
      brine::Error e;
      e.code = brine::errc::persistent_id;
      e.message = "unknown id";
      return e;
    }
    return b.tuple({b.str("resolved"), pid});
  };
  EXPECT_EQ(show("Pabc\n.", o), "('resolved', 'abc')");
  EXPECT_EQ(load_error("Pbad\n.", o).code, brine::errc::persistent_id);
  EXPECT_EQ(load_error("P\xe2\x88\x85\n."sv).code, brine::errc::unicode_error);
  // extension codes
  EXPECT_EQ(load_error("\x82\x07."sv).code, brine::errc::extension_code);
  brine::ReadOptions ext;
  ext.extensions[7] = {"collections", "OrderedDict"};
  EXPECT_EQ(show("\x82\x07)R."sv, ext), "OrderedDict()");
  EXPECT_EQ(load_error("\x84\x00\x00\x00\x00."sv, ext).code, brine::errc::bad_argument);
  // out-of-band buffers
  EXPECT_EQ(load_error("\x80\x05\x97."sv).code, brine::errc::out_of_band_buffer);
  std::vector<brine::Buffer> bufs{{std::as_bytes(std::span<const char>("xyz", 3)), false}};
  brine::ReadOptions ob;
  ob.buffers = &bufs;
  EXPECT_EQ(show("\x80\x05\x97\x98."sv, ob), "<out-of-band buffer #0, 3 bytes, read-only>");
  EXPECT_EQ(show("\x80\x05\x97."sv, ob), "<out-of-band buffer #0, 3 bytes>");
  EXPECT_EQ(load_error("\x80\x05\x97\x97."sv, ob).code, brine::errc::out_of_band_buffer);
}

TEST(Reader, BuffersAsSetElementsAndKeys) {
  // A writable out-of-band buffer is unhashable (CPython: a bytearray or a writable PickleBuffer),
  // also inside a tuple; a read-only one hashes and compares as bytes of its content (CPython: a
  // read-only memoryview). They were hashed by identity (fuzz/crashes/
  // roundtrip-buffer-hashed-by-identity.pkl: written in band, the set no longer loaded).
  std::vector<brine::Buffer> writable{{std::as_bytes(std::span<const char>("xyz", 3)), false}};
  std::vector<brine::Buffer> readonly{{std::as_bytes(std::span<const char>("xyz", 3)), true},
                                      {std::as_bytes(std::span<const char>("xyz", 3)), true}};
  brine::ReadOptions w, r;
  w.buffers = &writable;
  r.buffers = &readonly;
  EXPECT_EQ(load_error("\x80\x05\x8f(\x97\x90."sv, w).code, brine::errc::type_error);       // {buffer}
  EXPECT_EQ(load_error("\x80\x05}\x97K\x01s."sv, w).code, brine::errc::type_error);         // {buffer: 1}
  EXPECT_EQ(load_error("\x80\x05\x8f(\x97\x85\x90."sv, w).code, brine::errc::type_error);  // {(buffer,)}
  EXPECT_EQ(load("\x80\x05\x8f(\x97\x98\x90."sv, w).root().size(), 1u);  // READONLY_BUFFER: hashable
  EXPECT_EQ(load("\x80\x05\x8f(\x97\x97\x90."sv, r).root().size(), 1u);  // two equal read-only buffers
  auto d = load("\x80\x05}(\x97K\x01" "C\x03xyzK\x02u."sv, r);             // {buffer: 1, b'xyz': 2}
  ASSERT_EQ(d.root().size(), 1u);
  EXPECT_EQ(d.root().items()[0].value.as<int>(), 2);
  EXPECT_EQ(d.root().items()[0].key.kind(), brine::Kind::buffer);
}

TEST(Reader, StackAndMarkErrors) {
  EXPECT_EQ(load_error("").code, brine::errc::eof);
  EXPECT_EQ(load_error("N").code, brine::errc::eof);
  EXPECT_EQ(load_error(".").code, brine::errc::stack_underflow);
  EXPECT_EQ(load_error("(.").code, brine::errc::unexpected_mark);
  EXPECT_EQ(load_error("t").code, brine::errc::missing_mark);
  EXPECT_EQ(load_error("(e").code, brine::errc::stack_underflow);
  EXPECT_EQ(load_error("]((\x90"sv).code, brine::errc::unexpected_mark);
  EXPECT_EQ(load_error("g0\np0").code, brine::errc::memo_missing);
  EXPECT_EQ(load_error("\xff"sv).code, brine::errc::invalid_opcode);
  EXPECT_EQ(load_error("\x80\x06N."sv).code, brine::errc::unsupported_protocol);
  EXPECT_EQ(show("NN."), "None");           // extra stack items are ignored, as in CPython
  EXPECT_EQ(show("(N0N."), "None");          // POP of a MARK
  auto e = load_error("\x80\x04\x8c\x39" "abc"sv);
  EXPECT_EQ(e.code, brine::errc::truncated);
  EXPECT_EQ(e.offset, 2u);
  EXPECT_EQ(e.opcode, 0x8c);
  EXPECT_EQ(e.to_string(), "byte 2 (0x8c SHORT_BINUNICODE): truncated: needs 57 bytes, 3 remain");
}

TEST(Limits, HugeDeclaredLengthsAllocateNothing) {
  // 20 bytes claiming a 2^62-byte bytes object
  std::string p = "\x80\x04\x8e" "\x00\x00\x00\x00\x00\x00\x00\x40" "0123456789"s;
  auto r = brine::loads(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, brine::errc::truncated);
  // BINUNICODE / BINBYTES / LONG4 / FRAME likewise
  EXPECT_EQ(load_error("X\xff\xff\xff\xff" "abc"sv).code, brine::errc::truncated);
  EXPECT_EQ(load_error("B\xff\xff\xff\xff" "abc"sv).code, brine::errc::truncated);
  EXPECT_EQ(load_error("\x8b\xff\xff\xff\x7f" "abc"sv).code, brine::errc::truncated);
  EXPECT_EQ(load_error("\x95\xff\xff\xff\xff\xff\xff\xff\x7f" "N."sv).code, brine::errc::truncated);
  EXPECT_EQ(load_error("\x95\xff\xff\xff\xff\xff\xff\xff\xff" "N."sv).code, brine::errc::limit_exceeded);
}

TEST(Limits, HugeMemoIndex) {
  // LONG_BINPUT 4,000,000,000 is over the default limit; allocates nothing big.
  auto e = load_error("\x80\x03X\x01\x00\x00\x00" "ar\x00\x28\x6b\xee."sv);
  EXPECT_EQ(e.code, brine::errc::limit_exceeded);
  // Under the limit, a far index is stored sparsely: small and fast.
  auto doc = load("\x80\x03X\x01\x00\x00\x00" "ar\xff\xff\xff\x7f" "0j\xff\xff\xff\x7f."sv);
  EXPECT_EQ(brine::repr(doc.root()), "'a'");
  EXPECT_LT(doc.bytes_allocated(), 1u << 20);
  // A far index kept aside is still found after the dense memo has grown past it.
  std::string edge = "\x80\x03\x88r\x10\x27\x00\x00"s;  // LONG_BINPUT 10000
  for (std::uint32_t i = 0; i < 5001; ++i) {
    edge += "K\x01r"s;
    edge.append(reinterpret_cast<const char*>(&i), 4);
    edge += "0";
  }
  edge += "\x88r\x04\x29\x00\x00" "00j\x10\x27\x00\x00."s;  // LONG_BINPUT 10500, LONG_BINGET 10000
  EXPECT_EQ(brine::repr(load(edge).root()), "True");
  brine::ReadOptions o;
  o.limits.max_memo_index = 100;
  EXPECT_EQ(load_error("Np101\n."sv, o).code, brine::errc::limit_exceeded);
}

TEST(Limits, AllocationLimit) {
  brine::ReadOptions o;
  o.limits.max_alloc_bytes = 1 << 20;
  std::string p = "(";
  for (int i = 0; i < 200000; ++i) p += "K\x01";
  p += "l.";
  EXPECT_EQ(load_error(p, o).code, brine::errc::limit_exceeded);
  o.limits.max_alloc_bytes = 16 << 20;
  EXPECT_EQ(load(p, o).root().size(), 200000u);
  brine::ReadOptions len;
  len.limits.max_container_len = 1000;
  EXPECT_EQ(load_error(p, len).code, brine::errc::limit_exceeded);
}

namespace {
std::string deep_list(std::size_t depth) {
  std::string p = "\x80\x02";
  for (std::size_t i = 0; i < depth; ++i) p += "]";
  for (std::size_t i = 0; i + 1 < depth; ++i) p += "a";
  return p + ".";
}
}  // namespace

TEST(Limits, MillionDeepNesting) {
  const std::size_t depth = 1000000;
  auto doc = load(deep_list(depth));
  std::string r = brine::repr(doc.root());
  ASSERT_EQ(r.size(), 2 * depth);
  EXPECT_EQ(r.substr(0, 3), "[[[");
  EXPECT_EQ(r.substr(r.size() - 3), "]]]");
  std::string j = brine::to_json(doc.root());
  EXPECT_EQ(j.size(), 2 * depth);
  // with MARKs, a depth limit stops it cleanly
  std::string marks = "\x80\x02";
  for (int i = 0; i < 100000; ++i) marks += "(";
  brine::ReadOptions o;
  o.limits.max_depth = 1000;
  EXPECT_EQ(load_error(marks, o).code, brine::errc::limit_exceeded);
  // and without MARKs (how CPython writes nested lists: EMPTY_LIST ... APPEND), at the STOP
  const std::string deep = deep_list(depth);
  brine::Error e = load_error(deep, o);
  EXPECT_EQ(e.code, brine::errc::limit_exceeded);
  EXPECT_EQ(e.offset, deep.size() - 1);
  EXPECT_NE(e.message.find("nest more than 1000 deep"), std::string::npos) << e.message;
}

TEST(Limits, DepthLimitCountsNestingOfValues) {
  brine::ReadOptions o;
  o.limits.max_depth = 3;
  EXPECT_EQ(brine::repr(load(deep_list(3), o).root()), "[[[]]]");
  EXPECT_EQ(load_error(deep_list(4), o).code, brine::errc::limit_exceeded);
  // a dict in a tuple in a list, CPython's bytes at protocol 4: pickle.dumps([({'a': 1},)], 4)
  const auto three = "\x80\x04\x95\x0f\x00\x00\x00\x00\x00\x00\x00]\x94}\x94\x8c\x01" "a\x94K\x01s\x85\x94" "a."sv;
  EXPECT_EQ(brine::repr(load(three, o).root()), "[({'a': 1},)]");
  o.limits.max_depth = 2;
  EXPECT_EQ(load_error(three, o).code, brine::errc::limit_exceeded);
  // depth reached through the memo, the stack never deep: l0 = []; l(k+1) = [lk], each made
  // and appended to through GETs (a chain 50 deep; also 2^k paths through shared lists)
  std::string chain = "\x80\x02]q\x00"s;
  for (int k = 0; k < 50; ++k) {
    chain += "]q";
    chain.push_back(static_cast<char>(k + 1));
    chain += "h";
    chain.push_back(static_cast<char>(k));
    chain += "a0";  // APPEND lk into l(k+1), pop l(k+1): the stack is [l0] again
  }
  chain += "h";
  chain.push_back(static_cast<char>(50));
  chain += ".";
  o.limits.max_depth = 51;
  EXPECT_TRUE(brine::loads(chain, o).ok());
  o.limits.max_depth = 50;
  EXPECT_EQ(load_error(chain, o).code, brine::errc::limit_exceeded);
  // a list containing itself is one level (the cycle is not followed)
  o.limits.max_depth = 1;
  EXPECT_EQ(brine::repr(load("\x80\x02]q\x00h\x00" "a."sv, o).root()), "[[...]]");
}

TEST(Limits, SmallInputsCannotMakeHugeValues) {
  // pickle.dumps(bytearray(10**9)) as a hand-made REDUCE: 32 bytes asking for 1 GB of zeros
  const auto bomb = "\x80\x04\x8c\x08" "builtins\x8c\x09" "bytearray\x93J\x00\xca\x9a\x3b\x85R."sv;
  brine::Error e = load_error(bomb);
  EXPECT_EQ(e.code, brine::errc::limit_exceeded);
  EXPECT_NE(e.message.find("bytearray(1000000000)"), std::string::npos) << e.message;
  const auto bytes_bomb = "\x80\x03" "cbuiltins\nbytes\nJ\x00\xca\x9a\x3b\x85R."sv;
  EXPECT_EQ(load_error(bytes_bomb).code, brine::errc::limit_exceeded);
  // a moderate one is made, and with the bound off the big one too (if max_alloc_bytes allows)
  auto small = load("\x80\x04\x8c\x08" "builtins\x8c\x09" "bytearray\x93M\x00\x04\x85R."sv);
  EXPECT_EQ(brine::repr(small.root()).size(), std::string("bytearray(b'')").size() + 4 * 1024);
  brine::ReadOptions off;
  off.limits.max_alloc_per_input_byte = 0;
  off.limits.max_alloc_bytes = 1 << 20;
  EXPECT_EQ(load_error(bomb, off).code, brine::errc::limit_exceeded);
  // from a stream the bound grows as the input arrives: the bomb is refused, a big value that
  // is really there (a 70 MiB bytes, more than the first 64 MiB) is read
  auto through_pipe = [](std::string data) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    std::thread writer([fd = fds[1], d = std::move(data)] {
      for (std::size_t off = 0; off < d.size();) {
        ssize_t k = write(fd, d.data() + off, d.size() - off);
        if (k <= 0) break;
        off += static_cast<std::size_t>(k);
      }
      close(fd);
    });
    auto reader = brine::Reader::from_fd(fds[0]);
    auto r = reader.next();
    writer.join();
    close(fds[0]);
    return r;
  };
  auto piped_bomb = through_pipe(std::string(bomb));
  ASSERT_FALSE(piped_bomb.ok());
  EXPECT_EQ(piped_bomb.error().code, brine::errc::limit_exceeded);
  std::string big = "\x80\x04\x8e"s;  // BINBYTES8
  const std::uint64_t n = 70u << 20;
  for (int k = 0; k < 8; ++k) big.push_back(static_cast<char>((n >> (8 * k)) & 0xFF));
  big.append(n, 'z');
  big += ".";
  auto piped_big = through_pipe(std::move(big));
  ASSERT_TRUE(piped_big.ok()) << piped_big.error().to_string();
  EXPECT_EQ(piped_big->root().size(), n);
  // the bound is on reading only: a Builder on the loaded document is not held to it
  brine::Builder b(small);
  std::string text(80u << 20, 'x');
  EXPECT_NO_THROW((void)b.str(text));
}

TEST(Limits, ExponentialSharingIsBounded) {
  // l0 = []; l(k+1) = [lk, lk] — 60 levels: a 2^60-node tree when expanded, ~400 bytes pickled.
  std::string p = "\x80\x02]q\x00"s;
  for (int k = 0; k < 60; ++k) {
    p += "h";
    p.push_back(static_cast<char>(k));
    p += "h";
    p.push_back(static_cast<char>(k));
    p += "\x86q";
    p.push_back(static_cast<char>(k + 1));
  }
  p += ".";
  ASSERT_LT(p.size(), 1024u);
  auto doc = load(p);
  brine::ReprOptions o;
  o.max_output = 1 << 20;
  std::string r;
  EXPECT_EQ(brine::repr_append(r, doc.root(), o), brine::ReprStatus::truncated);
  EXPECT_LT(r.size(), (1u << 20) + 200);
  EXPECT_NE(r.find("output truncated"), std::string::npos);
}

// A long str, bytes or bytearray under an output budget: rendered only as far as the budget
// goes, and that far exactly as the whole value's text (its quote chosen from the whole value).
TEST(Limits, PrintingABigValueStopsAtTheBudget) {
  brine::Document doc = brine::Document::create();
  brine::Builder b(doc);
  std::string text;
  for (int i = 0; i < 20000; ++i) text += i % 997 == 0 ? "it's \x01\t\u00e9\u20ac\\ " : "abcdefghij";
  text += "\"";  // a " at the very end: the quote is ' (both quotes inside)
  std::string raw(text.begin(), text.end());
  brine::Value values[] = {b.str(text), b.bytes(std::as_bytes(std::span(raw))),
                           b.bytearray(std::as_bytes(std::span(raw)))};
  for (const brine::Value& v : values) {
    const std::string whole = brine::repr(v, brine::ReprOptions{.max_output = 0});
    const std::string whole_json = brine::to_json(v, brine::JsonOptions{.max_output = 0});
    for (std::uint64_t budget : {1u, 2u, 13u, 100u, 4096u}) {
      std::string r;
      ASSERT_EQ(brine::repr_append(r, v, brine::ReprOptions{.max_output = budget}), brine::ReprStatus::truncated);
      EXPECT_EQ(r.substr(0, budget), whole.substr(0, budget));
      EXPECT_NE(r.find("output truncated at " + std::to_string(budget)), std::string::npos);
      std::string j;
      ASSERT_EQ(brine::to_json_append(j, v, brine::JsonOptions{.max_output = budget}), brine::ReprStatus::truncated);
      EXPECT_EQ(j.substr(0, budget), whole_json.substr(0, budget));
    }
  }
}

// __reduce__ with a state_setter: CPython writes setter(obj, state) as REDUCE + POP, not BUILD.
TEST(Reader, StateSetterCallIsKept) {
  for (int p : {0, 1, 2, 4}) {
    SCOPED_TRACE(p);
    auto data = brine_test::read_file(brine_test::source_dir() + "/tests/corpus/gen/p" + std::to_string(p) +
                                      "_obj_state_setter.pkl");
    auto doc = load(data);
    const brine::Value v = doc.root();
    EXPECT_TRUE(v.is_instance_of("__main__", "WithStateSetter"));
    EXPECT_EQ(brine::repr(v.state_setter()), "<global __main__.set_state>");
    EXPECT_EQ(brine::repr(v.state()), "{'a': 1}");
    EXPECT_EQ(brine::repr(v.attr("a")), "1");
  }
  // a call whose result is POPped that is not setter(object, state): not kept (nothing reaches
  // it); a BUILD after a setter call: both are BUILD states
  EXPECT_EQ(brine::repr(load("\x80\x02]q\x00" "c__main__\nf\nK\x01K\x02\x86R0."sv).root()), "[]");
  auto twice = load("\x80\x02" "c__main__\nC\n)\x81q\x00" "c__main__\nset\nh\x00}\x86R0h\x00}b."sv);
  EXPECT_FALSE(twice.root().state_setter().valid());
  EXPECT_EQ(brine::repr(twice.root()), "__main__.C(state={}, state={})");
}

TEST(Reader, BackToBackPickles) {
  std::string data = "\x80\x04K\x01.\x80\x02]q\x00K\x02" "a.N."s;
  auto reader = brine::Reader::from_memory(std::as_bytes(std::span<const char>(data.data(), data.size())));
  std::vector<std::string> got;
  std::vector<std::uint64_t> ends;
  while (!reader.at_end()) {
    auto doc = reader.next();
    ASSERT_TRUE(doc.ok()) << doc.error().to_string();
    got.push_back(brine::repr(doc->root()));
    ends.push_back(doc->end_offset());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"1", "[2]", "None"}));
  EXPECT_EQ(ends, (std::vector<std::uint64_t>{5, 14, 16}));
}

TEST(Reader, StreamFromPipe) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string data = "\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x01" "a\x94h\x01" "e.(I1\nl."s;
  std::thread writer([&] {
    for (char c : data) {  // one byte at a time: the reader must wait for data, not fail
      ssize_t n = write(fds[1], &c, 1);
      (void)n;
    }
    close(fds[1]);
  });
  auto reader = brine::Reader::from_fd(fds[0]);
  auto a = reader.next();
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  EXPECT_EQ(brine::repr(a->root()), "['a', 'a']");
  auto b = reader.next();
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(brine::repr(b->root()), "[1]");
  EXPECT_TRUE(reader.at_end());
  writer.join();
  close(fds[0]);
}

TEST(Reader, StreamWithLyingLength) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string data = "\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x01" "abc"s;  // claims 2^56 bytes
  ASSERT_EQ(write(fds[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fds[1]);
  auto reader = brine::Reader::from_fd(fds[0]);
  brine::ReadOptions o;
  auto r = reader.next(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, brine::errc::limit_exceeded);
  close(fds[0]);
}

TEST(Reader, LoadFileMapsAndBorrows) {
  std::string path = std::string(BRINE_BINARY_DIR) + "/test_load_file.pkl";
  {
    std::ofstream f(path, std::ios::binary);
    f << "\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00\x8c\x0ahello file\x94."s;
  }
  auto doc = brine::load_file(path);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(doc->root().as<std::string_view>(), "hello file");
  EXPECT_LT(doc->bytes_allocated(), 64u * 1024);
  auto missing = brine::load_file(path + ".nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, brine::errc::io_error);
}
