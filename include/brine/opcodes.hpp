#pragma once
/// \file
/// The pickle opcode table: one source of truth for the reader, the writer, the disassembler
/// and the safety scanner.
///
/// Example:
/// \code
///   const brine::OpcodeInfo* op = brine::opcode_info(0x8c);
///   // op->name == "SHORT_BINUNICODE", op->proto == 4, op->arg == brine::ArgKind::unicodestring1
/// \endcode
#include <cstdint>
#include <span>
#include <string_view>

namespace brine {

/// How an opcode's inline argument is encoded (names as in CPython's `pickletools`).
enum class ArgKind : std::uint8_t {
  none,
  uint1, uint2, int4, uint4, uint8,
  long1, long4,
  string1, string4,
  bytes1, bytes4, bytes8, bytearray8,
  unicodestring1, unicodestring4, unicodestring8,
  float8, floatnl,
  decimalnl_short, decimalnl_long,
  stringnl, stringnl_noescape, stringnl_noescape_pair, unicodestringnl,
};

/// What an opcode pops and pushes (as documented by `pickletools`); used by the disassembler's
/// stack emulation.
enum class StackKind : std::uint8_t {
  any, mark, stackslice,
  int_, int_or_bool, bool_, float_, bytes_or_str, bytes, bytearray, str, none,
  tuple, list, dict, set, frozenset, buffer,
};

/// Name of a stack kind as `pickletools` prints it ("any", "mark", "int_or_bool", "None", ...).
std::string_view stack_kind_name(StackKind k) noexcept;

/// Every opcode byte of pickle protocols 0-5.
enum class Opcode : std::uint8_t {
  MARK = 0x28, EMPTY_TUPLE = 0x29, STOP = 0x2e, POP = 0x30, POP_MARK = 0x31, DUP = 0x32,
  BINBYTES = 0x42, SHORT_BINBYTES = 0x43, FLOAT = 0x46, BINFLOAT = 0x47, INT = 0x49,
  BININT = 0x4a, BININT1 = 0x4b, LONG = 0x4c, BININT2 = 0x4d, NONE = 0x4e, PERSID = 0x50,
  BINPERSID = 0x51, REDUCE = 0x52, STRING = 0x53, BINSTRING = 0x54, SHORT_BINSTRING = 0x55,
  UNICODE = 0x56, BINUNICODE = 0x58, EMPTY_LIST = 0x5d, APPEND = 0x61, BUILD = 0x62,
  GLOBAL = 0x63, DICT = 0x64, APPENDS = 0x65, GET = 0x67, BINGET = 0x68, INST = 0x69,
  LONG_BINGET = 0x6a, LIST = 0x6c, OBJ = 0x6f, PUT = 0x70, BINPUT = 0x71, LONG_BINPUT = 0x72,
  SETITEM = 0x73, TUPLE = 0x74, SETITEMS = 0x75, EMPTY_DICT = 0x7d,
  PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85,
  TUPLE2 = 0x86, TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
  SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f,
  ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94,
  FRAME = 0x95, BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98,
};

/// Static facts about one opcode.
struct OpcodeInfo {
  std::uint8_t code;              ///< the opcode byte
  std::string_view name;          ///< e.g. "SHORT_BINUNICODE"
  std::uint8_t proto;             ///< protocol that introduced it (0-5)
  ArgKind arg;                    ///< inline argument encoding
  std::uint8_t n_before;          ///< number of entries in `before`
  StackKind before[3];            ///< stack items consumed (pickletools' stack_before)
  std::uint8_t n_after;           ///< number of entries in `after`
  StackKind after[2];             ///< stack items produced (pickletools' stack_after)

  std::span<const StackKind> stack_before() const noexcept { return {before, n_before}; }
  std::span<const StackKind> stack_after() const noexcept { return {after, n_after}; }
};

/// The table entry for an opcode byte, or nullptr if the byte is not a pickle opcode.
const OpcodeInfo* opcode_info(std::uint8_t byte) noexcept;

/// All 68 opcodes, in byte order.
std::span<const OpcodeInfo> all_opcodes() noexcept;

/// Highest pickle protocol this library reads and writes.
inline constexpr int highest_protocol = 5;

}  // namespace brine
