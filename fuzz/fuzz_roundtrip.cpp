// libFuzzer target fuzz_roundtrip: brine::loads the input, brine::dumps the document at every
// protocol 0..5, loads each output again and checks that the two graphs are equal (modulo the
// documented per-protocol forms), and that writing the reread document gives the same bytes
// (a fixed point). See roundtrip.hpp for exactly what is compared.
#include <cstddef>
#include <cstdint>

#include "roundtrip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  brine_harness::check_roundtrip(data, size);
  return 0;
}
