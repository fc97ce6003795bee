// RUN: split-file --leading-lines %s %t
// RUN: attn-opt %t/loops.mlir --convert-attn-to-loops=vectorize=false | FileCheck %t/loops.mlir
// RUN: attn-opt %t/loops.mlir --convert-attn-to-loops=vectorize=false | FileCheck %t/loops.mlir --check-prefix=NOMAT
// RUN: attn-opt %t/loops.mlir "--convert-attn-to-loops=tile-size=16 vectorize=false" | FileCheck %t/loops.mlir --check-prefix=TILE16
// RUN: not attn-opt %t/loops.mlir --convert-attn-to-loops=tile-size=-1 2>&1 | FileCheck %t/loops.mlir --check-prefix=BADTILE
// RUN: not attn-opt %t/loops.mlir --convert-attn-to-loops=tile-size=4097 2>&1 | FileCheck %t/loops.mlir --check-prefix=BADTILE
// RUN: attn-opt %t/loops.mlir "--convert-attn-to-loops=tile-size=4096 vectorize=false" | FileCheck %t/loops.mlir --check-prefix=TILE4096
// RUN: attn-opt %t/undecomposed.mlir --convert-attn-to-loops=vectorize=false -verify-diagnostics
//
// -convert-attn-to-loops: attn.online_attention is tiled (as by
// -attn-tile-attention: an scf.parallel over tiles of 8 queries of each
// (batch, head), an scf.for over the visible key tiles) and its tile-level
// ops lowered by the generic per-query kernel: here with vectorize=false, so
// the state of a query tile is buffers and the loops scalar. attn.softmax
// becomes a three-pass row loop.

//--- loops.mlir

// No attn op survives, and the Nq x Nk scores are never materialized: the
// only buffers are those of a query tile, its state (m and l [4], acc
// [4, Dv]) and the scratch for one key tile's scores (static, [64]).
// NOMAT-NOT: attn.
// NOMAT-NOT: memref.alloc({{[^)]*}},
// NOMAT-NOT: memref.alloca
// NOMAT-NOT: memref.alloc{{.*}} : memref<{{[0-9?]+x[0-9?]+x[0-9?]+x}}
// NOMAT-NOT: memref<?x?xf32>

// BADTILE: error: tile-size must be between 1 and 4096
// TILE4096: memref.alloc() : memref<4096xf32>

//===----------------------------------------------------------------------===//
// dot: scale, causal, lengths and weights, all shapes dynamic
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @dot_masks
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x?x?x?xf32>, %[[K:[^:]*]]: memref<?x?x?x?xf32>, %[[V:[^:]*]]: memref<?x?x?x?xf32>, %[[S:[^:]*]]: f32, %[[LEN:[^:]*]]: memref<?xi32>, %[[C:[^:]*]]: memref<?x?x?x?xf32>, %[[A:[^:]*]]: memref<?x?x?x?xf32>)
// Sizes: B from the context, Hq and Nq from the query, Nk and Hk from the
// keys.
// CHECK:      %[[BATCH:.*]] = memref.dim %[[C]], %{{.*}} : memref<?x?x?x?xf32>
// CHECK:      %[[HQ:.*]] = memref.dim %[[Q]], %{{.*}} : memref<?x?x?x?xf32>
// CHECK:      %[[NQ:.*]] = memref.dim %[[Q]], %{{.*}} : memref<?x?x?x?xf32>
// CHECK:      %[[NK:.*]] = memref.dim %[[K]], %{{.*}} : memref<?x?x?x?xf32>
// CHECK:      %[[HK:.*]] = memref.dim %[[K]], %{{.*}} : memref<?x?x?x?xf32>
// Query head h reads key head h / (Hq / max(Hk, 1)).
// CHECK:      %[[HK1:.*]] = arith.maxsi %[[HK]], %{{.*}} : index
// CHECK-NEXT: %[[GROUP0:.*]] = arith.divui %[[HQ]], %[[HK1]] : index
// CHECK:      %[[GROUP:.*]] = arith.maxsi %[[GROUP0]], %{{.*}} : index
// CHECK:      %[[QT:.*]] = arith.constant 8 : index
// CHECK-NEXT: %[[TILE:.*]] = arith.constant 128 : index
// Tiles of 8 queries of every (batch, head), in parallel.
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) = ({{.*}}) to (%[[BATCH]], %[[HQ]], %[[NQ]]) step ({{.*}}, {{.*}}, %[[QT]]) {
// The scratch of the query tile: one key tile's scores.
// CHECK:        %[[SCORES:.*]] = memref.alloc() : memref<128xf32>
// A batch of 1 is broadcast (dynamic: decided at run time).
// CHECK:        %[[QB1:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : index
// CHECK:        %[[QB:.*]] = arith.select %[[QB1]], %{{.*}}, %[[B]] : index
// CHECK:        %[[KB:.*]] = arith.select %{{.*}}, %{{.*}}, %[[B]] : index
// CHECK:        %[[VB:.*]] = arith.select %{{.*}}, %{{.*}}, %[[B]] : index
// CHECK-NEXT:   %[[KH:.*]] = arith.divui %[[H]], %[[GROUP]] : index
// lengths clamped to [0, Nk].
// CHECK:        %[[LEN32:.*]] = memref.load %[[LEN]][%[[B]]] : memref<?xi32>
// CHECK-NEXT:   %[[LENIDX:.*]] = arith.index_cast %[[LEN32]] : i32 to index
// CHECK:        %[[LEN0:.*]] = arith.maxsi %[[LENIDX]], %{{.*}} : index
// CHECK-NEXT:   %[[VISIBLE:.*]] = arith.minsi %[[LEN0]], %[[NK]] : index
// The key loop ends where the tile's last query (i0 + 3, at most Nq - 1)
// stops seeing keys; causal: max(min(visible, last + 1 - (Nq - Nk)), 0).
// CHECK:        %[[LAST0:.*]] = arith.addi %[[I0]], %{{.*}} : index
// CHECK:        %[[NQ1:.*]] = arith.subi %[[NQ]], %{{.*}} : index
// CHECK-NEXT:   %[[LAST:.*]] = arith.minsi %[[LAST0]], %[[NQ1]] : index
// CHECK:        %[[LAST1:.*]] = arith.addi %[[LAST]], %{{.*}} : index
// CHECK-NEXT:   %[[SHIFT:.*]] = arith.subi %[[NQ]], %[[NK]] : index
// CHECK-NEXT:   %[[CUT:.*]] = arith.subi %[[LAST1]], %[[SHIFT]] : index
// CHECK-NEXT:   %[[END0:.*]] = arith.minsi %[[VISIBLE]], %[[CUT]] : index
// CHECK:        %[[END:.*]] = arith.maxsi %[[END0]], %{{.*}} : index
// The state of the tile in buffers: m = -inf, l = 0, acc = 0.
// CHECK:        %[[DV:.*]] = memref.dim %[[V]], %{{.*}} : memref<?x?x?x?xf32>
// CHECK-NEXT:   %[[MBUF:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT:   %[[LBUF:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT:   %[[ACC:.*]] = memref.alloc(%[[DV]]) : memref<8x?xf32>
// CHECK:        scf.for %[[R:[^ ]*]] =
// CHECK-NEXT:     %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT:     memref.store %[[NEGINF]], %[[MBUF]][%[[R]]] : memref<8xf32>
// CHECK:          memref.store %{{.*}}, %[[LBUF]][%[[R]]] : memref<8xf32>
// CHECK:            memref.store %{{.*}}, %[[ACC]][%[[R]], %{{.*}}] : memref<8x?xf32>
// The loop over the visible key tiles.
// CHECK:        scf.for %[[J0:[^ ]*]] = %{{.*}} to %[[END]] step %[[TILE]] {
// Query 0 of the tile, and the keys [j0, j0 + count) of the tile it sees.
// CHECK:          %[[ROW0:.*]] = arith.addi %[[I0]], %{{.*}} : index
// CHECK-NEXT:     %[[I:.*]] = arith.minsi %[[ROW0]], %{{.*}} : index
// CHECK:          %[[REST:.*]] = arith.subi %{{.*}}, %[[J0]] : index
// CHECK-NEXT:     %[[COUNT0:.*]] = arith.minsi %{{.*}}, %[[REST]] : index
// CHECK-NEXT:     %[[COUNT:.*]] = arith.maxsi %[[COUNT0]], %{{.*}} : index
// Its scores into the scratch, and their maximum.
// CHECK:          %[[TMAX:.*]] = scf.for %[[JJ:[^ ]*]] = %{{.*}} to %[[COUNT]] step %{{.*}} iter_args(%[[MM:[^ ]*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:       %[[J:.*]] = arith.addi %[[J0]], %[[JJ]] : index
// CHECK:            %[[DOT:.*]] = scf.for %[[DD:[^ ]*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[DACC:[^ ]*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:         %[[QD:.*]] = memref.load %[[Q]][%[[QB]], %[[H]], %[[I]], %[[DD]]] : memref<?x?x?x?xf32>
// CHECK-NEXT:         %[[KD:.*]] = memref.load %[[K]][%[[KB]], %[[KH]], %[[J]], %[[DD]]] : memref<?x?x?x?xf32>
// CHECK-NEXT:         %[[QK:.*]] = arith.mulf %[[QD]], %[[KD]]
// CHECK-NEXT:         %[[DACC1:.*]] = arith.addf %[[DACC]], %[[QK]]
// CHECK-NEXT:         scf.yield %[[DACC1]] : f32
// CHECK-NEXT:       }
// CHECK-NEXT:       %[[SCORE:.*]] = arith.mulf %[[DOT]], %[[S]]
// CHECK-NEXT:       memref.store %[[SCORE]], %[[SCORES]][%[[JJ]]] : memref<128xf32>
// CHECK-NEXT:       %[[MM1:.*]] = arith.maxnumf %[[MM]], %[[SCORE]] : f32
// CHECK-NEXT:       scf.yield %[[MM1]] : f32
// CHECK-NEXT:     }
// CHECK:          %[[M:.*]] = memref.load %[[MBUF]][%{{.*}}] : memref<8xf32>
// CHECK-NEXT:     %[[MNEW:.*]] = arith.maximumf %[[M]], %[[TMAX]] : f32
// alpha = exp(m - m'), 0 below 2^-99.5 (no subnormal products), 1 while
// the maximum is still -inf.
// CHECK:          %[[STILLEMPTY:.*]] = arith.cmpf oeq, %[[MNEW]], %{{.*}} : f32
// CHECK:          %[[DM:.*]] = arith.subf %[[M]], %[[MNEW]]
// CHECK-NEXT:     %[[CUT:.*]] = arith.constant -68.9681473 : f32
// CHECK-NEXT:     %[[NEGLIGIBLE:.*]] = arith.cmpf olt, %[[DM]], %[[CUT]] : f32
// CHECK-NEXT:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:     %[[EDM:.*]] = math.exp %[[DM]] : f32
// CHECK-NEXT:     %[[EDM0:.*]] = arith.select %[[NEGLIGIBLE]], %[[ZERO]], %[[EDM]] : f32
// CHECK-NEXT:     %[[ALPHA:.*]] = arith.select %[[STILLEMPTY]], %{{.*}}, %[[EDM0]] : f32
// The accumulator row is rescaled by alpha, then gets p_j v_j.
// CHECK:          scf.for
// CHECK:            memref.load %[[ACC]]
// CHECK-NEXT:       arith.mulf %{{.*}}, %[[ALPHA]]
// CHECK:          %[[PS:.*]] = arith.subf %{{.*}}, %[[MNEW]]
// CHECK:          %[[P:.*]] = math.exp %[[PS]] : f32
// CHECK:          memref.load %[[V]][%[[VB]],
// CHECK:          %[[L:.*]] = memref.load %[[LBUF]]
// CHECK-NEXT:     %[[LA:.*]] = arith.mulf %[[L]], %[[ALPHA]]
// CHECK-NEXT:     %[[LNEW:.*]] = arith.addf %[[LA]], %{{.*}}
// CHECK-NEXT:     memref.store %[[MNEW]], %[[MBUF]]
// CHECK-NEXT:     memref.store %[[LNEW]], %[[LBUF]]
// The seven other queries of the tile.
// CHECK-COUNT-7:  memref.store %{{.*}}, %[[LBUF]]
// CHECK:        }
// c = acc / l, or 0 when no key was visible; context[b, i, h, :].
// CHECK:        %[[LF:.*]] = memref.load %[[LBUF]]
// CHECK:        %[[NONEMPTY:.*]] = arith.cmpf ogt, %[[LF]], %{{.*}} : f32
// CHECK:        %[[INV:.*]] = arith.divf %{{.*}}, %[[LF]] : f32
// CHECK:        %[[INVL:.*]] = arith.select %[[NONEMPTY]], %[[INV]], %{{.*}} : f32
// CHECK:        scf.for %[[CC:[^ ]*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT:     %[[ACCC:.*]] = memref.load %[[ACC]][%{{.*}}, %[[CC]]] : memref<8x?xf32>
// CHECK-NEXT:     %[[CTX:.*]] = arith.mulf %[[ACCC]], %[[INVL]]
// CHECK-NEXT:     memref.store %[[CTX]], %[[C]][%[[B]], %{{.*}}, %[[H]], %[[CC]]] : memref<?x?x?x?xf32>
// CHECK-COUNT-7:  memref.store %{{.*}}, %[[C]]
// weights: a second pass over all Nk keys recomputes the visible scores.
// CHECK:        scf.for %[[JW:[^ ]*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT:     %[[VIS:.*]] = arith.cmpi slt, %[[JW]], %{{.*}} : index
// CHECK-NEXT:     %[[AW:.*]] = scf.if %[[VIS]] -> (f32) {
// CHECK:            memref.load %[[K]][%[[KB]], %[[KH]], %[[JW]], %{{.*}}]
// CHECK:            %[[SW:.*]] = arith.mulf %{{.*}}, %[[S]]
// CHECK-NEXT:       %[[SWM:.*]] = arith.subf %[[SW]], %{{.*}}
// CHECK-NEXT:       %[[WCUT:.*]] = arith.constant -68.9681473 : f32
// CHECK-NEXT:       %[[WNEG:.*]] = arith.cmpf olt, %[[SWM]], %[[WCUT]] : f32
// CHECK-NEXT:       %[[WZ:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:       %[[EW0:.*]] = math.exp %[[SWM]] : f32
// CHECK-NEXT:       %[[EW:.*]] = arith.select %[[WNEG]], %[[WZ]], %[[EW0]] : f32
// CHECK-NEXT:       %[[PW:.*]] = arith.mulf %[[EW]], %{{.*}}
// CHECK-NEXT:       scf.yield %[[PW]] : f32
// CHECK-NEXT:     } else {
// CHECK-NEXT:       %[[WZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:       scf.yield %[[WZERO]] : f32
// CHECK-NEXT:     }
// CHECK-NEXT:     memref.store %[[AW]], %[[A]][%[[B]], %[[H]], %{{.*}}, %[[JW]]] : memref<?x?x?x?xf32>
// The state and the scratch are freed at the end of each query tile.
// CHECK:        memref.dealloc %[[MBUF]] : memref<8xf32>
// CHECK:        memref.dealloc %[[SCORES]] : memref<128xf32>
// CHECK-NEXT:   scf.reduce
// CHECK:      return

// TILE16-LABEL: func @dot_masks
// TILE16:       %[[TILE:.*]] = arith.constant 16 : index
// TILE16:       memref.alloc() : memref<16xf32>
// TILE16-NOT:   memref<64xf32>
// TILE16:       scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[TILE]] {
func.func @dot_masks(%q: memref<?x?x?x?xf32>, %k: memref<?x?x?x?xf32>,
                     %v: memref<?x?x?x?xf32>, %s: f32, %len: memref<?xi32>,
                     %c: memref<?x?x?x?xf32>, %a: memref<?x?x?x?xf32>) {
  attn.online_attention dot causal
      ins(%q, %k, %v : memref<?x?x?x?xf32>, memref<?x?x?x?xf32>, memref<?x?x?x?xf32>)
      scale(%s) lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x?x?xf32>) weights(%a : memref<?x?x?x?xf32>)
  return
}

//===----------------------------------------------------------------------===//
// dot with bias and activation; no masks, no weights
//===----------------------------------------------------------------------===//

// Without masks the key loop runs to Nk; without weights there is no
// second pass.
// CHECK-LABEL: func @dot_bias_act
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x1x3x8xf32>, %[[K:[^:]*]]: memref<2x1x5x8xf32>, %[[V:[^:]*]]: memref<2x1x5x4xf32>, %[[BIAS:[^:]*]]: f32, %[[C:[^:]*]]: memref<2x3x1x4xf32>)
// CHECK:      %[[NK:.*]] = arith.constant 5 : index
// CHECK:      scf.parallel (%[[B:[^,]*]], %{{[^,]*}}, %{{[^)]*}}) =
// CHECK-NOT:    memref.load
// CHECK:        memref.alloc() : memref<3x4xf32>
// CHECK-NOT:    arith.minsi %{{.*}}, %[[NK]]
// CHECK:        scf.for %{{.*}} = %{{.*}} to %[[NK]] step %{{.*}} {
// A static batch > 1 needs no broadcast test.
// CHECK:          scf.for {{.*}} iter_args({{.*}}) -> (f32) {
// CHECK-NEXT:       arith.addi
// CHECK:          %[[DOT:.*]] = scf.for {{.*}} iter_args
// CHECK-NEXT:       memref.load %[[Q]][%[[B]],
// CHECK-NEXT:       memref.load %[[K]][%[[B]],
// act(q.k + bias), sigmoid = 1 / (1 + exp(-x)).
// CHECK:          %[[X:.*]] = arith.addf %[[DOT]], %[[BIAS]]
// CHECK-NEXT:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:     %[[NEG:.*]] = arith.negf %[[X]] : f32
// CHECK-NEXT:     %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT:     %[[DEN:.*]] = arith.addf %[[ONE]], %[[E]]
// CHECK-NEXT:     %[[SIG:.*]] = arith.divf %[[ONE]], %[[DEN]]
// CHECK-NEXT:     memref.store %[[SIG]]
// CHECK:        memref.store %{{.*}}, %[[C]]
// CHECK-NOT:    scf.if
// CHECK:        scf.reduce
// CHECK:      return
func.func @dot_bias_act(%q: memref<2x1x3x8xf32>, %k: memref<2x1x5x8xf32>,
                        %v: memref<2x1x5x4xf32>, %bias: f32,
                        %c: memref<2x3x1x4xf32>) {
  attn.online_attention dot act(sigmoid)
      ins(%q, %k, %v : memref<2x1x3x8xf32>, memref<2x1x5x8xf32>, memref<2x1x5x4xf32>)
      bias(%bias) outs(%c : memref<2x3x1x4xf32>)
  return
}

//===----------------------------------------------------------------------===//
// additive: sum_d w_d act(q_d + k_d)
//===----------------------------------------------------------------------===//

// Per-head w [Hq, D] (row h), query batch of 1 broadcast (index 0), two
// query heads per key head.
// CHECK-LABEL: func @additive_per_head_w
// CHECK-SAME: (%[[Q:[^:]*]]: memref<1x4x3x16xf32>, %[[K:[^:]*]]: memref<2x2x5x16xf32>, %[[V:[^:]*]]: memref<2x2x5x8xf32>, %[[W:[^:]*]]: memref<4x16xf32>, %[[C:[^:]*]]: memref<2x3x4x8xf32>)
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %{{[^)]*}}) =
// CHECK:        %[[KH:.*]] = arith.divui %[[H]], %{{.*}} : index
// CHECK:        scf.for
// CHECK:          %[[I:.*]] = arith.minsi
// CHECK:            %[[J:.*]] = arith.addi
// CHECK:            %[[SCORE:.*]] = scf.for %[[DD:[^ ]*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[SACC:[^ ]*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:         %[[QD:.*]] = memref.load %[[Q]][%[[QB:c0[_0-9]*]], %[[H]], %[[I]], %[[DD]]] : memref<1x4x3x16xf32>
// CHECK-NEXT:         %[[KD:.*]] = memref.load %[[K]][%[[B]], %[[KH]], %[[J]], %[[DD]]] : memref<2x2x5x16xf32>
// CHECK-NEXT:         %[[SUM:.*]] = arith.addf %[[QD]], %[[KD]]
// CHECK-NEXT:         %[[T:.*]] = math.tanh %[[SUM]] : f32
// CHECK-NEXT:         %[[WD:.*]] = memref.load %[[W]][%[[H]], %[[DD]]] : memref<4x16xf32>
// CHECK-NEXT:         %[[WT:.*]] = arith.mulf %[[WD]], %[[T]]
// CHECK-NEXT:         %[[SACC1:.*]] = arith.addf %[[SACC]], %[[WT]]
// CHECK-NEXT:         scf.yield %[[SACC1]] : f32
// CHECK-NEXT:       }
// CHECK-NEXT:       memref.store %[[SCORE]], %{{.*}} : memref<128xf32>
// CHECK:        memref.store %{{.*}}, %[[C]][%[[B]], %{{.*}}, %[[H]], %{{.*}}] : memref<2x3x4x8xf32>
func.func @additive_per_head_w(%q: memref<1x4x3x16xf32>, %k: memref<2x2x5x16xf32>,
                               %v: memref<2x2x5x8xf32>, %w: memref<4x16xf32>,
                               %c: memref<2x3x4x8xf32>) {
  attn.online_attention additive act(tanh)
      ins(%q, %k, %v : memref<1x4x3x16xf32>, memref<2x2x5x16xf32>, memref<2x2x5x8xf32>)
      score_weights(%w : memref<4x16xf32>) outs(%c : memref<2x3x4x8xf32>)
  return
}

// Shared w [D], relu.
// CHECK-LABEL: func @additive_shared_w
// CHECK-SAME: %[[W:[^:]*]]: memref<8xf32>
// CHECK:      scf.for {{.*}} iter_args({{.*}}) -> (f32) {
// CHECK-NEXT:   arith.addi
// CHECK:      scf.for %[[DD:[^ ]*]] = %{{.*}} iter_args
// CHECK-NEXT:   memref.load
// CHECK-NEXT:   memref.load
// CHECK-NEXT:   %[[SUM:.*]] = arith.addf
// CHECK-NEXT:   %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:   %[[R:.*]] = arith.maximumf %[[SUM]], %[[Z]] : f32
// CHECK-NEXT:   %[[WD:.*]] = memref.load %[[W]][%[[DD]]] : memref<8xf32>
// CHECK-NEXT:   arith.mulf %[[WD]], %[[R]]
func.func @additive_shared_w(%q: memref<?x1x?x8xf32>, %k: memref<?x1x?x8xf32>,
                             %v: memref<?x1x?x8xf32>, %w: memref<8xf32>,
                             %c: memref<?x?x1x8xf32>) {
  attn.online_attention additive act(relu)
      ins(%q, %k, %v : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      score_weights(%w : memref<8xf32>) outs(%c : memref<?x?x1x8xf32>)
  return
}

//===----------------------------------------------------------------------===//
// cosine: q.k / (|q| |k|), 0 when a norm is 0
//===----------------------------------------------------------------------===//

// |q| once per query and key tile, before its scores; |k| and q.k per key.
// CHECK-LABEL: func @cosine
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x?x8xf32>, %[[K:[^:]*]]: memref<?x1x?x8xf32>
// CHECK:      scf.parallel
// CHECK:        scf.for
// CHECK:          %[[I:.*]] = arith.minsi
// CHECK:          %[[QQ:.*]] = scf.for %[[DD:[^ ]*]] = %{{.*}} iter_args(%[[QACC:[^ ]*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:       %[[QD:.*]] = memref.load %[[Q]][%{{.*}}, %{{.*}}, %[[I]], %[[DD]]]
// CHECK-NEXT:       %[[QD2:.*]] = arith.mulf %[[QD]], %[[QD]]
// CHECK-NEXT:       %[[QACC1:.*]] = arith.addf %[[QACC]], %[[QD2]]
// CHECK-NEXT:       scf.yield %[[QACC1]]
// CHECK-NEXT:     }
// CHECK-NEXT:     %[[QN:.*]] = math.sqrt %[[QQ]] : f32
// CHECK:          scf.for {{.*}} iter_args({{.*}}) -> (f32) {
// CHECK:            %[[SUMS:.*]]:2 = scf.for {{.*}} -> (f32, f32) {
// CHECK:            %[[KN:.*]] = math.sqrt %[[SUMS]]#1 : f32
// CHECK-NEXT:       %[[DEN:.*]] = arith.mulf %[[QN]], %[[KN]]
// CHECK:            %[[POS:.*]] = arith.cmpf ogt, %[[DEN]], %{{.*}} : f32
// CHECK:            %[[SAFE:.*]] = arith.select %[[POS]], %[[DEN]], %{{.*}} : f32
// CHECK-NEXT:       %[[COS:.*]] = arith.divf %[[SUMS]]#0, %[[SAFE]]
// CHECK:            %[[SCORE:.*]] = arith.select %[[POS]], %[[COS]], %{{.*}} : f32
// CHECK-NEXT:       memref.store %[[SCORE]]
func.func @cosine(%q: memref<?x1x?x8xf32>, %k: memref<?x1x?x8xf32>,
                  %v: memref<?x1x?x8xf32>, %c: memref<?x?x1x8xf32>) {
  attn.online_attention cosine
      ins(%q, %k, %v : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      outs(%c : memref<?x?x1x8xf32>)
  return
}

//===----------------------------------------------------------------------===//
// neg_sq_euclidean: -|q - k|^2, fused into the key loop like cosine
//===----------------------------------------------------------------------===//

// One reduction per key over the differences (no |q|^2 - 2 q.k + |k|^2:
// no cancellation when q is near k), negated; no n_q x n_k buffer.
// CHECK-LABEL: func @neg_sq_euclidean
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x?x8xf32>, %[[K:[^:]*]]: memref<?x1x?x8xf32>
// CHECK:      scf.parallel
// CHECK:        scf.for
// CHECK:          scf.for {{.*}} iter_args({{.*}}) -> (f32) {
// CHECK:            %[[SUM:.*]] = scf.for %[[DD:[^ ]*]] = %{{.*}} iter_args(%[[ACC:[^ ]*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:         %[[QD:.*]] = memref.load %[[Q]][%{{.*}}, %{{.*}}, %{{.*}}, %[[DD]]]
// CHECK-NEXT:         %[[KD:.*]] = memref.load %[[K]][%{{.*}}, %{{.*}}, %{{.*}}, %[[DD]]]
// CHECK-NEXT:         %[[DIFF:.*]] = arith.subf %[[QD]], %[[KD]] : f32
// CHECK-NEXT:         %[[SQ:.*]] = arith.mulf %[[DIFF]], %[[DIFF]] {{.*}}: f32
// CHECK-NEXT:         %[[ACC1:.*]] = arith.addf %[[ACC]], %[[SQ]] {{.*}}: f32
// CHECK-NEXT:         scf.yield %[[ACC1]]
// CHECK-NEXT:       }
// CHECK-NEXT:       %[[SCORE:.*]] = arith.negf %[[SUM]] : f32
// CHECK:            memref.store %[[SCORE]]
func.func @neg_sq_euclidean(%q: memref<?x1x?x8xf32>, %k: memref<?x1x?x8xf32>,
                            %v: memref<?x1x?x8xf32>, %c: memref<?x?x1x8xf32>) {
  attn.online_attention neg_sq_euclidean causal
      ins(%q, %k, %v : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      outs(%c : memref<?x?x1x8xf32>)
  return
}

//===----------------------------------------------------------------------===//
// attn.softmax: max, sum of exponentials, normalization per row
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func @softmax
// CHECK-SAME: (%[[X:[^:]*]]: memref<?x10xf32>, %[[Y:[^:]*]]: memref<?x10xf32>)
// CHECK:      %[[ROWS:.*]] = memref.dim %[[X]], %{{.*}} : memref<?x10xf32>
// CHECK:      scf.for %[[R:[^ ]*]] = %{{.*}} to %[[ROWS]] step
// CHECK:        %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:        %[[MAX:.*]] = scf.for %[[J:[^ ]*]] = %{{.*}} to %[[COLS:[^ ]*]] step %{{.*}} iter_args(%[[M:[^ ]*]] = %[[NEGINF]]) -> (f32) {
// CHECK-NEXT:     %[[XJ:.*]] = memref.load %[[X]][%[[R]], %[[J]]] : memref<?x10xf32>
// CHECK-NEXT:     %[[M1:.*]] = arith.maximumf %[[M]], %[[XJ]] : f32
// CHECK-NEXT:     scf.yield %[[M1]] : f32
// CHECK-NEXT:   }
// CHECK:        %[[SUM:.*]] = scf.for %[[J2:[^ ]*]] = %{{.*}} to %[[COLS]] step %{{.*}} iter_args(%[[S:[^ ]*]] = %{{.*}}) -> (f32) {
// CHECK-NEXT:     %[[XJ2:.*]] = memref.load %[[X]][%[[R]], %[[J2]]] : memref<?x10xf32>
// CHECK-NEXT:     %[[D:.*]] = arith.subf %[[XJ2]], %[[MAX]]
// CHECK-NEXT:     %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT:     memref.store %[[E]], %[[Y]][%[[R]], %[[J2]]] : memref<?x10xf32>
// CHECK-NEXT:     %[[S1:.*]] = arith.addf %[[S]], %[[E]]
// CHECK-NEXT:     scf.yield %[[S1]] : f32
// CHECK-NEXT:   }
// CHECK:        %[[INV:.*]] = arith.divf %{{.*}}, %[[SUM]] : f32
// CHECK:        scf.for %[[J3:[^ ]*]] = %{{.*}} to %[[COLS]] step
// CHECK-NEXT:     %[[YJ:.*]] = memref.load %[[Y]][%[[R]], %[[J3]]] : memref<?x10xf32>
// CHECK-NEXT:     %[[P:.*]] = arith.mulf %[[YJ]], %[[INV]]
// CHECK-NEXT:     memref.store %[[P]], %[[Y]][%[[R]], %[[J3]]] : memref<?x10xf32>
// CHECK:      return
func.func @softmax(%x: memref<?x10xf32>, %y: memref<?x10xf32>) {
  attn.softmax ins(%x : memref<?x10xf32>) outs(%y : memref<?x10xf32>)
  return
}

// Rank 1: a single row, no outer loop; rank 4: three outer loops.
// CHECK-LABEL: func @softmax_ranks
// CHECK-NEXT:   %{{.*}} = arith.constant
// CHECK:        scf.for {{.*}} iter_args
// CHECK:        scf.for {{.*}} iter_args
// CHECK:        scf.for
// CHECK:        scf.for %[[I0:[^ ]*]] =
// CHECK:          scf.for %[[I1:[^ ]*]] =
// CHECK:            scf.for %[[I2:[^ ]*]] =
// CHECK:              scf.for %[[J:[^ ]*]] = {{.*}} iter_args
// CHECK-NEXT:           memref.load %{{.*}}[%[[I0]], %[[I1]], %[[I2]], %[[J]]] : memref<2x3x4x5xf32>
func.func @softmax_ranks(%x: memref<7xf32>, %t: memref<2x3x4x5xf32>) {
  attn.softmax ins(%x : memref<7xf32>) outs(%x : memref<7xf32>)
  attn.softmax ins(%t : memref<2x3x4x5xf32>) outs(%t : memref<2x3x4x5xf32>)
  return
}

//--- undecomposed.mlir

func.func @undecomposed(%q: memref<?x1x?x8xf32>, %k: memref<?x1x?x8xf32>,
                        %v: memref<?x1x?x8xf32>, %c: memref<?x?x1x8xf32>) {
  // expected-error @+1 {{attn.attention must be decomposed by -attn-decompose-scores before -convert-attn-to-loops}}
  attn.attention dot align(softmax)
      ins(%q, %k, %v : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      outs(%c : memref<?x?x1x8xf32>)
  return
}
