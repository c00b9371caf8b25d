// libFuzzer target fuzz_reader_stream: the input as back-to-back pickles, read by
// Reader::from_memory (copied and borrowed) and by Reader::from_fd on a pipe (written at once and a
// few bytes at a time); all must agree.
#include <cstddef>
#include <cstdint>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  brine_harness::check_reader_stream(data, size);
  return 0;
}
