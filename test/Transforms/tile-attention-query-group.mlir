// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 split-keys=false query-tiles-per-group=4" | FileCheck %s
// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 query-tiles-per-group=1 split-keys=false" | FileCheck %s --check-prefix=ONE
// RUN: attn-opt %s "--convert-attn-to-loops=tile-size=128 query-tiles-per-group=3 split-keys=false" | FileCheck %s --check-prefix=LOOPS
// RUN: not attn-opt %s "--attn-tile-attention=query-tiles-per-group=65" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not attn-opt %s "--convert-attn-to-loops=query-tiles-per-group=-1" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: attn-opt %s "--attn-tile-attention=split-keys=false" | FileCheck %s --check-prefix=DEFAULT
//
// Query groups (-attn-tile-attention, at most 4 query tiles per group here;
// the host's default is 16, see DEFAULT below): with a dot or cosine
// softmax and a vector state, an iteration of the parallel loop is a group
// of consecutive tiles of 8 queries, whose state lives in per-group buffers
// ([4, 8] maxima and sums, [4, 8, Dv] accumulators). The key loop runs once
// for the group, and each key tile updates the group's tiles in turn (under
// a mask that moves with the query, a tile only when the key tile is within
// its own key loop). The packed keys and values of a key tile are then read
// from memory once per group, not once per tile. Each tile is finalized
// from its buffers after the loop.
//
// The T = ceil(Nq / 8) tiles of a (batch, head) make G groups, group g
// holding tiles [g T / G, (g + 1) T / G): sizes differ by at most one. G is
// at least ceil(T / 4), raised with the thread count (attn.thread_count) so
// that the B x H x G groups fill the threads' last round:
// G = min(T, max(ceil(T / 4), floor(R threads / (B H)))) with
// R = ceil(B H ceil(T / 4) / threads).

// BAD: query-tiles-per-group must be between 1 and 64 (0: the target's)

// CHECK-LABEL: func @plain
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x?x64xf32>
// CHECK-DAG:  %[[NEGINF:.*]] = arith.constant dense<0xFF800000> : vector<8xf32>
// CHECK-DAG:  %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<8xf32>
// CHECK-DAG:  %[[ZEROROW:.*]] = arith.constant dense<0.000000e+00> : vector<64xf32>
// CHECK:      %[[B:.*]] = memref.dim %{{.*}}, %c0
// CHECK:      %[[NQ:.*]] = memref.dim %[[Q]], %c2
// The tiles T = ceil(Nq / 8) and the fewest groups ceil(T / 4).
// CHECK:      %[[T1:.*]] = arith.addi %[[NQ]], %c7
// CHECK-NEXT: %[[T:.*]] = arith.divui %[[T1]], %c8
// CHECK-NEXT: %[[G1:.*]] = arith.addi %[[T]], %c3
// CHECK-NEXT: %[[FEW:.*]] = arith.divui %[[G1]], %c4
// Rounds of the threads, and the groups that fill them.
// CHECK-NEXT: %[[THR0:.*]] = attn.thread_count : index
// CHECK-NEXT: %[[THR:.*]] = arith.maxsi %[[THR0]], %c1
// CHECK-NEXT: %[[BH:.*]] = arith.maxsi %[[B]], %c1
// CHECK-NEXT: %[[WORK:.*]] = arith.muli %[[BH]], %[[FEW]]
// CHECK-NEXT: %[[R1:.*]] = arith.subi %[[THR]], %c1
// CHECK-NEXT: %[[R2:.*]] = arith.addi %[[WORK]], %[[R1]]
// CHECK-NEXT: %[[R:.*]] = arith.divui %[[R2]], %[[THR]]
// CHECK-NEXT: %[[SLOTS:.*]] = arith.muli %[[R]], %[[THR]]
// CHECK-NEXT: %[[FILL:.*]] = arith.divui %[[SLOTS]], %[[BH]]
// CHECK-NEXT: %[[AT_LEAST:.*]] = arith.maxsi %[[FILL]], %[[FEW]]
// CHECK-NEXT: %[[G:.*]] = arith.minsi %[[AT_LEAST]], %[[T]]
// CHECK-NEXT: scf.parallel (%{{[^,]*}}, %[[H:[^,]*]], %[[GI:[^)]*]]) = {{.*}} to (%[[B]], %c1, %[[G]]) step (%c1, %c1, %c1) {
// Group gi: tiles [gi T / G, (gi + 1) T / G).
// CHECK-NEXT:   %[[F1:.*]] = arith.muli %[[GI]], %[[T]]
// CHECK-NEXT:   %[[FIRSTTILE:.*]] = arith.divui %[[F1]], %[[G]]
// CHECK-NEXT:   %[[N1:.*]] = arith.addi %[[GI]], %c1
// CHECK-NEXT:   %[[N2:.*]] = arith.muli %[[N1]], %[[T]]
// CHECK-NEXT:   %[[NEXTTILE:.*]] = arith.divui %[[N2]], %[[G]]
// CHECK-NEXT:   %[[COUNT:.*]] = arith.subi %[[NEXTTILE]], %[[FIRSTTILE]]
// CHECK-NEXT:   %[[I0:.*]] = arith.muli %[[FIRSTTILE]], %c8
// CHECK:        %[[M:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK:        %[[L:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK:        %[[ACC:.*]] = memref.alloc() : memref<4x8x64xf32>
// CHECK:        scf.for %[[G0:.*]] = %c0 to %[[COUNT]] step %c1 {
// CHECK-NEXT:     vector.store %[[NEGINF]], %[[M]][%[[G0]], %c0]
// CHECK-NEXT:     vector.store %[[ZERO]], %[[L]][%[[G0]], %c0]
// CHECK-NEXT:     vector.store %[[ZEROROW]], %[[ACC]][%[[G0]], %c0, %c0]
// Without a mask every tile sees every key tile: no condition.
// CHECK:        scf.for %[[J0:.*]] = %c0 to %{{.*}} step %c128 {
// CHECK-NEXT:     scf.for %[[TG:.*]] = %c0 to %[[COUNT]] step %c1 {
// CHECK-NEXT:       %[[OFF:.*]] = arith.muli %[[TG]], %c8
// CHECK-NEXT:       %[[FIRST:.*]] = arith.addi %[[I0]], %[[OFF]]
// CHECK-NOT:        scf.if
// CHECK:            %[[ACC7:.*]] = vector.load %[[ACC]][%[[TG]], %c7, %c0] : memref<4x8x64xf32>, vector<64xf32>
// CHECK:            %[[MG:.*]] = vector.load %[[M]][%[[TG]], %c0] : memref<4x8xf32>, vector<8xf32>
// CHECK:            %[[LG:.*]] = vector.load %[[L]][%[[TG]], %c0] : memref<4x8xf32>, vector<8xf32>
// CHECK:            %[[NEW:.*]]:3 = attn.online_softmax_update dot key_tile(128)
// CHECK-SAME:           query(%[[Q]][%{{.*}}, %[[H]], %[[FIRST]]] : memref<?x1x?x64xf32>)
// CHECK-SAME:           keys(%{{.*}}[%{{.*}}, %{{.*}}, %[[J0]]] : memref<?x1x?x64xf32>)
// CHECK-SAME:           state(%[[MG]], %[[LG]], %{{.*}} : vector<8xf32>, vector<8xf32>, vector<8x64xf32>)
// CHECK-NEXT:       vector.store %[[NEW]]#0, %[[M]][%[[TG]], %c0]
// CHECK-NEXT:       vector.store %[[NEW]]#1, %[[L]][%[[TG]], %c0]
// CHECK:            vector.store %{{.*}}, %[[ACC]][%[[TG]], %c7, %c0]
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT:   scf.for %[[GF:.*]] = %c0 to %[[COUNT]] step %c1 {
// CHECK-NEXT:     %[[OFFF:.*]] = arith.muli %[[GF]], %c8
// CHECK-NEXT:     %[[FIRSTF:.*]] = arith.addi %[[I0]], %[[OFFF]]
// CHECK-NOT:      scf.if
// CHECK:          attn.tile_finalize ins(%{{.*}}, %{{.*}} : vector<8xf32>, vector<8x64xf32>) outs(%{{.*}}[%{{.*}}, %[[FIRSTF]], %[[H]]] : memref<?x?x1x64xf32>)
// CHECK:        memref.dealloc %[[M]]
// CHECK-NEXT:   memref.dealloc %[[L]]
// CHECK-NEXT:   memref.dealloc %[[ACC]]
// CHECK-NEXT:   scf.reduce

// ONE-LABEL: func @plain
// ONE:       scf.parallel {{.*}} step (%c1, %c1, %c8) {
// ONE-NOT:     memref.alloc
// ONE:         scf.for {{.*}} iter_args
// ONE-NEXT:      attn.online_softmax_update dot key_tile(128)

// With --convert-attn-to-loops the groups are the pass's option too: at
// most 3 tiles of 8 queries per group (attn.thread_count stays until
// -attn-lower-thread-count, in loops-to-llvm).
// LOOPS-LABEL: func @plain
// LOOPS:       scf.parallel {{.*}} step (%{{.*}}, %{{.*}}, %{{.*}}) {
// LOOPS:         memref.alloc() : memref<3x8x64xf32>
// LOOPS-NOT:     attn.{{online|tile}}
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
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[GI:[^)]*]]) = {{.*}} step (%c1, %c1, %c1) {
// CHECK:        %[[COUNT:.*]] = arith.subi
// CHECK-NEXT:   %[[I0:.*]] = arith.muli %{{.*}}, %c8
// CHECK-NEXT:   %[[QUERIES:.*]] = arith.muli %[[COUNT]], %c8
// CHECK:        %[[VIS:.*]] = arith.minsi %{{.*}}, %{{.*}} : index
// The group's last query: i0 + 8 count - 1.
// CHECK:        %[[GLAST:.*]] = arith.subi %[[QUERIES]], %c1
// CHECK-NEXT:   arith.addi %[[I0]], %[[GLAST]]
// CHECK:        scf.for %[[J0:.*]] = %c0 to %{{.*}} step %c128 {
// CHECK-NEXT:     scf.for %[[G:.*]] = %c0 to %[[COUNT]] step %c1 {
// CHECK-NEXT:       %[[OFF:.*]] = arith.muli %[[G]], %c8
// CHECK-NEXT:       %[[FIRST:.*]] = arith.addi %[[I0]], %[[OFF]]
// CHECK-NEXT:       %[[LAST:.*]] = arith.addi %[[FIRST]], %c7
// CHECK:            arith.minsi %[[LAST]]
// CHECK:            %[[END:.*]] = arith.maxsi %{{.*}}, %c0
// CHECK-NEXT:       %[[SEES:.*]] = arith.cmpi slt, %[[J0]], %[[END]]
// CHECK-NEXT:       scf.if %[[SEES]] {
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
// CHECK:        %[[END:.*]] = arith.cmpi slt
// CHECK-NEXT:   %[[BEGIN:.*]] = arith.cmpi sge
// CHECK-NEXT:   %[[SEES:.*]] = arith.andi %[[END]], %[[BEGIN]]
// CHECK-NEXT:   scf.if %[[SEES]]
// CHECK:          attn.online_softmax_update dot window(256)
func.func @window(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot window(256)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}

// A static Nq of 12 makes two tiles: groups of at most 2, one group per
// (batch, head) on one thread, up to two with more.
// CHECK-LABEL: func @static_queries
// CHECK:        %[[THR:.*]] = arith.maxsi %{{.*}}, %c1
// CHECK-NEXT:   %[[R:.*]] = arith.divui %[[THR]], %[[THR]]
// CHECK-NEXT:   %[[SLOTS:.*]] = arith.muli %[[R]], %[[THR]]
// CHECK-NEXT:   %[[FILL:.*]] = arith.maxsi %[[SLOTS]], %c1
// CHECK-NEXT:   %[[G:.*]] = arith.minsi %[[FILL]], %c2
// CHECK-NEXT:   scf.parallel {{.*}} to (%c1, %c1, %[[G]]) step (%c1, %c1, %c1) {
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
// CHECK:        scf.parallel {{.*}} step (%c1, %c1, %c1) {
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

// The host's default: groups of at most 16 tiles (of 8 queries on AVX-512,
// 6 on AVX2).
// DEFAULT-LABEL: func @plain
// DEFAULT: arith.addi %{{.*}}, %c15
// DEFAULT-NEXT: arith.divui %{{.*}}, %c16
// DEFAULT: scf.parallel {{.*}} step (%c1, %c1, %c1) {
// DEFAULT: memref.alloc() : memref<16x8xf32>
