// Input on memrefs: the pipelines start after bufferization.
// RUN: attn-opt %s --attn-to-loops="query-tiles-per-group=4 bufferize=false" | FileCheck %s
// RUN: attn-opt %s --attn-to-loops="query-tiles-per-group=4 bufferize=false" | FileCheck %s --check-prefixes=GONE,O2-GONE
// RUN: attn-opt %s --attn-to-loops="opt-level=0 tile-size=8 query-tiles-per-group=4 bufferize=false" | FileCheck %s --check-prefix=O0
// RUN: attn-opt %s --attn-to-loops="opt-level=0 tile-size=8 query-tiles-per-group=4 bufferize=false" | FileCheck %s --check-prefix=GONE
// RUN: attn-opt %s --attn-to-loops="vectorize=false bufferize=false" | FileCheck %s --check-prefix=SCALAR
// RUN: attn-opt %s --attn-to-loops="split-keys=false query-tiles-per-group=1 bufferize=false" | FileCheck %s --check-prefix=ONETILE
// RUN: attn-opt %s --attn-to-loops="single-query-copy=false query-tiles-per-group=4 bufferize=false" | FileCheck %s --check-prefix=NOCOPY
//
// The attn-to-loops pipeline (attn-decompose-scores, attn-tile-attention,
// attn-fuse-key-projections, convert-attn-linear-to-loops,
// convert-attn-to-linalg, convert-attn-to-loops, convert-linalg-to-loops,
// and from opt-level 1
// attn-approximate-math, canonicalize, cse, attn-hoist-loop-invariants,
// then attn-expand-lanewise-calls, inline, symbol-dce and
// attn-lower-thread-count) on a small multi-query transformer layer and a
// Bahdanau attention: no attn or linalg op is left, only scf loops over
// memrefs; the query groups are sized by omp_get_max_threads().

// GONE-NOT: attn.
// GONE-NOT: linalg.
// From opt-level 1, exp and tanh are polynomial approximations (so that the
// loops vectorize); opt-level 0 keeps them for libm.
// O2-GONE-NOT: math.exp
// O2-GONE-NOT: math.tanh

// CHECK-LABEL: func.func @model
// CHECK-SAME: attributes {llvm.emit_c_interface}
// A scaled dot score without a weights output takes the blocked kernel:
// the keys packed once in panels of 16 before the parallel loop over
// (batch, head, group of at most 4 tiles of 8 queries, key split), a scratch of
// 8 x 512 scores (the key tile sized by the cache, rows of 528: BlockedDot.cpp),
// the (m, l, acc) of the group's 4 tiles in buffers, and
// each key tile used by the group's tiles in turn, each tile's state loaded
// as vectors, updated and stored.
// CHECK:       memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x1x?x8x16xf32>
// CHECK:       scf.parallel {{.*}} step (%{{.*}}, %{{.*}}, %c1, %{{.*}})
// CHECK:       memref.alloc() : memref<8x528xf32>
// The lengths are read per batch entry.
// CHECK:       memref.load %{{.*}} : memref<?xi32>
// CHECK:       memref.alloc() : memref<4x8xf32>
// CHECK:       memref.alloc() : memref<4x8xf32>
// CHECK:       memref.alloc() : memref<4x8x8xf32>
// CHECK:       scf.for %[[J0:.*]] = %{{.*}} to %{{.*}} step %c512 {
// CHECK-NEXT:    scf.for %[[G:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK:             vector.load %{{.*}}[%[[G]], %c0, %c0] : memref<4x8x8xf32>, vector<8xf32>
// CHECK:             vector.fma
// CHECK:             vector.store %{{.*}}, %{{.*}}[%[[G]], %c7, %c0] : memref<4x8x8xf32>, vector<8xf32>
// Self-attention (n_k is n_q, both %n): no copy for a call with one query
// (test/Transforms/tile-attention-single-query.mlir has the copy).
// CHECK-NOT:   step (%c1, %c1, %c1, %c1)
// CHECK-NOT:   vector.shuffle
// CHECK:       return

// The pipeline's options: without key splits and query groups, the blocked
// kernel's parallel loop is over (batch, head, tile of 8 queries) and the
// tile's state is carried by the key loop.
// ONETILE-LABEL: func.func @model
// ONETILE:       memref.alloc({{.*}}) {alignment = 64 : i64} : memref<?x1x?x8x16xf32>
// ONETILE:       scf.parallel
// ONETILE:       scf.parallel ({{[^,]*}}, {{[^,]*}}, {{[^,]*}}) = {{.*}} step (%c1, %c1, %c8) {
// ONETILE-NOT:   memref<4x8x8xf32>
// ONETILE:       scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8x8xf32>)
// ONETILE:       return

// single-query-copy=false: the same form.
// NOCOPY-LABEL: func.func @model
// NOCOPY:       scf.parallel {{.*}} step (%{{.*}}, %{{.*}}, %c1, %{{.*}})
// NOCOPY:       memref.alloc() : memref<4x8x8xf32>
// NOCOPY-NOT:   step (%c1, %c1, %c1, %c1)
// NOCOPY-NOT:   vector.shuffle
// NOCOPY:       return

// Without vectors the state of a query tile is buffers.
// SCALAR-LABEL: func.func @model
// SCALAR:       scf.parallel
// SCALAR:       memref.alloc() : memref<8xf32>
// SCALAR:       memref.alloc() : memref<8xf32>
// SCALAR:       memref.alloc() : memref<8x8xf32>
// SCALAR-NOT:   vector.

// A tile of 8 keys is rounded up to whole vectors of 16 keys (its scores' rows
// 16 floats longer).
// O0-LABEL: func.func @model
// O0:       memref.alloc() : memref<8x32xf32>
// O0:       memref.alloc() : memref<4x8x8xf32>
// O0:       math.exp
// The output layer's tanh (attn.activation), via linalg to loops.
// O0:       math.tanh
// O0:       return

func.func @model(%x: memref<?x?x16xf32>, %wq: memref<2x8x16xf32>,
                 %wk: memref<8x16xf32>, %wv: memref<8x16xf32>,
                 %len: memref<?xi32>, %wo: memref<4x16xf32>,
                 %bo: memref<4xf32>, %y: memref<?x?x4xf32>)
    attributes {llvm.emit_c_interface} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %b = memref.dim %x, %c0 : memref<?x?x16xf32>
  %n = memref.dim %x, %c1 : memref<?x?x16xf32>
  %q = memref.alloc(%b, %n) : memref<?x2x?x8xf32>
  %k = memref.alloc(%b, %n) : memref<?x1x?x8xf32>
  %v = memref.alloc(%b, %n) : memref<?x1x?x8xf32>
  %c = memref.alloc(%b, %n) : memref<?x?x2x8xf32>
  attn.linear ins(%x, %wq : memref<?x?x16xf32>, memref<2x8x16xf32>)
      outs(%q : memref<?x2x?x8xf32>)
  %x4 = memref.expand_shape %x [[0], [1, 2], [3]] output_shape [%b, 1, %n, 16]
      : memref<?x?x16xf32> into memref<?x1x?x16xf32>
  attn.linear ins(%x4, %wk : memref<?x1x?x16xf32>, memref<8x16xf32>)
      outs(%k : memref<?x1x?x8xf32>)
  attn.linear ins(%x4, %wv : memref<?x1x?x16xf32>, memref<8x16xf32>)
      outs(%v : memref<?x1x?x8xf32>)
  attn.attention scaled_dot align(softmax) causal
      ins(%q, %k, %v : memref<?x2x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      lengths(%len : memref<?xi32>) outs(%c : memref<?x?x2x8xf32>)
  %cc = memref.collapse_shape %c [[0], [1], [2, 3]]
      : memref<?x?x2x8xf32> into memref<?x?x16xf32>
  attn.linear ins(%cc, %wo : memref<?x?x16xf32>, memref<4x16xf32>)
      bias(%bo : memref<4xf32>) outs(%y : memref<?x?x4xf32>)
  attn.activation tanh ins(%y : memref<?x?x4xf32>) outs(%y : memref<?x?x4xf32>)
  attn.softmax ins(%y : memref<?x?x4xf32>) outs(%y : memref<?x?x4xf32>)
  memref.dealloc %q : memref<?x2x?x8xf32>
  memref.dealloc %k : memref<?x1x?x8xf32>
  memref.dealloc %v : memref<?x1x?x8xf32>
  memref.dealloc %c : memref<?x?x2x8xf32>
  return
}

// Bahdanau: q' is a buffer of the pipeline (allocated and freed), k' is
// projected a key tile at a time into a scratch of 192 rows
// (-attn-fuse-key-projections); the key loop stores the scores in the
// weights, which a second pass normalizes in place.
// CHECK-LABEL: func.func @helper
// CHECK-NOT:   llvm.emit_c_interface
// CHECK:       memref.alloc() {alignment = 64 : i64} : memref<1x1x3x6xf32>
// CHECK-NOT:   memref<1x1x5x6xf32>
// CHECK:       %[[KP:.*]] = memref.alloc() : memref<1x1x192x6xf32>
// CHECK:       memref.store %{{.*}}, %{{.*}} : memref<1x1x3x5xf32>
// CHECK:       vector.maskedload %{{.*}} : memref<1x1x3x5xf32>
// CHECK:       vector.maskedstore %{{.*}} : memref<1x1x3x5xf32>
// CHECK-DAG:   memref.dealloc %[[KP]] : memref<1x1x192x6xf32>
// CHECK-DAG:   memref.dealloc %{{.*}} : memref<1x1x3x6xf32>
// CHECK:       return
func.func @helper(%q: memref<1x1x3x8xf32>, %k: memref<1x1x5x8xf32>,
                  %W1: memref<6x8xf32>, %W2: memref<6x8xf32>, %bw: memref<6xf32>,
                  %w: memref<6xf32>, %c: memref<1x3x1x8xf32>,
                  %a: memref<1x1x3x5xf32>) {
  attn.attention additive act(tanh) align(softmax)
      ins(%q, %k, %k : memref<1x1x3x8xf32>, memref<1x1x5x8xf32>, memref<1x1x5x8xf32>)
      params(W1 = %W1, W2 = %W2, b = %bw, w = %w : memref<6x8xf32>, memref<6x8xf32>, memref<6xf32>, memref<6xf32>)
      outs(%c : memref<1x3x1x8xf32>) weights(%a : memref<1x1x3x5xf32>)
  return
}
