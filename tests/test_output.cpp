// Tests of brine::to_json (docs/json-format.md) and of printer details not covered by the
// CPython-driven corpus checks (user types, truncation, refs numbering).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "brine/brine.hpp"
#include "test_util.hpp"

using namespace std::literals;
using brine_test::from_hex;

namespace {
brine::Document load_hex(std::string_view hex, const brine::ReadOptions& o = {}) {
  auto r = brine::loads(from_hex(hex), o);
  if (!r) ADD_FAILURE() << r.error().to_string();
  return std::move(r).value();
}
}  // namespace

TEST(Json, BasicMapping) {
  auto doc = load_hex(
      "800495ce000000000000007d94288c0161945d94284b014740040000000000004e8889658c0162944b018c01789486948c01"
      "6394430400ff6162948c0164947d944b014b02738c022465944b018c016694477ff00000000000008c0167948a0900000000"
      "00000000408c0168948c086275696c74696e73948c07636f6d706c6578949394473ff00000000000004740000000000000008"
      "69452948c0169948f94284b03908c016a942891948c016b94680e8c0962797465617272617994939443017a94859452948c01"
      "73948c09636166c3a90aeda08094752e");
  std::string j = brine::to_json(doc.root());
  // lone surrogates are escaped; the rest is valid JSON
  std::string s = "\"caf\xc3\xa9\\n\\ud800\"";
  auto at = j.find(s);
  ASSERT_NE(at, std::string::npos) << j;
  // (strict parsers such as nlohmann reject lone surrogate escapes; Python's json accepts them)
  auto top = nlohmann::json::parse(j.replace(at, s.size(), "\"\""));
  // the key '$e' makes the whole dict use the tagged pair form
  ASSERT_TRUE(top.contains("$dict"));
  nlohmann::json parsed = nlohmann::json::object();
  for (auto& kv : top["$dict"]) parsed[kv[0].get<std::string>()] = kv[1];
  EXPECT_EQ(parsed["a"], nlohmann::json::parse(R"([1, 2.5, null, true, false])"));
  EXPECT_EQ(parsed["b"], nlohmann::json::parse(R"({"$tuple": [1, "x"]})"));
  EXPECT_EQ(parsed["c"], nlohmann::json::parse(R"({"$bytes": "AP9hYg=="})"));
  EXPECT_EQ(parsed["d"], nlohmann::json::parse(R"({"$dict": [[1, 2]]})"));
  EXPECT_EQ(parsed["$e"], 1);
  EXPECT_EQ(parsed["f"], nlohmann::json::parse(R"({"$float": "inf"})"));
  EXPECT_NE(j.find("[\"g\", 1180591620717411303424]"), std::string::npos) << j;
  EXPECT_EQ(parsed["h"], nlohmann::json::parse(R"({"$complex": [1.0, 2.0]})"));
  EXPECT_EQ(parsed["i"], nlohmann::json::parse(R"({"$set": [3]})"));
  EXPECT_EQ(parsed["j"], nlohmann::json::parse(R"({"$frozenset": []})"));
  EXPECT_EQ(parsed["k"], nlohmann::json::parse(R"({"$bytearray": "eg=="})"));
}

TEST(Json, TopLevelDollarKeysUseTheDictForm) {
  auto doc = brine::loads("}(X\x02\x00\x00\x00$aK\x01u."sv).value();
  EXPECT_EQ(brine::to_json(doc.root()), R"({"$dict": [["$a", 1]]})");
}

TEST(Json, LibraryTypes) {
  auto doc = load_hex(
      "80025d710028636461746574696d650a6461746574696d650a7101635f636f646563730a656e636f64650a7102580b000000"
      "07c3a80102030405000006710358060000006c6174696e317104867105527106636461746574696d650a74696d657a6f6e65"
      "0a7107636461746574696d650a74696d6564656c74610a71084affffffff4a280401004b0087710952710a85710b52710c86"
      "710d52710e636461746574696d650a646174650a710f6802580500000007c3a8010271106804867111527112857113527114"
      "636461746574696d650a74696d650a7115680258060000000102030000007116680486711752711885711952711a68084b01"
      "4b004b0587711b52711c652e");
  auto parsed = nlohmann::json::parse(brine::to_json(doc.root()));
  EXPECT_EQ(parsed[0]["$object"], "datetime.datetime");
  EXPECT_EQ(parsed[0]["$value"], "2024-01-02T03:04:05.000006-05:30");
  EXPECT_EQ(parsed[1]["$value"], "2024-01-02");
  EXPECT_EQ(parsed[2]["$value"], "01:02:03");
  EXPECT_EQ(parsed[3]["$value"], nlohmann::json::parse(R"({"days": 1, "seconds": 0, "microseconds": 5})"));
  EXPECT_EQ(parsed[3]["construction"], "reduce");
}

TEST(Json, SharedAndCyclic) {
  auto shared = load_hex("80027d71002858010000007871015d71024b016158010000007971036802752e");
  EXPECT_EQ(brine::to_json(shared.root()), R"({"x": {"$id": 0, "$value": [1]}, "y": {"$ref": 0}})");
  auto cyc = load_hex("80025d71006800612e");
  EXPECT_EQ(brine::to_json(cyc.root()), R"({"$id": 0, "$value": [{"$ref": 0}]})");
}

TEST(Json, Objects) {
  auto doc = brine::loads("\x80\x02" "c__main__\nPoint\n)\x81}(X\x01\x00\x00\x00xK\x01ub."sv).value();
  EXPECT_EQ(brine::to_json(doc.root()),
            R"({"$object": "__main__.Point", "construction": "newobj", "args": {"$tuple": []}, "state": {"x": 1}})");
  auto red = brine::loads("cos\nsystem\n(S'ls'\ntR."sv).value();
  EXPECT_EQ(brine::to_json(red.root()),
            R"({"$object": "os.system", "construction": "reduce", "args": {"$tuple": ["ls"]}})");
  auto pid = brine::loads("Pabc\n."sv).value();
  EXPECT_EQ(brine::to_json(pid.root()), R"({"$persistent_id": "abc"})");
}

TEST(Repr, UserTypes) {
  brine::ReadOptions o;
  o.types.push_back({"__main__", "Point", [](const brine::Value& v) -> std::optional<std::string> {
                       return "Point(" + std::to_string(v.attr("x").as<int>()) + ")";
                     }});
  auto doc = brine::loads("\x80\x02" "c__main__\nPoint\n)\x81}(X\x01\x00\x00\x00xK\x07ub."sv, o).value();
  EXPECT_EQ(doc.root().library_type(), brine::LibraryType::user);
  EXPECT_EQ(brine::repr(doc.root()), "Point(7)");
}

TEST(Repr, RefsNumberingFollowsOutputOrder) {
  // a = []; b = {}; [b, a, b, a]
  auto doc = brine::loads("\x80\x02]q\x00(}q\x01]q\x02h\x01h\x02" "e."sv).value();
  brine::ReprOptions r;
  r.refs = true;
  EXPECT_EQ(brine::repr(doc.root(), r), "[#0={}, #1=[], #0#, #1#]");
  EXPECT_EQ(brine::repr(doc.root()), "[{}, [], {}, []]");
}

TEST(Repr, TruncationNote) {
  auto doc = brine::loads("\x80\x02X\x10\x00\x00\x00" "0123456789abcdef."sv).value();
  brine::ReprOptions r;
  r.max_output = 8;
  std::string out;
  EXPECT_EQ(brine::repr_append(out, doc.root(), r), brine::ReprStatus::truncated);
  EXPECT_EQ(out, "'0123456\n... output truncated at 8 bytes (raise --max-output; --refs prints shared lists, dicts, sets and objects once)");
}
