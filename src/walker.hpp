#pragma once
// The frame machinery both printers (repr.cpp, json.cpp) walk a value graph with, without
// recursion on its depth. A frame prints a sequence of values, the items of a dict (keys as
// values, or as text for JSON objects), (key, value) pairs, or "pieces": literal text each
// optionally followed by a value, for everything with a layout of its own.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "brine/value.hpp"

namespace brine::detail {

struct PrintPiece {
  std::string text;  // written first
  Value value;       // then this value, if valid
};

struct PrintFrame {
  enum class T : std::uint8_t {
    seq,             // items, separated by ", "
    dict,            // key: value, ...
    text_key_dict,   // the same with str keys written by the printer's emit_text_key
    pairs,           // pair_open key, value pair_close, separated by ", "
    pieces,          // pieces [pbegin, pend) of the walker's piece stack
  } t = T::seq;
  const void* id = nullptr;  // identity, for the printer's recursion tracking
  const Value* items = nullptr;
  const DictItem* ditems = nullptr;
  std::size_t n = 0, i = 0;
  std::uint8_t state = 0;
  std::string_view pair_open, pair_close;
  std::string close;  // written when the frame ends
  std::shared_ptr<std::vector<DictItem>> owned_items;  // items the frame owns (e.g. sorted)
  std::size_t pbegin = 0, pend = 0;
};

// Derived provides void emit(const Value&): write a value, leaves at once, containers by
// push_frame (the frame's opening text is Derived's to write first). Optionally:
//  - void emit_text_key(const Value&): writes a text_key_dict key; it must only write text, never
//    push a frame (without it, text_key_dict frames print like dict frames);
//  - void on_pop(const PrintFrame&): called when a frame ends, after its close text.
// The hooks may be private if Derived befriends FrameWalker<Derived>.
template <class Derived>
class FrameWalker {
 protected:
  explicit FrameWalker(std::string& out) : out_(out) {}

  // Starts a frame; for T::pieces, `pieces` are moved onto the piece stack.
  void push_frame(PrintFrame f, std::span<PrintPiece> pieces = {}) {
    if (f.t == PrintFrame::T::pieces) {
      f.pbegin = pieces_.size();
      for (auto& p : pieces) pieces_.push_back(std::move(p));
      f.pend = pieces_.size();
      f.i = f.pbegin;
    }
    frames_.push_back(std::move(f));
  }

  void pop_frame() {
    PrintFrame& f = frames_.back();
    out_ += f.close;
    if (f.t == PrintFrame::T::pieces) pieces_.resize(f.pbegin);
    self().on_pop(f);
    frames_.pop_back();
  }

  void on_pop(const PrintFrame&) {}  // the default: nothing

  // One step of the top frame. (emit may push frames: `f` is not used after it.)
  void step() {
    PrintFrame& f = frames_.back();
    switch (f.t) {
      case PrintFrame::T::seq: {
        if (f.i == f.n) return pop_frame();
        if (f.i) out_ += ", ";
        Value v = f.items[f.i++];
        self().emit(v);
        return;
      }
      case PrintFrame::T::dict:
      case PrintFrame::T::text_key_dict: {
        if (f.state == 0) {
          if (f.i == f.n) return pop_frame();
          if (f.i) out_ += ", ";
          Value k = f.ditems[f.i].key;
          if constexpr (requires { self().emit_text_key(k); }) {
            if (f.t == PrintFrame::T::text_key_dict) {
              self().emit_text_key(k);  // writes text only: `f` is still valid
              out_ += ": ";
              Value v = f.ditems[f.i++].value;
              self().emit(v);
              return;
            }
          }
          f.state = 1;
          self().emit(k);
        } else {
          out_ += ": ";
          f.state = 0;
          Value v = f.ditems[f.i++].value;
          self().emit(v);
        }
        return;
      }
      case PrintFrame::T::pairs: {
        if (f.state == 0) {
          if (f.i == f.n) return pop_frame();
          if (f.i) out_ += ", ";
          out_ += f.pair_open;
          f.state = 1;
          Value k = f.ditems[f.i].key;
          self().emit(k);
        } else if (f.state == 1) {
          out_ += ", ";
          f.state = 2;
          Value v = f.ditems[f.i].value;
          self().emit(v);
        } else {
          out_ += f.pair_close;
          f.state = 0;
          ++f.i;
        }
        return;
      }
      case PrintFrame::T::pieces: {
        if (f.i == f.pend) return pop_frame();
        const PrintPiece& p = pieces_[f.i++];
        out_ += p.text;
        if (p.value.valid()) {
          Value v = p.value;
          self().emit(v);
        }
        return;
      }
    }
  }

  std::string& out_;
  std::vector<PrintFrame> frames_;
  std::vector<PrintPiece> pieces_;

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace brine::detail
