// brine: look inside pickles without Python.
//
//   brine show FILE...      the value, as CPython's repr() prints it (--refs, --json)
//   brine dis FILE          the opcodes, as `python -m pickletools` prints them
//   brine check FILE...     load completely; one line per file; exit 0 only if all loaded
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
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
  app->add_option("--max-depth", c.max_depth, "refuse pickles with more nested MARKs than this");
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

  CLI11_PARSE(app, argc, argv);
  try {
    if (*show) return cmd_show(files, common, refs, json, all, max_output);
    if (*dis) return cmd_dis(dis_file, indent, dis_max_output);
    if (*check) return cmd_check(check_files, common);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brine: internal error: %s\n", e.what());
    return 2;
  }
  return 2;
}
