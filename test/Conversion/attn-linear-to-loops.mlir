// RUN: attn-opt %s --convert-attn-linear-to-loops --canonicalize | FileCheck %s
// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s --check-prefix=KEPT
//
// attn.linear with static I and O (O whole vectors of 16, or at most 256)
// is lowered by convert-attn-linear-to-loops: W is packed once into panels
// of W^T, [H', O / chunk, I, chunk] (in parallel over head and chunk, in
// blocks of 16 inputs: 16 x 16 transposes in registers when I and the
// chunk are whole vectors and W has at least 16384 elements), and an
// scf.parallel over (batch, head, block of rows) keeps rows x (chunk / 16)
// accumulators per chunk of the output row (starting from the bias) that
// get x_r[i] * W^T[i, chunk] for every i; with weights over 1 MiB, each
// iteration takes a slab of 8 blocks, chunk by chunk. Weights of 16384
// elements or more over at most 16 rows take the few-rows kernel instead
// (under scf.if: no packing).
// With a dynamic I or O, attn.linear is left for convert-attn-to-linalg
// (as it is by the other passes).

// O = 5 is not whole vectors: one vector<5> per row, 8 rows per block.
// CHECK-LABEL: func @shared_weight_with_bias
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x8xf32>, %[[W:[^:]*]]: memref<5x8xf32>, %[[B:[^:]*]]: memref<5xf32>, %[[Y:[^:]*]]: memref<?x?x5xf32>)
// CHECK:      %[[WT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x1x8x5xf32>
// CHECK:        memref.load %[[W]][%[[O:[a-z0-9_]*]], %[[I:[a-z0-9_]*]]] : memref<5x8xf32>
// CHECK-NEXT:   memref.store %{{.*}}, %[[WT]][%{{.*}}, %{{.*}}, %[[I]], %[[O]]] : memref<1x1x8x5xf32>
// CHECK:      scf.parallel ({{.*}}) = ({{.*}}) to ({{.*}}) step (%c1, %c8)
// CHECK:        %[[BIAS:.*]] = vector.load %[[B]][%{{.*}}] : memref<5xf32>, vector<5xf32>
// CHECK:        %[[ACC:.*]]:8 = scf.for {{.*}} iter_args(%{{.*}} = %[[BIAS]], %{{.*}} = %[[BIAS]], {{.*}}) -> (vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>, vector<5xf32>)
// CHECK:          %[[ROW:.*]] = vector.load %[[WT]]
// CHECK-COUNT-8:  vector.fma %{{.*}}, %[[ROW]]
// CHECK:        vector.store %[[ACC]]#0, %[[Y]]
// CHECK-COUNT-7: vector.store %[[ACC]]#{{[1-7]}}, %[[Y]]
// CHECK:      memref.dealloc %[[WT]]
// KEPT-LABEL: func @shared_weight_with_bias
// KEPT:       attn.linear
func.func @shared_weight_with_bias(%x: memref<?x?x8xf32>, %w: memref<5x8xf32>,
                                   %b: memref<5xf32>, %y: memref<?x?x5xf32>) {
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<5x8xf32>)
      bias(%b : memref<5xf32>) outs(%y : memref<?x?x5xf32>)
  return
}

// O = 128: two chunks of 4 vectors, 6 rows per block (24 accumulators),
// each chunk's panel of W^T contiguous; the bias chunk starts the rows.
// CHECK-LABEL: func @chunked_output
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x128xf32>, %[[W:[^:]*]]: memref<128x128xf32>, %[[B:[^:]*]]: memref<128xf32>, %[[Y:[^:]*]]: memref<?x?x128xf32>)
// CHECK:      %[[WT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x128x64xf32>
// I and the chunk are whole vectors, and W has 16384 elements (from which
// register transposes pay): W is packed in blocks of 16 x 16, 16 rows of W
// loaded, transposed with 64 shuffles, stored as 16 rows of the panel.
// CHECK:      scf.parallel (%[[C:.*]]) = (%c0) to (%c2) step (%c1)
// CHECK:        scf.for %[[I0:[^ ]*]] = %c0 to %c128 step %c16
// CHECK:          scf.for %[[O0:[^ ]*]] = %c0 to %c64 step %c16
// CHECK-COUNT-16:   vector.load %[[W]]{{.*}} : memref<128x128xf32>, vector<16xf32>
// CHECK-COUNT-64:   vector.shuffle
// CHECK-COUNT-16:   vector.store %{{.*}}, %[[WT]][%c0, %[[C]], %{{.*}}, %[[O0]]]
// CHECK:      scf.parallel ({{.*}}) = ({{.*}}) to ({{.*}}) step (%c1, %c6)
// The next block's 6 rows are prefetched, a line (16 floats) at a time.
// CHECK:        scf.for %[[PI:[^ ]*]] = %c0 to %c128 step %c16
// CHECK-COUNT-6:  memref.prefetch %[[X]][%{{.*}}, %{{.*}}, %[[PI]]], read, locality<3>, data
// CHECK:        scf.for %[[CH:[^ ]*]] = %c0 to %c2 step %c1
// CHECK:          %[[C0:.*]] = arith.muli %[[CH]], %c64
// CHECK:          vector.load %[[B]][%[[C0]]] : memref<128xf32>, vector<16xf32>
// CHECK:          %[[ACC:.*]]:24 = scf.for
// CHECK:            vector.load %[[WT]][%c0, %[[CH]], %{{.*}}, %c0] : memref<1x2x128x64xf32>, vector<16xf32>
// CHECK:            vector.load %[[WT]][%c0, %[[CH]], %{{.*}}, %c48] : memref<1x2x128x64xf32>, vector<16xf32>
// CHECK-COUNT-24:   vector.fma
// CHECK:          vector.store %[[ACC]]#0, %[[Y]][%{{.*}}, %{{.*}}, %[[C0]]] : memref<?x?x128xf32>, vector<16xf32>
func.func @chunked_output(%x: memref<?x?x128xf32>, %w: memref<128x128xf32>,
                          %b: memref<128xf32>, %y: memref<?x?x128xf32>) {
  attn.linear ins(%x, %w : memref<?x?x128xf32>, memref<128x128xf32>)
      bias(%b : memref<128xf32>) outs(%y : memref<?x?x128xf32>)
  return
}

// O = 512, more than 256 floats, is whole vectors: chunks of 64 (no
// vector holds a whole row), so it takes the kernel too.
// CHECK-LABEL: func @wide_output
// CHECK:      memref.alloc() {alignment = 64 : i64} : memref<1x8x16x64xf32>
// CHECK:      scf.for %{{.*}} = %c0 to %c8 step %c1
// CHECK-NOT:  attn.linear
func.func @wide_output(%x: memref<?x?x16xf32>, %w: memref<512x16xf32>,
                       %y: memref<?x?x512xf32>) {
  attn.linear ins(%x, %w : memref<?x?x16xf32>, memref<512x16xf32>)
      outs(%y : memref<?x?x512xf32>)
  return
}

// Weights over 1 MiB (512 x 1024 floats, the host's
// projectionCachedWeightBytes) are shared by slabs of 8 blocks of 6 rows:
// each iteration of the parallel loop takes 48 rows, chunk by chunk, every
// block of the slab computing the chunk while its panel is in L2; the
// blocks of the first chunk prefetch the next block's rows.
// CHECK-LABEL: func @large_weight
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x1024xf32>, %{{[^:]*}}: memref<512x1024xf32>, %[[Y:[^:]*]]: memref<?x?x512xf32>)
// CHECK:      %[[WT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x8x1024x64xf32>
// CHECK:      scf.parallel (%{{[^,]*}}, %[[SLAB:[^)]*]]) = (%c0, %c0) to (%{{[^,]*}}, %[[ROWS:[^)]*]]) step (%c1, %c48)
// CHECK:        %[[END:.*]] = arith.minsi %{{.*}}, %[[ROWS]]
// CHECK:        scf.for %[[CH:[^ ]*]] = %c0 to %c8 step %c1
// CHECK:          %[[FIRST:.*]] = arith.cmpi eq, %[[CH]], %c0
// CHECK:          scf.for %[[N0:[^ ]*]] = %[[SLAB]] to %[[END]] step %c6
// CHECK:            scf.if %[[FIRST]]
// CHECK:              scf.for %{{[^ ]*}} = %c0 to %c1024 step %c16
// CHECK-COUNT-6:        memref.prefetch %[[X]]
// CHECK:            %{{.*}}:24 = scf.for %{{[^ ]*}} = %c0 to %c1024 step %c1
// CHECK:              vector.load %[[WT]][%c0, %[[CH]], %{{.*}}, %c0] : memref<1x8x1024x64xf32>, vector<16xf32>
// CHECK-COUNT-24:     vector.fma
// CHECK-COUNT-24:   vector.store %{{.*}}, %[[Y]]
func.func @large_weight(%x: memref<?x?x1024xf32>, %w: memref<512x1024xf32>,
                        %y: memref<?x?x512xf32>) {
  attn.linear ins(%x, %w : memref<?x?x1024xf32>, memref<512x1024xf32>)
      outs(%y : memref<?x?x512xf32>)
  return
}

// Per-head weights from a shared input: W^T has one slice per head, the
// head indexes both it and the output; without a bias the rows start at 0.
// All the heads' weights fit the cache (at most the target's
// projectionCachedWeightBytes), so the heads run inside each block of rows
// (whose rows stay in L1 for every head): the parallel loop is over
// (batch, block of rows) only.
// CHECK-LABEL: func @per_head_projection
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x16xf32>, %[[W:[^:]*]]: memref<4x8x16xf32>, %[[Y:[^:]*]]: memref<?x4x?x8xf32>)
// CHECK:      %[[WT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x1x16x8xf32>
// CHECK:      scf.parallel (%[[H:[^)]*]]) =
// CHECK:        memref.load %[[W]][%[[H]],
// CHECK:      scf.parallel (%{{[^,]*}}, %{{[^)]*}}) =
// CHECK:        scf.for %[[HH:[^ ]*]] = %c0 to %c4 step %c1 {
// CHECK:          scf.for
// CHECK:            vector.load %[[WT]][%[[HH]], %{{.*}}, %{{.*}}, %{{.*}}] : memref<4x1x16x8xf32>, vector<8xf32>
// CHECK:            memref.load %[[X]][%{{.*}}, %{{.*}}, %{{.*}}] : memref<?x?x16xf32>
// CHECK:          vector.store %{{.*}}, %[[Y]][%{{.*}}, %[[HH]], %{{.*}}, %{{.*}}] : memref<?x4x?x8xf32>, vector<8xf32>
func.func @per_head_projection(%x: memref<?x?x16xf32>, %w: memref<4x8x16xf32>,
                               %y: memref<?x4x?x8xf32>) {
  attn.linear ins(%x, %w : memref<?x?x16xf32>, memref<4x8x16xf32>)
      outs(%y : memref<?x4x?x8xf32>)
  return
}

// A one-head input broadcast over the heads of a per-head weight and a
// per-head bias: the input's head index is 0, the bias row is the head's
// (the heads inside each block of rows, as above).
// CHECK-LABEL: func @broadcast_input_heads
// CHECK-SAME: (%[[X:[^:]*]]: memref<2x1x?x3xf32>, %[[W:[^:]*]]: memref<2x6x3xf32>, %[[B:[^:]*]]: memref<2x6xf32>, %[[Y:[^:]*]]: memref<2x2x?x6xf32>)
// CHECK:      %[[WT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x1x3x6xf32>
// CHECK:      memref.store %{{.*}}, %[[WT]]
// CHECK:      scf.parallel (%{{[^,]*}}, %{{[^)]*}}) =
// CHECK:        scf.for %[[H:[^ ]*]] = %c0 to %c2 step %c1 {
// CHECK:          vector.load %[[B]][%[[H]], %{{.*}}] : memref<2x6xf32>, vector<6xf32>
// CHECK:            memref.load %[[X]][%{{.*}}, %c0{{[_0-9]*}}, %{{.*}}, %{{.*}}] : memref<2x1x?x3xf32>
func.func @broadcast_input_heads(%x: memref<2x1x?x3xf32>, %w: memref<2x6x3xf32>,
                                 %b: memref<2x6xf32>, %y: memref<2x2x?x6xf32>) {
  attn.linear ins(%x, %w : memref<2x1x?x3xf32>, memref<2x6x3xf32>)
      bias(%b : memref<2x6xf32>) outs(%y : memref<2x2x?x6xf32>)
  return
}

// Heads stay in the parallel loop when each reads its own input rows
// (a per-head input: Wk K of heads that were projected already) ...
// CHECK-LABEL: func @per_head_input
// CHECK:      scf.parallel (%{{[^,]*}}, %[[H:[^,]*]], %{{[^)]*}}) = (%c0, %c0, %c0) to (%{{[^,]*}}, %c2, %{{[^)]*}})
// CHECK-NOT:    scf.for %{{[^ ]*}} = %c0 to %c2 step %c1 {
// CHECK:        vector.load %{{.*}}[%[[H]], %{{.*}}, %{{.*}}, %{{.*}}] : memref<2x1x3x6xf32>, vector<6xf32>
func.func @per_head_input(%x: memref<2x2x?x3xf32>, %w: memref<2x6x3xf32>,
                          %y: memref<2x2x?x6xf32>) {
  attn.linear ins(%x, %w : memref<2x2x?x3xf32>, memref<2x6x3xf32>)
      outs(%y : memref<2x2x?x6xf32>)
  return
}

// ... and when all the heads' weights exceed projectionCachedWeightBytes
// (here 8 heads x 64 x 1024 floats, 2 MiB; each head's 256 KiB stays in L2
// while its rows stream).
// CHECK-LABEL: func @per_head_large_weights
// CHECK:      scf.parallel (%{{[^,]*}}, %[[H:[^,]*]], %{{[^)]*}}) = (%c0, %c0, %c0) to (%{{[^,]*}}, %c8, %{{[^)]*}})
// CHECK:        vector.load %{{.*}}[%[[H]], %{{.*}}, %{{.*}}, %{{.*}}] : memref<8x1x1024x64xf32>, vector<16xf32>
func.func @per_head_large_weights(%x: memref<?x?x1024xf32>,
                                  %w: memref<8x64x1024xf32>,
                                  %y: memref<?x8x?x64xf32>) {
  attn.linear ins(%x, %w : memref<?x?x1024xf32>, memref<8x64x1024xf32>)
      outs(%y : memref<?x8x?x64xf32>)
  return
}

// Weights of 16384 elements or more, I and O whole vectors: at most 16 rows
// in all (b x n) take the few-rows kernel, which reads W as it is: in
// parallel over (head, block of 16 outputs), each row's 16 dot products
// along the inputs (a load of the row, 16 of W's rows, 16 FMAs per step),
// reduced by a 16 x 16 transpose (64 shuffles) and 15 adds, plus the bias.
// More rows pack W for the blocked kernel.
// CHECK-LABEL: func @few_rows
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x?x128xf32>, %[[W:[^:]*]]: memref<4x64x128xf32>, %[[B:[^:]*]]: memref<4x64xf32>, %[[Y:[^:]*]]: memref<?x4x?x64xf32>)
// CHECK:      %[[ROWS:.*]] = arith.muli
// CHECK:      %[[FEW:.*]] = arith.cmpi ule, %[[ROWS]], %c16
// CHECK:      scf.if %[[FEW]] {
// CHECK:        scf.parallel (%[[H:[^,]*]], %[[OB:[^)]*]]) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1)
// CHECK:          %[[O0:.*]] = arith.muli %[[OB]], %c16
// CHECK:          %[[SUMS:.*]]:16 = scf.for %{{[^ ]*}} = %c0 to %c128 step %c16
// CHECK:            %[[ROW:.*]] = vector.load %[[X]]
// CHECK-COUNT-16:   vector.fma %[[ROW]], %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-COUNT-64: vector.shuffle
// CHECK-COUNT-15: arith.addf
// CHECK:          %[[BIAS:.*]] = vector.load %[[B]][%[[H]], %[[O0]]]
// CHECK:          %[[OUT:.*]] = arith.addf %{{.*}}, %[[BIAS]]
// CHECK:          vector.store %[[OUT]], %[[Y]][%{{.*}}, %[[H]], %{{.*}}, %[[O0]]]
// CHECK:      } else {
// CHECK:        memref.alloc() {alignment = 64 : i64} : memref<4x1x128x64xf32>
func.func @few_rows(%x: memref<?x?x128xf32>, %w: memref<4x64x128xf32>,
                    %b: memref<4x64xf32>, %y: memref<?x4x?x64xf32>) {
  attn.linear ins(%x, %w : memref<?x?x128xf32>, memref<4x64x128xf32>)
      bias(%b : memref<4x64xf32>) outs(%y : memref<?x4x?x64xf32>)
  return
}

// A dynamic output size keeps the op (for convert-attn-to-linalg).
// CHECK-LABEL: func @dynamic_output_size
// CHECK-NEXT:  attn.linear
func.func @dynamic_output_size(%x: memref<?x?x8xf32>, %w: memref<?x8xf32>,
                               %y: memref<?x?x?xf32>) {
  attn.linear ins(%x, %w : memref<?x?x8xf32>, memref<?x8xf32>)
      outs(%y : memref<?x?x?xf32>)
  return
}

// A projection of a tile's rows inside a parallel loop (as
// -attn-fuse-key-projections leaves it), on views of the rows: W is packed
// once, before the parallel loop, and freed after it; the tile's rows are
// computed by sequential loops in the loop's body (no nested scf.parallel,
// no few-rows kernel).
// CHECK-LABEL: func @tile_rows_in_parallel_loop
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x1x?x256xf32>, %[[W:[^:]*]]: memref<128x256xf32>, %[[N:[^:]*]]: index)
// CHECK:      %[[WT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x256x64xf32>
// CHECK:      scf.parallel
// CHECK:        vector.shuffle
// CHECK:      scf.parallel (%[[B:[^)]*]]) =
// CHECK-NEXT:   %[[S:.*]] = memref.alloc() : memref<1x1x128x128xf32>
// CHECK:        %[[OUT:.*]] = memref.subview %[[S]]
// CHECK-NOT:    scf.parallel
// CHECK-NOT:    scf.if
// CHECK:        scf.for
// CHECK:          vector.load %[[WT]]
// CHECK:          vector.fma
// CHECK:        vector.store %{{.*}}, %[[OUT]]
// CHECK:        memref.dealloc %[[S]]
// CHECK-NEXT:   scf.reduce
// CHECK:      memref.dealloc %[[WT]] :
// CHECK-NEXT: return
func.func @tile_rows_in_parallel_loop(%x: memref<?x1x?x256xf32>,
                                      %w: memref<128x256xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %bs = memref.dim %x, %c0 : memref<?x1x?x256xf32>
  scf.parallel (%b) = (%c0) to (%bs) step (%c1) {
    %s = memref.alloc() : memref<1x1x128x128xf32>
    %rows = memref.subview %x[%b, 0, 0, 0] [1, 1, %n, 256] [1, 1, 1, 1]
        : memref<?x1x?x256xf32> to memref<1x1x?x256xf32, strided<[?, ?, 256, 1], offset: ?>>
    %out = memref.subview %s[0, 0, 0, 0] [1, 1, %n, 128] [1, 1, 1, 1]
        : memref<1x1x128x128xf32> to memref<1x1x?x128xf32, strided<[16384, 16384, 128, 1]>>
    attn.linear ins(%rows, %w : memref<1x1x?x256xf32, strided<[?, ?, 256, 1], offset: ?>>, memref<128x256xf32>)
        outs(%out : memref<1x1x?x128xf32, strided<[16384, 16384, 128, 1]>>)
    memref.dealloc %s : memref<1x1x128x128xf32>
    scf.reduce
  }
  return
}

// Weights computed inside the parallel loop cannot be packed before it:
// the op is left (for convert-attn-to-linalg).
// CHECK-LABEL: func @weights_inside_parallel_loop
// CHECK:      scf.parallel
// CHECK:        attn.linear
func.func @weights_inside_parallel_loop(%x: memref<1x1x8x16xf32>,
                                        %y: memref<1x1x8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.parallel (%i) = (%c0) to (%c2) step (%c1) {
    %w = memref.alloc() : memref<16x16xf32>
    attn.linear ins(%x, %w : memref<1x1x8x16xf32>, memref<16x16xf32>)
        outs(%y : memref<1x1x8x16xf32>)
    memref.dealloc %w : memref<16x16xf32>
    scf.reduce
  }
  return
}

// One head of per-head weights defined outside the parallel loop (the view
// -attn-fuse-key-projections takes for a key head): the weights of every
// head are packed before the loop, and the tile's rows read the panels of
// their head.
// CHECK-LABEL: func @weight_head_in_parallel_loop
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x2x?x32xf32>, %[[W:[^:]*]]: memref<2x32x32xf32>, %[[N:[^:]*]]: index)
// CHECK:      %[[WT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x1x32x32xf32>
// CHECK:      scf.parallel (%{{.*}}, %[[H:[^)]*]]) =
// CHECK-NOT:    scf.parallel
// CHECK:        scf.for
// CHECK:          vector.load %[[WT]][%[[H]], %{{.*}}, %{{.*}}, %{{.*}}] : memref<2x1x32x32xf32>, vector<16xf32>
// CHECK:      memref.dealloc %[[WT]] :
// CHECK-NEXT: return
func.func @weight_head_in_parallel_loop(%x: memref<?x2x?x32xf32>,
                                        %w: memref<2x32x32xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %bs = memref.dim %x, %c0 : memref<?x2x?x32xf32>
  scf.parallel (%b, %h) = (%c0, %c0) to (%bs, %c2) step (%c1, %c1) {
    %s = memref.alloc() : memref<1x1x64x32xf32>
    %rows = memref.subview %x[%b, %h, 0, 0] [1, 1, %n, 32] [1, 1, 1, 1]
        : memref<?x2x?x32xf32> to memref<1x1x?x32xf32, strided<[?, ?, 32, 1], offset: ?>>
    %out = memref.subview %s[0, 0, 0, 0] [1, 1, %n, 32] [1, 1, 1, 1]
        : memref<1x1x64x32xf32> to memref<1x1x?x32xf32, strided<[2048, 2048, 32, 1]>>
    %wh = memref.subview %w[%h, 0, 0] [1, 32, 32] [1, 1, 1]
        : memref<2x32x32xf32> to memref<1x32x32xf32, strided<[1024, 32, 1], offset: ?>>
    attn.linear ins(%rows, %wh : memref<1x1x?x32xf32, strided<[?, ?, 32, 1], offset: ?>>, memref<1x32x32xf32, strided<[1024, 32, 1], offset: ?>>)
        outs(%out : memref<1x1x?x32xf32, strided<[2048, 2048, 32, 1]>>)
    memref.dealloc %s : memref<1x1x64x32xf32>
    scf.reduce
  }
  return
}
