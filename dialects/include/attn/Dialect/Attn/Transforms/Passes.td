//===- Passes.td - Transformations of the attn dialect ------*- tablegen -*-===//

#ifndef ATTN_TRANSFORMS_PASSES_TD
#define ATTN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnDecomposeScores : Pass<"attn-decompose-scores", "func::FuncOp"> {
  let summary = "Hoist the score's matrix products out of the key loop";
  let description = [{
    Rewrites each `attn.attention` into `attn.linear` ops that precompute
    the parts of the score function that do not depend on the (query, key)
    pair, followed by one `attn.online_attention`. What to precompute and
    which combine remains come from the score function's row of the table
    (`ScoreFunctions.cpp`: the parameters' roles, the combine, the scale):

    | score | precomputed | online score |
    |---|---|---|
    | additive | q' = W1 q + b, k' = W2 k | sum_d w_d act(q'_d + k'_d) |
    | general | q' = W q | q'.k |
    | biased_general | q' = W q + b | q'.k |
    | activated_general | q' = W q | act(q'.k + b) |
    | scaled_dot | - | q.k * (1 / sqrt(Dk)) |
    | dot, cosine, neg_sq_euclidean | - | unchanged |

    This is what keeps additive attention at O((Nq + Nk) Dw) memory: no
    Nq x Nk x Dw tensor is ever formed. Before:

    ```mlir
    attn.attention general align(softmax)
        ins(%q, %k, %v : memref<1x1x?x8xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
        params(W = %W : memref<16x8xf32>) outs(%c : memref<1x?x1x16xf32>)
    ```

    After:

    ```mlir
    %qw = memref.alloc(%nq) : memref<1x1x?x16xf32>
    attn.linear ins(%q, %W : memref<1x1x?x8xf32>, memref<16x8xf32>)
        outs(%qw : memref<1x1x?x16xf32>)
    attn.online_attention dot ins(%qw, %k, %v : ...) outs(%c : ...)
    memref.dealloc %qw : memref<1x1x?x16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def AttnGroupQueryHeads : Pass<"attn-group-query-heads", "func::FuncOp"> {
  let summary = "Make the query heads of a group the queries of one head";
  let description = [{
    Rewrites an `attn.online_attention` with one query per head (a
    decoder's step) and grouped-query heads (Hq = g Hk, g > 1) into the same
    attention over Hk heads of g queries each: query head hk g + r becomes
    query r of head hk. Only views change (`memref.reinterpret_cast` of the
    queries [B, Hq, 1, D] to [B, Hk, g, D], the context [B, 1, Hq, Dv] to
    [B, g, Hk, Dv] with strides [Hq Dv, Dv, g Dv, 1], the weights and the
    log-sum-exp likewise), so that `-attn-tile-attention` gives each group
    one query tile, which reads the group's keys and values once instead of
    once per query head.

    Grouped: a dot or cosine softmax, static head counts, row-major
    queries, context, weights and log-sum-exp with static sizes after the
    batch, and nothing that depends on a query's position or head (no
    modifier, key range, window, band, prefix or causal offset); a causal
    mask over one query masks nothing and is dropped. Any other op is left
    as it is.

    ```mlir
    attn.online_attention dot causal
        ins(%q, %k, %v : memref<?x8x1x64xf32>, memref<?x2x?x64xf32>,
                         memref<?x2x?x64xf32>)
        outs(%c : memref<?x1x8x64xf32>)
    ```

    becomes

    ```mlir
    %qg = memref.reinterpret_cast %q to offset: [0], sizes: [%b, 2, 4, 64],
        strides: [512, 256, 64, 1] : memref<?x8x1x64xf32> to memref<?x2x4x64xf32>
    %cg = memref.reinterpret_cast %c to offset: [0], sizes: [%b, 4, 2, 64],
        strides: [512, 64, 256, 1] : memref<?x1x8x64xf32>
        to memref<?x4x2x64xf32, strided<[512, 64, 256, 1]>>
    attn.online_attention dot ins(%qg, %k, %v : ...) outs(%cg : ...)
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnTileAttention : Pass<"attn-tile-attention", "func::FuncOp"> {
  let summary = "Tile attn.online_attention into query tiles and key tiles";
  let description = [{
    Rewrites each `attn.online_attention` into its tiled form, the schedule
    made explicit in the IR:

    - an `scf.parallel` over (batch, head, query tile): every iteration is
      independent (it writes its own rows of the context and the weights);
    - in it, an `scf.for` over key tiles whose body is one
      `attn.online_softmax_update`, and after it `attn.tile_finalize`
      (context = acc / sum) and, when the weights are requested,
      `attn.tile_weights`;
    - the masks as loop bounds: the key loop of a query tile ends where the
      tile's last query stops seeing keys (`lengths[b]`, cut by the causal
      diagonal with its offset or by a window, extended by a prefix) and
      starts at the key tile of the first key its first query sees (a
      window), so key tiles masked for the whole query tile are never
      visited; the per-key masks inside the partial tiles are left to the
      update op.

    The running maximum, sum and accumulator of the query tile are values:
    `vector<QTxf32>`, `vector<QTxf32>` and `vector<QTxDvxf32>` iter_args of
    the key loop, when D and Dv are static and small enough to live in
    registers (the target's `maxVectorElements`); otherwise they are
    buffers (`memref<QTxf32>`, `memref<QTxDvxf32>`) allocated per query
    tile and updated in place. QT (query tile) and the key tile come from
    the target description (`attn/Target/TargetDescription.h`, the host
    CPU's: 8 queries, or n_q when it is static and smaller; 128 keys, and
    for a dot or cosine softmax with static D and Dv, no window or band and
    no weights output, 128 keys doubled while the tile's keys and values
    fit 256 KiB, up to 512: `blockedKeyTile`; AVX2's: 6 queries, and the
    same growth while they fit 128 KiB);
    `tile-size` overrides the key tile. With a vector state the key tile is
    rounded up to whole vector registers of keys (16 on the host). With a
    vector state, a dot or cosine score, the softmax and no modifier, a
    weights output is also the update's `scores_out` (it writes the scores
    it computes there) and `attn.tile_weights` is `scores_stored`.

    Query groups: with a vector state, a dot or cosine score, the softmax
    and no modifier or key-range function (the blocked dot kernel's case),
    an iteration of the parallel loop is a group of at most G consecutive
    query tiles (the target's `queryTilesPerGroup`, 16 on the host;
    `query-tiles-per-group` overrides it; never more tiles than a static
    n_q makes). The T = ceil(n_q / QT) tiles of a (batch, head) make N
    groups, group j holding tiles [j T / N, (j + 1) T / N), so that group
    sizes differ by at most one; N is at least ceil(T / G) and is raised
    with the thread count (`attn.thread_count`, lowered by
    -attn-lower-thread-count) until the B x H x N groups fill the threads'
    last round: N = min(T, max(ceil(T / G), floor(R threads / (B H)))),
    R = ceil(B H ceil(T / G) / threads). The threads take the groups in
    turn (-attn-omp-schedule) and get the same number of tiles; what a
    tile computes does not depend on its group, so the results do not
    depend on the thread count. The states live in per-group buffers
    (`memref<GxQTxf32>` twice, `memref<GxQTxDvxf32>`), the key loop spans
    the group's key loops, and its body is an `scf.for` over the group's
    tiles: tile g (first query i0 + g QT) loads its state as vectors, is
    updated and stores it, under causal, window or band masks only when
    the key tile is within its own key loop. Then each tile is finalized.
    A key tile's packed keys and values are then read from memory once per
    group rather than once per query tile (at d = 128, n = 4096 they are
    4 MB per head: more than L2). With G = 1 the form is the one below.

    Key splits: for the same ops without a weights output, the parallel
    loop has a fourth dimension, the key split s in [0, splits): splits is
    1 unless batch x heads x ceil(T / G) (the fewest groups, whatever the
    threads) are fewer than the target's `keySplitIterations` (16 on the
    host), and then min(ceil(16 / groups), ceil(Nk / minKeysPerSplit))
    chunks of whole key tiles (at
    least 512 keys on the host). Iteration s runs the group's key loop over
    [s chunk, (s + 1) chunk). With one split each tile is finalized as
    above; with several, each tile stores its final state in per-split
    buffers (`memref<?x?x?x?xf32>` maxima and sums,
    `memref<?x?x?x?xDvxf32>` accumulators; empty with one split), and an
    `scf.parallel` over (batch, head, query tile) after it merges each
    tile's splits in order (m = max m_s; alpha_s = exp(m_s - m), 0 for a
    split that saw no key; l = sum alpha_s l_s; acc = sum alpha_s acc_s)
    and finalizes the tile. The splits depend on the sizes only, so the
    results are the same for every thread count; the kernels are emitted
    once. `split-keys=false` turns this off.

    Single-query copy: for the same ops, a dynamic n_q may be 1 at run time
    (a decoder's step with a model made for any number of queries). The
    form above is then emitted twice under `scf.if %nq != 1`: as above in
    the then-branch, and with tiles of one query (and groups of one) in
    the else-branch, whose kernel reads the keys in place (the
    single-query kernel of -convert-attn-to-loops). Not when n_k is n_q by
    construction (the same `memref.dim` value, or the same dimension of the
    same memref: self-attention, where one query is one key and there is
    nothing to pack). `single-query-copy=false` emits the first form only.

    ```mlir
    attn.online_attention dot causal
        ins(%q, %k, %v : memref<2x4x?x8xf32>, memref<2x2x?x8xf32>, memref<2x2x?x4xf32>)
        scale(%s) lengths(%len : memref<2xi32>) outs(%c : memref<2x?x4x4xf32>)
    ```
    becomes
    ```mlir
    scf.parallel (%b, %h, %i0) = (%c0, %c0, %c0) to (%c2, %c4, %nq) step (%c1, %c1, %c4) {
      %hk = arith.divui %h, %c2 : index
      %visible = ... min(max(lengths[%b], 0), %nk)
      %last = arith.minsi (%i0 + 3), (%nq - 1)
      %end = ... max(min(%visible, %last + 1 - (%nq - %nk)), 0)
      %state:3 = scf.for %j0 = %c0 to %end step %c64
          iter_args(%m = %neginf, %l = %zeros, %acc = %zeros4x4)
          -> (vector<4xf32>, vector<4xf32>, vector<4x4xf32>) {
        %new:3 = attn.online_softmax_update dot causal key_tile(64)
            query(%q[%b, %h, %i0] : memref<2x4x?x8xf32>)
            keys(%k[%b, %hk, %j0] : memref<2x2x?x8xf32>)
            values(%v[%b, %hk] : memref<2x2x?x4xf32>)
            scale(%s) key_end(%visible)
            state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
            -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
        scf.yield %new#0, %new#1, %new#2 : ...
      }
      attn.tile_finalize ins(%state#1, %state#2 : vector<4xf32>, vector<4x4xf32>)
          outs(%c[%b, %i0, %h] : memref<2x?x4x4xf32>)
      scf.reduce
    }
    ```
  }];
  let options = [
    Option<"tileSize", "tile-size", "int64_t", /*default=*/"0",
           "keys per key tile (0: the target's)">,
    Option<"vectorize", "vectorize", "bool", /*default=*/"true",
           "carry the state as vectors when D and Dv are static and small">,
    Option<"queryTilesPerGroup", "query-tiles-per-group", "int64_t",
           /*default=*/"0",
           "query tiles that take each key tile in turn, for a dot or cosine "
           "softmax with a vector state (0: the target's; 1: no groups)">,
    Option<"splitKeys", "split-keys", "bool", /*default=*/"true",
           "split the keys of a dot or cosine softmax with a vector state "
           "when batch x heads x query tiles are fewer than the target "
           "plans threads for (merged in a fixed order)">,
    Option<"singleQueryCopy", "single-query-copy", "bool",
           /*default=*/"true",
           "with a dynamic n_q, also emit the form for n_q = 1 (tiles of one "
           "query) under an scf.if, for a dot or cosine softmax with a "
           "vector state">,
    Option<"amxTiles", "amx-tiles", "bool", /*default=*/"false",
           "the kernels will take bf16 products on the AMX tile unit "
           "(-convert-attn-to-loops' amx-tiles): a dot or cosine softmax "
           "whose tiles are whole gets query tiles of the target's "
           "amxQueryTile rows (16) and groups of as many queries">,
    Option<"vectorISA", "vector-isa", "std::string", /*default=*/"\"avx512\"",
           "the target description whose vector width and registers the "
           "kernels are sized for: avx512 (16 lanes, 32 registers), avx2 (8 "
           "lanes, 16 registers) or host (the one of the CPU the pass runs "
           "on; attnc's default)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect"];
}

def AttnFuseKeyProjections : Pass<"attn-fuse-key-projections",
                                  "func::FuncOp"> {
  let summary = "Project each key tile inside the key loop (additive scores)";
  let description = [{
    An additive score's keys are projected (k' = W2 k) by an `attn.linear`
    into an [B, H, Nk, Dw] buffer before the tiled form's parallel loop,
    and the loop reads them back, with the values, from memory. When the
    values are the keys' rows themselves (Bahdanau: V = K), every key row
    comes from memory twice. This pass moves the projection into the key
    loop: each `attn.online_softmax_update` of the tiled form gets, right
    before it, an `attn.linear` of its key tile's rows (a view of the
    input) into a per-iteration scratch of `key_tile` rows, and reads its
    keys there (`key_row(0)`); the rows it projects are then in the caches
    when the update reads the values. The [B, H, Nk, Dw] buffer is gone.

    Fused: a linear op with a weight and bias of static shapes, shared
    ([Dw, D], [Dw]) or per head ([H, Dw, D], [H, Dw]: the tile's linear op
    takes the key head's views), a 4-d input and a 4-d output buffer that
    only that op writes, that only additive updates of one parallel loop
    read (as their keys), and at most one `attn.tile_weights` of a plain
    softmax (no modifier functions), and that is freed afterwards, with
    nothing between the op and the loop that may write its input. With the
    weights output the updates also store their scores in it (`scores_out`)
    and the `attn.tile_weights` normalizes them without keys
    (`scores_stored`). Anything else is left as it is. The projection
    inside the loop is lowered by `-convert-attn-linear-to-loops`, which
    packs W2 once, before the parallel loop.

    ```mlir
    attn.linear ins(%k, %w2 : memref<?x1x?x256xf32>, memref<128x256xf32>)
        outs(%kp : memref<?x1x?x128xf32>)
    scf.parallel (%b, %h, %i) = ... {
      scf.for %j0 = %c0 to %nk step %c128 iter_args(...) {
        attn.online_softmax_update additive act(tanh) key_tile(128)
            query(...) keys(%kp[%b, %h, %j0] : memref<?x1x?x128xf32>) ...
    ```

    becomes

    ```mlir
    scf.parallel (%b, %h, %i) = ... {
      %scratch = memref.alloc() : memref<1x1x128x128xf32>
      scf.for %j0 = %c0 to %nk step %c128 iter_args(...) {
        %rows = ... min(128, key_end - j0, Nk - j0) ...
        %x = memref.subview %k[%b, 0, %j0, 0] [1, 1, %rows, 256] [1, 1, 1, 1]
        %y = memref.subview %scratch[0, 0, 0, 0] [1, 1, %rows, 128] [1, 1, 1, 1]
        attn.linear ins(%x, %w2 : ...) outs(%y : ...)
        attn.online_softmax_update additive act(tanh) key_tile(128)
            query(...) keys(%scratch[%c0, %c0, %j0] : memref<1x1x128x128xf32>)
            key_row(%c0) ...
      }
      memref.dealloc %scratch : memref<1x1x128x128xf32>
    }
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnApproximateMath : Pass<"attn-approximate-math", "func::FuncOp"> {
  let summary = "Replace math.exp and math.tanh by polynomial approximations";
  let description = [{
    Applies MLIR's polynomial approximations (`math` ->
    `arith`) to exp, tanh and the other functions they cover, so that the
    loops of the fused attention that contain them (softmax probabilities,
    tanh of the additive score) vectorize: LLVM cannot vectorize the libm
    calls these functions otherwise become. The approximations are accurate
    to a few ulp in f32. attnc runs it from -O1 up; -O0 keeps libm.

    ```mlir
    %p = math.exp %x : f32
    ```
    becomes a range reduction and a polynomial in `arith` ops
    (`arith.mulf`, `arith.addf`, `arith.fptosi`, `arith.shli`, ...).
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::x86vector::X86VectorDialect"];
}

def AttnHoistLoopInvariants : Pass<"attn-hoist-loop-invariants",
                                   "func::FuncOp"> {
  let summary = "Loop-invariant code motion that leaves AMX tiles in place";
  let description = [{
    MLIR's loop-invariant code motion (the `moveLoopInvariantCode` utility
    upstream's `-loop-invariant-code-motion` runs on every loop), except
    that ops of the `amx` dialect stay where they are. An `amx.tile_zero`
    has no operands and no memory effects, so upstream hoists it out of
    every loop around it, up to the function. A tile value defined outside
    the parallel loop then crosses into the body the OpenMP lowering
    outlines, which passes captured values through memory, and LLVM has no
    plain store of an `x86_amx` value ("Cannot select: store"). A tile
    hoisted out of a key loop would also hold one of the 8 tile registers
    for the whole loop.

    ```mlir
    scf.for %j = %c0 to %n step %c1 {
      %c = arith.constant 2.0 : f32
      %z = amx.tile_zero : vector<16x16xf32>
      ...
    }
    ```
    becomes
    ```mlir
    %c = arith.constant 2.0 : f32
    scf.for %j = %c0 to %n step %c1 {
      %z = amx.tile_zero : vector<16x16xf32>
      ...
    }
    ```
  }];
}

#endif // ATTN_TRANSFORMS_PASSES_TD
