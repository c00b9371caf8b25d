// Tests of src/pytext.cpp against vectors produced by CPython 3.11 itself
// (tests/data/pytext/gen_vectors.py documents every op and file format).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "pytext.hpp"

namespace {

using namespace brine::detail;

const std::string data_dir = std::string(BRINE_SOURCE_DIR) + "/tests/data/pytext/";

std::vector<std::vector<std::string>> read_tsv(const std::string& name) {
  std::ifstream f(data_dir + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << data_dir + name;
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

std::string from_hex(std::string_view h) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    ADD_FAILURE() << "bad hex digit";
    return 0;
  };
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(nib(h[i]) * 16 + nib(h[i + 1])));
  return out;
}

std::string to_hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

std::string to_hex(const std::vector<std::uint8_t>& v) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
}

// "HEX" or "HEX*COUNT" segments separated by ','.
std::string decode_input(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string seg = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const std::size_t star = seg.find('*');
    if (star == std::string::npos) {
      out += from_hex(seg);
    } else {
      const std::string chunk = from_hex(seg.substr(0, star));
      const long n = std::stol(seg.substr(star + 1));
      for (long i = 0; i < n; ++i) out += chunk;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// ---- PRNG and hash mirrored from gen_vectors.py ----
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

struct Fnv {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  void update(std::string_view d) {
    for (unsigned char c : d) h = (h ^ c) * 0x100000001B3ULL;
  }
  void item(std::string_view d) {
    const auto n = static_cast<std::uint32_t>(d.size());
    const char len[4] = {static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16),
                         static_cast<char>(n >> 24)};
    update(std::string_view(len, 4));
    update(d);
  }
};

std::string fnv_hex(std::string_view d) {
  Fnv f;
  f.update(d);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(f.h));
  return buf;
}

std::string be_bytes(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (56 - 8 * i));
  return s;
}

std::uint64_t from_be(std::string_view s) {
  std::uint64_t v = 0;
  for (unsigned char c : s) v = (v << 8) | c;
  return v;
}

std::string bits_hex(double d) { return to_hex(be_bytes(std::bit_cast<std::uint64_t>(d))); }

std::string repr_f(double d) {
  std::string s;
  repr_float(s, d);
  return s;
}

// ---- ops mirrored from gen_vectors.py ----
std::string float_item(FloatStatus st, double d) {
  if (st != FloatStatus::ok) return "invalid";
  return "ok " + bits_hex(d) + " " + repr_f(d);
}

std::string int_value_text(const ParsedInt& v) {
  if (v.is_small) return std::to_string(v.small);
  std::string s;
  bigint_to_decimal(s, v.big.data(), v.big.size());
  return s;
}

std::string int_item(ParseStatus st, const ParsedInt& v) {
  if (st == ParseStatus::invalid) return "invalid";
  if (st == ParseStatus::too_many_digits) return "toomany";
  return "ok " + int_value_text(v) + " " + (v.is_small ? std::string("-") : to_hex(v.big));
}

std::string rue_error(EscapeStatus st, std::size_t pos) {
  switch (st) {
    case EscapeStatus::truncated_u_escape: return "tu " + std::to_string(pos);
    case EscapeStatus::truncated_U_escape: return "tU " + std::to_string(pos);
    case EscapeStatus::U_out_of_range: return "range " + std::to_string(pos);
    default: return "unexpected";
  }
}

// The unpickler's text opcodes (Modules/_pickle.c load_int/load_long/load_float/load_string/
// load_unicode) written on top of pytext, `line` being the text before '\n'.
std::string pk_op(const std::string& op, const std::string& line) {
  const std::size_t len = line.size() + 1;  // _Unpickler_Readline's length includes '\n'
  if (op == "pk_int") {
    if (len < 2) return "error unpickling";
    std::size_t consumed = 0;
    bool overflow = false;
    const std::int64_t x = c_strtol_base0(line, consumed, overflow);
    if (overflow || (consumed < line.size() && line[consumed] != '\0')) {
      ParsedInt v;
      if (parse_py_int(line, 0, 4300, v) != ParseStatus::ok) return "error value";
      return "int " + int_value_text(v);
    }
    if (len == 3 && (x == 0 || x == 1)) return x ? "bool True" : "bool False";
    return "int " + std::to_string(x);
  }
  if (op == "pk_long") {
    if (len < 2) return "error unpickling";
    std::string s = line;
    if (s.back() == 'L') s.pop_back();  // s[len-2] = '\0'
    ParsedInt v;
    const ParseStatus st = parse_py_int(s, 0, 4300, v);
    if (st == ParseStatus::too_many_digits) return "error toomany";
    if (st != ParseStatus::ok) return "error value";
    return "int " + int_value_text(v);
  }
  if (op == "pk_float") {
    if (len < 2) return "error unpickling";
    double d = 0;
    switch (parse_c_float(line, d)) {
      case FloatStatus::ok: return "ok " + bits_hex(d);
      case FloatStatus::overflow: return "error overflow";
      default: return "error value";
    }
  }
  if (op == "pk_string") {
    const std::size_t n = line.size();
    if (!(n >= 2 && line[0] == line[n - 1] && (line[0] == '\'' || line[0] == '"'))) return "error quote";
    std::string out;
    std::size_t pos = 0;
    switch (escape_decode(std::string_view(line).substr(1, n - 2), out, pos)) {
      case EscapeStatus::ok: return "ok " + to_hex(out);
      case EscapeStatus::trailing_backslash: return "error trailing";
      case EscapeStatus::bad_x_escape: return "error badx";
      default: return "error unexpected";
    }
  }
  if (op == "pk_unicode") {
    std::string out;
    std::size_t pos = 0;
    const EscapeStatus st = raw_unicode_escape_decode(line, out, pos);
    if (st == EscapeStatus::ok) return "ok " + to_hex(out);
    return "error " + rue_error(st, pos);
  }
  ADD_FAILURE() << "unknown op " << op;
  return {};
}

std::string run_op(const std::string& op_full, const std::string& in) {
  const std::size_t colon = op_full.find(':');
  const std::string op = op_full.substr(0, colon);
  const int base = colon == std::string::npos ? 0 : std::stoi(op_full.substr(colon + 1));
  const auto* u = reinterpret_cast<const std::uint8_t*>(in.data());
  std::string out;
  if (op == "repr_str") {
    repr_str(out, in);
    return out;
  }
  if (op == "repr_bytes") {
    repr_bytes(out, u, in.size());
    return out;
  }
  if (op == "repr_float") return repr_f(std::bit_cast<double>(from_be(in)));
  if (op == "py_float" || op == "py_float_b") {
    double d = 0;
    const FloatStatus st = op == "py_float" ? parse_py_float(in, d) : parse_py_float_bytes(in, d);
    EXPECT_NE(st, FloatStatus::overflow);
    return float_item(st, d);
  }
  if (op == "c_float") {
    double d = 0;
    switch (parse_c_float(in, d)) {
      case FloatStatus::ok: return "ok " + bits_hex(d);
      case FloatStatus::overflow: return "overflow";
      default: return "invalid";
    }
  }
  if (op == "bigint") {
    bigint_to_decimal(out, u, in.size());
    return out + " " + std::to_string(bigint_decimal_digits(u, in.size()));
  }
  if (op == "strtol") {
    std::size_t consumed = 0;
    bool overflow = false;
    const std::int64_t v = c_strtol_base0(in, consumed, overflow);
    return std::to_string(v) + " " + std::to_string(consumed) + " " + (overflow ? "1" : "0");
  }
  if (op == "pylong" || op == "pylong_nolimit" || op == "int_str" || op == "int_bytes") {
    ParsedInt v;
    const std::size_t limit = op == "pylong_nolimit" ? 0 : 4300;
    ParseStatus st;
    if (op == "int_str") {
      st = parse_int_from_str(in, base, limit, v);
    } else if (op == "int_bytes") {
      st = parse_int_from_bytes(in, base, limit, v);
    } else {
      st = parse_py_int(in, base, limit, v);
    }
    return int_item(st, v);
  }
  if (op == "escape_decode") {
    std::size_t pos = 0;
    switch (escape_decode(in, out, pos)) {
      case EscapeStatus::ok: return "ok " + to_hex(out);
      case EscapeStatus::trailing_backslash: return "trailing " + std::to_string(pos);
      case EscapeStatus::bad_x_escape: return "badx " + std::to_string(pos);
      default: return "unexpected";
    }
  }
  if (op == "rue_decode") {
    std::size_t pos = 0;
    const EscapeStatus st = raw_unicode_escape_decode(in, out, pos);
    if (st == EscapeStatus::ok) return "ok " + to_hex(out);
    return rue_error(st, pos);
  }
  if (op == "rue_encode") {
    raw_unicode_escape_encode_for_pickle(out, in);
    // The pickle round trip: decoding what we wrote gives the text back.
    std::string back;
    std::size_t pos = 0;
    EXPECT_EQ(raw_unicode_escape_decode(out, back, pos), EscapeStatus::ok);
    EXPECT_EQ(back, in);
    return out;
  }
  if (op == "utf8") {
    const std::size_t bad = find_invalid_utf8(u, in.size());
    EXPECT_EQ(is_valid_utf8(u, in.size()), bad == static_cast<std::size_t>(-1));
    if (bad != static_cast<std::size_t>(-1)) return "bad " + std::to_string(bad);
    return "ok " + std::to_string(utf8_length(in));
  }
  if (op == "latin1") {
    EXPECT_EQ(is_ascii(u, in.size()), std::none_of(in.begin(), in.end(), [](char c) { return c & 0x80; }));
    latin1_to_utf8(out, u, in.size());
    return out;
  }
  if (op.rfind("pk_", 0) == 0) return pk_op(op, in);
  ADD_FAILURE() << "unknown op " << op;
  return {};
}

// ---- generators mirrored from gen_vectors.py ----
struct Family {
  std::string name, gen, op;
  std::uint64_t seed = 0;
  std::size_t count = 0, batch = 0, param = 0;
  std::vector<std::string> pieces;
  std::vector<std::pair<char32_t, char32_t>> cpranges;
  std::vector<std::string> hashes;
};

std::string generate(const Family& fam, Rng& rng, std::size_t index) {
  const std::string& g = fam.gen;
  if (g == "u64") return be_bytes(rng.next());
  if (g == "denormal") {
    const std::uint64_t mant = rng.next() & ((std::uint64_t{1} << 52) - 1);
    const std::uint64_t sign = rng.next() & 1;
    return be_bytes((sign << 63) | mant);
  }
  if (g == "u60int") return be_bytes(std::bit_cast<std::uint64_t>(static_cast<double>(static_cast<std::int64_t>(rng.next() >> 4))));
  if (g == "decimal") {
    const std::uint64_t k = 1 + rng.below(20);
    std::string s;
    for (std::uint64_t i = 0; i < k; ++i) s.push_back(static_cast<char>('0' + rng.below(10)));
    const auto e = static_cast<std::int64_t>(rng.below(700)) - 360;
    return s + "e" + std::to_string(e);
  }
  if (g == "pow2") return be_bytes(std::bit_cast<std::uint64_t>(std::ldexp(1.0, static_cast<int>(index) - 1074)));
  if (g == "pow10") return "1e" + std::to_string(static_cast<long>(index) - 340);
  if (g == "pieces") {
    const std::uint64_t n = 1 + rng.below(fam.param);
    std::string s;
    for (std::uint64_t i = 0; i < n; ++i) s += fam.pieces[rng.below(fam.pieces.size())];
    return s;
  }
  if (g == "bytes") {
    const std::uint64_t n = rng.below(fam.param + 1);
    std::string s;
    for (std::uint64_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng.below(256)));
    return s;
  }
  if (g == "bigbytes") {
    std::uint64_t n;
    if (rng.below(16)) {
      n = 1 + rng.below(48);
    } else {
      n = 1 + rng.below(fam.param);
    }
    std::string s;
    for (std::uint64_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng.below(256)));
    return s;
  }
  if (g == "codepoints") {
    const std::uint64_t n = rng.below(fam.param + 1);
    std::string s;
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto& [lo, hi] = fam.cpranges[rng.below(fam.cpranges.size())];
      append_utf8(s, static_cast<char32_t>(lo + rng.below(hi - lo + 1)));
    }
    return s;
  }
  ADD_FAILURE() << "unknown generator " << g;
  return {};
}

std::vector<Family> load_families() {
  std::vector<Family> fams;
  std::map<std::string, std::size_t> by_name;
  for (const auto& r : read_tsv("random.tsv")) {
    if (r[0] == "family") {
      Family f;
      f.name = r[1];
      f.gen = r[2];
      f.op = r[3];
      f.seed = std::stoull(r[4]);
      f.count = std::stoull(r[5]);
      f.batch = std::stoull(r[6]);
      f.param = std::stoull(r[7]);
      by_name[f.name] = fams.size();
      fams.push_back(std::move(f));
    } else if (r[0] == "piece") {
      fams[by_name.at(r[1])].pieces.push_back(from_hex(r[2]));
    } else if (r[0] == "cprange") {
      fams[by_name.at(r[1])].cpranges.emplace_back(static_cast<char32_t>(std::stoul(r[2], nullptr, 16)),
                                                     static_cast<char32_t>(std::stoul(r[3], nullptr, 16)));
    } else if (r[0] == "hash") {
      auto& f = fams[by_name.at(r[1])];
      EXPECT_EQ(std::stoull(r[2]), f.hashes.size());
      f.hashes.push_back(r[3]);
    }
  }
  return fams;
}

// A printable rendering of an input/item for failure messages.
std::string show(std::string_view s) {
  std::string out;
  repr_bytes(out, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  return out;
}

void check_family(const Family& fam, std::size_t& checked) {
  Rng rng{fam.seed};
  Fnv h;
  std::vector<std::pair<std::string, std::string>> batch_items;
  for (std::size_t i = 0; i < fam.count; ++i) {
    if (i % fam.batch == 0) {
      h = Fnv{};
      batch_items.clear();
    }
    const std::string in = generate(fam, rng, i);
    const std::string item = run_op(fam.op, in);
    h.item(in);
    h.item(item);
    batch_items.emplace_back(in, item);
    ++checked;
    if (i % fam.batch == fam.batch - 1 || i == fam.count - 1) {
      const std::size_t b = i / fam.batch;
      char hex[17];
      std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h.h));
      ASSERT_LT(b, fam.hashes.size()) << fam.name;
      if (fam.hashes[b] != hex) {
        std::ostringstream msg;
        msg << "family " << fam.name << " batch " << b << " differs from CPython; compare with\n"
            << "  /usr/bin/python3 tests/data/pytext/gen_vectors.py --dump " << fam.name << " " << b
            << "\nfirst items computed here:\n";
        for (std::size_t k = 0; k < batch_items.size() && k < 40; ++k) {
          msg << "  " << (b * fam.batch + k) << "\t" << show(batch_items[k].first) << "\t"
              << show(batch_items[k].second) << "\n";
        }
        ADD_FAILURE() << msg.str();
      }
    }
  }
}

// ================================================================================================

TEST(PyText, ExplicitCases) {
  const auto rows = read_tsv("cases.tsv");
  ASSERT_GT(rows.size(), 500u);
  std::map<std::string, int> per_op;
  for (const auto& r : rows) {
    ASSERT_EQ(r.size(), 3u);
    const std::string in = decode_input(r[1]);
    const std::string item = run_op(r[0], in);
    if (r[2].size() > 0 && r[2][0] == '#') {
      EXPECT_EQ("#" + fnv_hex(item), r[2]) << r[0] << " " << show(in.substr(0, 200));
    } else {
      EXPECT_EQ(item, from_hex(r[2])) << r[0] << " input " << show(in);
    }
    ++per_op[r[0]];
  }
  std::string summary;
  for (const auto& [op, n] : per_op) summary += op + "=" + std::to_string(n) + " ";
  std::printf("explicit cases: %zu (%s)\n", rows.size(), summary.c_str());
}

TEST(PyText, RandomFamilies) {
  const auto fams = load_families();
  ASSERT_GT(fams.size(), 30u);
  std::size_t total = 0;
  for (const auto& fam : fams) {
    std::size_t checked = 0;
    check_family(fam, checked);
    EXPECT_EQ(checked, fam.count);
    total += checked;
    std::printf("  %-20s %-14s %6zu items\n", fam.name.c_str(), fam.op.c_str(), checked);
  }
  std::printf("random items checked: %zu\n", total);
}

TEST(PyText, UnicodeTables) {
  std::vector<bool> printable(0x110000, false), space(0x110000, false);
  std::vector<int> dec(0x110000, -1);
  for (const auto& r : read_tsv("unicode.tsv")) {
    if (r[0] == "printable") {
      for (auto c = std::stoul(r[1], nullptr, 16); c <= std::stoul(r[2], nullptr, 16); ++c) printable[c] = true;
    } else if (r[0] == "space") {
      space[std::stoul(r[1], nullptr, 16)] = true;
    } else if (r[0] == "decimal") {
      const auto z = std::stoul(r[1], nullptr, 16);
      for (int k = 0; k < 10; ++k) dec[z + static_cast<unsigned long>(k)] = k;
    }
  }
  std::size_t n_printable = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    ASSERT_EQ(is_printable(c), printable[c]) << std::hex << static_cast<unsigned long>(c);
    ASSERT_EQ(is_unicode_space(c), space[c]) << std::hex << static_cast<unsigned long>(c);
    ASSERT_EQ(unicode_decimal_value(c), dec[c]) << std::hex << static_cast<unsigned long>(c);
    n_printable += printable[c];
  }
  EXPECT_GT(n_printable, 140000u);
  EXPECT_FALSE(is_printable(0x110000));
  EXPECT_FALSE(is_printable(0xFFFFFFFF));
  EXPECT_FALSE(is_unicode_space(0xFFFFFFFF));
  EXPECT_EQ(unicode_decimal_value(0xFFFFFFFF), -1);
}

TEST(PyText, Utf8RoundTripAllCodePoints) {
  std::string all;
  for (char32_t c = 0; c < 0x110000; ++c) append_utf8(all, c);
  ASSERT_TRUE(is_valid_utf8(reinterpret_cast<const std::uint8_t*>(all.data()), all.size()));
  EXPECT_EQ(utf8_length(all), 0x110000u);
  std::size_t i = 0;
  for (char32_t c = 0; c < 0x110000; ++c) {
    char32_t got = 0;
    const std::size_t k = decode_utf8(all.data() + i, all.size() - i, got);
    ASSERT_EQ(got, c);
    ASSERT_EQ(k, c < 0x80 ? 1u : c < 0x800 ? 2u : c < 0x10000 ? 3u : 4u);
    i += k;
  }
  EXPECT_EQ(i, all.size());
  std::string bad;
  append_utf8(bad, 0x110000);
  EXPECT_EQ(bad, "\xEF\xBF\xBD");
}

TEST(PyText, HostileInputIsSafe) {
  // Broken preconditions must not crash or read out of bounds (run under ASan/UBSan in CI).
  const std::string junk[] = {"\xF0\x9F", "\xE4", "\xC3", "\xFF\xFE\x80", "\xF7\xBF\xBF\xBF", "\xED\xA0",
                              std::string("\x00\xF4", 2)};
  for (const auto& j : junk) {
    std::string out;
    repr_str(out, j);
    out.clear();
    raw_unicode_escape_encode_for_pickle(out, j);
    char32_t cp = 0;
    EXPECT_GE(decode_utf8(j.data(), j.size(), cp), 1u);
    (void)utf8_length(j);
  }
  char32_t cp = 123;
  EXPECT_EQ(decode_utf8("", 0, cp), 0u);
  std::string out;
  repr_str(out, "\xF7\xBF\xBF\xBF");  // decodes above 0x10FFFF: not printable, escaped
  EXPECT_EQ(out, "'\\U001fffff'");
  // Invalid base.
  ParsedInt v;
  EXPECT_EQ(parse_py_int("12", 1, 0, v), ParseStatus::invalid);
  EXPECT_EQ(parse_py_int("12", 37, 0, v), ParseStatus::invalid);
  // Absurd exponents and lengths.
  double d = 0;
  EXPECT_EQ(parse_c_float("1e" + std::string(100000, '9'), d), FloatStatus::overflow);
  EXPECT_EQ(parse_c_float("1e-" + std::string(100000, '9'), d), FloatStatus::ok);
  EXPECT_EQ(d, 0.0);
  EXPECT_EQ(parse_c_float(std::string(100000, '9') + "e-100000", d), FloatStatus::ok);
  EXPECT_EQ(d, 1.0);
  EXPECT_EQ(parse_py_float("0." + std::string(100000, '0') + "1e100001", d), FloatStatus::ok);
  EXPECT_EQ(d, 1.0);
}

TEST(PyText, Int64ToLe) {
  EXPECT_EQ(to_hex(int64_to_le(0)), "");
  EXPECT_EQ(to_hex(int64_to_le(1)), "01");
  EXPECT_EQ(to_hex(int64_to_le(127)), "7f");
  EXPECT_EQ(to_hex(int64_to_le(128)), "8000");
  EXPECT_EQ(to_hex(int64_to_le(255)), "ff00");
  EXPECT_EQ(to_hex(int64_to_le(-1)), "ff");
  EXPECT_EQ(to_hex(int64_to_le(-128)), "80");
  EXPECT_EQ(to_hex(int64_to_le(-129)), "7fff");
  EXPECT_EQ(to_hex(int64_to_le(-256)), "00ff");
  EXPECT_EQ(to_hex(int64_to_le(std::numeric_limits<std::int64_t>::min())), "0000000000000080");
  EXPECT_EQ(to_hex(int64_to_le(std::numeric_limits<std::int64_t>::max())), "ffffffffffffff7f");
  // Round trip through bigint_to_decimal for every byte width.
  Rng rng{77};
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<std::int64_t>(rng.next() >> rng.below(64));
    const std::int64_t s = (i & 1) ? -v : v;
    const auto le = int64_to_le(s);
    std::string dec;
    bigint_to_decimal(dec, le.data(), le.size());
    ASSERT_EQ(dec, std::to_string(s));
    ASSERT_EQ(bigint_decimal_digits(le.data(), le.size()), std::to_string(s < 0 ? 0 - static_cast<std::uint64_t>(s) : static_cast<std::uint64_t>(s)).size());
  }
}

TEST(PyText, HugeIntegersRoundTrip) {
  // Powers of ten and their neighbours are where the digit-count estimate must fall back to the
  // exact comparison; sizes well beyond the 4300-digit limit.
  for (std::size_t k : {1u, 9u, 10u, 18u, 19u, 20u, 100u, 4300u, 4301u, 30000u, 100000u}) {
    for (int variant = 0; variant < 4; ++variant) {
      std::string text;
      switch (variant) {
        case 0: text = "1" + std::string(k, '0'); break;       // 10**k
        case 1: text = std::string(k, '9'); break;             // 10**k - 1
        case 2: text = "-1" + std::string(k, '0'); break;      // -10**k
        default: text = "1" + std::string(k - 1, '0') + "1";  // 10**k + 1
      }
      ParsedInt v;
      ASSERT_EQ(parse_py_int(text, 10, 0, v), ParseStatus::ok) << k;
      std::vector<std::uint8_t> le = v.is_small ? int64_to_le(v.small) : v.big;
      std::string back;
      bigint_to_decimal(back, le.data(), le.size());
      ASSERT_EQ(back, text) << k << " " << variant;
      const std::size_t digits = text.size() - (text[0] == '-' ? 1 : 0);
      ASSERT_EQ(bigint_decimal_digits(le.data(), le.size()), digits) << k << " " << variant;
    }
  }
  // Non-minimal encodings still work.
  const std::uint8_t padded[] = {5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  std::string s;
  bigint_to_decimal(s, padded, sizeof padded);
  EXPECT_EQ(s, "5");
  EXPECT_EQ(bigint_decimal_digits(padded, sizeof padded), 1u);
  const std::uint8_t zero[] = {0};
  s.clear();
  bigint_to_decimal(s, zero, 0);
  EXPECT_EQ(s, "0");
  EXPECT_EQ(bigint_decimal_digits(zero, 0), 1u);
}

}  // namespace
