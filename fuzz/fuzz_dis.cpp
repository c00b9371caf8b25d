// libFuzzer target fuzz_dis: brine::disassemble on the input (string and sink forms, a pipe
// through disassemble_file, a shared memo).
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  brine_harness::check_dis(data, size);
  return 0;
}
