//===- AttnLinearToLoops.cpp - attn.linear -> vector loops ----------------===//
//
// Lowers attn.linear, with a rewrite pattern, when its input size I is
// static, its output size O is static and either whole vectors (any size)
// or at most the target's maxVectorElements, and its operands contiguous.
// The result is a register-blocked matrix product:
//   - W is packed once per call into panels of W^T, [H', O / chunk, I,
//     chunk] (an scf.parallel over head and chunk), one contiguous panel
//     per chunk of up to 4 vectors of output columns; 16 x 16 blocks
//     transposed in registers with shuffles when I and the chunk are whole
//     vectors and W is large, element by element in L1-sized blocks
//     otherwise;
//   - an scf.parallel over (batch, head, block of rows) computes, chunk by
//     chunk, rows x vectors accumulators (starting from the bias) that get
//     x_r[i] * W^T[i, chunk] for every i: independent FMA chains sharing
//     each load of the panel and each broadcast of x_r[i], with 3/4 of the
//     vector registers as accumulators (6 rows of 64 columns, 8 of 48 ...),
//     and the next block's rows prefetched (memref.prefetch) meanwhile;
//   - with weights larger than the target's projectionCachedWeightBytes
//     (1 MiB on the host), an iteration is a slab of blocks that take each
//     chunk in turn, so that a chunk's panel, which would otherwise come
//     from L3 for every block, serves the whole slab from L2;
//   - with weights of kTransposedPackElements or more, I and O whole
//     vectors, and at most projectionFewRows rows in all (b x n: a
//     decoder's step; 16 on the host), an scf.if takes the few-rows kernel
//     instead, which does not pack W: each row's dot products with 16 rows
//     of W at a time, partial sums in vectors reduced by a register
//     transpose (HostCPU.cpp has the measurements).
// The rows of a block past the end are clamped to the last row. A
// projection inside a parallel loop (a key tile's rows, put there by
// -attn-fuse-key-projections; input and output may be views of rows) packs
// W before that loop and computes its rows with the blocked kernel's loops
// in sequence. Other attn.linear ops are left to convert-attn-to-linalg.
//
//===----------------------------------------------------------------------===//

#include "attn/Conversion/LoopEmitter/LoopEmitter.h"
#include "attn/Conversion/Passes.h"
#include "attn/Target/TargetDescription.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/DialectConversion.h"

#include <algorithm>
#include <limits>

namespace mlir::attn {
#define GEN_PASS_DEF_CONVERTATTNLINEARTOLOOPS
#include "attn/Conversion/Passes.h.inc"
} // namespace mlir::attn

using namespace mlir;
using namespace mlir::attn;
using namespace mlir::attn::loops;

namespace {

/// The output size O of `op` when the kernel takes it: static, in rows
/// that are contiguous (any view of them), and either whole vectors
/// (computed a chunk of columns at a time, any size) or at most the
/// target's maxVectorElements (one vector<O> per row).
std::optional<int64_t> linearOutputSize(LinearOp op,
                                        const TargetDescription &target) {
  std::optional<int64_t> size = vectorizableRows(
      op.getOutput(), std::numeric_limits<int64_t>::max());
  if (!size || (*size > target.maxVectorElements &&
                *size % target.vectorLanes != 0))
    return std::nullopt;
  return size;
}

/// Head `head` of a contiguous per-head weight `whole` ([H', O, I]) that is
/// defined outside the parallel loop around the projection: the view
/// [1, O, I] that -attn-fuse-key-projections takes of a per-head W2 for
/// one key head. W is packed whole, before the loop, and the kernel reads
/// the head's panels.
struct WeightHead {
  Value whole;
  OpFoldResult head;
};

/// `weight` as a WeightHead of a weight defined outside `outer`, if it is
/// one (a memref.subview of unit strides, one head at any offset, the rest
/// whole).
std::optional<WeightHead> weightHeadOf(Value weight, scf::ParallelOp outer) {
  auto view = weight.getDefiningOp<memref::SubViewOp>();
  if (!view || !outer)
    return std::nullopt;
  Value whole = view.getSource();
  auto wholeType = cast<MemRefType>(whole.getType());
  if (wholeType.getRank() != 3 || !wholeType.getLayout().isIdentity() ||
      !wholeType.hasStaticShape() ||
      outer->isAncestor(whole.getParentRegion()->getParentOp()) ||
      view.getType().getRank() != 3)
    return std::nullopt;
  SmallVector<OpFoldResult> offsets = view.getMixedOffsets(),
                            sizes = view.getMixedSizes(),
                            strides = view.getMixedStrides();
  for (int64_t d = 0; d < 3; ++d) {
    std::optional<int64_t> size = getConstantIntValue(sizes[d]);
    std::optional<int64_t> stride = getConstantIntValue(strides[d]);
    int64_t expected = d == 0 ? 1 : wholeType.getDimSize(d);
    if (!size || *size != expected || !stride || *stride != 1 ||
        (d > 0 && !isConstantIntValue(offsets[d], 0)))
      return std::nullopt;
  }
  return WeightHead{whole, offsets[0]};
}

/// Whether `op` has static I and a kernel-sized O (linearOutputSize),
/// contiguous weights, bias and input rows (any view of the rows), and,
/// inside the tiled form's parallel loop (a key tile's projection, after
/// -attn-fuse-key-projections), weights defined outside it or one head of
/// such weights (WeightHead): W is packed once, before that loop.
bool canVectorizeLinear(LinearOp op, const TargetDescription &target) {
  auto inType = cast<MemRefType>(op.getInput().getType());
  auto wType = cast<MemRefType>(op.getWeight().getType());
  auto isContiguous = [](Value v) {
    return cast<MemRefType>(v.getType()).getLayout().isIdentity();
  };
  auto unbounded = std::numeric_limits<int64_t>::max();
  int64_t in = inType.getDimSize(inType.getRank() - 1);
  scf::ParallelOp outer = outermostParallelLoop(op);
  bool weightOutside =
      !outer ||
      !outer->isAncestor(op.getWeight().getParentRegion()->getParentOp());
  bool weightHead =
      !weightOutside && weightHeadOf(op.getWeight(), outer).has_value();
  return linearOutputSize(op, target) && !ShapedType::isDynamic(in) &&
         in > 0 && vectorizableRows(op.getInput(), unbounded) &&
         (weightHead || (weightOutside && isContiguous(op.getWeight()))) &&
         (!op.getBias() || vectorizableRows(op.getBias(), unbounded)) &&
         !ShapedType::isDynamic(wType.getDimSize(0));
}

/// The register block of the projection kernel: `rows` output rows times
/// `vectors` vectors of `width` columns (one chunk of the output row).
struct LinearBlock {
  int64_t width;   // columns per vector: the target's lanes, or O
  int64_t vectors; // vectors per row in a chunk
  int64_t rows;    // output rows per block
  int64_t chunk() const { return width * vectors; }
};

/// Blocks that keep three quarters of the vector registers as accumulators
/// (the rest hold the chunk of a W^T row and the broadcast inputs): O in
/// chunks of at most registers / 8 whole vectors (a divisor of O / lanes:
/// 4 with AVX-512's 32 registers, 2 with AVX2's 16), and as many rows as
/// the accumulators allow, at most 8. (On AVX2, blocks of 6 rows x 2
/// vectors were 1.40-1.62x faster than 3 x 4 on a Zen 3 core: half the
/// W^T panel per chunk, read from L2, for the same 12 FMAs.) An O that is not whole
/// vectors is one chunk of one vector<O>.
LinearBlock linearBlock(int64_t outSize, const TargetDescription &target) {
  int64_t lanes = target.vectorLanes;
  int64_t budget = target.vectorRegisters * 3 / 4;
  LinearBlock block{outSize, 1, 1};
  int64_t registersPerVector = llvm::divideCeil(outSize, lanes);
  if (outSize % lanes == 0) {
    int64_t vectors = outSize / lanes;
    block.width = lanes;
    block.vectors = 1;
    for (int64_t c = 2; c <= target.vectorRegisters / 8; ++c)
      if (vectors % c == 0)
        block.vectors = c;
    registersPerVector = 1;
  }
  block.rows =
      std::clamp<int64_t>(budget / (block.vectors * registersPerVector), 1,
                          target.projectionRowBlock);
  return block;
}

/// Row blocks per iteration of the parallel loop (a slab), which take the
/// chunks of W^T in turn: 1 when W^T (I x O floats per head) is at most the
/// target's projectionCachedWeightBytes, so that each block streams all of
/// it from L2 and keeps its own rows of x in L1; else
/// projectionBlocksPerSlab, so that a chunk's panel, read from L3, serves
/// that many blocks, and the slab's rows stay in L2 for the next chunk
/// (HostCPU.cpp has the measurements).
int64_t linearBlocksPerSlab(int64_t inSize, int64_t outSize,
                            const TargetDescription &target) {
  int64_t weightBytes =
      inSize * outSize * static_cast<int64_t>(sizeof(float));
  return weightBytes > target.projectionCachedWeightBytes
             ? target.projectionBlocksPerSlab
             : 1;
}

/// The size (H' x I x O elements) from which W is packed with register
/// transposes rather than element by element: 64 KiB of weights, where
/// packing element by element (about 2 cycles each) would cost a tenth of
/// the product at n = 512 rows.
constexpr int64_t kTransposedPackElements = 16384;

/// The transpose of the square matrix whose rows are `rows` (n vectors of
/// n lanes, n a power of 2), with n log2(n) two-operand shuffles: the step
/// for bit m swaps bit m of the row and of the column index of every
/// element (the off-diagonal m x m blocks of each 2m x 2m block trade
/// places); after every bit, element (r, c) is at (c, r).
SmallVector<Value> transposeSquare(ImplicitLocOpBuilder &b,
                                   ArrayRef<Value> rows) {
  SmallVector<Value> a(rows.begin(), rows.end());
  int64_t n = a.size();
  for (int64_t m = n / 2; m >= 1; m /= 2) {
    SmallVector<int64_t> low, high;
    for (int64_t j = 0; j < n; ++j) {
      low.push_back((j & m) == 0 ? j : n + j - m);
      high.push_back((j & m) == 0 ? j + m : n + j);
    }
    for (int64_t r = 0; r < n; ++r) {
      if (r & m)
        continue;
      Value top = a[r], bottom = a[r + m];
      a[r] = b.create<vector::ShuffleOp>(top, bottom, low);
      a[r + m] = b.create<vector::ShuffleOp>(top, bottom, high);
    }
  }
  return a;
}

/// An attn.linear's operands and sizes, and how its kernels index them.
struct LinearOperands {
  Value x, w, bias, out;
  MemRefType xType;
  bool perHead, inputHeads, outputHeads, biasPerHead;
  int64_t in, outSize, weightHeads;
  /// The head of the packed weights the kernel reads, when W is one head
  /// of weights packed whole (WeightHead); null otherwise.
  Value packedHead;

  LinearOperands(LinearOp op, const TargetDescription &target)
      : x(op.getInput()), w(op.getWeight()), bias(op.getBias()),
        out(op.getOutput()), xType(cast<MemRefType>(x.getType())) {
    perHead = cast<MemRefType>(w.getType()).getRank() == 3;
    inputHeads = xType.getRank() == 4;
    outputHeads = cast<MemRefType>(out.getType()).getRank() == 4;
    biasPerHead = bias && cast<MemRefType>(bias.getType()).getRank() == 2;
    in = xType.getDimSize(xType.getRank() - 1);
    outSize = *linearOutputSize(op, target);
    weightHeads = perHead ? cast<MemRefType>(w.getType()).getDimSize(0) : 1;
  }

  /// H' x I x O: compared with kTransposedPackElements, from which W is
  /// large enough for register transposes when packing and for the few-rows
  /// kernel.
  int64_t weightElements() const { return weightHeads * in * outSize; }

  /// x[batch, (head,) n, i]; a one-head input serves every head.
  SmallVector<Value> inputAt(Emitter &e, Value batch, Value head, Value n,
                             Value i) const {
    SmallVector<Value> at = {batch};
    if (inputHeads)
      at.push_back(xType.getDimSize(1) == 1 ? e.index(0) : head);
    at.append({n, i});
    return at;
  }
  /// W[(head,) o, i].
  SmallVector<Value> weightAt(Value head, Value o, Value i) const {
    if (perHead)
      return {head, o, i};
    return {o, i};
  }
  /// out[batch, (head,) n, o].
  SmallVector<Value> outputAt(Value batch, Value head, Value n,
                              Value o) const {
    SmallVector<Value> at = {batch};
    if (outputHeads)
      at.push_back(head);
    at.append({n, o});
    return at;
  }
  /// The bias's vector of `type` at output o of head `head`.
  Value loadBias(Emitter &e, VectorType type, Value head, Value o) const {
    return biasPerHead ? e.vload(type, bias, {head, o})
                       : e.vload(type, bias, {o});
  }
};

/// The projection of few rows, without packing W: in parallel over (head,
/// block of `lanes` outputs), each row's `lanes` dot products x_r . W[o]
/// with vector partial sums along the inputs (one load of x_r and `lanes`
/// loads of W's rows per step, the block's rows of W staying in L1 for the
/// next row), reduced by a register transpose and lanes - 1 adds. For a
/// decoder's step (one row), packing W would cost more than the product.
void emitFewRowsLinear(Emitter &e, const LinearOperands &ops, Value rows,
                       const TargetDescription &target) {
  ImplicitLocOpBuilder &b = e.b;
  int64_t lanes = target.vectorLanes;
  auto vectorType = VectorType::get({lanes}, b.getF32Type());
  Value zero = e.index(0), one = e.index(1);
  Value outHeads = ops.outputHeads ? e.dim(ops.out, 1) : one;
  auto loop = b.create<scf::ParallelOp>(
      ValueRange{zero, zero},
      ValueRange{outHeads, e.index(ops.outSize / lanes)},
      ValueRange{one, one});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  Value h = loop.getInductionVars()[0];
  Value wHead = ops.perHead ? h : zero;
  Value o0 = b.create<arith::MulIOp>(loop.getInductionVars()[1],
                                     e.index(lanes));
  SmallVector<Value> outputs;
  for (int64_t t = 0; t < lanes; ++t)
    outputs.push_back(b.create<arith::AddIOp>(o0, e.index(t)));
  e.forEach(e.dim(ops.out, 0), [&](Value batch) {
    e.forEach(rows, [&](Value n) {
      SmallVector<Value> init(lanes, e.splat(vectorType, e.f32(0)));
      auto sums = e.loop(zero, e.index(ops.in), e.index(lanes), init,
                         [&](Value i, ValueRange partial) {
        Value row =
            e.vload(vectorType, ops.x, ops.inputAt(e, batch, h, n, i));
        SmallVector<Value> next;
        for (int64_t t = 0; t < lanes; ++t)
          next.push_back(b.create<vector::FMAOp>(
              row, e.vload(vectorType, ops.w, ops.weightAt(wHead, outputs[t], i)),
              partial[t]));
        return next;
      });
      // Lane t of column j is output t's partial sum j: the sum of the
      // columns is the block's outputs.
      SmallVector<Value> columns =
          transposeSquare(b, SmallVector<Value>(sums.getResults()));
      Value result = columns[0];
      for (int64_t j = 1; j < lanes; ++j)
        result = e.add(result, columns[j]);
      if (ops.bias)
        result = e.add(result, ops.loadBias(e, vectorType, h, o0));
      b.create<vector::StoreOp>(result, ops.out,
                                ops.outputAt(batch, h, n, o0));
    });
  });
}

/// W^T in chunks, [H', O / chunk, I, chunk]: element [h, c, i, o] is
/// W[(h,) c * chunk + o, i], so that the blocked kernel streams one
/// contiguous panel per chunk. Packed in parallel over (head, chunk), on
/// whole cache lines (the kernel's vector loads of a panel row would each
/// cross two lines from malloc's 16-byte alignment). The caller frees it.
Value packTransposedWeights(Emitter &e, const LinearOperands &ops,
                            const LinearBlock &block,
                            const TargetDescription &target) {
  ImplicitLocOpBuilder &b = e.b;
  int64_t in = ops.in, weightHeads = ops.weightHeads;
  int64_t chunk = block.chunk(), chunks = ops.outSize / chunk;
  int64_t lanes = target.vectorLanes;
  Type f32 = b.getF32Type();
  auto vectorType = VectorType::get({block.width}, f32);
  Value w = ops.w, zero = e.index(0), one = e.index(1);
  Value packed = b.create<memref::AllocOp>(
      MemRefType::get({weightHeads, chunks, in, chunk}, f32), ValueRange{},
      b.getI64IntegerAttr(64));
  auto packLoop = b.create<scf::ParallelOp>(
      ValueRange{zero, zero},
      ValueRange{e.index(weightHeads), e.index(chunks)},
      ValueRange{one, one});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(packLoop.getBody()->getTerminator());
  Value h = packLoop.getInductionVars()[0],
        c = packLoop.getInductionVars()[1];
  Value c0 = b.create<arith::MulIOp>(c, e.index(chunk));
  auto weightAt = [&](Value row, Value i) {
    return ops.weightAt(h, row, i);
  };
  // Weights of at least kTransposedPackElements: square blocks of lanes
  // x lanes, lanes rows of W loaded as vectors, transposed in registers
  // (transposeSquare), stored as lanes rows of the panel. Smaller ones
  // cost little either way, and the shuffles would cost compile time
  // (a quarter of the Transformer example's).
  if (in % lanes == 0 && chunk % lanes == 0 &&
      ops.weightElements() >= kTransposedPackElements) {
    Value step = e.index(lanes);
    e.loop(zero, e.index(in), step, {}, [&](Value i0, ValueRange) {
      e.loop(zero, e.index(chunk), step, {}, [&](Value o0, ValueRange) {
        SmallVector<Value> rowsOfW;
        for (int64_t t = 0; t < lanes; ++t)
          rowsOfW.push_back(e.vload(
              vectorType, w,
              weightAt(b.create<arith::AddIOp>(
                           c0, b.create<arith::AddIOp>(o0, e.index(t))),
                       i0)));
        SmallVector<Value> columns = transposeSquare(b, rowsOfW);
        for (int64_t t = 0; t < lanes; ++t)
          b.create<vector::StoreOp>(
              columns[t], packed,
              ValueRange{h, c, b.create<arith::AddIOp>(i0, e.index(t)),
                         o0});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  } else {
    // Element by element, in blocks of `lanes` inputs, so that the rows
    // of W read (one line each) and the rows of the panel written stay
    // in the L1 cache: W's rows are I floats apart, and reading them a
    // column at a time misses on every element once a few map to the
    // same cache sets.
    Value inBlock = e.index(lanes), inSize = e.index(in);
    e.loop(zero, inSize, inBlock, {}, [&](Value i0, ValueRange) {
      Value iEnd = e.minIdx(b.create<arith::AddIOp>(i0, inBlock), inSize);
      e.forEach(e.index(chunk), [&](Value o) {
        Value row = b.create<arith::AddIOp>(c0, o);
        e.loop(i0, iEnd, {}, [&](Value i, ValueRange) {
          e.store(e.load(w, weightAt(row, i)), packed, {h, c, i, o});
          return SmallVector<Value>{};
        });
      });
      return SmallVector<Value>{};
    });
  }
  return packed;
}

/// Loops from 0 to `upperBounds` by `steps`: one scf.parallel, or nested
/// scf.for when `serial` (a projection inside another parallel loop). The
/// builder is left in the innermost body; returns the induction variables.
SmallVector<Value> beginLoopNest(ImplicitLocOpBuilder &b,
                                 ArrayRef<Value> upperBounds,
                                 ArrayRef<Value> steps, bool serial) {
  Value zero = b.create<arith::ConstantIndexOp>(0);
  if (!serial) {
    SmallVector<Value> lowerBounds(upperBounds.size(), zero);
    auto loop = b.create<scf::ParallelOp>(lowerBounds, upperBounds, steps);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    return SmallVector<Value>(loop.getInductionVars());
  }
  SmallVector<Value> ivs;
  for (auto [ub, step] : llvm::zip_equal(upperBounds, steps)) {
    auto loop = b.create<scf::ForOp>(zero, ub, step);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    ivs.push_back(loop.getInductionVar());
  }
  return ivs;
}

/// The blocked kernel over W^T packed by packTransposedWeights: in
/// parallel (in sequence when `serial`) over (batch, output head, slab of
/// row blocks), each block of `rows` output rows, chunk by chunk, keeps
/// rows x vectors accumulators (starting from the bias) that get x_r[i] *
/// W^T[i, chunk] for every i: independent FMA chains that share each load
/// of W^T and each broadcast of x_r[i]. A slab is one block that takes
/// every chunk in turn, or, for large weights, blocks that take each chunk
/// in turn (linearBlocksPerSlab). Rows past the end are clamped to the last
/// one (recomputed and rewritten alike, by the same block).
void emitBlockedLinear(Emitter &e, const LinearOperands &ops, Value packed,
                       Value rows, const LinearBlock &block,
                       const TargetDescription &target, bool serial) {
  ImplicitLocOpBuilder &b = e.b;
  int64_t chunk = block.chunk(), chunks = ops.outSize / chunk;
  auto vectorType = VectorType::get({block.width}, b.getF32Type());
  Value zero = e.index(0), one = e.index(1);
  Value outHeads = ops.outputHeads ? e.dim(ops.out, 1) : one;
  int64_t blocksPerSlab = linearBlocksPerSlab(ops.in, ops.outSize, target);
  // Heads inside each block of rows: when every head reads the same input
  // rows and all the heads' weights fit the cache together, a block's rows
  // stay in L1 for every head (Wq X of multi-head attention), instead of
  // each head streaming all of x again.
  bool headsInBlock =
      ops.outputHeads && blocksPerSlab == 1 &&
      (!ops.inputHeads || ops.xType.getDimSize(1) == 1) &&
      ops.weightElements() * static_cast<int64_t>(sizeof(float)) <=
          target.projectionCachedWeightBytes;
  Value blockRows = e.index(block.rows),
        slabRows = e.index(block.rows * blocksPerSlab);
  OpBuilder::InsertionGuard guard(b);
  SmallVector<Value> slabIvs = beginLoopNest(
      b, {e.dim(ops.out, 0), headsInBlock ? one : outHeads, rows},
      {one, one, slabRows}, serial);
  Value bIdx = slabIvs[0], loopHead = slabIvs[1], slab = slabIvs[2];
  Value lastRow = e.maxIdx(b.create<arith::SubIOp>(rows, one), zero);
  Value inSize = e.index(ops.in);
  // The rows of the block that starts at n0, clamped to the last row.
  auto blockRowsAt = [&](Value n0) {
    SmallVector<Value> ns;
    for (int64_t r = 0; r < block.rows; ++r)
      ns.push_back(e.minIdx(b.create<arith::AddIOp>(n0, e.index(r)), lastRow));
    return ns;
  };
  // The next block's rows, a cache line at a time, into the caches while
  // the block at n0 computes (rows that stream from memory, as the keys of
  // an additive score, would otherwise stall the broadcasts).
  auto prefetchNextBlock = [&](Value n0) {
    e.loop(zero, inSize, e.index(target.vectorLanes), {},
           [&](Value i, ValueRange) {
             for (int64_t r = 0; r < block.rows; ++r) {
               Value next = e.minIdx(
                   b.create<arith::AddIOp>(n0, e.index(block.rows + r)),
                   lastRow);
               b.create<memref::PrefetchOp>(
                   ops.x, ops.inputAt(e, bIdx, loopHead, next, i),
                   /*isWrite=*/false, /*localityHint=*/3,
                   /*isDataCache=*/true);
             }
             return SmallVector<Value>{};
           });
  };
  // Chunk c of the rows ns for head h: the register block.
  auto computeChunk = [&](ArrayRef<Value> ns, Value c, Value h) {
    Value wHead = ops.packedHead ? ops.packedHead : ops.perHead ? h : zero;
    Value c0 = b.create<arith::MulIOp>(c, e.index(chunk));
    SmallVector<Value> columns, inits;
    for (int64_t s = 0; s < block.vectors; ++s) {
      columns.push_back(b.create<arith::AddIOp>(c0, e.index(s * block.width)));
      inits.push_back(ops.bias
                          ? ops.loadBias(e, vectorType, h, columns[s])
                          : e.splat(vectorType, e.f32(0)));
    }
    SmallVector<Value> init;
    for (int64_t r = 0; r < block.rows; ++r)
      init.append(inits);
    auto accs = e.loop(zero, inSize, init, [&](Value i, ValueRange a) {
      SmallVector<Value> weights;
      for (int64_t s = 0; s < block.vectors; ++s)
        weights.push_back(e.vload(vectorType, packed,
                                  {wHead, c, i, e.index(s * block.width)}));
      SmallVector<Value> next;
      for (int64_t r = 0; r < block.rows; ++r) {
        Value xi = e.splat(
            vectorType, e.load(ops.x, ops.inputAt(e, bIdx, h, ns[r], i)));
        for (int64_t s = 0; s < block.vectors; ++s)
          next.push_back(b.create<vector::FMAOp>(
              xi, weights[s], a[r * block.vectors + s]));
      }
      return next;
    });
    for (int64_t r = 0; r < block.rows; ++r)
      for (int64_t s = 0; s < block.vectors; ++s)
        b.create<vector::StoreOp>(accs.getResult(r * block.vectors + s),
                                  ops.out,
                                  ops.outputAt(bIdx, h, ns[r], columns[s]));
  };
  if (blocksPerSlab == 1) {
    // One block: its rows stay in L1 for every chunk (of every head).
    SmallVector<Value> ns = blockRowsAt(slab);
    prefetchNextBlock(slab);
    auto computeHead = [&](Value h) {
      e.forEach(e.index(chunks), [&](Value c) { computeChunk(ns, c, h); });
    };
    if (headsInBlock)
      e.forEach(outHeads, computeHead);
    else
      computeHead(loopHead);
    return;
  }
  // Chunk by chunk, every block of the slab: the chunk's panel of W^T stays
  // in L2 for them, and the slab's rows for the next chunk. The first
  // chunk's blocks prefetch the rows.
  Value slabEnd = e.minIdx(b.create<arith::AddIOp>(slab, slabRows), rows);
  e.forEach(e.index(chunks), [&](Value c) {
    Value firstChunk =
        b.create<arith::CmpIOp>(arith::CmpIPredicate::eq, c, zero);
    e.loop(slab, slabEnd, blockRows, {}, [&](Value n0, ValueRange) {
      auto prefetch = b.create<scf::IfOp>(firstChunk);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(prefetch.thenBlock());
        prefetchNextBlock(n0);
      }
      computeChunk(blockRowsAt(n0), c, loopHead);
      return SmallVector<Value>{};
    });
  });
}

/// attn.linear -> the few-rows kernel (when it applies, under scf.if) and
/// the blocked kernel over packed weights. Inside a parallel loop (whose
/// body does not define W, or only takes one head of it: WeightHead), W is
/// packed before that loop and freed after it, and the kernel's loops are
/// sequential (each iteration of the outer loop projects its own rows).
void lowerVectorLinear(LinearOp op, PatternRewriter &rewriter,
                       const TargetDescription &target) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  Emitter e{b};
  LinearOperands ops(op, target);
  LinearBlock block = linearBlock(ops.outSize, target);
  int64_t rank = cast<MemRefType>(ops.out.getType()).getRank();
  Value rows = e.dim(ops.out, rank - 2);

  if (scf::ParallelOp outer = outermostParallelLoop(op)) {
    // One head of per-head weights: all of them are packed, the kernel
    // reads that head's panels.
    LinearOperands packOps = ops;
    if (std::optional<WeightHead> head = weightHeadOf(ops.w, outer)) {
      packOps.w = head->whole;
      packOps.weightHeads =
          cast<MemRefType>(head->whole.getType()).getDimSize(0);
      ops.packedHead =
          getValueOrCreateConstantIndexOp(b, b.getLoc(), head->head);
    }
    Value packed;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(outer);
      packed = packTransposedWeights(e, packOps, block, target);
      b.setInsertionPointAfter(outer);
      b.create<memref::DeallocOp>(packed);
    }
    emitBlockedLinear(e, ops, packed, rows, block, target, /*serial=*/true);
    rewriter.eraseOp(op);
    return;
  }

  // At most the target's projectionFewRows rows in all (B x N): the
  // few-rows kernel, which reads W as it is; else W is packed for the
  // blocked kernel. Only
  // for weights of kTransposedPackElements or more: packing smaller ones
  // costs little, less than the second kernel's code costs to compile.
  int64_t lanes = target.vectorLanes;
  if (ops.in % lanes == 0 && ops.outSize % lanes == 0 &&
      ops.weightElements() >= kTransposedPackElements) {
    Value allRows = b.create<arith::MulIOp>(e.dim(ops.out, 0), rows);
    auto fewRows = b.create<scf::IfOp>(
        b.create<arith::CmpIOp>(arith::CmpIPredicate::ule, allRows,
                                e.index(target.projectionFewRows)),
        /*withElseRegion=*/true);
    b.setInsertionPoint(fewRows.thenBlock()->getTerminator());
    emitFewRowsLinear(e, ops, rows, target);
    b.setInsertionPoint(fewRows.elseBlock()->getTerminator());
  }
  Value packed = packTransposedWeights(e, ops, block, target);
  emitBlockedLinear(e, ops, packed, rows, block, target, /*serial=*/false);
  b.create<memref::DeallocOp>(packed);
  rewriter.eraseOp(op);
}

struct LowerLinearToVectorLoops : public OpRewritePattern<LinearOp> {
  LowerLinearToVectorLoops(MLIRContext *context,
                           const TargetDescription &target)
      : OpRewritePattern(context), target(target) {}

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    if (!canVectorizeLinear(op, target))
      return rewriter.notifyMatchFailure(op, "dynamic or large sizes");
    lowerVectorLinear(op, rewriter, target);
    return success();
  }

  const TargetDescription &target;
};

struct ConvertAttnLinearToLoopsPass
    : public attn::impl::ConvertAttnLinearToLoopsBase<
          ConvertAttnLinearToLoopsPass> {
  using ConvertAttnLinearToLoopsBase::ConvertAttnLinearToLoopsBase;

  void runOnOperation() override {
    const TargetDescription *description =
        lookupTarget(getOperation(), vectorISA);
    if (!description)
      return signalPassFailure();
    const TargetDescription &target = *description;
    RewritePatternSet patterns(&getContext());
    populateAttnLinearToLoopsPatterns(patterns, target);
    // The other attn.linear ops are left to convert-attn-to-linalg.
    ConversionTarget legality(getContext());
    legality.addDynamicallyLegalOp<LinearOp>([&](LinearOp op) {
      return !canVectorizeLinear(op, target);
    });
    legality.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), legality,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::attn::populateAttnLinearToLoopsPatterns(
    RewritePatternSet &patterns, const TargetDescription &target) {
  patterns.add<LowerLinearToVectorLoops>(patterns.getContext(), target);
}
