// brine::disassemble against CPython 3.11's pickletools.dis, byte for byte:
//  * tests/data/dis/vectors.txt, made by tests/data/dis/gen_vectors.py (run as
//      PYTHONHASHSEED=0 /usr/bin/python3 tests/data/dis/gen_vectors.py
//    ): pickles of many values at protocols 0-5, hand-made and malformed pickles, and every
//    pickle of ../shared/corpus/cpython-pickletester/{good,bad}.json, each with the text
//    pickletools printed and the exception it raised (message and offending opcode offset);
//  * the "pickletools_dis" field of ../shared/corpus/{serde-pickle,gopickle/pickle}/expected.json.
// Each vector is run from memory (string and sink APIs), from a stream that delivers a few bytes
// per read, and from a file.
#include "brine/dis.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "input.hpp"

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << p;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string from_hex(std::string_view h) {
  auto nib = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  out.reserve(h.size() / 2);
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(nib(h[i]) * 16 + nib(h[i + 1])));
  return out;
}

// ---- vectors.txt ---------------------------------------------------------------------------------

struct Vector {
  std::string name;
  int indent = 4;
  std::string input;
  std::string output;
  bool raised = false;
  std::uint64_t err_offset = 0;
  std::string err_type;     // Python exception type
  std::string err_message;  // str(exception)
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  std::string_view line() {
    const std::size_t j = s_.find('\n', i_);
    const std::size_t e = j == std::string_view::npos ? s_.size() : j;
    std::string_view r = s_.substr(i_, e - i_);
    i_ = e + 1;
    return r;
  }
  std::string_view bytes(std::size_t n) {
    std::string_view r = s_.substr(i_, n);
    i_ += n + 1;  // and the '\n' that follows
    return r;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

std::string_view after(std::string_view line, std::string_view prefix) {
  EXPECT_EQ(line.substr(0, prefix.size()), prefix);
  return line.substr(std::min(prefix.size(), line.size()));
}

const std::vector<Vector>& vectors() {
  static const std::vector<Vector> all = [] {
    std::vector<Vector> v;
    const std::string text = read_file(fs::path(BRINE_SOURCE_DIR) / "tests/data/dis/vectors.txt");
    Parser p(text);
    while (!p.done()) {
      Vector c;
      c.name = std::string(after(p.line(), "case "));
      c.indent = std::stoi(std::string(after(p.line(), "indent ")));
      c.input = from_hex(after(p.line(), "in "));
      c.output = std::string(p.bytes(std::stoull(std::string(after(p.line(), "out ")))));
      const std::string err(after(p.line(), "err "));
      const std::size_t sp = err.find(' ');
      const std::size_t len = std::stoull(err.substr(sp + 1));
      const std::string msg(p.bytes(len));
      if (err.substr(0, sp) != "-") {
        c.raised = true;
        c.err_offset = std::stoull(err.substr(0, sp));
        const std::size_t colon = msg.find(": ");
        c.err_type = msg.substr(0, colon);
        c.err_message = msg.substr(colon + 2);
      }
      v.push_back(std::move(c));
    }
    return v;
  }();
  return all;
}

std::span<const std::byte> as_span(const std::string& s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Compares one run with the vector; returns "" or a description of the difference.
std::string check(const Vector& v, const std::string& out, const brine::Result<void>& r) {
  std::ostringstream d;
  if (out != v.output) {
    std::size_t k = 0;
    while (k < out.size() && k < v.output.size() && out[k] == v.output[k]) ++k;
    d << "text differs at byte " << k << ":\n  got:      ["
      << out.substr(k >= 60 ? k - 60 : 0, 160) << "]\n  expected: [" << v.output.substr(k >= 60 ? k - 60 : 0, 160)
      << "]\n";
  }
  if (v.raised) {
    if (r.ok()) {
      d << "no error; pickletools raised " << v.err_type << ": " << v.err_message << "\n";
    } else {
      if (r.error().message != v.err_message) {
        d << "error message:\n  got:      " << r.error().message << "\n  expected: " << v.err_message << "\n";
      }
      if (r.error().offset != v.err_offset) {
        d << "error offset " << r.error().offset << ", expected " << v.err_offset << "\n";
      }
    }
  } else if (!r.ok()) {
    d << "unexpected error: " << r.error().to_string() << "\n";
  }
  return d.str();
}

TEST(Dis, VectorFileLoads) {
  const auto& v = vectors();
  EXPECT_GT(v.size(), 500u);
  std::size_t raised = 0;
  for (const auto& c : v) raised += c.raised;
  EXPECT_GT(raised, 250u);
}

TEST(Dis, VectorsFromMemory) {
  std::size_t pass = 0;
  for (const Vector& v : vectors()) {
    brine::DisOptions opt;
    opt.indentlevel = v.indent;
    std::string out;
    const brine::Result<void> r = brine::disassemble(as_span(v.input), out, opt);
    const std::string diff = check(v, out, r);
    if (diff.empty()) {
      ++pass;
    } else {
      ADD_FAILURE() << v.name << ": " << diff;
    }
  }
  EXPECT_EQ(pass, vectors().size());
  std::printf("[ dis      ] %zu/%zu pickletools vectors match\n", pass, vectors().size());
}

TEST(Dis, VectorsAppendToExistingText) {
  for (const Vector& v : vectors()) {
    brine::DisOptions opt;
    opt.indentlevel = v.indent;
    std::string out = "prefix\n";
    const brine::Result<void> r = brine::disassemble(std::string_view(v.input), out, opt);
    ASSERT_EQ(out.substr(0, 7), "prefix\n") << v.name;
    EXPECT_EQ(check(v, out.substr(7), r), "") << v.name;
  }
}

TEST(Dis, VectorsThroughSink) {
  for (const Vector& v : vectors()) {
    brine::DisOptions opt;
    opt.indentlevel = v.indent;
    std::string out;
    std::size_t calls = 0;
    const brine::DisSink sink = [&](std::string_view s) {
      ++calls;
      out.append(s);
    };
    const brine::Result<void> r = brine::disassemble(as_span(v.input), sink, opt);
    EXPECT_EQ(check(v, out, r), "") << v.name;
    if (!v.output.empty()) {
      EXPECT_GE(calls, 1u) << v.name;
    }
  }
}

// A stream that hands out 1, 2, ... 7 bytes per read, to exercise the incremental input.
class DribbleStream final : public brine::detail::ByteStream {
 public:
  explicit DribbleStream(std::string data) : data_(std::move(data)) {}
  std::size_t read(std::uint8_t* dst, std::size_t n) override {
    step_ = step_ % 7 + 1;
    const std::size_t k = std::min({n, step_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, k, reinterpret_cast<char*>(dst));
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
  std::size_t step_ = 0;
};

TEST(Dis, VectorsFromStream) {
  for (const Vector& v : vectors()) {
    brine::DisOptions opt;
    opt.indentlevel = v.indent;
    brine::detail::InputSource in;
    in.stream = std::make_unique<DribbleStream>(v.input);
    std::string out;
    const brine::Result<void> r = brine::detail::disassemble(in, nullptr, &out, opt);
    EXPECT_EQ(check(v, out, r), "") << v.name;
  }
}

TEST(Dis, VectorsFromFile) {
  const fs::path dir = fs::temp_directory_path() / ("brine_test_dis_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "p.pickle";
  std::size_t n = 0;
  for (const Vector& v : vectors()) {
    if (n++ % 5) continue;  // a sample is enough: the input layer is shared with the stream test
    {
      std::ofstream f(file, std::ios::binary | std::ios::trunc);
      f.write(v.input.data(), static_cast<std::streamsize>(v.input.size()));
    }
    brine::DisOptions opt;
    opt.indentlevel = v.indent;
    std::string out;
    const brine::Result<void> r =
        brine::disassemble_file(file, [&](std::string_view s) { out.append(s); }, opt);
    EXPECT_EQ(check(v, out, r), "") << v.name;
    if (!r) {
      EXPECT_EQ(r.error().path, file.string());
    }
  }
  fs::remove_all(dir);
}

TEST(Dis, FileErrors) {
  const brine::Result<void> r = brine::disassemble_file("/nonexistent/brine/x.pkl", [](std::string_view) {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, brine::errc::io_error);
}

// ---- corpus expected.json ------------------------------------------------------------------------

// Just enough JSON for expected.json: objects, arrays, strings, numbers, literals.
struct Json {
  enum Type { null, boolean, number, string, array, object } type = null;
  std::string str;
  std::vector<Json> items;
  std::vector<std::string> keys;  // object members: keys[i] -> items[i]
  const Json* get(std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &items[i];
    }
    return nullptr;
  }
};

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}
  Json parse() {
    Json j = value();
    ws();
    if (i_ != s_.size()) throw std::runtime_error("trailing JSON");
    return j;
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) throw std::runtime_error("JSON ends early");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) throw std::runtime_error(std::string("JSON: expected ") + c);
    ++i_;
  }
  unsigned hex4() {
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_.at(i_++);
      v = v * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      const char c = s_.at(i_++);
      if (c == '"') return out;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      const char e = s_.at(i_++);
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            const std::size_t save = i_;
            i_ += 2;
            const unsigned lo = hex4();
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              i_ = save;
            }
          }
          utf8(out, cp);
          break;
        }
        default: out.push_back(e);
      }
    }
  }
  Json value() {
    Json j;
    const char c = peek();
    if (c == '{') {
      ++i_;
      j.type = Json::object;
      if (peek() == '}') {
        ++i_;
        return j;
      }
      for (;;) {
        j.keys.push_back(string());
        expect(':');
        j.items.push_back(value());
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect('}');
        return j;
      }
    }
    if (c == '[') {
      ++i_;
      j.type = Json::array;
      if (peek() == ']') {
        ++i_;
        return j;
      }
      for (;;) {
        j.items.push_back(value());
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect(']');
        return j;
      }
    }
    if (c == '"') {
      j.type = Json::string;
      j.str = string();
      return j;
    }
    const std::size_t start = i_;
    while (i_ < s_.size() && std::string_view(",]} \n\t\r").find(s_[i_]) == std::string_view::npos) ++i_;
    j.str = std::string(s_.substr(start, i_ - start));
    j.type = j.str == "null" ? Json::null : (j.str == "true" || j.str == "false") ? Json::boolean : Json::number;
    return j;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

void check_corpus_dir(const fs::path& dir, std::size_t min_files) {
  const Json expected = JsonParser(read_file(dir / "expected.json")).parse();
  ASSERT_EQ(expected.type, Json::object);
  std::size_t checked = 0, pass = 0;
  for (std::size_t i = 0; i < expected.keys.size(); ++i) {
    const std::string& file = expected.keys[i];
    const Json& entry = expected.items[i];
    const Json* dis = entry.get("pickletools_dis");
    if (!dis || dis->type != Json::string) continue;
    ++checked;
    const std::string data = read_file(dir / file);
    std::string out;
    const brine::Result<void> r = brine::disassemble(as_span(data), out);
    if (dis->str.starts_with("ERROR ")) {
      // pickletools raised: the field is "ERROR <type>: <message>" (the partial text is not kept).
      if (!r) {
        const std::string& want = dis->str;
        const std::string got = ": " + r.error().message;
        if (want.size() >= got.size() && want.compare(want.size() - got.size(), got.size(), got) == 0) {
          ++pass;
          continue;
        }
      }
      ADD_FAILURE() << file << ": expected " << dis->str << ", got " << (r ? std::string("success") : r.error().to_string());
      continue;
    }
    EXPECT_TRUE(r.ok()) << file << ": " << (r ? "" : r.error().to_string());
    if (out == dis->str) {
      ++pass;
    } else {
      std::size_t k = 0;
      while (k < out.size() && k < dis->str.size() && out[k] == dis->str[k]) ++k;
      ADD_FAILURE() << file << ": text differs at byte " << k << ": got [" << out.substr(k, 80) << "] expected ["
                    << dis->str.substr(k, 80) << "]";
    }
  }
  EXPECT_GE(checked, min_files);
  EXPECT_EQ(pass, checked);
  std::printf("[ dis      ] %s: %zu/%zu pickletools_dis texts match\n", dir.filename().string().c_str(), pass,
              checked);
}

TEST(Dis, SerdePickleCorpus) { check_corpus_dir(fs::path(BRINE_SHARED_DIR) / "corpus/serde-pickle", 19); }

TEST(Dis, GopickleCorpus) { check_corpus_dir(fs::path(BRINE_SHARED_DIR) / "corpus/gopickle/pickle", 75); }

// ---- API details -----------------------------------------------------------------------------------

TEST(Dis, ErrorCarriesOffsetAndOpcode) {
  std::string out;
  const brine::Result<void> r = brine::disassemble(std::string_view("\x80\x02h\x03.", 5), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(out, "    0: \\x80 PROTO      2\n    2: h    BINGET     3\n");
  EXPECT_EQ(r.error().code, brine::errc::memo_missing);
  EXPECT_EQ(r.error().offset, 2u);
  EXPECT_EQ(r.error().opcode, 0x68);
  EXPECT_EQ(r.error().to_string(), "byte 2 (0x68 BINGET): memo key 3 has never been stored into");
}

TEST(Dis, ErrorCodes) {
  using namespace std::string_view_literals;
  struct Case {
    std::string_view pickle;
    brine::errc code;
  };
  const Case cases[] = {
      {""sv, brine::errc::eof},
      {"\xff"sv, brine::errc::invalid_opcode},
      {"K"sv, brine::errc::truncated},
      {"Iabc\n."sv, brine::errc::bad_argument},
      {"\x8c\x01\x80."sv, brine::errc::unicode_error},
      {"a."sv, brine::errc::stack_underflow},
      {"t."sv, brine::errc::missing_mark},
      {"NN."sv, brine::errc::value_error},
      {"(q\x00."sv, brine::errc::unexpected_mark},
  };
  for (const Case& c : cases) {
    std::string out;
    const brine::Result<void> r = brine::disassemble(c.pickle, out);
    ASSERT_FALSE(r) << c.pickle;
    EXPECT_EQ(r.error().code, c.code) << c.pickle << ": " << r.error().to_string();
  }
}

// `python3 -m pickletools -m a.pkl b.pkl`: the memo carries over (texts from CPython 3.11).
TEST(Dis, SharedMemo) {
  brine::DisMemo memo;
  brine::DisOptions opt;
  opt.memo = &memo;
  std::string out;
  ASSERT_TRUE(brine::disassemble(std::string_view("\x80\x04]\x94.", 5), out, opt));
  EXPECT_EQ(memo.size(), 1u);
  ASSERT_TRUE(brine::disassemble(std::string_view("\x80\x04h\x00\x94.", 6), out, opt));
  EXPECT_EQ(memo.size(), 2u);
  EXPECT_EQ(out,
            "    0: \\x80 PROTO      4\n"
            "    2: ]    EMPTY_LIST\n"
            "    3: \\x94 MEMOIZE    (as 0)\n"
            "    4: .    STOP\n"
            "highest protocol among opcodes = 4\n"
            "    0: \\x80 PROTO      4\n"
            "    2: h    BINGET     0\n"
            "    4: \\x94 MEMOIZE    (as 1)\n"
            "    5: .    STOP\n"
            "highest protocol among opcodes = 4\n");
  // After clear() the memo is empty again.
  memo.clear();
  EXPECT_EQ(memo.size(), 0u);
  out.clear();
  const brine::Result<void> r = brine::disassemble(std::string_view("\x80\x04h\x00.", 5), out, opt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "memo key 0 has never been stored into");
}

TEST(Dis, MovedFromMemoStartsEmpty) {
  brine::DisMemo memo;
  brine::DisOptions opt;
  opt.memo = &memo;
  std::string out;
  ASSERT_TRUE(brine::disassemble(std::string_view("\x80\x04]\x94.", 5), out, opt));
  brine::DisMemo other = std::move(memo);
  EXPECT_EQ(other.size(), 1u);
  EXPECT_EQ(memo.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is usable
  ASSERT_TRUE(brine::disassemble(std::string_view("\x80\x04]\x94.", 5), out, opt));
  EXPECT_EQ(memo.size(), 1u);
}

TEST(Dis, SharedMemoSecondPickleOutput) {
  brine::DisMemo memo;
  brine::DisOptions opt;
  opt.memo = &memo;
  std::string out;
  ASSERT_TRUE(brine::disassemble(std::string_view("\x80\x04]\x94.", 5), out, opt));
  out.clear();
  const brine::Result<void> r = brine::disassemble(std::string_view("\x80\x04h\x00\x94\x86.", 7), out, opt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "tries to pop 2 items from stack with only 1 items");
  EXPECT_EQ(r.error().offset, 5u);
  EXPECT_EQ(out, "    0: \\x80 PROTO      4\n    2: h    BINGET     0\n    4: \\x94 MEMOIZE    (as 1)\n    5: \\x86 TUPLE2\n");
}

TEST(Dis, StopsAtFirstStopAndLeavesStreamPosition) {
  brine::detail::InputSource in;
  in.stream = std::make_unique<DribbleStream>(std::string("N.K\x05.", 5));
  std::string out;
  ASSERT_TRUE(brine::detail::disassemble(in, nullptr, &out, {}));
  EXPECT_EQ(out, "    0: N    NONE\n    1: .    STOP\nhighest protocol among opcodes = 0\n");
  EXPECT_EQ(in.position, 2u);
  out.clear();
  ASSERT_TRUE(brine::detail::disassemble(in, nullptr, &out, {}));
  EXPECT_EQ(out, "    2: K    BININT1    5\n    4: .    STOP\nhighest protocol among opcodes = 1\n");
  EXPECT_EQ(in.position, 5u);
}

// Hostile inputs: lengths that lie cost nothing; deep MARK nesting is bounded by max_output_bytes.
TEST(Dis, HugeDeclaredLengths) {
  const std::string_view cases[] = {
      std::string_view("\x8e\x00\x00\x00\x00\x00\x00\x00\x40" "abc", 12),
      std::string_view("\x8d\xff\xff\xff\xff\xff\xff\xff\x7f", 9),
      std::string_view("\x96\x00\x00\x00\x00\x00\x00\x00\x40", 9),
      std::string_view("\x8b\xff\xff\xff\x7f", 5),
      std::string_view("X\xff\xff\xff\xff", 5),
  };
  for (const std::string_view c : cases) {
    std::string out;
    brine::Result<void> r = brine::disassemble(c, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, brine::errc::truncated) << r.error().to_string();
    brine::detail::InputSource in;
    in.stream = std::make_unique<DribbleStream>(std::string(c));
    r = brine::detail::disassemble(in, nullptr, &out, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, brine::errc::truncated) << r.error().to_string();
    EXPECT_LT(in.window.capacity(), std::size_t{1} << 20);
  }
}

TEST(Dis, ManyMarks) {
  const std::size_t n = 1000000;
  std::string p(n, '(');
  p += '.';
  brine::DisOptions opt;
  opt.max_output_bytes = std::uint64_t{64} << 20;
  std::uint64_t total = 0;
  const brine::Result<void> r =
      brine::disassemble(as_span(p), [&](std::string_view s) { total += s.size(); }, opt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, brine::errc::limit_exceeded);
  EXPECT_LE(total, opt.max_output_bytes + (std::uint64_t{8} << 20));

  // Without a limit (and fewer MARKs): every MARK but the one STOP pops is left over.
  std::string q(2000, '(');
  q += '.';
  std::string out;
  const brine::Result<void> r2 = brine::disassemble(q, out);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().message.size(), std::string("stack not empty after STOP: []").size() + 1999 * 6 - 2);
  EXPECT_NE(out.find("\n 1999: (    " + std::string(1999 * 4, ' ') + "MARK\n 2000: .    " + std::string(2000 * 4, ' ') +
                     "STOP\nhighest protocol among opcodes = 0\n"),
            std::string::npos);
}

TEST(Dis, NegativeIndentCountsAsZero) {
  brine::DisOptions opt;
  opt.indentlevel = -3;
  std::string out;
  ASSERT_TRUE(brine::disassemble(std::string_view("(t.", 3), out, opt));
  EXPECT_EQ(out, "    0: (    MARK\n    1: t    TUPLE      (MARK at 0)\n    2: .    STOP\nhighest protocol among opcodes = 0\n");
}

}  // namespace
