// Hostile input: the fuzzers' saved crash inputs (fuzz/crashes/), every valid pickle of the shared
// corpus truncated at every byte offset, and CPython's catalogue of malformed pickles. Each must
// give a typed error (or a result) — never a crash, an abort or an untyped exception.
//
// The checks are the fuzz targets' own (fuzz/harness.hpp), run here under the normal build: a
// violated invariant throws HarnessFailure instead of aborting.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "brine/brine.hpp"
#include "test_util.hpp"

namespace {
struct HarnessFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace

#define BRINE_HARNESS_FAIL(msg) throw HarnessFailure(msg)
#include "../fuzz/harness.hpp"
#include "../fuzz/roundtrip.hpp"

namespace fs = std::filesystem;
using brine_test::from_hex;
using brine_test::read_file;

namespace {

const std::uint8_t* u8(const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

// Runs an input through the fuzz targets' checks (fuzz_roundtrip's: read -> write at every
// protocol -> read gives an equal graph).
void run_all_checks(const std::string& data) {
  brine_harness::check_loads(u8(data), data.size());
  brine_harness::check_reader_stream(u8(data), data.size());
  brine_harness::check_dis(u8(data), data.size());
  brine_harness::check_roundtrip(u8(data), data.size());
}

std::vector<std::string> files_in(const fs::path& dir, std::initializer_list<const char*> exts = {}) {
  std::vector<std::string> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    if (exts.size() && std::none_of(exts.begin(), exts.end(), [&](const char* x) { return ext == x; })) continue;
    if (e.path().filename().string()[0] == '.') continue;
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string test_name(const std::string& path) {
  std::string n = fs::path(path).filename().string(), r;
  for (char c : n) r.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return r;
}

nlohmann::json pickletester(const char* which) {
  std::ifstream in(brine_test::shared_dir() + "/corpus/cpython-pickletester/" + which);
  if (!in) return nlohmann::json::array();
  return nlohmann::json::parse(in);
}

// ---- fuzz/crashes/: one test per saved input ---------------------------------------------------

class CrashRegression : public ::testing::TestWithParam<std::string> {};

TEST_P(CrashRegression, TypedErrorOrSuccess) {
  std::string data = read_file(GetParam());
  try {
    run_all_checks(data);
  } catch (const HarnessFailure& f) {
    FAIL() << f.what();
  }
}

std::vector<std::string> crash_files() {
  auto v = files_in(fs::path(brine_test::source_dir()) / "fuzz" / "crashes");
  // README and notes are not inputs.
  v.erase(std::remove_if(v.begin(), v.end(), [](const std::string& p) { return fs::path(p).extension() == ".md"; }),
          v.end());
  return v;
}

// The same inputs in one test, read when it runs (ctest learns the per-file names above only when
// brine_tests is rebuilt).
TEST(Hostile, AllSavedCrashInputs) {
  for (const std::string& path : crash_files()) {
    SCOPED_TRACE(path);
    try {
      run_all_checks(read_file(path));
    } catch (const HarnessFailure& f) {
      ADD_FAILURE() << f.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fuzz, CrashRegression, ::testing::ValuesIn(crash_files()),
                         [](const auto& info) { return test_name(info.param); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(CrashRegression);

// ---- fuzz/corpus/<target>/: each fuzz target's seed corpus through that target's checks --------

class SeedCorpus : public ::testing::TestWithParam<const char*> {};

TEST_P(SeedCorpus, EveryInputPassesItsTargetsChecks) {
  const std::string target = GetParam();
  const auto files = files_in(fs::path(brine_test::source_dir()) / "fuzz" / "corpus" / target);
  EXPECT_GT(files.size(), 100u) << "the seed corpus of " << target << " is missing";
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    const std::string data = read_file(path);
    try {
      if (target == "fuzz_loads") brine_harness::check_loads(u8(data), data.size());
      else if (target == "fuzz_reader_stream") brine_harness::check_reader_stream(u8(data), data.size());
      else if (target == "fuzz_dis") brine_harness::check_dis(u8(data), data.size());
      else brine_harness::check_roundtrip(u8(data), data.size());
    } catch (const HarnessFailure& f) {
      ADD_FAILURE() << f.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fuzz, SeedCorpus,
                         ::testing::Values("fuzz_loads", "fuzz_reader_stream", "fuzz_dis", "fuzz_roundtrip"),
                         [](const auto& info) { return std::string(info.param); });

// ---- valid pickles, truncated --------------------------------------------------------------------

struct Valid {
  std::string name;
  std::string data;
};

std::vector<Valid> valid_pickles() {
  std::vector<Valid> out;
  for (const auto& e : pickletester("good.json"))
    out.push_back({"good.json:" + e["name"].get<std::string>(), from_hex(e["hex"].get<std::string>())});
  std::string shared = brine_test::shared_dir() + "/corpus";
  // Files CPython itself rejects as malformed (gopickle's TestP4Carray_L/_Q start with a stray
  // quote byte) are not valid pickles; classes that do not exist (AttributeError) are fine.
  auto add_dir = [&](const std::string& dir, const char* ext) {
    nlohmann::json expected;
    if (std::ifstream in(dir + "/expected.json"); in) expected = nlohmann::json::parse(in);
    for (const auto& p : files_in(dir, {ext})) {
      std::string name = fs::path(p).filename().string();
      if (expected.contains(name)) {
        const auto& d = expected[name]["default"];
        if (!d.value("ok", false) && d.value("error", std::string()).rfind("UnpicklingError", 0) == 0) continue;
      }
      out.push_back({p, read_file(p)});
    }
  };
  add_dir(shared + "/serde-pickle", ".pickle");
  add_dir(shared + "/gopickle/pickle", ".pkl");
  for (const auto& p : files_in(brine_test::source_dir() + "/examples", {".pkl"})) out.push_back({p, read_file(p)});
  return out;
}

// Prefix lengths to try: all of them for inputs up to 8 KiB (all but three files); for the big
// serde-pickle files (20-350 KB, where all would be quadratic: minutes under ASan) the first
// 2048, the last 64, and evenly spread ones for about 32 MB of parsing per file.
std::vector<std::size_t> cut_points(std::size_t size) {
  std::vector<std::size_t> cuts;
  if (size <= 8192) {
    for (std::size_t k = 0; k < size; ++k) cuts.push_back(k);
    return cuts;
  }
  for (std::size_t k = 0; k < 2048; ++k) cuts.push_back(k);
  for (std::size_t k = size - 64; k < size; ++k) cuts.push_back(k);
  const std::size_t spread = std::clamp<std::size_t>((std::size_t{64} << 20) / size, 64, 2048);
  for (std::size_t i = 0; i < spread; ++i) cuts.push_back(2048 + (size - 2048 - 64) * i / spread);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

TEST(Hostile, TruncatedValidPicklesAreRejected) {
  auto pickles = valid_pickles();
  ASSERT_GE(pickles.size(), 106u + 20u + 70u) << "shared corpus missing?";
  std::size_t prefixes = 0, with_trailing_bytes = 0;
  for (const Valid& v : pickles) {
    SCOPED_TRACE(v.name);
    // The whole pickle loads: with the default ASCII decoding, or (Python 2 pickles with
    // non-ASCII str) latin1, as CPython needs too.
    brine::ReadOptions opt = brine_harness::default_options();
    auto full = brine::loads(v.data, opt);
    if (!full && full.error().code == brine::errc::unicode_error) {
      opt.encoding = brine::StringEncoding::latin1;
      full = brine::loads(v.data, opt);
    }
    ASSERT_TRUE(full.ok()) << full.error().to_string();
    const std::string whole = brine::repr(full->root());
    // Normally the STOP that ends the pickle is its last byte, so no proper prefix holds a
    // complete pickle. A few inputs carry bytes after the STOP (pickletester's test_misc_get
    // appends "))"; loads ignores them, as CPython's): prefixes that keep the STOP load the same.
    const std::size_t stop_end = full->end_offset();
    ASSERT_LE(stop_end, v.data.size());
    if (stop_end != v.data.size()) ++with_trailing_bytes;
    for (std::size_t k : cut_points(v.data.size())) {
      auto r = brine::loads(std::string_view(v.data).substr(0, k), opt);
      ++prefixes;
      if (k >= stop_end) {
        ASSERT_TRUE(r.ok()) << "prefix of " << k << " bytes keeps the STOP: " << r.error().to_string();
        EXPECT_EQ(brine::repr(r->root()), whole);
        continue;
      }
      ASSERT_FALSE(r.ok()) << "prefix of " << k << " bytes loaded: " << brine::repr(r->root());
      // The input just stops: every opcode before the cut is valid, so the only possible
      // complaints are a missing opcode or a missing argument.
      EXPECT_TRUE(r.error().code == brine::errc::eof || r.error().code == brine::errc::truncated)
          << "prefix of " << k << " bytes: " << r.error().to_string();
    }
  }
  EXPECT_LE(with_trailing_bytes, 2u);
  EXPECT_GT(prefixes, 20000u);
}

// A few prefixes go through every fuzz check too (streams, dis), not only loads.
TEST(Hostile, TruncatedSmallPicklesPassAllChecks) {
  for (const Valid& v : valid_pickles()) {
    if (v.data.size() > 600) continue;
    SCOPED_TRACE(v.name);
    const std::size_t step = std::max<std::size_t>(7, v.data.size() / 6);
    for (std::size_t k = 0; k <= v.data.size(); k += step) {
      try {
        run_all_checks(v.data.substr(0, k));
      } catch (const HarnessFailure& f) {
        FAIL() << "prefix of " << k << " bytes: " << f.what();
      }
    }
  }
}

// ---- big streams ----------------------------------------------------------------------------------
// The fuzzers' inputs stay within the stream reader's first 64 KiB window; these cross it: every
// valid pickle bigger than 4 KiB on its own, and all of them back to back (~0.5 MB), read from
// memory and from a pipe (whole, and in pieces) must give the same documents (and disassembly).
TEST(Hostile, BigStreamsAgreeWithMemory) {
  std::string all;
  for (const Valid& v : valid_pickles()) {
    auto doc = brine::loads(v.data);
    if (!doc || doc->end_offset() != v.data.size()) continue;  // latin1-only, or trailing bytes
    all += v.data;
    if (v.data.size() <= 4096) continue;
    SCOPED_TRACE(v.name);
    try {
      brine_harness::check_reader_stream(u8(v.data), v.data.size());
      brine_harness::check_dis(u8(v.data), v.data.size());  // disassemble_file on a pipe, too
    } catch (const HarnessFailure& f) {
      ADD_FAILURE() << f.what();
    }
  }
  ASSERT_GT(all.size(), std::size_t{400000});
  try {
    brine_harness::check_reader_stream(u8(all), all.size());
  } catch (const HarnessFailure& f) {
    ADD_FAILURE() << f.what();
  }
}

// ---- containers across the arena's chunk and large-block sizes ---------------------------------
// The fuzzers' inputs (<= 4 KiB) cannot build containers of thousands of distinct items, so the
// growth paths of the arena (bump extension, 64 KiB large blocks, realloc) are covered here:
// sets, frozensets, lists, dicts and tuples of N distinct ints, built the way CPython's pickler
// writes them (batches of 1000 for APPENDS/SETITEMS/ADDITEMS). A set of 8000 ints once freed the
// arena chunk it was still allocating from (fuzz/crashes/asan-uaf-arena-grow-set-8000-p4.pkl).
std::string binint(std::int32_t v) {
  std::string s = "J";
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((static_cast<std::uint32_t>(v) >> (8 * i)) & 0xff));
  return s;
}

std::string container_pickle(char kind, std::int32_t n) {
  std::string p = "\x80\x04";
  auto batches = [&](const char* empty, const char* add, int per_item) {
    p += empty;
    for (std::int32_t i = 0; i < n; i += 1000) {
      p += "(";
      for (std::int32_t j = i; j < std::min(n, i + 1000); ++j)
        for (int k = 0; k < per_item; ++k) p += binint(j * 7 + k);
      p += add;
    }
  };
  switch (kind) {
    case 's': batches("\x8f", "\x90", 1); break;  // EMPTY_SET ... ADDITEMS
    case 'l': batches("]", "e", 1); break;          // EMPTY_LIST ... APPENDS
    case 'd': batches("}", "u", 2); break;          // EMPTY_DICT ... SETITEMS
    case 'f':                                       // MARK ... FROZENSET
    case 't':                                       // MARK ... TUPLE
      p += "(";
      for (std::int32_t j = 0; j < n; ++j) p += binint(j * 7);
      p += kind == 'f' ? "\x91" : "t";
      break;
  }
  return p + ".";
}

TEST(Hostile, LargeContainersAcrossArenaSizes) {
  for (char kind : {'s', 'f', 'l', 'd', 't'}) {
    for (std::int32_t n : {1000, 4095, 4097, 8000, 8193, 16385, 40000}) {
      SCOPED_TRACE(std::string(1, kind) + " of " + std::to_string(n));
      std::string p = container_pickle(kind, n);
      auto doc = brine::loads(p);
      ASSERT_TRUE(doc.ok()) << doc.error().to_string();
      brine::Value root = doc->root();
      ASSERT_EQ(root.size(), static_cast<std::size_t>(n));
      // Every element is there (sets: in CPython's order, all distinct).
      std::string text = brine::repr(root);
      EXPECT_NE(text.find(std::to_string((n - 1) * 7)), std::string::npos);
      if (kind == 'd') {
        EXPECT_TRUE(root.find(root.items()[n / 2].key).valid());
      }
      if (n <= 1000) {  // the full checks are slow under ASan; growth is what matters here
        try {
          brine_harness::check_loads(u8(p), p.size());
        } catch (const HarnessFailure& f) {
          ADD_FAILURE() << f.what();
        }
      }
    }
  }
  // Several big sets and dicts in one document: the arena interleaves their growth.
  std::string p = "\x80\x04(";
  for (int k = 0; k < 3; ++k) {
    p += "\x8f(";
    for (std::int32_t j = 0; j < 20000; ++j) {
      p += binint(j * 3 + k);
      if (j % 1000 == 999) p += "\x90(";
    }
    p += "\x90}(";
    for (std::int32_t j = 0; j < 9000; ++j) p += binint(j) + binint(-j);
    p += "u";
  }
  p += "l.";
  auto doc = brine::loads(p);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(doc->root().size(), 6u);
  for (const brine::Value& v : doc->root().elements()) EXPECT_GE(v.size(), 9000u);
}

// ---- nested and large frozensets ------------------------------------------------------------------
// frozenset({frozenset({...})}) nested `depth` deep, protocol 4: "((((...\x91\x91\x91".
std::string frozenset_chain(std::size_t depth) { return std::string(depth, '(') + std::string(depth, '\x91'); }

TEST(Hostile, DeeplyNestedFrozensets) {
  // One chain: hashing each level must not rehash the levels below (was O(depth^2): 7 s for 5000).
  {
    std::string p = "\x80\x04" + frozenset_chain(200000) + ".";
    auto doc = brine::loads(p);
    ASSERT_TRUE(doc.ok()) << doc.error().to_string();
    brine::ReprOptions ro;
    ro.max_output = 1000;
    std::string text;
    EXPECT_EQ(brine::repr_append(text, doc->root(), ro), brine::ReprStatus::truncated);
  }
  // Two equal chains as dict keys: comparing them recursed once per level and overflowed the
  // stack (100000 levels). CPython raises RecursionError beyond ~1000 levels; brine a typed error.
  for (std::size_t depth : {std::size_t{500}, std::size_t{200000}}) {
    std::string chain = frozenset_chain(depth);
    std::string p = "\x80\x04}" + chain + "K\x01s" + chain + "K\x02s.";
    auto doc = brine::loads(p);
    if (depth <= 500) {
      ASSERT_TRUE(doc.ok()) << doc.error().to_string();
      EXPECT_EQ(doc->root().size(), 1u);  // the keys are equal: {chain: 2}
      EXPECT_EQ(doc->root().items()[0].value.get<int>().value_or(0), 2);
    } else {
      ASSERT_FALSE(doc.ok());
      EXPECT_EQ(doc.error().code, brine::errc::limit_exceeded) << doc.error().to_string();
    }
  }
  // Two equal frozensets of 200000 ints as keys: compared by hash lookups, not pair by pair.
  {
    std::string fs = "(";
    for (std::int32_t j = 0; j < 200000; ++j) fs += binint(j);
    fs += "\x91";
    std::string p = "\x80\x04}" + fs + "K\x01s" + fs + "K\x02s.";
    auto doc = brine::loads(p);
    ASSERT_TRUE(doc.ok()) << doc.error().to_string();
    EXPECT_EQ(doc->root().size(), 1u);
    // brine::equal on two such sets goes the same way.
    auto list = brine::loads("\x80\x04](" + fs + fs + "e.");
    ASSERT_TRUE(list.ok()) << list.error().to_string();
    EXPECT_TRUE(brine::equal(list->root().elements()[0], list->root().elements()[1]));
  }
  // brine::equal on two equal chains nested too deep: false, not a crash or an exception.
  {
    std::string chain = frozenset_chain(200000);
    auto list = brine::loads("\x80\x04](" + chain + chain + "e.");
    ASSERT_TRUE(list.ok()) << list.error().to_string();
    EXPECT_FALSE(brine::equal(list->root().elements()[0], list->root().elements()[1]));
  }
}

// ---- CPython's malformed pickles ---------------------------------------------------------------

// bad.json entries brine accepts on purpose (name → why). Empty: every one is rejected.
const std::set<std::string> kAcceptedOnPurpose = {};

TEST(Hostile, PickletesterBadEntriesAreRejected) {
  auto bad = pickletester("bad.json");
  ASSERT_GE(bad.size(), 195u);
  for (const auto& e : bad) {
    std::string name = e["name"].get<std::string>();
    SCOPED_TRACE(name + " (CPython: " + e.value("c_impl", std::string()) + ")");
    std::string data = from_hex(e["hex"].get<std::string>());
    auto r = brine::loads(data);
    if (kAcceptedOnPurpose.count(name)) {
      EXPECT_TRUE(r.ok()) << "now rejected: remove it from kAcceptedOnPurpose";
    } else {
      EXPECT_FALSE(r.ok()) << "accepted: " << brine::repr(r->root());
      if (!r) {
        EXPECT_NE(r.error().code, brine::errc::ok);
      }
    }
    try {
      run_all_checks(data);
    } catch (const HarnessFailure& f) {
      ADD_FAILURE() << f.what();
    }
  }
}

TEST(Hostile, PickletesterGoodEntriesPassAllChecks) {
  for (const auto& e : pickletester("good.json")) {
    SCOPED_TRACE(e["name"].get<std::string>());
    std::string data = from_hex(e["hex"].get<std::string>());
    try {
      run_all_checks(data);
    } catch (const HarnessFailure& f) {
      ADD_FAILURE() << f.what();
    }
  }
}

}  // namespace
