//===- Passes.td - Conversions out of the attn dialect ------*- tablegen -*-===//

#ifndef ATTN_CONVERSION_PASSES_TD
#define ATTN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnToLinalg : Pass<"convert-attn-to-linalg", "func::FuncOp"> {
  let summary = "Lower attn.linear and attn.activation to linalg.generic";
  let description = [{
    `attn.linear` becomes a `linalg.generic` with a reduction over the input
    dimension (a batched matrix product with the head dimension placed by
    its indexing maps; the multiply-add may be reassociated and contracted,
    so that LLVM vectorizes the reduction) and, with a bias, an init from the
    broadcast bias;
    `attn.activation` becomes an elementwise `linalg.generic`.

    ```mlir
    attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<4x8xf32>)
        outs(%y : memref<?x?x4xf32>)
    ```
    becomes
    ```mlir
    linalg.fill ins(%zero : f32) outs(%y : memref<?x?x4xf32>)
    linalg.generic {indexing_maps = [(b, n, o, i) -> (b, n, i),
                                     (b, n, o, i) -> (o, i),
                                     (b, n, o, i) -> (b, n, o)],
                    iterator_types = [parallel, parallel, parallel, reduction]}
        ins(%x, %w) outs(%y) { mulf, addf }
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect"];
}

def ConvertAttnToLoops : Pass<"convert-attn-to-loops", "func::FuncOp"> {
  let summary = "Lower the tiled form of attention to scf/vector loops";
  let description = [{
    Lowers the tile-level ops of the tiled form (`-attn-tile-attention`)
    with rewrite patterns, each a kernel for one op; an
    `attn.online_attention` that is not tiled yet is tiled first with the
    same patterns as `-attn-tile-attention` (and this pass's options), so
    that the pass lowers either form. Every tile-level op must find a
    kernel.

    `attn.online_softmax_update` (one key tile for one query tile) has two
    kernels:

    - the blocked kernel (benefit 2), as in FlashAttention, for a dot score
      with a vector state, static D and Dv and a key tile of whole vector
      registers of keys: the keys are packed once, before the parallel loop,
      into panels of `vectorLanes` transposed keys (`[B, Hk, ceil(Nk / 16),
      D, 16]` on the host, the padding keys 0); the query tile scores one
      panel at a time with lane-wide FMAs (q_r[d] broadcast times a panel
      row, no horizontal reduction), masks are a lane-wise select to -inf,
      and each value row is loaded once for the whole query tile, in
      chunks of up to 3 vectors of columns (24 accumulators at a query
      tile of 8); a positive constant scale (scaled_dot) is not applied to
      the products but folded into the exponential's first FMA;
    - the generic per-query kernel (benefit 1), for every other case: for
      each query of the tile, the scores of the key tile into a scratch
      buffer with their maximum, the rescaling by alpha = exp(m - m'), the
      probabilities and the weighted values. With a vector state q_i, w and
      the accumulator row are vectors (a score is a vector product and a
      `vector.reduction`, a key adds p_j v_j with one `vector.fma`); with a
      buffer state the loops are scalar.

    `attn.tile_finalize` writes acc / l per query (0 when l = 0);
    `attn.tile_weights` recomputes each score and writes
    exp(s_j - m) / l, 0 where masked. Scratch buffers (the scores of a key
    tile) are allocated once per iteration of the parallel loop. Memory is
    O(tile) per query tile, plus the packed keys (the size of the keys): the
    Nq x Nk score matrix is never formed. `attn.softmax` (output model)
    becomes a three-pass row loop (max, sum of exponentials, normalize).

    Once the kernels are loops, two clean-ups of the copies bufferization
    left around them: a bf16/f16 argument widened into an f32 buffer that
    the blocked kernel now packs from in place loses its copy (or the copy
    moves into the one branch still reading it); and an allocation only
    stored into by the kernels (or also read back by them, when the copy
    does not round: the weights output) and then copied into an output
    argument (linalg.copy, or arith.truncf for a bf16/f16 output) is
    replaced by the output itself, so that the kernels' threads write the
    result where the caller wants it and no serial copy follows the
    parallel loop.

    ```mlir
    %new:3 = attn.online_softmax_update dot causal key_tile(64)
        query(%q[%b, %h, %i0] : memref<2x4x?x8xf32>)
        keys(%k[%b, %hk, %j0] : memref<2x2x?x8xf32>)
        values(%v[%b, %hk] : memref<2x2x?x4xf32>)
        scale(%s) key_end(%visible)
        state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
        -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
    ```
    becomes (blocked kernel)
    ```mlir
    // before the scf.parallel: %panels = memref.alloc(...) : memref<?x?x?x8x16xf32>
    scf.for %jv = %c0 to %count step %c16 {           // one panel of 16 keys
      %dots:4 = scf.for %d = %c0 to %c8 step %c1 iter_args(...) {
        %kt = vector.load %panels[%b, %hk, %panel, %d, %c0] : ..., vector<16xf32>
        %q0 = vector.broadcast (memref.load %q[%b, %h, %i0, %d]) : f32 to vector<16xf32>
        %s0 = vector.fma %q0, %kt, %acc0 : vector<16xf32>
        ...                                           // 4 queries
      }
      // scale, mask (select to -inf), store to the scratch of scores
    }
    // per query: max, alpha, exp, sum; then each value row once:
    %accs:4 = scf.for %j = ... iter_args(...) {
      %vrow = vector.load %v[%b, %hk, %j, %c0] : ..., vector<4xf32>
      %a0 = vector.fma %p0, %vrow, %acc0 : vector<4xf32>
      ...
    }
    %acc1 = vector.insert %accs#0, %acc [0] : vector<4xf32> into vector<4x4xf32>
    ```
  }];
  let options = [
    Option<"tileSize", "tile-size", "int64_t", /*default=*/"0",
           "keys per key tile when an untiled op is tiled here (0: the "
           "target's; at most 4096)">,
    Option<"vectorize", "vectorize", "bool", /*default=*/"true",
           "carry the state of an untiled op as vectors when D and Dv are "
           "static (at most 256)">,
    Option<"queryTilesPerGroup", "query-tiles-per-group", "int64_t",
           /*default=*/"0",
           "query tiles that take each key tile in turn when an untiled op "
           "is tiled here (0: the target's; see -attn-tile-attention)">,
    Option<"splitKeys", "split-keys", "bool", /*default=*/"true",
           "split the keys of an untiled op tiled here when the parallel "
           "iterations are few (see -attn-tile-attention)">,
    Option<"singleQueryCopy", "single-query-copy", "bool",
           /*default=*/"true",
           "with a dynamic n_q, also tile an untiled op for n_q = 1 (see "
           "-attn-tile-attention)">,
    Option<"bf16DotProducts", "bf16-dot-products", "bool",
           /*default=*/"false",
           "the blocked dot kernel multiplies bf16-rounded queries, keys, "
           "probabilities and values, accumulating in f32 (AVX512-BF16 "
           "vdpbf16ps through llvm.call_intrinsic; the target must have it)">,
    Option<"amxTiles", "amx-tiles", "bool", /*default=*/"false",
           "with bf16-dot-products: the blocked kernel's Q.K^T and P.V on "
           "the AMX tile unit (amx dialect, tdpbf16ps) where D is whole "
           "chunks of 32, Dv of 16 and the key tile of 32 (at most 512); "
           "the target must have AMX-BF16 and the process must be granted "
           "the tile state (the attnc runtime asks Linux for it)">,
    Option<"bf16VectorDots", "bf16-vector-dots", "bool", /*default=*/"true",
           "with bf16-dot-products: vdpbf16ps where the AMX tiles do not "
           "apply (false: f32 products there)">,
    Option<"vectorISA", "vector-isa", "std::string", /*default=*/"\"avx512\"",
           "the target description whose vector width and registers the "
           "kernels are sized for: avx512 (16 lanes, 32 registers), avx2 (8 "
           "lanes, 16 registers) or host (the one of the CPU the pass runs "
           "on; attnc's default)">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::amx::AMXDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect"];
}

def AttnExpandLanewiseCalls : Pass<"attn-expand-lanewise-calls",
                                   "ModuleOp"> {
  let summary = "Inline attn.lanewise_call as vector code";
  let description = [{
    Replaces each `attn.lanewise_call @f(...)` (a scalar function applied to
    each lane; the blocked kernel's score modifiers and mask predicates of
    a vector of keys) by the body of `@f` on vectors: a value that depends
    on a vector operand becomes a vector of the lanes' values (elementwise
    arith and math ops on vectors, memref.load one lane at a time, an
    scf.if on a condition the same for every lane kept as an scf.if); what
    depends only on the operands every lane shares stays scalar. A body
    with anything else (an scf.if on a per-lane condition, other ops on
    per-lane values, more than one block) becomes one func.call per lane
    instead. A module pass: it reads the callee while it rewrites the
    caller.

    ```mlir
    func.func private @score(%e: f32, %b: index, %h: index, %i: index,
                             %l: index) -> f32 {
      %0 = arith.subi %i, %l : index
      %1 = arith.index_cast %0 : index to i64
      %2 = arith.sitofp %1 : i64 to f32
      %3 = arith.subf %e, %2 : f32
      return %3 : f32
    }
    %s = attn.lanewise_call @score(%e, %b, %h, %i, %l)
        : (vector<16xf32>, index, index, index, vector<16xindex>)
        -> vector<16xf32>
    ```
    becomes
    ```mlir
    %0 = vector.broadcast %i : index to vector<16xindex>
    %1 = arith.subi %0, %l : vector<16xindex>
    %2 = arith.index_cast %1 : vector<16xindex> to vector<16xi64>
    %3 = arith.sitofp %2 : vector<16xi64> to vector<16xf32>
    %s = arith.subf %e, %3 : vector<16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def ConvertAttnLinearToLoops
    : Pass<"convert-attn-linear-to-loops", "func::FuncOp"> {
  let summary = "Lower static-size attn.linear to vector loops";
  let description = [{
    An attn.linear with a static input size I, a static output size O that
    is whole vectors of 16 (any size) or at most 256, contiguous weights
    and bias, and input and output rows that are contiguous becomes a register-blocked matrix product: W packed once into
    panels of W^T [H', O / chunk, I, chunk] (chunks of up to 4 vectors of
    output columns; 16 x 16 blocks transposed in registers with
    vector.shuffle when I and the chunk are whole vectors and W has at
    least 16384 elements), then an scf.parallel over (batch, head, block of rows)
    in which each chunk of a block keeps rows x vectors accumulators
    (starting from the bias) that get x_r[i] * W^T[i, chunk] for every i:
    a broadcast per row and i, no horizontal reduction, and 24 independent
    FMA chains (6 rows of 64 columns, 8 rows of 48 or of 16) that share
    each load of the panel; the next block's rows are prefetched
    (memref.prefetch) meanwhile. Rows past the end are clamped to the last
    one. Weights over the target's projectionCachedWeightBytes (1 MiB on
    the host CPU) take slabs of 8 blocks per iteration instead, chunk by
    chunk, so that each chunk's panel serves the slab from L2. Per-head
    weights over one shared input (Wq X) whose heads' weights fit that size
    together run the heads inside each block of rows instead of in the
    parallel loop, so that the block's rows stay in L1 for every head. Weights of
    16384 elements or more, with I and O whole vectors, get a second kernel
    under `scf.if` for at most 16 rows in all (b x n, a decoder's step): no
    packing, each row's dot products with 16 rows of W at a time, the
    partial sums reduced by a 16 x 16 register transpose.
    The parallel loops run on the OpenMP threads like the tiled form's.
    An attn.linear inside a parallel loop (a key tile's projection, put
    there by -attn-fuse-key-projections, on views of the rows) whose weight
    and bias are defined outside that loop packs W once, before it (freed
    after it), and computes its rows with the same register blocks in
    sequential loops; one whose weights the loop defines is left.
    Other attn.linear ops are left for -convert-attn-to-linalg.

    ```mlir
    attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<5x8xf32>)
        bias(%b : memref<5xf32>) outs(%y : memref<?x?x5xf32>)
    ```
    becomes
    ```mlir
    %wt = memref.alloc() : memref<1x1x8x5xf32>    // panels of W^T
    scf.parallel (%h, %c) ... { ... memref.store %w[..] -> %wt[%h, %c, %i, %o] }
    scf.parallel (%b, %n0) = (%c0, %c0) to (%batch, %n) step (%c1, %c8) {
      %bias = vector.load %b[%c0] : memref<5xf32>, vector<5xf32>
      %acc:8 = scf.for %i = %c0 to %c8 step %c1 iter_args(...) {
        %row = vector.load %wt[%c0, %c0, %i, %c0] : memref<1x1x8x5xf32>, vector<5xf32>
        %x0 = vector.broadcast (memref.load %x[%b, %n0, %i]) : f32 to vector<5xf32>
        %a0 = vector.fma %x0, %row, %acc0 : vector<5xf32>
        ...
      }
      vector.store %acc#0, %y[%b, %n0, %c0] : memref<?x?x5xf32>, vector<5xf32>
      ...
    }
    ```
  }];
  let options = [
    Option<"vectorISA", "vector-isa", "std::string", /*default=*/"\"avx512\"",
           "the target description whose vector width and registers the "
           "kernels are sized for: avx512 (16 lanes, 32 registers), avx2 (8 "
           "lanes, 16 registers) or host (the one of the CPU the pass runs "
           "on; attnc's default)">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::vector::VectorDialect"];
}

def AttnExpandBF16Conversions : Pass<"attn-expand-bf16-conversions"> {
  let summary = "Round f32 to bf16 (and widen bf16) with integer ops";
  let description = [{
    Every `arith.truncf` to bf16 becomes integer ops that round to nearest
    even (a NaN stays a quiet NaN), every `arith.extf` from bf16 a shift:
    upstream's `arith::populateExpandBFloat16Patterns`, without the rest of
    `-arith-expand`. For CPUs without AVX512-BF16, where LLVM would call
    `__truncsfbf2` for each element (a symbol GCC 12's libgcc lacks, so a
    model would not load); the integer ops stay in vectors. attnc runs it
    before the LLVM lowering on such hosts.

    ```mlir
    %r = arith.truncf %x : vector<8xf32> to vector<8xbf16>
    ```
    becomes
    ```mlir
    %i = arith.bitcast %x : vector<8xf32> to vector<8xi32>
    // i + 0x7fff + ((i >> 16) & 1), NaN -> 0x7fc0
    %h = arith.shrui %rounded, %c16 : vector<8xi32>
    %t = arith.trunci %h : vector<8xi32> to vector<8xi16>
    %r = arith.bitcast %t : vector<8xi16> to vector<8xbf16>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def AttnOpenMPSchedule : Pass<"attn-omp-schedule", "ModuleOp"> {
  let summary = "Give the worksharing loops a cyclic static schedule";
  let description = [{
    Runs after `-convert-scf-to-openmp`: each `omp.wsloop` without a
    schedule or reductions (the parallel loop of the tiled form: batch x
    head x query tile) gets `schedule(static, chunk)`, so that the threads
    take the iterations in turn instead of contiguous blocks; its
    `omp.parallel` goes under an `scf.if` that skips an empty loop nest
    (libomp's chunked static schedule divides by the trip count). The tiles of a causal
    or banded attention differ in cost (the last query tile of a causal
    attention sees all keys, the first one tile of them): contiguous blocks
    give one thread of two three quarters of the work, a cyclic schedule
    about half. Every tile is still computed by one thread, in one order,
    so results do not depend on the schedule or the thread count.

    ```mlir
    omp.wsloop {
      omp.loop_nest (%b, %h, %i) : index = ...
    ```
    becomes
    ```mlir
    scf.if %non_empty {
      omp.parallel {
        %c1 = llvm.mlir.constant(1 : i64) : i64
        omp.wsloop schedule(static = %c1 : i64) {
          omp.loop_nest (%b, %h, %i) : index = ...
    ```
  }];
  let options = [
    Option<"chunk", "chunk", "int64_t", /*default=*/"1",
           "iterations per chunk of the cyclic schedule (at least 1)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::omp::OpenMPDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnLowerThreadCount : Pass<"attn-lower-thread-count", "ModuleOp"> {
  let summary = "attn.thread_count to the OpenMP runtime's thread count or 1";
  let description = [{
    Each `attn.thread_count` becomes a call of `omp_get_max_threads()` (the
    threads the next parallel region gets: OMP_NUM_THREADS, or the cores)
    when the parallel loops run on OpenMP (`openmp`, attnc's --openmp), and
    the constant 1 when they run serially. The call's declaration is added
    to the module once.

    ```mlir
    %t = attn.thread_count : index
    ```
    becomes (openmp=true)
    ```mlir
    %0 = func.call @omp_get_max_threads() : () -> i32
    %t = arith.index_cast %0 : i32 to index
    ...
    func.func private @omp_get_max_threads() -> i32
    ```
    or (openmp=false) `%t = arith.constant 1 : index`.
  }];
  let options = [
    Option<"openmp", "openmp", "bool", /*default=*/"true",
           "the parallel loops run on OpenMP threads (false: serially)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

def AttnOpenMPThreadScratch : Pass<"attn-omp-thread-scratch", "ModuleOp"> {
  let summary = "Give each thread one stack copy of the per-tile scratch";
  let description = [{
    Runs after `-convert-scf-to-openmp`. The kernels allocate their scratch
    (a query tile's scores, say) at the start of each iteration of the
    parallel loop and free it at its end: a malloc and a free per tile, and
    the runtime's bookkeeping of the call's blocks under a lock shared by
    the threads. A thread runs its iterations one after another, so one
    buffer per thread serves them all: each `memref.alloc` of a static
    shape of at most `max-bytes` bytes made directly in the body of an
    `omp.loop_nest` (or in the `memref.alloca_scope` that wraps it), and
    freed by a `memref.dealloc` in the same block, becomes a
    `memref.alloca` (64-byte aligned) at the start of the enclosing
    `omp.parallel` region, made once per thread; the dealloc goes. Like
    the malloc'd buffer it replaces, the scratch is not initialized. Then
    the `memref.alloca_scope` around each loop body is inlined when it has
    no result and holds no `memref.alloca`: the canonicalizer would keep
    the scope of a body with a `memref.prefetch` (which declares no memory
    effects), and `-convert-scf-to-cf` cannot lower a scope of several
    blocks.

    ```mlir
    omp.parallel {
      omp.wsloop {
        omp.loop_nest (%b, %i) : index = ... {
          memref.alloca_scope {
            %s = memref.alloc() : memref<8x64xf32>
            ...
            memref.dealloc %s : memref<8x64xf32>
    ```
    becomes
    ```mlir
    omp.parallel {
      %s = memref.alloca() {alignment = 64 : i64} : memref<8x64xf32>
      omp.wsloop {
        omp.loop_nest (%b, %i) : index = ... {
          ...   // the body, no longer in a memref.alloca_scope
    ```
  }];
  let options = [
    Option<"maxBytes", "max-bytes", "int64_t", /*default=*/"65536",
           "the largest buffer put on a thread's stack (OpenMP worker "
           "stacks are 4 MiB by default)">
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::omp::OpenMPDialect"];
}

//===----------------------------------------------------------------------===//
// The tiled form on an NVIDIA GPU (--target=cuda)
//===----------------------------------------------------------------------===//

def AttnPrivatizeTileScratch
    : Pass<"attn-privatize-tile-scratch", "func::FuncOp"> {
  let summary = "Per-tile scratch buffers of a parallel loop become "
                "private (stack) memory";
  let description = [{
    Runs on the loops of the tiled form before the parallel loop (batch x
    head x query tile) is mapped to GPU blocks. The kernels allocate their
    scratch (the running max and sum, the accumulator, a key tile's scores)
    per iteration of that loop with `memref.alloc` and free it at the end of
    the iteration: on a GPU that is a heap allocation per block. A
    `memref.alloc` of static shape anywhere in the body of an
    `scf.parallel` becomes a `memref.alloca` at the start of that body
    (local memory of the thread that runs the iteration, registers once
    promoted; hoisted out of inner loops, since a fresh buffer's contents
    are undefined anyway and a stack allocation in a loop would be
    dynamic), and its `memref.dealloc`s are erased. An allocation of
    dynamic size (the sparse alignments' [QT, Nk] score buffer, the
    accumulator of a dynamic feature size) has no private form: it becomes
    a `memref.view` into one workspace (`memref<?xi8>`, allocated before the
    loop, freed after it) at the iteration's slot, a 64-byte-aligned slot
    per iteration in row-major order of the loop's dimensions (its sizes
    must be defined before the loop). Allocations outside parallel loops
    (the host side: projections, intermediate values) are left alone.
    Private buffers larger than `max-private-bytes` in all, and dynamic
    sizes computed in the loop, are refused with an error at their
    location.

    ```mlir
    scf.parallel (%b, %h, %i0) = ... {
      %m = memref.alloc() : memref<8xf32>
      ...
      memref.dealloc %m : memref<8xf32>
      scf.reduce
    }
    ```
    becomes
    ```mlir
    scf.parallel (%b, %h, %i0) = ... {
      %m = memref.alloca() : memref<8xf32>
      ...
      scf.reduce
    }
    ```
  }];
  let options = [
    Option<"maxPrivateBytes", "max-private-bytes", "int64_t",
           /*default=*/"16384",
           "the most bytes of private scratch one parallel iteration may "
           "hold">
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def AttnMergeGPUModules : Pass<"attn-merge-gpu-modules", "ModuleOp"> {
  let summary = "Move every outlined kernel into one gpu.module";
  let description = [{
    `-gpu-kernel-outlining` makes one `gpu.module` per kernel; a model with
    several attention steps has several. They are merged into the first
    one, renamed `@<name>` (the `module-name` option), and every
    `gpu.launch_func` is pointed at it, so that the model's kernels are one
    PTX module (one `.version`/`.target` header, one cubin to embed and
    load).

    ```mlir
    gpu.launch_func @f_kernel::@f_kernel ...
    gpu.launch_func @f_kernel_0::@f_kernel ...
    gpu.module @f_kernel { gpu.func @f_kernel(...) kernel {...} }
    gpu.module @f_kernel_0 { gpu.func @f_kernel(...) kernel {...} }
    ```
    becomes
    ```mlir
    gpu.launch_func @attn_kernels::@f_kernel ...
    gpu.launch_func @attn_kernels::@f_kernel_1 ...
    gpu.module @attn_kernels {
      gpu.func @f_kernel(...) kernel {...}
      gpu.func @f_kernel_1(...) kernel {...}
    }
    ```
  }];
  let options = [
    Option<"moduleName", "module-name", "std::string",
           /*default=*/"\"attn_kernels\"",
           "the symbol of the merged gpu.module">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def AttnNVVMNativeMath : Pass<"attn-nvvm-native-math", "gpu::GPUModuleOp"> {
  let summary = "libdevice calls with a PTX instruction become LLVM "
                "intrinsics";
  let description = [{
    Runs after `-convert-gpu-to-nvvm`, which lowers math ops to calls of
    CUDA's libdevice (`__nv_floorf`, `__nv_sqrtf`, ...). attnc links no
    libdevice (the PTX is produced without the CUDA toolkit), so calls of
    the functions that are one PTX instruction (floor, ceil, trunc, round
    to even, sqrt, fabs, fma, fmin, fmax, and the f64 forms) become the
    LLVM intrinsics the NVPTX backend selects to that instruction
    (`cvt.rmi.f32.f32`, `sqrt.rn.f32`, ...), rsqrt becomes 1 / sqrt (two
    correctly rounded instructions, `sqrt.rn` and `div.rn`), and their
    declarations are erased. exp, log, tanh & co. do not reach this pass: the GPU pipeline
    rewrites them into polynomials first (`-attn-approximate-math`). A
    call of any other libdevice function is refused with an error at its
    location naming it.

    ```mlir
    %f = llvm.call @__nv_floorf(%x) : (f32) -> f32
    ```
    becomes
    ```mlir
    %f = llvm.intr.floor(%x) : (f32) -> f32
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def AttnGPUThreadTiles : Pass<"attn-gpu-thread-tiles", "func::FuncOp"> {
  let summary = "Split the last dimension of each outermost parallel loop "
                "into blocks of threads";
  let description = [{
    Runs before the parallel loops are mapped to the GPU. Each outermost
    `scf.parallel` (the tiled form's batch x head x query tile, a
    projection's output elements) is tiled by MLIR's `tileParallelLoop`
    with 1 on every dimension but the last and `threads-per-block` on the
    last: the outer loop steps over groups of `threads-per-block`
    iterations and becomes the grid, the inner loop (bound `affine.min` of
    the group and what is left, whose constant `-convert-parallel-loops-to-gpu`
    takes as the block size, guarding the body) becomes the threads of a
    block. (MLIR 19's form without min bounds scales its guard by the step
    twice, wrong for the query tiles' step of 8: not used.) For attention, a warp's threads then run
    neighbouring query tiles over the same keys. A loop of more than three
    dimensions first has its leading ones combined into one (upstream
    `collapseParallelLoops`), since the mapping takes three. Loops inside
    another parallel loop are left alone.

    ```mlir
    scf.parallel (%bh, %i0) = (%c0, %c0) to (%BH, %NQ) step (%c1, %c8) {
      <tile of queries %i0 .. %i0+8>
    }
    ```
    becomes, with 32 threads per block,
    ```mlir
    scf.parallel (%bh, %g) = (%c0, %c0) to (%BH, %NQ) step (%c1, %c256) {
      %m0 = affine.min affine_map<(d0)[s0] -> (-d0 + s0, 1)>(%bh)[%BH]
      %m1 = affine.min affine_map<(d0)[s0] -> (-d0 + s0, 256)>(%g)[%NQ]
      scf.parallel (%t0, %t1) = (%c0, %c0) to (%m0, %m1) step (%c1, %c8) {
        %i0 = arith.addi %t1, %g : index
        <tile of queries %i0 .. %i0+8>
      }
    }
    ```
  }];
  let options = [
    Option<"threadsPerBlock", "threads-per-block", "int64_t",
           /*default=*/"32",
           "threads per block along the last dimension">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnSerialHostKernels : Pass<"attn-serial-host-kernels", "func::FuncOp"> {
  let summary = "Host loops that touch memory and no parallel loop took "
                "become one-thread kernels";
  let description = [{
    Runs after the parallel loops are mapped to `gpu.launch`
    (`-convert-parallel-loops-to-gpu`) on the way to a CUDA library. What
    is left in the host function that reads or writes memory (a sequential
    loop of glue code: the output model's softmax over its rows) would
    dereference device pointers on the host. Each such op at the top of
    the function is moved into a `gpu.launch` of one block of one thread,
    which `-gpu-kernel-outlining` then makes a kernel: correct wherever it
    runs, serial, so only for the small glue that no parallel loop
    covers. A `memref.load` whose value only kernels use (a scalar param
    read before the attention loop) is copied into those kernels instead,
    when nothing between it and them touches the buffer. Any other op
    whose results the host uses afterwards cannot move into a kernel and is
    refused at its location.

    ```mlir
    scf.for %r = %c0 to %rows step %c1 {
      ... memref.load %y[%r, %j] ...
    }
    ```
    becomes
    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
      scf.for %r = %c0 to %rows step %c1 {
        ... memref.load %y[%r, %j] ...
      }
      gpu.terminator
    }
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::arith::ArithDialect"];
}

def AttnDeviceBuffers : Pass<"attn-device-buffers", "func::FuncOp"> {
  let summary = "Host functions of a CUDA library: buffers in device "
                "memory, no host access to them";
  let description = [{
    Runs on the host functions after the kernels are outlined (`--target=cuda
    -o lib.so`). Their arguments are device pointers (`attnc_M_cuda`), and
    every loop that reads or writes memory is a kernel by then, so the
    buffers the host function allocates (projections, intermediate values,
    the attention's output before its copy) must be device memory too:
    `memref.alloc` becomes `gpu.alloc` and `memref.dealloc` `gpu.dealloc`
    (but buffers of `index`, the shapes `memref.reshape` reads on the host,
    stay host memory; synchronous forms; `-gpu-async-region` then puts them on the call's
    stream in order with the launches). Any other host op that reads or
    writes a memref (a `memref.load` of a scalar, a `memref.copy`) would
    dereference a device pointer on the host: it is refused with an error at
    its location naming the op.

    ```mlir
    func.func @f(%x: memref<?x8xf32>) {
      %t = memref.alloc(%n) : memref<?x8xf32>
      gpu.launch_func @attn_kernels::@k blocks in (...) threads in (...)
          args(%x : memref<?x8xf32>, %t : memref<?x8xf32>)
      memref.dealloc %t : memref<?x8xf32>
      return
    }
    ```
    becomes
    ```mlir
    func.func @f(%x: memref<?x8xf32>) {
      %t = gpu.alloc (%n) : memref<?x8xf32>
      gpu.launch_func @attn_kernels::@k blocks in (...) threads in (...)
          args(%x : memref<?x8xf32>, %t : memref<?x8xf32>)
      gpu.dealloc %t : memref<?x8xf32>
      return
    }
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def AttnGPULaunchToLoops : Pass<"attn-gpu-launch-to-loops", "func::FuncOp"> {
  let summary = "Run the GPU schedule on the host: gpu.launch -> loops";
  let description = [{
    For testing the GPU mapping where no GPU exists (`attnc
    --gpu-schedule-on-host`): each `gpu.launch` of `-loops-to-gpu`'s
    mapping (before outlining) becomes a sequential `scf.for` nest over its
    grid and block (z, y, x, outermost first); the block and thread ids are
    the loops' induction variables, the sizes the launch's operands, and
    the body is the kernel's, so the index arithmetic, the masks as bounds
    and the private scratch are the ones the GPU runs. Private buffers
    (`memref.alloca` without operands at the top of the body) are made once
    before the nest. Launches with barriers, shared memory, clusters or
    async tokens are refused.

    ```mlir
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %B, %gy = %c4, %gz = %T)
               threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
      %m = memref.alloca() : memref<8xf32>
      %i0 = affine.apply #map(%bz)[%c0, %c8]
      ...
      gpu.terminator
    }
    ```
    becomes
    ```mlir
    %m = memref.alloca() : memref<8xf32>
    scf.for %bz = %c0 to %T step %c1 {
      scf.for %by = %c0 to %c4 step %c1 {
        scf.for %bx = %c0 to %B step %c1 {
          scf.for %tz = %c0 to %c1 step %c1 { ... {
            %i0 = affine.apply #map(%bz)[%c0, %c8]
            ...
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // ATTN_CONVERSION_PASSES_TD
