// RUN: attn-opt %s "--attn-tile-attention=split-keys=false query-tiles-per-group=4" | FileCheck %s
// RUN: attn-opt %s "--attn-tile-attention=query-tiles-per-group=1 split-keys=false" | FileCheck %s --check-prefix=ONE
// RUN: attn-opt %s "--convert-attn-to-loops=query-tiles-per-group=3 split-keys=false" | FileCheck %s --check-prefix=LOOPS
// RUN: not attn-opt %s "--attn-tile-attention=query-tiles-per-group=65" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not attn-opt %s "--convert-attn-to-loops=query-tiles-per-group=-1" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: attn-opt %s "--attn-tile-attention=split-keys=false" | FileCheck %s --check-prefix=DEFAULT
//
// Query groups (-attn-tile-attention, 4 query tiles per group here; the
// host's default is 16, 128 queries a step, see DEFAULT below):
// with a dot or cosine softmax and a vector state, an iteration of the
// parallel loop is a group of 4 tiles of 8 queries (step 32), whose state
// lives in per-group buffers ([4, 8] maxima and sums, [4, 8, Dv]
// accumulators). The key loop runs once for the group, and each key tile
// updates the group's tiles in turn: tile g (first query i0 + 8 g) when it
// exists (i0 + 8 g < Nq) and, under a mask that moves with the query, when
// the key tile is within its own key loop. The packed keys and values of a
// key tile are then read from memory once per group, not once per tile.
// Each tile that exists is finalized from its buffers after the loop.

// BAD: query-tiles-per-group must be between 1 and 64 (0: the target's)

// CHECK-LABEL: func @plain
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x?x64xf32>
// CHECK-DAG:  %[[NEGINF:.*]] = arith.constant dense<0xFF800000> : vector<8xf32>
// CHECK-DAG:  %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// CHECK-DAG:  %[[ZEROROW:.*]] = arith.constant dense<0.000000e+00> : vector<64xf32>
// CHECK:      %[[NQ:.*]] = memref.dim %[[Q]], %c2
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) = {{.*}} to ({{.*}}, {{.*}}, %[[NQ]]) step (%c1, %c1, %c32) {
// CHECK:        %[[M:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK:        %[[L:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK:        %[[ACC:.*]] = memref.alloc() : memref<4x8x64xf32>
// CHECK:        scf.for %[[G0:.*]] = %c0 to %c4 step %c1 {
// CHECK-NEXT:     vector.store %[[NEGINF]], %[[M]][%[[G0]], %c0]
// CHECK-NEXT:     vector.store %[[ZERO]], %[[L]][%[[G0]], %c0]
// CHECK-NEXT:     vector.store %[[ZEROROW]], %[[ACC]][%[[G0]], %c0, %c0]
// Without a mask every tile sees every key tile: only "it exists".
// CHECK:        scf.for %[[J0:.*]] = %c0 to %{{.*}} step %c128 {
// CHECK-NEXT:     scf.for %[[G:.*]] = %c0 to %c4 step %c1 {
// CHECK-NEXT:       %[[OFF:.*]] = arith.muli %[[G]], %c8
// CHECK-NEXT:       %[[FIRST:.*]] = arith.addi %[[I0]], %[[OFF]]
// CHECK-NEXT:       %[[EXISTS:.*]] = arith.cmpi ult, %[[FIRST]], %[[NQ]]
// CHECK-NEXT:       scf.if %[[EXISTS]] {
// CHECK:              %[[ACC7:.*]] = vector.load %[[ACC]][%[[G]], %c7, %c0] : memref<4x8x64xf32>, vector<64xf32>
// CHECK:              %[[MG:.*]] = vector.load %[[M]][%[[G]], %c0] : memref<4x8xf32>, vector<8xf32>
// CHECK:              %[[LG:.*]] = vector.load %[[L]][%[[G]], %c0] : memref<4x8xf32>, vector<8xf32>
// CHECK:              %[[NEW:.*]]:3 = attn.online_softmax_update dot key_tile(128)
// CHECK-SAME:             query(%[[Q]][%{{.*}}, %[[H]], %[[FIRST]]] : memref<?x1x?x64xf32>)
// CHECK-SAME:             keys(%{{.*}}[%{{.*}}, %{{.*}}, %[[J0]]] : memref<?x1x?x64xf32>)
// CHECK-SAME:             state(%[[MG]], %[[LG]], %{{.*}} : vector<8xf32>, vector<8xf32>, vector<8x64xf32>)
// CHECK-NEXT:         vector.store %[[NEW]]#0, %[[M]][%[[G]], %c0]
// CHECK-NEXT:         vector.store %[[NEW]]#1, %[[L]][%[[G]], %c0]
// CHECK:              vector.store %{{.*}}, %[[ACC]][%[[G]], %c7, %c0]
// CHECK-NEXT:       }
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT:   scf.for %[[GF:.*]] = %c0 to %c4 step %c1 {
// CHECK-NEXT:     %[[OFFF:.*]] = arith.muli %[[GF]], %c8
// CHECK-NEXT:     %[[FIRSTF:.*]] = arith.addi %[[I0]], %[[OFFF]]
// CHECK-NEXT:     %[[EXISTSF:.*]] = arith.cmpi ult, %[[FIRSTF]], %[[NQ]]
// CHECK-NEXT:     scf.if %[[EXISTSF]] {
// CHECK:            attn.tile_finalize ins(%{{.*}}, %{{.*}} : vector<8xf32>, vector<8x64xf32>) outs(%{{.*}}[%[[B]], %[[FIRSTF]], %[[H]]] : memref<?x?x1x64xf32>)
// CHECK:        memref.dealloc %[[M]]
// CHECK-NEXT:   memref.dealloc %[[L]]
// CHECK-NEXT:   memref.dealloc %[[ACC]]
// CHECK-NEXT:   scf.reduce

// ONE-LABEL: func @plain
// ONE:       scf.parallel {{.*}} step (%c1, %c1, %c8) {
// ONE-NOT:     memref.alloc
// ONE:         scf.for {{.*}} iter_args
// ONE-NEXT:      attn.online_softmax_update dot key_tile(128)

// With --convert-attn-to-loops the groups are the pass's option too: 3
// tiles, 24 queries per iteration.
// LOOPS-LABEL: func @plain
// LOOPS:       scf.parallel {{.*}} step (%{{.*}}, %{{.*}}, %c24) {
// LOOPS:         memref.alloc() : memref<3x8x64xf32>
// LOOPS-NOT:     attn.
func.func @plain(%q: memref<?x1x?x64xf32>, %c: memref<?x?x1x64xf32>) {
  attn.online_attention dot
      ins(%q, %q, %q : memref<?x1x?x64xf32>, memref<?x1x?x64xf32>, memref<?x1x?x64xf32>)
      outs(%c : memref<?x?x1x64xf32>)
  return
}

// Causal: the group's key loop ends where its last query stops seeing keys;
// tile g takes key tile j0 only below its own end (its last query
// min(i0 + 8 g + 7, Nq - 1), cut by the lengths).
// CHECK-LABEL: func @causal_lengths
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) = {{.*}} step (%c1, %c1, %c32) {
// CHECK:        %[[VIS:.*]] = arith.minsi %{{.*}}, %{{.*}} : index
// The group's last query: i0 + 31.
// CHECK:        arith.addi %[[I0]], %c31
// CHECK:        scf.for %[[J0:.*]] = %c0 to %{{.*}} step %c128 {
// CHECK-NEXT:     scf.for %[[G:.*]] = %c0 to %c4 step %c1 {
// CHECK-NEXT:       %[[OFF:.*]] = arith.muli %[[G]], %c8
// CHECK-NEXT:       %[[FIRST:.*]] = arith.addi %[[I0]], %[[OFF]]
// CHECK-NEXT:       %[[EXISTS:.*]] = arith.cmpi ult, %[[FIRST]], %{{.*}}
// CHECK-NEXT:       %[[LAST:.*]] = arith.addi %[[FIRST]], %c7
// CHECK:            arith.minsi %[[LAST]]
// CHECK:            %[[END:.*]] = arith.maxsi %{{.*}}, %c0
// CHECK-NEXT:       %[[SEES:.*]] = arith.cmpi slt, %[[J0]], %[[END]]
// CHECK-NEXT:       %[[BOTH:.*]] = arith.andi %[[EXISTS]], %[[SEES]]
// CHECK-NEXT:       scf.if %[[BOTH]] {
// CHECK:              attn.online_softmax_update dot causal key_tile(128)
func.func @causal_lengths(%q: memref<2x4x?x8xf32>, %k: memref<2x2x?x8xf32>,
                          %v: memref<2x2x?x4xf32>, %s: f32, %len: memref<2xi32>,
                          %c: memref<2x?x4x4xf32>) {
  attn.online_attention dot causal
      ins(%q, %q, %v : memref<2x4x?x8xf32>, memref<2x4x?x8xf32>, memref<2x2x?x4xf32>)
      scale(%s) lengths(%len : memref<2xi32>) outs(%c : memref<2x?x4x4xf32>)
  return
}

// A window also gives each tile a first key tile: tile g takes key tile j0
// when j0 is at or after it.
// CHECK-LABEL: func @window
// CHECK:        arith.cmpi slt
// CHECK:        arith.cmpi sge
// CHECK:        arith.andi
// CHECK:        arith.andi
// CHECK-NEXT:   scf.if
// CHECK:          attn.online_softmax_update dot window(256)
func.func @window(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot window(256)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}

// A static Nq of 12 makes two tiles: a group of 2 (step 16).
// CHECK-LABEL: func @static_queries
// CHECK:        scf.parallel {{.*}} step (%c1, %c1, %c16) {
// CHECK:          memref.alloc() : memref<2x8x16xf32>
func.func @static_queries(%q: memref<1x1x12x16xf32>, %k: memref<1x1x?x16xf32>,
                          %c: memref<1x12x1x16xf32>) {
  attn.online_attention dot
      ins(%q, %k, %k : memref<1x1x12x16xf32>, memref<1x1x?x16xf32>, memref<1x1x?x16xf32>)
      outs(%c : memref<1x12x1x16xf32>)
  return
}

// The weights of a dot softmax: the group's tiles store their scores, and
// each tile's weights pass follows its finalization.
// CHECK-LABEL: func @weights
// CHECK:        scf.parallel {{.*}} step (%c1, %c1, %c32) {
// CHECK:          attn.online_softmax_update dot {{.*}} scores_out
// CHECK:          attn.tile_finalize
// CHECK-NEXT:     attn.tile_weights dot scores_stored
func.func @weights(%q: memref<?x1x?x8xf32>, %v: memref<?x1x?x16xf32>,
                   %c: memref<?x?x1x16xf32>, %a: memref<?x1x?x?xf32>) {
  attn.online_attention dot
      ins(%q, %q, %v : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x16xf32>)
      outs(%c : memref<?x?x1x16xf32>) weights(%a : memref<?x1x?x?xf32>)
  return
}

// Other scores (here additive, the generic kernel) keep one tile per
// iteration: their kernels do not stream packed keys.
// CHECK-LABEL: func @additive
// CHECK:        scf.parallel {{.*}} step (%c1, %c1, %c8) {
// CHECK-NOT:      memref<4x8
// CHECK:          scf.for {{.*}} iter_args
func.func @additive(%q: memref<?x1x?x8xf32>, %w: memref<8xf32>,
                    %c: memref<?x?x1x8xf32>) {
  attn.online_attention additive act(tanh)
      ins(%q, %q, %q : memref<?x1x?x8xf32>, memref<?x1x?x8xf32>, memref<?x1x?x8xf32>)
      score_weights(%w : memref<8xf32>) outs(%c : memref<?x?x1x8xf32>)
  return
}

// The host's default: groups of 16 tiles of 8 queries.
// DEFAULT-LABEL: func @plain
// DEFAULT: scf.parallel {{.*}} step (%c1, %c1, %c128) {
// DEFAULT: memref.alloc() : memref<16x8xf32>
