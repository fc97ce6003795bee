// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 query-tiles-per-group=1 split-keys=false" | FileCheck %s
// RUN: attn-opt %s "--attn-tile-attention=tile-size=20 query-tiles-per-group=1 split-keys=false" | FileCheck %s --check-prefix=TILE20
// RUN: attn-opt %s "--attn-tile-attention=vectorize=false" | FileCheck %s --check-prefix=BUFFERS
// RUN: not attn-opt %s "--attn-tile-attention=tile-size=4097" 2>&1 | FileCheck %s --check-prefix=BADTILE
//
// -attn-tile-attention: attn.online_attention becomes its tiled form, an
// scf.parallel over (batch, head, tile of 8 queries) around an scf.for over
// the visible key tiles (128 keys here, asked for) whose body is
// attn.online_softmax_update; attn.tile_finalize writes the context and
// attn.tile_weights the optional weights. The masks are loop bounds.

// With static D and Dv the state of a query tile is three vectors carried
// by the key loop. The key loop of a query tile ends where the tile's last
// query stops seeing keys: lengths[b] clamped to [0, Nk], cut by the causal
// diagonal (key j is visible to query i iff j <= i + Nk - Nq). Key tiles past
// that end are masked for every query of the tile and never visited; the
// diagonal inside the last tiles is left to the update op (`causal`,
// `key_end`).
// CHECK-LABEL: func @causal_lengths
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x?x8xf32>, %[[K:[^:]*]]: memref<2x2x?x8xf32>, %[[V:[^:]*]]: memref<2x2x?x4xf32>, %[[S:[^:]*]]: f32, %[[LEN:[^:]*]]: memref<2xi32>, %[[C:[^:]*]]: memref<2x?x4x4xf32>)
// The state starts as m = -inf, l = 0, acc = 0 (values); query tiles of 8,
// key tiles of 64.
// CHECK-DAG:  %[[M0:.*]] = arith.constant dense<0xFF800000> : vector<8xf32>
// CHECK-DAG:  %[[L0:.*]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// CHECK-DAG:  %[[ACC0:.*]] = arith.constant dense<0.000000e+00> : vector<8x4xf32>
// CHECK-DAG:  %[[QT:.*]] = arith.constant 8 : index
// CHECK-DAG:  %[[KT:.*]] = arith.constant 128 : index
// CHECK:      %[[NQ:.*]] = memref.dim %[[Q]], %{{.*}} : memref<2x4x?x8xf32>
// CHECK:      %[[NK:.*]] = memref.dim %[[K]], %{{.*}} : memref<2x2x?x8xf32>
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) = (%{{.*}}, %{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}}, %[[NQ]]) step (%{{.*}}, %{{.*}}, %[[QT]]) {
// Two query heads per key (and value) head.
// CHECK:        %[[HK:.*]] = arith.divui %[[H]], %{{.*}} : index
// CHECK-NEXT:   %[[HV:.*]] = arith.divui %[[H]], %{{.*}} : index
// lengths: the keys [0, visible) of batch entry b.
// CHECK-NEXT:   %[[LEN32:.*]] = memref.load %[[LEN]][%[[B]]] : memref<2xi32>
// CHECK-NEXT:   %[[LENIDX:.*]] = arith.index_cast %[[LEN32]] : i32 to index
// CHECK:        %[[LEN0:.*]] = arith.maxsi %[[LENIDX]], %{{.*}} : index
// CHECK-NEXT:   %[[VISIBLE:.*]] = arith.minsi %[[LEN0]], %[[NK]] : index
// causal: the tile's last query is min(i0 + 3, Nq - 1); it sees the keys
// [0, last + 1 - (Nq - Nk)).
// CHECK:        %[[LAST0:.*]] = arith.addi %[[I0]], %{{.*}} : index
// CHECK-NEXT:   %[[NQ1:.*]] = arith.subi %[[NQ]], %{{.*}} : index
// CHECK-NEXT:   %[[LAST:.*]] = arith.minsi %[[LAST0]], %[[NQ1]] : index
// CHECK:        %[[LAST1:.*]] = arith.addi %[[LAST]], %{{.*}} : index
// CHECK-NEXT:   %[[SHIFT:.*]] = arith.subi %[[NQ]], %[[NK]] : index
// CHECK-NEXT:   %[[CUT:.*]] = arith.subi %[[LAST1]], %[[SHIFT]] : index
// CHECK-NEXT:   %[[END0:.*]] = arith.minsi %[[VISIBLE]], %[[CUT]] : index
// CHECK:        %[[END:.*]] = arith.maxsi %[[END0]], %{{.*}} : index
// Only the key tiles below the end are visited.
// CHECK-NEXT:   %[[STATE:.*]]:3 = scf.for %[[J0:.*]] = %{{.*}} to %[[END]] step %[[KT]] iter_args(%[[M:.*]] = %[[M0]], %[[L:.*]] = %[[L0]], %[[ACC:.*]] = %[[ACC0]]) -> (vector<8xf32>, vector<8xf32>, vector<8x4xf32>) {
// CHECK-NEXT:     %[[NEW:.*]]:3 = attn.online_softmax_update dot causal key_tile(128)
// CHECK-SAME:         query(%[[Q]][%[[B]], %[[H]], %[[I0]]] : memref<2x4x?x8xf32>)
// CHECK-SAME:         keys(%[[K]][%[[B]], %[[HK]], %[[J0]]] : memref<2x2x?x8xf32>)
// CHECK-SAME:         values(%[[V]][%[[B]], %[[HV]]] : memref<2x2x?x4xf32>)
// CHECK-SAME:         scale(%[[S]]) key_end(%[[VISIBLE]])
// CHECK-SAME:         state(%[[M]], %[[L]], %[[ACC]] : vector<8xf32>, vector<8xf32>, vector<8x4xf32>) -> vector<8xf32>, vector<8xf32>, vector<8x4xf32>
// CHECK-NEXT:     scf.yield %[[NEW]]#0, %[[NEW]]#1, %[[NEW]]#2 : vector<8xf32>, vector<8xf32>, vector<8x4xf32>
// CHECK-NEXT:   }
// CHECK-NEXT:   attn.tile_finalize ins(%[[STATE]]#1, %[[STATE]]#2 : vector<8xf32>, vector<8x4xf32>) outs(%[[C]][%[[B]], %[[I0]], %[[H]]] : memref<2x?x4x4xf32>)
// CHECK-NEXT:   scf.reduce
// CHECK:      return

// With a vector state the key tile is whole vector registers of keys: 20
// becomes 32.
// TILE20-LABEL: func @causal_lengths
// TILE20:       %[[KT:.*]] = arith.constant 32 : index
// TILE20:       scf.for {{.*}} step %[[KT]] iter_args
// TILE20:       attn.online_softmax_update dot causal key_tile(32)

// BADTILE: error: tile-size must be between 1 and 4096 (0: the target's)

// BUFFERS-LABEL: func @causal_lengths
// BUFFERS:       memref.alloc() : memref<8x4xf32>
// BUFFERS:       attn.online_softmax_update dot causal key_tile(128)
// BUFFERS-SAME:    state(%{{.*}}, %{{.*}}, %{{.*}} : memref<8xf32>, memref<8xf32>, memref<8x4xf32>){{$}}
func.func @causal_lengths(%q: memref<2x4x?x8xf32>, %k: memref<2x2x?x8xf32>,
                          %v: memref<2x2x?x4xf32>, %s: f32, %len: memref<2xi32>,
                          %c: memref<2x?x4x4xf32>) {
  attn.online_attention dot causal
      ins(%q, %k, %v : memref<2x4x?x8xf32>, memref<2x2x?x8xf32>, memref<2x2x?x4xf32>)
      scale(%s) lengths(%len : memref<2xi32>) outs(%c : memref<2x?x4x4xf32>)
  return
}

// A dynamic Dv: the state is buffers of the query tile (allocated,
// initialized and freed in the parallel loop), updated in place. Without
// masks the key loop runs over all Nk keys. The weights are a second pass,
// attn.tile_weights, from the final (m, l). A batch of 1 is broadcast
// (decided at run time for dynamic sizes).
// CHECK-LABEL: func @buffers_and_weights
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x?x8xf32>, %[[K:[^:]*]]: memref<?x1x?x8xf32>, %[[V:[^:]*]]: memref<?x1x?x?xf32>, %[[W:[^:]*]]: memref<8xf32>, %[[C:[^:]*]]: memref<?x?x1x?xf32>, %[[A:[^:]*]]: memref<?x1x?x?xf32>)
// CHECK:      %[[NK:.*]] = memref.dim %[[K]], %{{.*}} : memref<?x1x?x8xf32>
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) =
// CHECK:        %[[QB:.*]] = arith.select %{{.*}}, %{{.*}}, %[[B]] : index
// CHECK:        %[[KB:.*]] = arith.select %{{.*}}, %{{.*}}, %[[B]] : index
// CHECK:        %[[VB:.*]] = arith.select %{{.*}}, %{{.*}}, %[[B]] : index
// CHECK-NOT:    memref.load
// CHECK:        %[[DV:.*]] = memref.dim %[[V]], %{{.*}} : memref<?x1x?x?xf32>
// CHECK-NEXT:   %[[MBUF:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT:   %[[LBUF:.*]] = memref.alloc() : memref<8xf32>
// CHECK-NEXT:   %[[ACC:.*]] = memref.alloc(%[[DV]]) : memref<8x?xf32>
// CHECK:        scf.for
// CHECK:          memref.store %{{.*}}, %[[MBUF]]
// CHECK:          memref.store %{{.*}}, %[[LBUF]]
// CHECK:            memref.store %{{.*}}, %[[ACC]]
// CHECK:        scf.for %[[J0:.*]] = %{{.*}} to %[[NK]] step %{{.*}} {
// CHECK-NEXT:     attn.online_softmax_update additive act(tanh) key_tile(128)
// CHECK-SAME:         query(%[[Q]][%[[QB]], %[[H]], %[[I0]]] : memref<?x1x?x8xf32>)
// CHECK-SAME:         keys(%[[K]][%[[KB]], %{{.*}}, %[[J0]]] : memref<?x1x?x8xf32>)
// CHECK-SAME:         values(%[[V]][%[[VB]], %{{.*}}] : memref<?x1x?x?xf32>)
// CHECK-SAME:         score_weights(%[[W]] : memref<8xf32>) key_end(%[[NK]])
// CHECK-SAME:         state(%[[MBUF]], %[[LBUF]], %[[ACC]] : memref<8xf32>, memref<8xf32>, memref<8x?xf32>){{$}}
// CHECK-NEXT:   }
// CHECK-NEXT:   attn.tile_finalize ins(%[[LBUF]], %[[ACC]] : memref<8xf32>, memref<8x?xf32>) outs(%[[C]][%[[B]], %[[I0]], %[[H]]] : memref<?x?x1x?xf32>)
// CHECK-NEXT:   attn.tile_weights additive act(tanh)
// CHECK-SAME:       query(%[[Q]][%[[QB]], %[[H]], %[[I0]]] : memref<?x1x?x8xf32>)
// CHECK-SAME:       keys(%[[K]][%[[KB]], %{{.*}}] : memref<?x1x?x8xf32>)
// CHECK-SAME:       state(%[[MBUF]], %[[LBUF]] : memref<8xf32>, memref<8xf32>)
// CHECK-SAME:       outs(%[[A]][%[[B]]] : memref<?x1x?x?xf32>)
// CHECK-NEXT:   memref.dealloc %[[MBUF]] : memref<8xf32>
// CHECK-NEXT:   memref.dealloc %[[LBUF]] : memref<8xf32>
// CHECK-NEXT:   memref.dealloc %[[ACC]] : memref<8x?xf32>
// CHECK-NEXT:   scf.reduce

// Without vectors the key tile is not rounded.
// TILE20-LABEL: func @buffers_and_weights
// TILE20:       attn.online_softmax_update additive act(tanh) key_tile(20)
func.func @buffers_and_weights(%q: memref<?x1x?x8xf32>, %k: memref<?x1x?x8xf32>,
                               %v: memref<?x1x?x?xf32>, %w: memref<8xf32>,
                               %c: memref<?x?x1x?xf32>, %a: memref<?x1x?x?xf32>) {
  attn.online_attention additive act(tanh)
      ins(%q, %k, %v : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x?xf32>)
      score_weights(%w : memref<8xf32>) outs(%c : memref<?x?x1x?xf32>)
      weights(%a : memref<?x1x?x?xf32>)
  return
}

// A dot score (vector state, softmax, no modifier) with a weights output:
// the update writes the scores it computes into the weights (scores_out,
// with the batch entry as sample_batch), and attn.tile_weights is marked
// scores_stored, so that a kernel may normalize them in place rather than
// compute every score again. An additive score (above) does not.
// CHECK-LABEL: func @dot_weights_stored
// CHECK-SAME: %[[A:[^:]*]]: memref<?x1x?x?xf32>)
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) =
// CHECK:        attn.online_softmax_update dot key_tile(128)
// CHECK-SAME:       sample_batch(%[[B]]) scores_out(%[[A]] : memref<?x1x?x?xf32>)
// CHECK:        attn.tile_weights dot scores_stored
// CHECK-SAME:       outs(%[[A]][%[[B]]] : memref<?x1x?x?xf32>)
// BUFFERS-LABEL: func @dot_weights_stored
// BUFFERS-NOT:   scores_out
// BUFFERS-NOT:   scores_stored
// BUFFERS:       return
func.func @dot_weights_stored(%q: memref<?x1x?x8xf32>, %k: memref<?x1x?x8xf32>,
                              %v: memref<?x1x?x4xf32>, %c: memref<?x?x1x4xf32>,
                              %a: memref<?x1x?x?xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x4xf32>)
      outs(%c : memref<?x?x1x4xf32>) weights(%a : memref<?x1x?x?xf32>)
  return
}
