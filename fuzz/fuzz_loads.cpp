// libFuzzer target fuzz_loads: brine::loads on the input (default and hooked options), then repr,
// to_json, a traversal of every value and every typed accessor.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  brine_harness::check_loads(data, size);
  return 0;
}
