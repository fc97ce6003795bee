//===- LoopEmitter.h - Helpers of the lowerings to loops --------*- C++ -*-===//
//
// What the lowerings of attn ops to scf/vector loops share (the tiling pass,
// convert-attn-to-loops, convert-attn-linear-to-loops): an emitter of
// arithmetic, loads and loops over an ImplicitLocOpBuilder, and the mask and
// head arithmetic. Library MLIRAttnLoopEmitter.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_LOOPEMITTER_LOOPEMITTER_H
#define ATTN_CONVERSION_LOOPEMITTER_LOOPEMITTER_H

#include "attn/Dialect/Attn/IR/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>
#include <optional>

namespace mlir::attn::loops {

/// Softmax weights below 2^kNegligibleWeightLog2 of their row's largest
/// are exactly 0 in every CPU kernel (Emitter::expWeight, the blocked
/// kernels' expNonPositive): they change no f32 sum, and their products
/// with values would be subnormal.
constexpr double kNegligibleWeightLog2 = -99.5;

/// Small arithmetic helpers over an ImplicitLocOpBuilder.
struct Emitter {
  ImplicitLocOpBuilder &b;

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(v); }
  Value f32(double v) {
    return b.create<arith::ConstantOp>(b.getF32FloatAttr(float(v)));
  }
  Value negInf() { return f32(-std::numeric_limits<double>::infinity()); }
  Value dim(Value memref, int64_t d) {
    return b.createOrFold<memref::DimOp>(memref, d);
  }
  Value minIdx(Value x, Value y) { return b.create<arith::MinSIOp>(x, y); }
  Value maxIdx(Value x, Value y) { return b.create<arith::MaxSIOp>(x, y); }
  // Reductions may be reassociated and multiply-adds contracted: this is
  // what lets LLVM vectorize the dot products and fuse them into FMAs.
  arith::FastMathFlagsAttr fastMath() {
    return arith::FastMathFlagsAttr::get(b.getContext(),
                                         arith::FastMathFlags::reassoc |
                                             arith::FastMathFlags::contract);
  }
  Value add(Value x, Value y) {
    return b.create<arith::AddFOp>(x, y, fastMath());
  }
  Value mul(Value x, Value y) {
    return b.create<arith::MulFOp>(x, y, fastMath());
  }
  Value sub(Value x, Value y) {
    return b.create<arith::SubFOp>(x, y, fastMath());
  }
  Value exp(Value x) { return b.create<math::ExpOp>(x); }
  /// exp(x) for x <= 0, a softmax weight relative to the row's largest
  /// (exp(0) = 1), scalar or lane-wise: 0 where x < kNegligibleWeightLog2
  /// ln 2 (a weight under 2^-99.5, which changes no f32 sum, while its
  /// products with values would be subnormal: microcode on x86 cores,
  /// about 100x slower). The blocked kernels' inline exp (expNonPositive)
  /// has the same cutoff.
  Value expWeight(Value x);
  Value load(Value m, ValueRange idx) {
    return b.create<memref::LoadOp>(m, idx);
  }
  void store(Value v, Value m, ValueRange idx) {
    b.create<memref::StoreOp>(v, m, idx);
  }
  /// `size == 1 ? 0 : i`: the index into a dimension that may broadcast.
  Value broadcastIndex(Value memref, int64_t d, Value i) {
    auto type = cast<MemRefType>(memref.getType());
    if (type.getDimSize(d) == 1)
      return index(0);
    if (!type.isDynamicDim(d))
      return i;
    Value isOne = b.create<arith::CmpIOp>(arith::CmpIPredicate::eq,
                                          dim(memref, d), index(1));
    return b.create<arith::SelectOp>(isOne, index(0), i);
  }

  /// for iv in [lb, ub) step `step`: body(iv, iterArgs) -> yielded values.
  /// The body builds with this same builder, whose insertion point is moved
  /// into the loop for the duration of the call.
  scf::ForOp loop(Value lb, Value ub, Value step, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto forOp = b.create<scf::ForOp>(lb, ub, step, init);
    OpBuilder::InsertionGuard guard(b);
    Block *block = forOp.getBody();
    if (block->mightHaveTerminator())
      b.setInsertionPoint(block->getTerminator());
    else
      b.setInsertionPointToEnd(block);
    SmallVector<Value> results =
        body(forOp.getInductionVar(), forOp.getRegionIterArgs());
    if (!init.empty())
      b.create<scf::YieldOp>(results);
    return forOp;
  }
  scf::ForOp loop(Value lb, Value ub, ValueRange init,
                  function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    return loop(lb, ub, index(1), init, body);
  }
  /// cond ? thenValue() : elseValue(), each built only in its branch.
  Value ifElse(Value cond, function_ref<Value()> thenValue,
               function_ref<Value()> elseValue) {
    auto ifOp = b.create<scf::IfOp>(TypeRange{b.getF32Type()}, cond,
                                    /*withElseRegion=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    b.create<scf::YieldOp>(thenValue());
    b.setInsertionPointToStart(ifOp.elseBlock());
    b.create<scf::YieldOp>(elseValue());
    return ifOp.getResult(0);
  }
  Value splat(VectorType type, Value scalar) {
    return b.create<vector::BroadcastOp>(type, scalar);
  }
  Value vload(VectorType type, Value m, ValueRange idx) {
    return b.create<vector::LoadOp>(type, m, idx);
  }
  /// sum(x) with reassociation allowed.
  Value reduceAdd(Value x) {
    return b.create<vector::ReductionOp>(vector::CombiningKind::ADD, x,
                                         arith::FastMathFlags::reassoc |
                                             arith::FastMathFlags::contract);
  }

  /// for iv in [0, ub): body(iv) with no loop-carried values.
  void forEach(Value ub, function_ref<void(Value)> body) {
    loop(index(0), ub, {}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>{};
    });
  }
};

/// Query head h reads key (or value) head h / (Hq / heads); the division
/// is guarded against empty head dimensions (then no loop runs anyway).
Value headGroupSize(Emitter &e, Value queryHeads, Value heads);

/// The number of keys batch entry `b` sees: Nk, or lengths[b] clamped to
/// [0, Nk] when there is a `lengths` mask.
Value visibleKeyCount(Emitter &e, Value lengths, Value b, Value nk);

/// The end of the keys query i sees: `visible`, cut by the causal mask
/// (key l is visible iff l <= i + Nk - Nq) when `causal`.
Value visibleKeyEnd(Emitter &e, bool causal, Value visible, Value i, Value nq,
                    Value nk);

/// The masks that give each query an interval of keys (see
/// attn.online_softmax_update): causal (with an offset), a prefix that
/// every query sees ([0, prefixEnd), an index), a sliding window.
struct KeyInterval {
  bool causal = false;
  int64_t causalOffset = 0;
  std::optional<int64_t> window;
  Value prefixEnd;
  /// Keys i + bandLower <= l <= i + bandUpper (i not aligned).
  std::optional<int64_t> bandLower, bandUpper;

  template <typename OpTy> static KeyInterval of(OpTy op, Value prefixEnd) {
    KeyInterval mask;
    mask.causal = op.getCausal();
    if (IntegerAttr offset = op.getCausalOffsetAttr())
      mask.causalOffset = offset.getInt();
    if (IntegerAttr window = op.getWindowAttr())
      mask.window = window.getInt();
    mask.prefixEnd = prefixEnd;
    if (IntegerAttr lower = op.getBandLowerAttr())
      mask.bandLower = lower.getInt();
    if (IntegerAttr upper = op.getBandUpperAttr())
      mask.bandUpper = upper.getInt();
    return mask;
  }
  /// Whether some query may not see its first keys (a lower bound).
  bool hasBegin() const { return window.has_value() || bandLower; }
  /// Whether some query may not see the last keys (an upper bound beyond
  /// the lengths).
  bool hasEnd() const { return causal || window || bandUpper; }
};

/// The keys [begin, end) query i sees, `visible` being the keys of its
/// batch entry (lengths); begin is null (0) without a lower bound. Both
/// are nondecreasing in i; end may be below begin (no key).
std::pair<Value, Value> visibleKeyRange(Emitter &e, const KeyInterval &mask,
                                        Value visible, Value i, Value nq,
                                        Value nk);

/// The key loop of one query tile of the tiled form: keys [begin, end) in
/// steps of a key tile, from the masks of `op` for the queries [i0, i0 +
/// queryTile) of batch entry `b` and head `h`: `visible` (lengths) and
/// `prefixEnd` as the tile ops take them; `end` is where the tile's last
/// query stops seeing keys, `begin` the key tile holding the first key its
/// first query sees (masks are intervals that move right with the query),
/// and a `key_range` function narrows both to the union of the tile's
/// queries' ranges. `queries`, when given, is a number of queries known at
/// run time (a query group's, at least 1) in place of `queryTile` (not with
/// a `key_range` function, which is called per query).
struct TileKeyLoop {
  Value visible, prefixEnd, begin, end;
};
TileKeyLoop tileKeyLoop(Emitter &e, OnlineAttentionOp op, Value b, Value h,
                        Value i0, int64_t queryTile, Value keyStep, Value nq,
                        Value nk, Value queries = {});

/// The interval masks' part of tileKeyLoop: [begin, end) of the queries
/// [i0, i0 + queries) (queries >= 1) from `mask` and the batch entry's
/// `visible` keys (begin is 0 without a first key, end is `visible` without
/// a last).
std::pair<Value, Value> tileKeyBounds(Emitter &e, const KeyInterval &mask,
                                      Value visible, Value i0, Value queries,
                                      Value keyStep, Value nq, Value nk);

/// The trailing operands of the score/mask/weight functions: `sizes` as
/// they are, `tables` cast to the functions' table type (any strides: the
/// functions are not looked up, which a function pass must not do).
SmallVector<Value> modifierOperands(Emitter &e, ValueRange sizes,
                                    ValueRange tables);

/// The score the alignment sees: `score` through the `scoreMod` function,
/// then -inf where the `maskMod` function is false (either may be null),
/// for batch entry b, head h, query i and key j. With a vector of scores
/// and `j` a vector of as many keys, the functions apply lane-wise
/// (attn.lanewise_call).
Value applyScoreModifiers(Emitter &e, FlatSymbolRefAttr scoreMod,
                          FlatSymbolRefAttr maskMod, Value score, Value b,
                          Value h, Value i, Value j, ValueRange operands);

/// 1 / l, or 0 when l = 0 (a query that saw no key gets c = 0).
Value inverseOrZero(Emitter &e, Value l);

/// Element `r` of a query tile's row state (vector or memref [QT]).
Value rowStateAt(Emitter &e, Value state, int64_t r);

/// The size of the last dimension of the memref `value` if it is static,
/// between 1 and `maxElements`, and contiguous (identity layout).
std::optional<int64_t> vectorizableSize(Value value, int64_t maxElements);

/// The same for rows that are contiguous in any strided layout (a view:
/// unit last stride, the other strides and the offset free).
std::optional<int64_t> vectorizableRows(Value value, int64_t maxElements);

/// The buffer `value` is a view of (through view-like ops), or `value`.
Value viewRoot(Value value);

/// The outermost scf.parallel around `op` (the tiled form's), or null.
scf::ParallelOp outermostParallelLoop(Operation *op);

/// A scratch buffer of `type` for the kernel that replaces `op`: allocated
/// once per iteration of the enclosing scf.parallel (the unit of
/// independent work of the tiled form, so each has its own) and freed at
/// its end; around `op` when there is no such loop. A heap buffer, not an
/// alloca: a loop body is no stack scope once scf becomes cf.
Value allocateTileScratch(RewriterBase &rewriter, Operation *op,
                          MemRefType type);

} // namespace mlir::attn::loops

#endif // ATTN_CONVERSION_LOOPEMITTER_LOOPEMITTER_H
