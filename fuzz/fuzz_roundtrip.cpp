// libFuzzer target fuzz_roundtrip: brine::loads the input, brine::dumps the document at every
// protocol 0..5, loads each output again and checks that the two graphs are equal (modulo the
// documented per-protocol forms), and that writing the reread document gives the same bytes
// (a fixed point). See roundtrip.hpp for exactly what is compared. Also: the document form of
// the writer (dumps(doc): memo entries only for what the reader saw shared) writes exactly what
// the value form (dumps(doc.root()): everything memoized) writes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "roundtrip.hpp"

namespace {

void check_document_form(const std::uint8_t* data, std::size_t size) {
  brine::ReadOptions opt = brine_harness::default_options();
  opt.encoding = brine::StringEncoding::latin1;
  brine::Result<brine::Document> doc = brine::loads(std::span(reinterpret_cast<const std::byte*>(data), size), opt);
  if (!doc || doc->bytes_allocated() > brine_harness::kRoundTripMaxAlloc) return;
  for (int p = 0; p <= 5; ++p) {
    brine::WriteOptions o;
    o.protocol = p;
    brine::Result<std::string> by_doc = brine::dumps(*doc, o);
    brine::Result<std::string> by_value = brine::dumps(doc->root(), o);
    BRINE_CHECK(static_cast<bool>(by_doc) == static_cast<bool>(by_value),
                "dumps(doc) and dumps(doc.root()) disagree on success at protocol " + std::to_string(p));
    if (by_doc) BRINE_CHECK(*by_doc == *by_value, "dumps(doc) != dumps(doc.root()) at protocol " + std::to_string(p));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  brine_harness::check_roundtrip(data, size);
  check_document_form(data, size);
  return 0;
}
