// brine: look inside pickles without Python.
//
//   brine show FILE...      the value, as CPython's repr() prints it (--refs, --json)
//   brine dis FILE          the opcodes, as `python -m pickletools` prints them
//   brine check FILE...     load completely; one line per file; exit 0 only if all loaded
//   brine convert IN OUT    re-write a pickle at another protocol (atomically)
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "brine/brine.hpp"

namespace {

struct Common {
  std::string encoding = "ascii";
  std::uint64_t max_alloc = 0;
  std::uint64_t max_depth = 0;
  bool no_fix_imports = false;
};

void add_common(CLI::App* app, Common& c) {
  app->add_option("--encoding", c.encoding, "how to decode Python 2 str: ascii (default), latin1, utf8, bytes")
      ->check(CLI::IsMember({"ascii", "latin1", "latin-1", "utf8", "utf-8", "bytes"}));
  app->add_option("--max-alloc", c.max_alloc, "refuse to allocate more than this many bytes per pickle");
  app->add_option("--max-depth", c.max_depth, "refuse pickles whose values nest deeper than this");
  app->add_flag("--no-fix-imports", c.no_fix_imports, "do not map Python 2 module names to Python 3 ones");
}

brine::ReadOptions read_options(const Common& c) {
  brine::ReadOptions o;
  if (c.encoding == "latin1" || c.encoding == "latin-1") o.encoding = brine::StringEncoding::latin1;
  else if (c.encoding == "utf8" || c.encoding == "utf-8") o.encoding = brine::StringEncoding::utf8;
  else if (c.encoding == "bytes") o.encoding = brine::StringEncoding::bytes;
  if (c.max_alloc) o.limits.max_alloc_bytes = c.max_alloc;
  if (c.max_depth) o.limits.max_depth = c.max_depth;
  o.fix_imports = !c.no_fix_imports;
  return o;
}

void print_error(const brine::Error& e) {
  std::fprintf(stderr, "brine: %s\n", e.to_string().c_str());
}

void write_out(std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
}

// Distinct values reachable from root (shared objects counted once).
std::uint64_t count_values(const brine::Value& root) {
  using brine::detail::Tag;
  std::unordered_set<const void*> seen;
  std::vector<brine::Value> work{root};
  std::uint64_t n = 0;
  auto visit = [&](const brine::Value& v) { work.push_back(v); };
  while (!work.empty()) {
    brine::Value v = work.back();
    work.pop_back();
    if (!v.valid()) continue;
    Tag t = v.tag();
    if (t >= Tag::complex || t == Tag::str || t == Tag::bytes || t == Tag::bigint) {
      if (!seen.insert(brine::detail::Access::identity(v)).second) continue;
    }
    ++n;
    for (const brine::Value& e : v.elements()) visit(e);
    for (const brine::DictItem& it : v.items()) {
      visit(it.key);
      visit(it.value);
    }
    if (t == Tag::object) {
      visit(v.callable());
      visit(v.args());
      visit(v.kwargs());
      visit(v.state());
    } else if (t == Tag::persistent) {
      visit(v.persistent_id());
    }
  }
  return n;
}

std::string preamble(const std::string& name) { return "==> " + name + " <==\n"; }

int cmd_show(const std::vector<std::string>& files, const Common& c, bool refs, bool json, bool all,
             std::uint64_t max_output) {
  brine::ReadOptions ro = read_options(c);
  brine::ReprOptions rp;
  rp.refs = refs;
  rp.max_output = max_output;
  brine::JsonOptions jo;
  jo.max_output = max_output;
  int status = 0;
  for (const std::string& f : files) {
    if (files.size() > 1) write_out(preamble(f));
    auto reader = brine::Reader::open(f);
    if (!reader) {
      print_error(reader.error());
      status = 1;
      continue;
    }
    do {
      auto doc = reader->next(ro);
      if (!doc) {
        print_error(doc.error());
        status = 1;
        break;
      }
      std::string out;
      bool truncated;
      if (json) truncated = brine::to_json_append(out, doc->root(), jo) == brine::ReprStatus::truncated;
      else truncated = brine::repr_append(out, doc->root(), rp) == brine::ReprStatus::truncated;
      out.push_back('\n');
      write_out(out);
      if (truncated) {
        std::fprintf(stderr, "brine: %s: output truncated at %llu bytes\n", f.c_str(),
                     static_cast<unsigned long long>(max_output));
        if (status == 0) status = 3;
      }
    } while (all && !reader->at_end());
  }
  return status;
}

int cmd_dis(const std::string& file, int indent, std::uint64_t max_output) {
  brine::DisOptions o;
  o.indentlevel = indent;
  o.max_output_bytes = max_output;
  // Streams the text: a large pickle never has its whole disassembly in memory.
  std::uint64_t written = 0;
  auto r = brine::disassemble_file(file, [&written](std::string_view chunk) {
    written += chunk.size();
    write_out(chunk);
  }, o);
  std::fflush(stdout);
  if (!r) {
    print_error(r.error());
    // 3: output stopped at --max-output (not a problem of the pickle); 1: a bad pickle
    bool truncated = max_output && r.error().code == brine::errc::limit_exceeded && written + 4096 >= max_output;
    return truncated ? 3 : 1;
  }
  return 0;
}

int cmd_check(const std::vector<std::string>& files, const Common& c) {
  brine::ReadOptions ro = read_options(c);
  int status = 0;
  for (const std::string& f : files) {
    auto reader = brine::Reader::open(f);
    if (!reader) {
      std::printf("%s: error: %s\n", f.c_str(), reader.error().message.c_str());
      status = 1;
      continue;
    }
    // The file loads if its first pickle does (as pickle.load). Further pickles written back to
    // back are loaded and counted; bytes after the last one that are not a pickle are reported.
    std::uint64_t pickles = 0, values = 0;
    std::string first_type, trailing;
    int proto = -1;
    std::uint64_t end = 0;
    do {
      auto doc = reader->next(ro);
      if (!doc) {
        brine::Error e = doc.error();
        e.path.clear();
        if (pickles == 0) {
          std::printf("%s: error: %s\n", f.c_str(), e.to_string().c_str());
        } else {
          trailing = ", then bytes that are not a pickle (" + e.to_string() + ")";
        }
        break;
      }
      if (pickles == 0) {
        first_type = doc->root().type_name();
        proto = doc->declared_protocol() >= 0 ? doc->declared_protocol() : doc->opcode_protocol();
      }
      values += count_values(doc->root());
      end = doc->end_offset();
      ++pickles;
    } while (!reader->at_end());
    if (pickles == 0) {
      status = 1;
      continue;
    }
    std::printf("%s: ok: %s, %llu values, protocol %d, %llu bytes%s%s\n", f.c_str(), first_type.c_str(),
                static_cast<unsigned long long>(values), proto, static_cast<unsigned long long>(end),
                pickles > 1 ? (", " + std::to_string(pickles) + " pickles").c_str() : "", trailing.c_str());
  }
  return status;
}

// ---- convert ------------------------------------------------------------------------------

constexpr int kSameProtocol = -2;  // --protocol not given: the input's own protocol

struct ConvertArgs {
  std::string in, out;
  int protocol = kSameProtocol;
  Common common;
  std::string batch;  // hidden: a file of convert jobs, one per line
};

// The subcommand's options, on `app` (the real subcommand, or a throwaway parser for one line of
// a --batch file).
void add_convert_options(CLI::App* app, ConvertArgs& a) {
  app->add_option("in", a.in, "pickle to read ('-' for standard input); only its first pickle is converted");
  app->add_option("out", a.out,
                  "file to write ('-' for standard output); written to a temporary file and renamed, "
                  "so it may be the input file");
  app->add_option("-p,--protocol", a.protocol,
                  "protocol to write, 0..5 or -1 for the highest (default: the input's protocol)")
      ->check(CLI::Range(-1, 5));
  add_common(app, a.common);
  app->get_option("--no-fix-imports")
      ->description("read and write Python 2 module names as they are (fix_imports=False for both)");
}

// The protocol a document was written at: its PROTO opcode (protocol 2+), else the highest
// protocol of the opcodes it uses (0 or 1; pickles without PROTO are protocol 0 or 1).
int input_protocol(const brine::Document& doc) {
  int declared = doc.declared_protocol();
  int p = declared >= 2 ? declared : doc.opcode_protocol();
  if (p < 0) p = 0;
  if (p > 5) p = 5;
  return p;
}

// Converts one file. Returns an empty string on success, else the error message (without the
// "brine: " prefix). `protocol_used` gets the protocol written.
std::string convert_one(const ConvertArgs& a, int* protocol_used) {
  if (a.in.empty() || a.out.empty()) return "convert: IN and OUT are required";
  if (a.out == "-" && ::isatty(STDOUT_FILENO)) {
    return "convert: refusing to write a pickle to a terminal (redirect standard output)";
  }
  brine::ReadOptions ro = read_options(a.common);
  auto reader = brine::Reader::open(a.in);
  if (!reader) return reader.error().to_string();
  auto doc = reader->next(ro);
  if (!doc) return doc.error().to_string();
  if (!reader->at_end()) {
    std::fprintf(stderr, "brine: %s: note: only the first pickle (bytes 0..%llu) is converted; more bytes follow\n",
                 a.in.c_str(), static_cast<unsigned long long>(doc->end_offset()));
  }
  brine::WriteOptions wo;
  wo.protocol = a.protocol == kSameProtocol ? input_protocol(*doc) : a.protocol;
  wo.fix_imports = !a.common.no_fix_imports;
  if (protocol_used) *protocol_used = wo.protocol < 0 ? 5 : wo.protocol;
  auto write_error = [&](brine::Error e) {
    std::string where = a.out == "-" ? std::string("<stdout>") : a.out;
    // dump_file names the file itself; dumps may name a value path ($['a'][3])
    if (e.path.empty()) e.path = where;
    else if (e.path.compare(0, where.size(), where) != 0) e.path = where + ": " + e.path;
    return e.to_string();
  };
  if (a.out == "-") {
    auto bytes = brine::dumps(*doc, wo);
    if (!bytes) return write_error(std::move(bytes).error());
    if (std::fwrite(bytes->data(), 1, bytes->size(), stdout) != bytes->size() || std::fflush(stdout) != 0) {
      return std::string("<stdout>: write failed: ") + std::strerror(errno);
    }
    return {};
  }
  auto r = brine::dump_file(a.out, *doc, wo);
  if (!r) return write_error(std::move(r).error());
  return {};
}

int cmd_convert(const ConvertArgs& a) {
  std::string err = convert_one(a, nullptr);
  if (err.empty()) return 0;
  std::fprintf(stderr, "brine: %s\n", err.c_str());
  return 1;
}

// One line of text (a message may contain newlines; a batch reply is one line per job).
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// Splits a --batch line at tabs.
std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t t = line.find('\t', start);
    out.push_back(line.substr(start, t == std::string::npos ? std::string::npos : t - start));
    if (t == std::string::npos) break;
    start = t + 1;
  }
  return out;
}

// `brine convert --batch LIST`: every non-empty line of LIST ('-': standard input) is one
// conversion, its arguments separated by tabs ("IN<TAB>OUT<TAB>--protocol<TAB>2"). One line on
// standard output per job, in order: "ok: protocol N<TAB>OUT" or "error: MESSAGE<TAB>OUT" (OUT
// last, since a message may contain anything but a newline). Exit 0 only if every job succeeded.
// Meant for test drivers: one process for thousands of conversions.
int convert_batch(const std::string& list) {
  std::ifstream in_file;
  std::istream* is = &std::cin;
  if (list != "-") {
    in_file.open(list, std::ios::binary);
    if (!in_file) {
      std::fprintf(stderr, "brine: %s: cannot open: %s\n", list.c_str(), std::strerror(errno));
      return 1;
    }
    is = &in_file;
  }
  int status = 0;
  std::string line;
  std::uint64_t lineno = 0;
  while (std::getline(*is, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    ConvertArgs a;
    CLI::App parser{"convert job"};
    add_convert_options(&parser, a);
    std::vector<std::string> args = split_tabs(line);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    std::string err;
    int proto = -1;
    try {
      parser.parse(reversed);
      if (a.in == "-" || a.out == "-") err = "'-' is not allowed in a batch";
      else err = convert_one(a, &proto);
    } catch (const CLI::ParseError& e) {
      err = "line " + std::to_string(lineno) + ": " + e.what();
    }
    if (err.empty()) std::printf("ok: protocol %d\t%s\n", proto, a.out.c_str());
    else std::printf("error: %s\t%s\n", one_line(err).c_str(), a.out.c_str());
    std::fflush(stdout);
    if (!err.empty()) status = 1;
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brine: read Python pickles without Python, safely"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("brine ") + BRINE_VERSION_STRING);

  Common common;
  std::vector<std::string> files;
  bool refs = false, json = false, all = false;
  std::uint64_t max_output = std::uint64_t{64} << 20;
  auto* show = app.add_subcommand("show", "print the value as CPython's repr() would");
  show->add_option("files", files, "pickle files ('-' for standard input)")->required();
  show->add_flag("--refs", refs, "label shared lists/dicts/objects #n= ... #n#");
  show->add_flag("--json", json, "print JSON (see docs/json-format.md)");
  show->add_flag("--all", all, "print every pickle of the file, not only the first");
  show->add_option("--max-output", max_output, "stop printing after this many bytes (0 = no limit)");
  add_common(show, common);

  std::string dis_file;
  int indent = 4;
  auto* dis = app.add_subcommand("dis", "disassemble as `python -m pickletools` does");
  dis->add_option("file", dis_file, "pickle file ('-' for standard input)")->required();
  dis->add_option("-l,--indentlevel", indent, "blanks per MARK level");
  std::uint64_t dis_max_output = 0;
  dis->add_option("--max-output", dis_max_output, "stop after this many bytes of text (default: no limit)");

  std::vector<std::string> check_files;
  auto* check = app.add_subcommand("check", "load files completely; exit 0 only if all loaded");
  check->add_option("files", check_files, "pickle files")->required();
  add_common(check, common);

  ConvertArgs conv;
  auto* convert = app.add_subcommand("convert", "re-write a pickle at another protocol (atomically)");
  add_convert_options(convert, conv);
  convert->add_option("--batch", conv.batch, "run the conversions listed in a file (one per line, tab-separated)")
      ->group("");  // hidden: for test drivers

  CLI11_PARSE(app, argc, argv);
  try {
    if (*show) return cmd_show(files, common, refs, json, all, max_output);
    if (*dis) return cmd_dis(dis_file, indent, dis_max_output);
    if (*check) return cmd_check(check_files, common);
    if (*convert) {
      if (!conv.batch.empty()) {
        if (!conv.in.empty() || !conv.out.empty()) {
          std::fprintf(stderr, "brine: convert: --batch takes no IN/OUT arguments\n");
          return 1;
        }
        return convert_batch(conv.batch);
      }
      return cmd_convert(conv);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brine: internal error: %s\n", e.what());
    return 2;
  }
  return 2;
}
