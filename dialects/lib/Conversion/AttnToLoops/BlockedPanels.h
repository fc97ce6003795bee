//===- BlockedPanels.h - Pieces of the blocked kernels ----------*- C++ -*-===//
//
// The layout the blocked kernels share (BlockedDot.cpp: the online softmax
// update; BlockedWeights.cpp: the weights output): keys packed once, before
// the parallel loop of the tiled form, into panels of `lanes` transposed
// keys ([B, Hk, ceil(Nk / lanes) + spare, D, lanes]), so that a query tile
// scores `lanes` keys per FMA with no horizontal reduction; the update's
// values packed per key tile, chunk by chunk (packValueTiles), so that its
// pass 3 reads each chunk of a tile as one contiguous run.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CONVERSION_ATTNTOLOOPS_BLOCKEDPANELS_H
#define ATTN_CONVERSION_ATTNTOLOOPS_BLOCKEDPANELS_H

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Dialect/Attn/IR/AttnOps.h"

namespace mlir::linalg {
class GenericOp;
} // namespace mlir::linalg

namespace mlir::attn {
struct TargetDescription;
} // namespace mlir::attn

namespace mlir::attn::loops {

/// How closely the kernels' exp fits: the polynomial of 2^r on [-1/2, 1/2]
/// (exp2Polynomial).
enum class ExpPrecision {
  /// Degree 5, relative error 7.5e-8 (2.3e-7 evaluated in f32): f32
  /// weights.
  F32,
  /// Degree 3, relative error 7.5e-5 (the same evaluated in f32): weights
  /// rounded to bf16 next (relative rounding error up to 2^-9 = 2e-3, 26x
  /// more), the probabilities of the bf16 products. Two FMAs fewer.
  BF16,
};

/// The coefficients of 2^r, lowest degree first, for each ExpPrecision:
/// least-squares fits of the relative error on [-1/2, 1/2] (reweighted
/// towards minimax). The unit test ExpPolynomials checks their bounds.
inline constexpr double kExp2PolynomialF32[] = {
    1.00000007, 0.693146967, 0.240221201, 0.0555071332, 0.00967551937,
    0.00132763879};
inline constexpr double kExp2PolynomialBF16[] = {0.999928073, 0.693260987,
                                                 0.242611135, 0.0551716668};
inline ArrayRef<double> exp2Polynomial(ExpPrecision precision) {
  if (precision == ExpPrecision::BF16)
    return kExp2PolynomialBF16;
  return kExp2PolynomialF32;
}

/// exp(x) for x <= 0 or -inf, lane-wise, in 12 vector operations, 7 of
/// them on the FMA pipes, two fewer with ExpPrecision::BF16 (exactly 0
/// below -99.5 ln 2 = -69.0, -inf included, so that no product of a weight
/// is subnormal; relative error above: the polynomial's (ExpPrecision)
/// + |x| 6e-8).
Value expNonPositive(Emitter &e, VectorType type, Value x,
                     ExpPrecision precision = ExpPrecision::F32);

/// log2 e: exp(x) = 2^(x log2 e).
constexpr double kLog2E = 1.4426950408889634;

/// 2^x for x <= 0 or -inf, lane-wise: expNonPositive after its multiply by
/// log2 e (exactly 0 below -99.5).
Value exp2NonPositive(Emitter &e, VectorType type, Value x,
                      ExpPrecision precision = ExpPrecision::F32);

/// acc + sum over pairs: acc[i] += a[2i] b[2i] + a[2i+1] b[2i+1] (AVX512-BF16
/// vdpbf16ps; acc vector<16xf32>, a and b vector<32xbf16>).
Value dotBF16Pairs(ImplicitLocOpBuilder &b, Value acc, Value x, Value y);

/// The pair of bf16 at `m[idx..idx+1]` in every 32-bit lane.
Value broadcastPair(Emitter &e, int64_t lanes, Value m, ValueRange idx);

/// 1 / |src[idx..., :]| over the `d` elements of a row, or 0 for a zero row.
Value inverseNorm(Emitter &e, Value src, ValueRange idx, int64_t d);

/// Where packRows puts element (b, h, n, c) of the source.
using PackIndex =
    function_ref<SmallVector<Value>(Emitter &, Value, Value, Value, Value)>;

/// The cast a linalg.generic applies when it copies one memref into
/// another element by element (one input, one output, identity maps, all
/// loops parallel): its arith.extf or arith.truncf, or null when it yields
/// the element as it is; failure when it is not such a copy (used by
/// NarrowArguments.cpp and OutputCopies.cpp).
FailureOr<Operation *> elementwiseCopyCast(linalg::GenericOp op);

/// The function argument of a narrower float type (bf16, f16) whose
/// element-by-element copy `widened` is (a linalg.generic of arith.extf
/// into an allocation, its only writer, that nothing but reshapes views),
/// reshaped as `widened` is from the allocation (the reshapes are made
/// with `builder`); null when there is none. The packing reads it instead
/// (NarrowArguments.cpp).
Value narrowSourceOf(OpBuilder &builder, Value widened);

/// What the packing of `src` reads: narrowSourceOf(src) where there is
/// one, else `src` itself.
Value packingSourceOf(OpBuilder &builder, Value src);

/// The widening copies (as narrowSourceOf finds them) once the kernels
/// have read the arguments instead: a copy nothing reads is erased, one
/// read in a single branch of an scf.if only (the single-query copy of a
/// dynamic n_q) moves into that branch.
void sinkWideningCopies(Operation *root);

/// The copies of an allocation into an output argument that bufferization
/// leaves after the kernels (linalg.copy, or the arith.truncf of a bf16 or
/// f16 output): where the allocation is only stored into before the copy,
/// the stores go to the argument instead (rounded as the copy rounds) and
/// the copy goes away (OutputCopies.cpp).
void storeOutputsInPlace(Operation *root);

/// Copies `src` [B, H, N, D] before `parallel` into a buffer of `elem`
/// (f32, or bf16: rounded) [B, H, ceil(N / rowsPerEntry) + extraEntries,
/// tailShape...] where `index` places element (b, h, n, c) for n < the
/// padded N and c < cols; elements past N or D are 0 (rows past N repeat
/// row N - 1 with `padWithLastRow`). `unitRows`: each row divided by its
/// norm (a zero row stays zero). Freed after the loop.
Value packRows(PatternRewriter &rewriter, scf::ParallelOp parallel, Value src,
               Type elem, int64_t cols, ArrayRef<int64_t> tailShape,
               int64_t rowsPerEntry, int64_t extraEntries, bool unitRows,
               PackIndex index, bool padWithLastRow = false);

/// The keys [B, Hk, Nk, D] in panels of `lanes` keys (padding keys zero),
/// before `parallel`: f32 panels [B, Hk, ceil(Nk / lanes) + sparePanels,
/// D, lanes], or for `elem` bf16 panels of pairs [..., ceil(D / 2),
/// 2 lanes] (row c holds elements 2c and 2c + 1 of each key side by side).
/// Blocks of lanes x lanes (f32, or pairs as 32-bit words) loaded as key
/// rows and transposed by shuffles (contiguous keys and a power of 2 of
/// lanes; packRows otherwise). `unitRows`: keys divided by their norms.
Value packKeyPanels(PatternRewriter &rewriter, scf::ParallelOp parallel,
                    Value keys, Type elem, int64_t lanes, int64_t sparePanels,
                    bool unitRows);

/// The queries [B, H, Nq, D] rounded to bf16 rows [B, H, Nq + extraRows,
/// 2 ceil(D / 2)] (a zero pads an odd D; rows past Nq repeat row Nq - 1),
/// before `parallel`: 2 lanes elements loaded, rounded and stored at a time
/// (contiguous queries; packRows otherwise).
Value packQueryPairs(PatternRewriter &rewriter, scf::ParallelOp parallel,
                     Value queries, int64_t lanes, int64_t extraRows);

/// The values [B, Hv, Nv, Dv] in bf16 pairs of keys [B, Hv, ceil(Nv / 2) +
/// extraEntries, Dv, 2] (row p holds keys 2p and 2p + 1 of each column
/// side by side; keys past Nv zero), before `parallel`: `lanes` columns of
/// the two keys loaded, interleaved by one shuffle and stored together
/// (contiguous values; packRows otherwise).
Value packValuePairs(PatternRewriter &rewriter, scf::ParallelOp parallel,
                     Value values, int64_t lanes, int64_t extraEntries);

/// The values [B, Hv, Nv, Dv] (f32, or a bf16 / f16 argument widened into
/// them, read where it is) in tiles of `keyTile` keys [B, Hv,
/// ceil(Nv / keyTile), keyTile Dv], each tile's columns chunk by chunk:
/// columns [c0, c0 + w) of the tile's key jj at c0 keyTile + jj w, chunks
/// of `chunk` columns (the last w = Dv - c0 when narrower), so that pass 3
/// reads a chunk of a tile as one contiguous run rather than a cache line
/// per value row, Dv apart; keys past Nv are zero. Before `parallel`, each
/// chunk of a row loaded and stored as one vector; null (read the values in
/// place) unless the values are contiguous rows of whole `lanes` vectors in
/// more than one chunk (one chunk: the rows are that run already).
/// The key loops of the tiled form start at whole key tiles.
Value packValueTiles(PatternRewriter &rewriter, scf::ParallelOp parallel,
                     Value values, int64_t lanes, int64_t keyTile,
                     int64_t chunk);

/// Panels of keys scored together: the largest divisor of the key tile's
/// panels whose queryTile x P accumulators, P panel rows, queryTile running
/// maxima and a broadcast query element fit the vector registers; where
/// that is 1, the largest without the maxima (spilled around the loop).
int64_t panelsPerStep(const TargetDescription &target, int64_t queryTile,
                      int64_t keyTile);

/// A query tile's rows against packed key panels.
struct PanelScores {
  Value q;              ///< queries [B, H, Nq, D] (f32)
  Value queryPairs;     ///< the queries rounded to bf16 pairs, or null (f32)
  Value bq, h;          ///< query batch and head
  ArrayRef<Value> rows; ///< the tile's query rows
  Value packed, bk, hk; ///< the panels (f32 or bf16 pairs), key batch, head
  int64_t d, lanes, step;
};

/// The rows x step dot products of the tile's queries with the `step`
/// panels from `panel`, as vectors of `lanes` keys: result r * step + p is
/// q_r . K^T of panel `panel + p` (f32 FMAs, or vdpbf16ps on pairs).
SmallVector<Value> panelDots(Emitter &e, const PanelScores &s, Value panel);

/// One query row against keys read in place (no panels: the single-query
/// kernel, where packing would cost more than the products it serves).
struct RowScores {
  ArrayRef<Value> queryChunks; ///< q's row as vectors of `lanes` (a last
                               ///< shorter one when D is not whole vectors)
  Value keys, bk, hk;          ///< keys [B, Hk, Nk, D], key batch and head
  Value lastKey;  ///< key rows past it are read as it (null: all exist)
  bool unitKeys;  ///< cosine: each dot times 1 / |k| (0 for a zero key)
  int64_t lanes;
};

/// q's row `row` of `q` [B, H, Nq, D] as the chunks RowScores takes.
SmallVector<Value> queryRowChunks(Emitter &e, Value q, ValueRange row,
                                  int64_t d, int64_t lanes);

/// The dot products of the query row with keys [first, first + lanes), as
/// one vector of lanes: one accumulator per key (FMAs along D), then a
/// tree of shuffles and adds that sums each accumulator into its lane.
Value rowDots(Emitter &e, const RowScores &s, Value first);

/// A lane-wide score from its dot products: times `inverseQueryNorm`
/// (cosine; null otherwise), times `scale`, plus `bias` (each may be null),
/// then `act`. The update and the weights kernels both use it, so that the
/// weights see the scores the update's maxima came from.
Value finishPanelScore(Emitter &e, Value dots, Value inverseQueryNorm,
                       Value scale, Value bias, Activation act);

/// The lanes whose key index (`keys`, vector of index) is in [begin, end)
/// (begin null: from 0).
Value visibleLanes(Emitter &e, Value keys, Value begin, Value end);

/// A query tile's two products on AMX tiles (BlockedAMX.cpp): the operands
/// of the bf16 kernel, with the queries padded by QT - 1 copies of the last
/// and the value pairs by 16 zero rows, and the scratch buffers they go
/// through.
struct TileProducts {
  Value queryPairs, bq, h, firstQuery; ///< [B, H, Nq + QT - 1, D] bf16
  Value panels, bk, hk;    ///< [B, Hk, panels, D / 2, 32] bf16 pairs
  Value valuePairs, bv, hv; ///< [B, Hv, ceil(Nk / 2) + 16, Dv, 2] bf16
  Value nk, j0, count;     ///< keys, the tile's first key, keys it scores
  Value scores;            ///< [QT, KT] f32: S, out of amxScores
  Value probabilities;     ///< [QT, KT] bf16: P, zero from `count` on
  Value products;          ///< [QT, Dv] f32: P V, out of the second
  Value tailPairs;         ///< [16, 2 Dv] bf16 scratch
  int64_t d, dv, queryTile, keyTile;
};

/// S[r, j) = q_{first + r} . k_{j0 + j} for the panels of [0, count).
void amxScores(Emitter &e, const TileProducts &t);

/// products[r, :] = sum over the key tile of P[r, j] v_{j0 + j}.
void amxProbabilitiesTimesValues(Emitter &e, const TileProducts &t);

} // namespace mlir::attn::loops

#endif // ATTN_CONVERSION_ATTNTOLOOPS_BLOCKEDPANELS_H
