#include "brine/opcodes.hpp"

#include <array>

namespace brine {
namespace {
using S = StackKind;
using A = ArgKind;

// Facts from CPython's Lib/pickletools.py (opcode bytes, protocols, argument encodings and
// documented stack effects), restated as data.
constexpr OpcodeInfo k_opcodes[] = {
    {0x28, "MARK", 0, A::none, 0, {}, 1, {S::mark}},
    {0x29, "EMPTY_TUPLE", 1, A::none, 0, {}, 1, {S::tuple}},
    {0x2e, "STOP", 0, A::none, 1, {S::any}, 0, {}},
    {0x30, "POP", 0, A::none, 1, {S::any}, 0, {}},
    {0x31, "POP_MARK", 1, A::none, 2, {S::mark, S::stackslice}, 0, {}},
    {0x32, "DUP", 0, A::none, 1, {S::any}, 2, {S::any, S::any}},
    {0x42, "BINBYTES", 3, A::bytes4, 0, {}, 1, {S::bytes}},
    {0x43, "SHORT_BINBYTES", 3, A::bytes1, 0, {}, 1, {S::bytes}},
    {0x46, "FLOAT", 0, A::floatnl, 0, {}, 1, {S::float_}},
    {0x47, "BINFLOAT", 1, A::float8, 0, {}, 1, {S::float_}},
    {0x49, "INT", 0, A::decimalnl_short, 0, {}, 1, {S::int_or_bool}},
    {0x4a, "BININT", 1, A::int4, 0, {}, 1, {S::int_}},
    {0x4b, "BININT1", 1, A::uint1, 0, {}, 1, {S::int_}},
    {0x4c, "LONG", 0, A::decimalnl_long, 0, {}, 1, {S::int_}},
    {0x4d, "BININT2", 1, A::uint2, 0, {}, 1, {S::int_}},
    {0x4e, "NONE", 0, A::none, 0, {}, 1, {S::none}},
    {0x50, "PERSID", 0, A::stringnl_noescape, 0, {}, 1, {S::any}},
    {0x51, "BINPERSID", 1, A::none, 1, {S::any}, 1, {S::any}},
    {0x52, "REDUCE", 0, A::none, 2, {S::any, S::any}, 1, {S::any}},
    {0x53, "STRING", 0, A::stringnl, 0, {}, 1, {S::bytes_or_str}},
    {0x54, "BINSTRING", 1, A::string4, 0, {}, 1, {S::bytes_or_str}},
    {0x55, "SHORT_BINSTRING", 1, A::string1, 0, {}, 1, {S::bytes_or_str}},
    {0x56, "UNICODE", 0, A::unicodestringnl, 0, {}, 1, {S::str}},
    {0x58, "BINUNICODE", 1, A::unicodestring4, 0, {}, 1, {S::str}},
    {0x5d, "EMPTY_LIST", 1, A::none, 0, {}, 1, {S::list}},
    {0x61, "APPEND", 0, A::none, 2, {S::list, S::any}, 1, {S::list}},
    {0x62, "BUILD", 0, A::none, 2, {S::any, S::any}, 1, {S::any}},
    {0x63, "GLOBAL", 0, A::stringnl_noescape_pair, 0, {}, 1, {S::any}},
    {0x64, "DICT", 0, A::none, 2, {S::mark, S::stackslice}, 1, {S::dict}},
    {0x65, "APPENDS", 1, A::none, 3, {S::list, S::mark, S::stackslice}, 1, {S::list}},
    {0x67, "GET", 0, A::decimalnl_short, 0, {}, 1, {S::any}},
    {0x68, "BINGET", 1, A::uint1, 0, {}, 1, {S::any}},
    {0x69, "INST", 0, A::stringnl_noescape_pair, 2, {S::mark, S::stackslice}, 1, {S::any}},
    {0x6a, "LONG_BINGET", 1, A::uint4, 0, {}, 1, {S::any}},
    {0x6c, "LIST", 0, A::none, 2, {S::mark, S::stackslice}, 1, {S::list}},
    {0x6f, "OBJ", 1, A::none, 3, {S::mark, S::any, S::stackslice}, 1, {S::any}},
    {0x70, "PUT", 0, A::decimalnl_short, 0, {}, 0, {}},
    {0x71, "BINPUT", 1, A::uint1, 0, {}, 0, {}},
    {0x72, "LONG_BINPUT", 1, A::uint4, 0, {}, 0, {}},
    {0x73, "SETITEM", 0, A::none, 3, {S::dict, S::any, S::any}, 1, {S::dict}},
    {0x74, "TUPLE", 0, A::none, 2, {S::mark, S::stackslice}, 1, {S::tuple}},
    {0x75, "SETITEMS", 1, A::none, 3, {S::dict, S::mark, S::stackslice}, 1, {S::dict}},
    {0x7d, "EMPTY_DICT", 1, A::none, 0, {}, 1, {S::dict}},
    {0x80, "PROTO", 2, A::uint1, 0, {}, 0, {}},
    {0x81, "NEWOBJ", 2, A::none, 2, {S::any, S::any}, 1, {S::any}},
    {0x82, "EXT1", 2, A::uint1, 0, {}, 1, {S::any}},
    {0x83, "EXT2", 2, A::uint2, 0, {}, 1, {S::any}},
    {0x84, "EXT4", 2, A::int4, 0, {}, 1, {S::any}},
    {0x85, "TUPLE1", 2, A::none, 1, {S::any}, 1, {S::tuple}},
    {0x86, "TUPLE2", 2, A::none, 2, {S::any, S::any}, 1, {S::tuple}},
    {0x87, "TUPLE3", 2, A::none, 3, {S::any, S::any, S::any}, 1, {S::tuple}},
    {0x88, "NEWTRUE", 2, A::none, 0, {}, 1, {S::bool_}},
    {0x89, "NEWFALSE", 2, A::none, 0, {}, 1, {S::bool_}},
    {0x8a, "LONG1", 2, A::long1, 0, {}, 1, {S::int_}},
    {0x8b, "LONG4", 2, A::long4, 0, {}, 1, {S::int_}},
    {0x8c, "SHORT_BINUNICODE", 4, A::unicodestring1, 0, {}, 1, {S::str}},
    {0x8d, "BINUNICODE8", 4, A::unicodestring8, 0, {}, 1, {S::str}},
    {0x8e, "BINBYTES8", 4, A::bytes8, 0, {}, 1, {S::bytes}},
    {0x8f, "EMPTY_SET", 4, A::none, 0, {}, 1, {S::set}},
    {0x90, "ADDITEMS", 4, A::none, 3, {S::set, S::mark, S::stackslice}, 1, {S::set}},
    {0x91, "FROZENSET", 4, A::none, 2, {S::mark, S::stackslice}, 1, {S::frozenset}},
    {0x92, "NEWOBJ_EX", 4, A::none, 3, {S::any, S::any, S::any}, 1, {S::any}},
    {0x93, "STACK_GLOBAL", 4, A::none, 2, {S::str, S::str}, 1, {S::any}},
    {0x94, "MEMOIZE", 4, A::none, 1, {S::any}, 1, {S::any}},
    {0x95, "FRAME", 4, A::uint8, 0, {}, 0, {}},
    {0x96, "BYTEARRAY8", 5, A::bytearray8, 0, {}, 1, {S::bytearray}},
    {0x97, "NEXT_BUFFER", 5, A::none, 0, {}, 1, {S::buffer}},
    {0x98, "READONLY_BUFFER", 5, A::none, 1, {S::buffer}, 1, {S::buffer}},
};
static_assert(std::size(k_opcodes) == 68);

constexpr std::array<const OpcodeInfo*, 256> make_index() {
  std::array<const OpcodeInfo*, 256> idx{};
  for (const auto& op : k_opcodes) idx[op.code] = &op;
  return idx;
}
constexpr auto k_index = make_index();

}  // namespace

const OpcodeInfo* opcode_info(std::uint8_t byte) noexcept { return k_index[byte]; }

std::span<const OpcodeInfo> all_opcodes() noexcept { return k_opcodes; }

std::string_view stack_kind_name(StackKind k) noexcept {
  switch (k) {
    case S::any: return "any";
    case S::mark: return "mark";
    case S::stackslice: return "stackslice";
    case S::int_: return "int";
    case S::int_or_bool: return "int_or_bool";
    case S::bool_: return "bool";
    case S::float_: return "float";
    case S::bytes_or_str: return "bytes_or_str";
    case S::bytes: return "bytes";
    case S::bytearray: return "bytearray";
    case S::str: return "str";
    case S::none: return "None";
    case S::tuple: return "tuple";
    case S::list: return "list";
    case S::dict: return "dict";
    case S::set: return "set";
    case S::frozenset: return "frozenset";
    case S::buffer: return "buffer";
  }
  return "?";
}

}  // namespace brine
