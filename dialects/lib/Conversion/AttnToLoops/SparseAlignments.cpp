//===- SparseAlignments.cpp - Kernels of sparsemax and 1.5-entmax ---------===//
//
// Lowers the tiled form of the sparse alignments (TileSparseAttention.cpp)
// to scf/vector loops:
//
// - attn.tile_scores -> in a loop over the query rows of the tile, the
//   scores of the keys of the key tile that the row sees (the generic
//   kernel's score, TileScorer.h) stored into the row buffer scores[r, j];
// - attn.tile_sparse_align -> in a loop over the query rows, over the keys
//   each sees:
//   the row maximum, a bisection of the threshold tau on the shifted
//   scores, tau recomputed exactly on the support found, then the
//   normalized weights p, the context sum_l p_l v_l (keys off the support
//   skipped) and the weights output.
//
// The threshold (see the description of attn.tile_sparse_align): with
// z' = z - max z (sparsemax) or (z - max z) / 2 (entmax15) the threshold lies
// in [-1, 0) (the largest weight is at most 1 and the maximum's z' is 0), and
// f(tau) = sum_l phi(z'_l - tau) is nonincreasing with f(-1) >= 1 > f(0) = 0,
// phi(x) = max(x, 0) or max(x, 0)^2. kBisections halvings of [-1, 0) bring
// the bracket below f32 resolution; the support S = {z' > lo} (lo the
// bracket's lower end, f(lo) >= 1, so S holds the true support plus at most
// keys within the bracket of tau) then gives tau in closed form.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/AttnToLoops/AttnToLoops.h"
#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"
#include "attn/Target/TargetDescription.h"

#include "TileScorer.h"

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// Halvings of the threshold's bracket [-1, 0): a width of 2^-30, below
/// the f32 spacing of any tau with |tau| >= 2^-6 and far below the weights'
/// tolerance otherwise; the exact recomputation on the support follows.
constexpr int64_t kBisections = 30;

/// The keys [lo, end) row `i` sees (lo = 0 without a window).
template <typename TileOp>
std::pair<Value, Value> rowKeys(Emitter &e, TileOp op, Value i, Value nq,
                                Value nk) {
  auto [begin, end] = visibleKeyRange(e, KeyInterval::of(op, op.getPrefixEnd()),
                                      op.getKeyEnd(), i, nq, nk);
  return {begin ? begin : e.index(0), end};
}

/// `body(r)` for each row r of the tile's row buffer `scores`, in a loop:
/// each row's work already loops over its keys, so the rows are not
/// unrolled (unrolled, the per-row code came once per query of the tile,
/// and LLVM took most of the model's compile time on those copies).
void forEachRow(Emitter &e, Value scores, function_ref<void(Value)> body) {
  int64_t rows = cast<MemRefType>(scores.getType()).getDimSize(0);
  e.forEach(e.index(rows), body);
}

/// scores[r, j] = score(q_i, k_j) for the keys of the tile row r sees.
struct LowerTileScores : public OpRewritePattern<TileScoresOp> {
  LowerTileScores(MLIRContext *context, const TargetDescription &target)
      : OpRewritePattern(context), target(target) {}

  LogicalResult matchAndRewrite(TileScoresOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    TileScorer scorer(e, op, target);
    Value zero = e.index(0);
    Value nq = e.dim(op.getQuery(), 2), nk = e.dim(op.getKeys(), 2);
    Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, e.index(1)), zero);
    Value j0 = op.getFirstKey();
    Value tileEnd = b.create<arith::AddIOp>(j0, e.index(op.getKeyTile()));
    Value scores = op.getScores();
    forEachRow(e, scores, [&](Value rIdx) {
      Value i = e.minIdx(b.create<arith::AddIOp>(op.getFirstQuery(), rIdx),
                         lastQuery);
      scorer.setQueryRow(i);
      auto [begin, end] = rowKeys(e, op, i, nq, nk);
      Value lb = e.maxIdx(begin, j0), ub = e.minIdx(end, tileEnd);
      e.loop(lb, ub, {}, [&](Value j, ValueRange) {
        e.store(scorer.score(j), scores, {rIdx, j});
        return SmallVector<Value>{};
      });
    });
    rewriter.eraseOp(op);
    return success();
  }

  const TargetDescription &target;
};

/// The threshold, the weights, the context and the weights output of each
/// row (see the file comment).
struct LowerTileSparseAlign : public OpRewritePattern<TileSparseAlignOp> {
  LowerTileSparseAlign(MLIRContext *context, const TargetDescription &target)
      : OpRewritePattern(context), target(target) {}

  LogicalResult matchAndRewrite(TileSparseAlignOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Emitter e{b};
    bool entmax = op.getAlign() == AlignKind::entmax15;
    Value scores = op.getScores(), v = op.getValues(), out = op.getOutput();
    Value weights = op.getWeights();
    Value bv = op.getValueBatch(), hv = op.getValueHead();
    Value bIdx = op.getBatch(), h = op.getHead();
    Value zero = e.index(0);
    Value nq = e.dim(out, 1), nk = e.dim(v, 2), dv = e.dim(v, 3);
    Value lastQuery = e.maxIdx(b.create<arith::SubIOp>(nq, e.index(1)), zero);
    // Value rows in registers when Dv is static and small enough.
    VectorType rowType;
    if (auto size = vectorizableSize(v, target.maxVectorElements))
      if (vectorizableSize(out, target.maxVectorElements))
        rowType = VectorType::get({*size}, b.getF32Type());

    forEachRow(e, scores, [&](Value rIdx) {
      Value i = e.minIdx(b.create<arith::AddIOp>(op.getFirstQuery(), rIdx),
                         lastQuery);
      Value lo, end;
      std::tie(lo, end) = rowKeys(e, op, i, nq, nk);
      auto sum = [&](function_ref<Value(Value)> term) {
        return e.loop(lo, end, {e.f32(0)}, [&](Value j, ValueRange acc) {
                  return SmallVector<Value>{e.add(acc[0], term(j))};
                }).getResult(0);
      };
      // The row maximum (NaN skipped); -inf when no key is seen.
      Value m =
          e.loop(lo, end, {e.negInf()}, [&](Value j, ValueRange acc) {
             return SmallVector<Value>{b.create<arith::MaxNumFOp>(
                 acc[0], e.load(scores, {rIdx, j}))};
           }).getResult(0);
      Value seen = b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, m,
                                           e.negInf());
      Value shift = b.create<arith::SelectOp>(seen, m, e.f32(0));
      // z'_j, and phi(z'_j - tau).
      auto shifted = [&](Value j) {
        Value z = e.sub(e.load(scores, {rIdx, j}), shift);
        return entmax ? e.mul(z, e.f32(0.5)) : z;
      };
      auto phi = [&](Value x) {
        Value pos = b.create<arith::MaxNumFOp>(x, e.f32(0));
        return entmax ? e.mul(pos, pos) : pos;
      };
      // Bisection: f(lo) >= 1 > f(hi).
      auto bracket = e.loop(
          e.index(0), e.index(kBisections), {e.f32(-1), e.f32(0)},
          [&](Value, ValueRange t) {
            Value mid = e.mul(e.add(t[0], t[1]), e.f32(0.5));
            Value f = sum([&](Value j) { return phi(e.sub(shifted(j), mid)); });
            Value atLeastOne =
                b.create<arith::CmpFOp>(arith::CmpFPredicate::OGE, f, e.f32(1));
            return SmallVector<Value>{
                b.create<arith::SelectOp>(atLeastOne, mid, t[0]),
                b.create<arith::SelectOp>(atLeastOne, t[1], mid)};
          });
      Value tauLo = bracket.getResult(0);
      // The support S = {z' > lo}: its size and sum (NaN never in it).
      auto support = e.loop(
          lo, end, {e.f32(0), e.f32(0)}, [&](Value j, ValueRange acc) {
            Value z = shifted(j);
            Value in =
                b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, z, tauLo);
            return SmallVector<Value>{
                e.add(acc[0], b.create<arith::SelectOp>(in, e.f32(1),
                                                        e.f32(0))),
                e.add(acc[1], b.create<arith::SelectOp>(in, z, e.f32(0)))};
          });
      // |S| >= 1 when the row saw a finite score (its maximum, z' = 0).
      Value count = b.create<arith::MaximumFOp>(support.getResult(0), e.f32(1));
      Value total = support.getResult(1);
      Value tau;
      if (!entmax) {
        // sum_S (z' - tau) = 1.
        tau = b.create<arith::DivFOp>(e.sub(total, e.f32(1)), count);
      } else {
        // sum_S (z' - tau)^2 = 1, the root below the mean.
        Value mean = b.create<arith::DivFOp>(total, count);
        Value ss = sum([&](Value j) {
          Value z = shifted(j);
          Value in =
              b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, z, tauLo);
          Value dz = e.sub(z, mean);
          return b.create<arith::SelectOp>(in, e.mul(dz, dz), e.f32(0))
              .getResult();
        });
        Value radicand = b.create<arith::MaxNumFOp>(
            b.create<arith::DivFOp>(e.sub(e.f32(1), ss), count), e.f32(0));
        tau = e.sub(mean, b.create<math::SqrtOp>(radicand));
      }
      // The weights p_j = phi(z'_j - tau) / sum: exactly 0 off the support.
      auto weightOf = [&](Value j) { return phi(e.sub(shifted(j), tau)); };
      Value invSum = inverseOrZero(e, sum(weightOf));
      auto positive = [&](Value p) {
        return b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, p, e.f32(0));
      };
      // The context sum_j p_j v_j over the support.
      if (rowType) {
        Value init = e.splat(rowType, e.f32(0));
        Value acc =
            e.loop(lo, end, {init}, [&](Value j, ValueRange acc) {
               Value p = weightOf(j);
               auto add = b.create<scf::IfOp>(TypeRange{rowType}, positive(p),
                                              /*withElseRegion=*/true);
               {
                 OpBuilder::InsertionGuard guard(b);
                 b.setInsertionPointToStart(add.thenBlock());
                 Value row = e.vload(rowType, v, {bv, hv, j, zero});
                 b.create<scf::YieldOp>(ValueRange{b.create<vector::FMAOp>(
                     e.splat(rowType, p), row, acc[0])});
                 b.setInsertionPointToStart(add.elseBlock());
                 b.create<scf::YieldOp>(acc[0]);
               }
               return SmallVector<Value>{add.getResult(0)};
             }).getResult(0);
        Value c = e.mul(acc, e.splat(rowType, invSum));
        b.create<vector::StoreOp>(c, out, ValueRange{bIdx, i, h, zero});
      } else {
        e.forEach(dv, [&](Value c) { e.store(e.f32(0), out, {bIdx, i, h, c}); });
        e.loop(lo, end, {}, [&](Value j, ValueRange) {
          Value p = e.mul(weightOf(j), invSum);
          auto add = b.create<scf::IfOp>(positive(p), /*withElseRegion=*/false);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(add.thenBlock()->getTerminator());
          e.forEach(dv, [&](Value c) {
            Value old = e.load(out, {bIdx, i, h, c});
            e.store(e.add(old, e.mul(p, e.load(v, {bv, hv, j, c}))), out,
                    {bIdx, i, h, c});
          });
          return SmallVector<Value>{};
        });
      }
      if (!weights)
        return;
      // Every key of the row: p_j where seen, 0 elsewhere.
      e.forEach(nk, [&](Value j) {
        Value inRow = b.create<arith::AndIOp>(
            b.create<arith::CmpIOp>(arith::CmpIPredicate::sge, j, lo),
            b.create<arith::CmpIOp>(arith::CmpIPredicate::slt, j, end));
        Value a = e.ifElse(
            inRow, [&] { return e.mul(weightOf(j), invSum); },
            [&] { return e.f32(0); });
        e.store(a, weights, {bIdx, h, i, j});
      });
    });
    rewriter.eraseOp(op);
    return success();
  }

  const TargetDescription &target;
};

} // namespace

void mlir::attn::populateSparseAlignmentPatterns(
    RewritePatternSet &patterns, const TargetDescription &target) {
  patterns.add<LowerTileScores, LowerTileSparseAlign>(patterns.getContext(),
                                                      target);
}
