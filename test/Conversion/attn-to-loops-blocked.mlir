// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=128 query-tiles-per-group=1 split-keys=false single-query-copy=false" | FileCheck %s
// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 query-tiles-per-group=1 split-keys=false single-query-copy=false" | attn-opt --convert-attn-to-loops | FileCheck %s
// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=20 query-tiles-per-group=1 split-keys=false single-query-copy=false" | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s "--convert-attn-to-loops=vectorize=false" | FileCheck %s --check-prefix=SCALAR
//
// A dot score with a vector state (static D and Dv, no weights output)
// takes the blocked kernel, a pattern on the tiled form of
// -attn-tile-attention: the keys are packed once, before the parallel loop,
// into panels of 16 ([B, Hk, ceil(Nk/16) + 1, D, 16]: one spare panel for
// the steps of 2 panels; the padding keys zeroed); each tile of 8 queries
// scores 32 keys (2 panels) at a time with 16-lane FMAs (no horizontal
// reduction) and the running row maxima, then exponentiates all its rows
// 16 keys at a time (an inline exp: FMAs and a shift, 0 below 2^-99.5),
// keeps its (m, l, acc) in the key loop, and reads each value row once.
// Masks become a lane-wise select to -inf, in a copy of the scoring loop
// that only the tiles some row does not wholly see take.

// CHECK-LABEL: func @blocked
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x?x8xf32>, %[[K:[^:]*]]: memref<2x2x?x8xf32>, %[[V:[^:]*]]: memref<2x2x?x4xf32>, %[[S:[^:]*]]: f32, %[[LEN:[^:]*]]: memref<2xi32>, %[[C:[^:]*]]: memref<2x?x4x4xf32>)
// The keys in panels of 16, the padding keys zeroed: in parallel over
// (batch, head, panel), the panel's 16 key rows loaded as vectors (D = 8:
// padded to 16 lanes; a key past N read as the last and selected to zero),
// transposed by 4 levels of shuffles (the first swaps blocks of 8 lanes),
// and its 8 element rows stored.
// CHECK:      %[[KT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x8x16xf32>
// CHECK:      scf.parallel
// CHECK:        %[[ROW0:.*]] = arith.minsi
// CHECK:        %[[K0:.*]] = vector.load %[[K]][%{{.*}}, %{{.*}}, %[[ROW0]], %{{.*}}] : memref<2x2x?x8xf32>, vector<8xf32>
// CHECK:        %[[P0:.*]] = vector.insert_strided_slice %[[K0]], %{{.*}} {offsets = [0], strides = [1]} : vector<8xf32> into vector<16xf32>
// CHECK-NEXT:   arith.select %{{.*}}, %[[P0]], %{{.*}} : vector<16xf32>
// CHECK:        vector.shuffle %{{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
// CHECK-NEXT:   vector.shuffle %{{.*}} [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]
// CHECK:        vector.store %{{.*}}, %[[KT]][%{{.*}}, %{{.*}}, %{{.*}}, %c0{{.*}}, %c0{{.*}}] : memref<?x?x?x8x16xf32>, vector<16xf32>
// CHECK-NOT:    memref.store
// Tiles of 8 queries of each (batch, head), each with its scratch of scores
// (rows of the 128-key tile and one cache line more: BlockedDot.cpp).
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) = {{.*}} step (%{{.*}}, %{{.*}}, %c8
// CHECK:        %[[SCORES:.*]] = memref.alloc() : memref<8x144xf32>
// CHECK:        memref.load %[[LEN]][%[[B]]]
// CHECK:        scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8x4xf32>)
// Pass 1: 32 keys at a time, the 8 row maxima carried: two panel rows per
// d, two FMAs per query. Two copies: for a tile whose keys every row sees
// (arith.cmpi sle: the tile's end against each row's end), no lane-wise
// masks; for the others (the causal diagonal, the last keys), masks.
// CHECK-COUNT-8:  arith.cmpi sle, %{{.*}}, %{{.*}} : index
// CHECK:          scf.if %{{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:          scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:            scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:              %[[KROW0:.*]] = vector.load %[[KT]][{{.*}}] : memref<?x?x?x8x16xf32>, vector<16xf32>
// CHECK:              %[[KROW1:.*]] = vector.load %[[KT]][{{.*}}] : memref<?x?x?x8x16xf32>, vector<16xf32>
// CHECK:              memref.load %[[Q]]
// CHECK-NEXT:         vector.broadcast
// CHECK-NEXT:         vector.fma %{{.*}}, %[[KROW0]]
// CHECK-NEXT:         vector.fma %{{.*}}, %[[KROW1]]
// CHECK-COUNT-7:      vector.fma %{{.*}}, %[[KROW1]]
// Scaled, stored to the tile of scores, maxima; no masks in this copy.
// CHECK:            arith.mulf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-NOT:        vector<16xindex>
// CHECK:            vector.store %{{.*}}, %[[SCORES]]
// CHECK-NEXT:       arith.maxnumf {{.*}} fastmath<nnan> : vector<16xf32>
// CHECK:          } else {
// The same loop, masked per query.
// CHECK:          scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// CHECK:            arith.mulf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK:            arith.cmpi slt, %{{.*}}, %{{.*}} : vector<16xindex>
// CHECK-NEXT:       arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK:            vector.store %{{.*}}, %[[SCORES]]
// CHECK-NEXT:       arith.maxnumf {{.*}} fastmath<nnan> : vector<16xf32>
// The row maxima: a tree of maxima (no score is NaN).
// CHECK:          vector.reduction <maxnumf>, %{{.*}} fastmath<nnan> : vector<16xf32> into f32
// alpha = exp(m - m') of the 8 rows at once, by the same inline exp.
// CHECK:          arith.shli %{{.*}}, %{{.*}} : vector<8xi32>
// Pass 2: probabilities and sums of all rows, 16 keys at a time.
// CHECK:          scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16{{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-NOT:        math.exp
// Weights under 2^-99.5 are 0 (no subnormal products in pass 3): the
// exponent is raised to -100, whose exponent field n + 100 is 0.
// CHECK:            %[[FLOOR:.*]] = arith.constant -1.000000e+02 : f32
// CHECK-NEXT:       %[[FLOORS:.*]] = vector.broadcast %[[FLOOR]] : f32 to vector<16xf32>
// CHECK-NEXT:       arith.maxnumf %{{.*}}, %[[FLOORS]] fastmath<nnan> : vector<16xf32>
// CHECK:            arith.shli %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK:            vector.store %{{.*}}, %[[SCORES]]
// CHECK:          vector.reduction <add>
// Pass 3: each value row once for the tile: 8 FMAs (Dv = 4 is not whole
// vectors: one chunk). 8 accumulators are fewer than the target's 16 FMA
// chains: keys in pairs, the even ones into 8 sums and the odd ones into 8
// others, added together after the loop; an odd last key after that.
// CHECK:          %[[ODD:.*]] = arith.remui %[[COUNT:.*]], %c2{{.*}} : index
// CHECK-NEXT:     %[[PAIRS:.*]] = arith.subi %[[COUNT]], %[[ODD]] : index
// CHECK-NEXT:     %[[SUMS:.*]]:16 = scf.for %{{.*}} = %c0{{.*}} to %[[PAIRS]] step %c2{{.*}} iter_args({{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// CHECK:            %[[EVEN:.*]] = vector.load %[[V]]
// CHECK-COUNT-8:    vector.fma %{{.*}}, %[[EVEN]]
// CHECK:            %[[NEXT:.*]] = vector.load %[[V]]
// CHECK-COUNT-8:    vector.fma %{{.*}}, %[[NEXT]]
// CHECK:          arith.addf %[[SUMS]]#0, %[[SUMS]]#8
// CHECK-COUNT-7:  arith.addf
// CHECK:          scf.for %{{.*}} = %[[PAIRS]] to %[[COUNT]] step %c1{{.*}} iter_args({{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// CHECK:            %[[VROW:.*]] = vector.load %[[V]]
// CHECK-COUNT-8:    vector.fma %{{.*}}, %[[VROW]]
// The new state goes back into the key loop's vectors.
// CHECK:          vector.insert
// CHECK:          scf.yield
// One context row per query.
// CHECK-COUNT-8: vector.store %{{.*}}, %[[C]]
// CHECK:        memref.dealloc %[[SCORES]]
// CHECK:        scf.reduce
// CHECK:      memref.dealloc %[[KT]]
// CHECK-NEXT: return

// The tile is a whole number of 16-key vectors: 20 is rounded to 32 (the
// scores' rows 16 floats longer).
// TILE: memref.alloc() : memref<8x48xf32>

// vectorize=false tiles with a buffer state, which only the scalar kernel
// takes.
// SCALAR-LABEL: func @blocked
// SCALAR-NOT:   vector.
// SCALAR-LABEL: func @tiled_not_whole_panels
func.func @blocked(%q: memref<2x4x?x8xf32>, %k: memref<2x2x?x8xf32>,
                   %v: memref<2x2x?x4xf32>, %s: f32, %len: memref<2xi32>,
                   %c: memref<2x?x4x4xf32>) {
  attn.online_attention dot causal
      ins(%q, %k, %v : memref<2x4x?x8xf32>, memref<2x2x?x8xf32>, memref<2x2x?x4xf32>)
      scale(%s) lengths(%len : memref<2xi32>) outs(%c : memref<2x?x4x4xf32>)
  return
}

// The kernels are patterns on the tiled form. A key tile that is not whole
// panels of 16 keys (20 here, written by hand: -attn-tile-attention rounds
// it) fails the blocked kernel's applicability check, and the generic
// per-query kernel takes the update: no packed keys, one score per
// vector.reduction.
// CHECK-LABEL: func @tiled_not_whole_panels
// CHECK-NOT:   memref<?x?x?x8x16xf32>
// CHECK:       scf.parallel
// CHECK:         memref.alloc() : memref<20xf32>
// CHECK:         vector.reduction <add>
// CHECK-NOT:     attn.
// CHECK:         scf.reduce
func.func @tiled_not_whole_panels(%q: memref<1x1x?x8xf32>, %k: memref<1x1x?x8xf32>,
                                  %v: memref<1x1x?x4xf32>, %c: memref<1x?x1x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c20 = arith.constant 20 : index
  %nq = memref.dim %q, %c2 : memref<1x1x?x8xf32>
  %nk = memref.dim %k, %c2 : memref<1x1x?x8xf32>
  %m0 = arith.constant dense<0xFF800000> : vector<4xf32>
  %zero = arith.constant dense<0.0> : vector<4xf32>
  %acc0 = arith.constant dense<0.0> : vector<4x4xf32>
  scf.parallel (%b, %h, %i0) = (%c0, %c0, %c0) to (%c1, %c1, %nq) step (%c1, %c1, %c4) {
    %state:3 = scf.for %j0 = %c0 to %nk step %c20
        iter_args(%m = %m0, %l = %zero, %acc = %acc0)
        -> (vector<4xf32>, vector<4xf32>, vector<4x4xf32>) {
      %new:3 = attn.online_softmax_update dot key_tile(20)
          query(%q[%b, %h, %i0] : memref<1x1x?x8xf32>)
          keys(%k[%b, %h, %j0] : memref<1x1x?x8xf32>)
          values(%v[%b, %h] : memref<1x1x?x4xf32>) key_end(%nk)
          state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
          -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
      scf.yield %new#0, %new#1, %new#2 : vector<4xf32>, vector<4xf32>, vector<4x4xf32>
    }
    attn.tile_finalize ins(%state#1, %state#2 : vector<4xf32>, vector<4x4xf32>)
        outs(%c[%b, %i0, %h] : memref<1x?x1x4xf32>)
    scf.reduce
  }
  return
}
