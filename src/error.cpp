#include "brine/error.hpp"

#include "brine/opcodes.hpp"

namespace brine {

std::string_view errc_name(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::eof: return "eof";
    case errc::truncated: return "truncated";
    case errc::invalid_opcode: return "invalid_opcode";
    case errc::unsupported_protocol: return "unsupported_protocol";
    case errc::stack_underflow: return "stack_underflow";
    case errc::unexpected_mark: return "unexpected_mark";
    case errc::missing_mark: return "missing_mark";
    case errc::memo_missing: return "memo_missing";
    case errc::bad_argument: return "bad_argument";
    case errc::unicode_error: return "unicode_error";
    case errc::type_error: return "type_error";
    case errc::value_error: return "value_error";
    case errc::limit_exceeded: return "limit_exceeded";
    case errc::persistent_id: return "persistent_id";
    case errc::extension_code: return "extension_code";
    case errc::out_of_band_buffer: return "out_of_band_buffer";
    case errc::forbidden_global: return "forbidden_global";
    case errc::io_error: return "io_error";
    case errc::out_of_memory: return "out_of_memory";
    case errc::wrong_kind: return "wrong_kind";
    case errc::out_of_range: return "out_of_range";
    case errc::key_not_found: return "key_not_found";
    case errc::unsupported: return "unsupported";
    case errc::unpicklable: return "unpicklable";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string s;
  if (!path.empty()) s += path;
  if (offset != no_offset) {
    if (!s.empty()) s += ": ";
    s += "byte " + std::to_string(offset);
    if (opcode >= 0) {
      const char* hex = "0123456789abcdef";
      s += " (0x";
      s += hex[(opcode >> 4) & 15];
      s += hex[opcode & 15];
      if (const OpcodeInfo* op = opcode_info(static_cast<std::uint8_t>(opcode))) {
        s += ' ';
        s += op->name;
      }
      s += ')';
    }
  }
  if (!s.empty()) s += ": ";
  s += message.empty() ? std::string(errc_name(code)) : message;
  return s;
}

}  // namespace brine
