// RUN: attn-opt %s "--attn-tile-attention=tile-size=128 query-tiles-per-group=1 split-keys=false" | FileCheck %s
//
// A sliding window gives the key loop of a query tile both bounds: query i
// sees keys i' - W < l <= i' (i' = i + Nk - Nq), an interval that moves
// right with the query, so the tile [i0, i0 + 4) visits the key tiles from
// the one holding i0' - W + 1 (rounded down to a key tile of 64) to one past
// the last query's i'. Fully masked key tiles before the window and after
// the diagonal are never visited; the partial ones are the update op's
// (`window(256)`).

// CHECK-LABEL: func @window
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x1x?x16xf32>
// CHECK-DAG:  %[[W:.*]] = arith.constant 256 : index
// CHECK-DAG:  %[[KT:.*]] = arith.constant 128 : index
// CHECK:      %[[NQ:.*]] = memref.dim %[[Q]]
// CHECK:      %[[NK:.*]] = memref.dim %[[Q]]
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) =
// The upper bound: one past the last query's aligned position, cut by Nk.
// CHECK:        %[[LASTQ:.*]] = arith.minsi
// CHECK:        %[[LASTEND:.*]] = arith.addi %[[LASTQ]], %{{.*}} : index
// CHECK:        %[[SHIFT:.*]] = arith.subi %[[NQ]], %[[NK]] : index
// CHECK:        %[[DIAG:.*]] = arith.subi %[[LASTEND]], %[[SHIFT]] : index
// CHECK:        %[[CUT:.*]] = arith.minsi %[[NK]], %[[DIAG]] : index
// CHECK:        %[[UB:.*]] = arith.maxsi %[[CUT]], %{{.*}} : index
// The lower bound: the first query's first key i0' + 1 - W, clamped at 0,
// rounded down to its key tile.
// CHECK:        %[[FIRSTEND:.*]] = arith.addi %[[I0]], %{{.*}} : index
// CHECK:        %[[SHIFT2:.*]] = arith.subi %[[NQ]], %[[NK]] : index
// CHECK:        %[[ALIGNED:.*]] = arith.subi %[[FIRSTEND]], %[[SHIFT2]] : index
// CHECK:        %[[FIRST:.*]] = arith.subi %[[ALIGNED]], %[[W]] : index
// CHECK:        %[[FIRST0:.*]] = arith.maxsi %[[FIRST]], %{{.*}} : index
// CHECK:        %[[TILEIDX:.*]] = arith.divui %[[FIRST0]], %[[KT]] : index
// CHECK:        %[[LB:.*]] = arith.muli %[[TILEIDX]], %[[KT]] : index
// CHECK:        scf.for %[[J0:.*]] = %[[LB]] to %[[UB]] step %[[KT]] iter_args(
// CHECK:          attn.online_softmax_update dot window(256) key_tile(128) {{.*}} keys(%[[Q]][%[[B]], %[[H]], %[[J0]]] {{.*}} key_end(%[[NK]])
func.func @window(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot window(256)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}

// causal(-2) with a prefix: the upper bound is max(prefix[b], i' - 1) cut
// by Nk; no lower bound (the loop starts at 0).
// CHECK-LABEL: func @prefix_offset
// CHECK:      %[[P:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<2xi32>
// CHECK:      %[[DIAG:.*]] = arith.addi %{{.*}}, %c-2 : index
// CHECK:      %[[PEND:.*]] = arith.maxsi %[[DIAG]], %{{.*}} : index
// CHECK:      arith.minsi %{{.*}}, %[[PEND]] : index
// CHECK:      scf.for %{{.*}} = %c0 to
// CHECK:      attn.online_softmax_update dot causal causal_offset(-2) key_tile(128) {{.*}} prefix_end(
func.func @prefix_offset(%q: memref<2x1x?x16xf32>, %p: memref<2xi32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot causal causal_offset(-2)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      prefix(%p : memref<2xi32>) outs(%c : memref<2x?x1x16xf32>)
  return
}
