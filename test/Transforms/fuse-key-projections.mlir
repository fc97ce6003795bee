// RUN: attn-opt %s --attn-tile-attention --attn-fuse-key-projections | FileCheck %s
//
// The tiled form of an additive score over projected keys, k' = W2 k
// (-attn-decompose-scores' output, tiled): the projection moves into the
// key loop, one key tile at a time, into a scratch of key_tile rows
// allocated per iteration of the parallel loop; the update reads its keys
// there (key_row(0)) and the [B, H, Nk, Dw] buffer is gone.
// (An additive score's key tile is 192 keys on the host CPU.)

// Bahdanau: one query, values = keys.
// CHECK-LABEL: func @bahdanau
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x1x48xf32>, %[[K:[^:]*]]: memref<?x1x?x64xf32>, %[[W2:[^:]*]]: memref<48x64xf32>, %[[W:[^:]*]]: memref<48xf32>, %[[C:[^:]*]]: memref<?x1x1x64xf32>)
// CHECK-NOT:  attn.linear
// CHECK-NOT:  memref.alloc
// CHECK:      scf.parallel
// CHECK-NEXT:   %[[S:.*]] = memref.alloc() : memref<1x1x192x48xf32>
// CHECK:        scf.for %[[J0:.*]] = %{{.*}} to %[[NK:.*]] step %c192
// The tile's rows: min(192, min(key_end, Nk) - j0), at least 0.
// CHECK:          %[[END:.*]] = arith.minsi %[[NK]], %{{.*}} : index
// CHECK-NEXT:     %[[LEFT:.*]] = arith.subi %[[END]], %[[J0]] : index
// CHECK:          %[[TILE:.*]] = arith.minsi %[[LEFT]], %{{.*}} : index
// CHECK-NEXT:     %[[ROWS:.*]] = arith.maxsi %[[TILE]], %{{.*}} : index
// CHECK-NEXT:     %[[X:.*]] = memref.subview %[[K]][%{{.*}}, %{{.*}}, %[[J0]], 0] [1, 1, %[[ROWS]], 64] [1, 1, 1, 1] : memref<?x1x?x64xf32> to memref<1x1x?x64xf32, strided<[?, ?, 64, 1], offset: ?>>
// CHECK-NEXT:     %[[Y:.*]] = memref.subview %[[S]][0, 0, 0, 0] [1, 1, %[[ROWS]], 48] [1, 1, 1, 1] : memref<1x1x192x48xf32> to memref<1x1x?x48xf32, strided<[9216, 9216, 48, 1]>>
// CHECK-NEXT:     attn.linear ins(%[[X]], %[[W2]] : {{.*}}) outs(%[[Y]] : {{.*}})
// CHECK-NEXT:     attn.online_softmax_update additive act(tanh) key_tile(192) query(%[[Q]][{{.*}}]{{.*}}) keys(%[[S]][%[[Z:.*]], %[[Z]], %[[J0]]] : memref<1x1x192x48xf32>) key_row(%[[Z]]) values(%[[K]][{{.*}}] : memref<?x1x?x64xf32>)
// CHECK:        memref.dealloc %[[S]] : memref<1x1x192x48xf32>
// CHECK-NOT:  memref.dealloc
// CHECK:      return
func.func @bahdanau(%q: memref<?x1x1x48xf32>, %k: memref<?x1x?x64xf32>,
                    %W2: memref<48x64xf32>, %w: memref<48xf32>,
                    %c: memref<?x1x1x64xf32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = memref.dim %k, %c0 : memref<?x1x?x64xf32>
  %n = memref.dim %k, %c2 : memref<?x1x?x64xf32>
  %kp = memref.alloc(%b, %n) {alignment = 64 : i64} : memref<?x1x?x48xf32>
  attn.linear ins(%k, %W2 : memref<?x1x?x64xf32>, memref<48x64xf32>) outs(%kp : memref<?x1x?x48xf32>)
  attn.online_attention additive act(tanh)
      ins(%q, %kp, %k : memref<?x1x1x48xf32>, memref<?x1x?x48xf32>, memref<?x1x?x64xf32>)
      score_weights(%w : memref<48xf32>) outs(%c : memref<?x1x1x64xf32>)
  memref.dealloc %kp : memref<?x1x?x48xf32>
  return
}

// Several key heads, a shared W2 and a bias: each tile projects its own
// head's rows (the input's head is the update's key head), with the bias,
// and the lengths bound the rows projected (key_end).
// CHECK-LABEL: func @heads_and_bias
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x4x3x24xf32>, %[[K:[^:]*]]: memref<2x4x5x12xf32>, %[[V:[^:]*]]: memref<2x4x5x8xf32>, %[[W2:[^:]*]]: memref<24x12xf32>, %[[B:[^:]*]]: memref<24xf32>,
// CHECK:      scf.parallel (%[[BI:[^,]*]], %[[H:[^,]*]], %{{[^)]*}})
// CHECK:        %[[S:.*]] = memref.alloc() : memref<1x1x192x24xf32>
// CHECK:        %[[LEN:[0-9]+]] = arith.minsi %{{.*}}, %c5 : index
// CHECK:          arith.minsi %[[LEN]], %{{.*}} : index
// CHECK:          memref.subview %[[K]][%[[BI]], %[[H]], %{{.*}}, 0] [1, 1, %{{.*}}, 12]
// CHECK:          attn.linear ins(%{{.*}}, %[[W2]] : {{.*}}) bias(%[[B]] : memref<24xf32>) outs
// CHECK-NEXT:     attn.online_softmax_update additive act(relu) causal key_tile(192) {{.*}} keys(%[[S]]{{.*}} key_row({{.*}} key_end(%[[LEN]])
func.func @heads_and_bias(
    %q: memref<2x4x3x24xf32>, %k: memref<2x4x5x12xf32>, %v: memref<2x4x5x8xf32>,
    %W2: memref<24x12xf32>, %b2: memref<24xf32>, %w: memref<24xf32>,
    %len: memref<2xi32>, %c: memref<2x3x4x8xf32>) {
  %kp = memref.alloc() {alignment = 64 : i64} : memref<2x4x5x24xf32>
  attn.linear ins(%k, %W2 : memref<2x4x5x12xf32>, memref<24x12xf32>) bias(%b2 : memref<24xf32>) outs(%kp : memref<2x4x5x24xf32>)
  attn.online_attention additive act(relu) causal
      ins(%q, %kp, %v : memref<2x4x3x24xf32>, memref<2x4x5x24xf32>, memref<2x4x5x8xf32>)
      score_weights(%w : memref<24xf32>) lengths(%len : memref<2xi32>)
      outs(%c : memref<2x3x4x8xf32>)
  memref.dealloc %kp : memref<2x4x5x24xf32>
  return
}

// A weights output: the updates store their scores in it (scores_out,
// with the batch entry of the query tile) and attn.tile_weights normalizes
// them without keys (scores_stored).
// CHECK-LABEL: func @weights_output
// CHECK-SAME: %[[A:[^:]*]]: memref<1x2x3x7xf32>)
// CHECK-NOT:  attn.linear
// CHECK:      scf.parallel (%[[BI:[^,]*]],
// CHECK:          attn.linear
// CHECK-NEXT:     attn.online_softmax_update additive act(tanh) key_tile(192) {{.*}} key_row({{.*}} sample_batch(%[[BI]]) scores_out(%[[A]] : memref<1x2x3x7xf32>)
// CHECK:        attn.tile_weights additive act(tanh) scores_stored query({{.*}}) score_weights({{.*}}) key_end({{.*}}) state({{.*}}) outs(%[[A]][%[[BI]]] : memref<1x2x3x7xf32>)
func.func @weights_output(
    %q: memref<1x2x3x24xf32>, %k: memref<1x2x7x12xf32>, %v: memref<1x2x7x8xf32>,
    %W2: memref<24x12xf32>, %w: memref<24xf32>, %c: memref<1x3x2x8xf32>,
    %a: memref<1x2x3x7xf32>) {
  %kp = memref.alloc() : memref<1x2x7x24xf32>
  attn.linear ins(%k, %W2 : memref<1x2x7x12xf32>, memref<24x12xf32>) outs(%kp : memref<1x2x7x24xf32>)
  attn.online_attention additive act(tanh)
      ins(%q, %kp, %v : memref<1x2x3x24xf32>, memref<1x2x7x24xf32>, memref<1x2x7x8xf32>)
      score_weights(%w : memref<24xf32>) outs(%c : memref<1x3x2x8xf32>)
      weights(%a : memref<1x2x3x7xf32>)
  memref.dealloc %kp : memref<1x2x7x24xf32>
  return
}

// Per-head weights (W2 [H, Dw, D]) and bias: each tile is projected with
// its key head's W2 and bias (views of one head).
// CHECK-LABEL: func @per_head_weights
// CHECK-SAME: %[[W2:[^:]*]]: memref<2x24x12xf32>, %[[B:[^:]*]]: memref<2x24xf32>
// CHECK:      scf.parallel (%{{[^,]*}}, %[[H:[^,]*]],
// CHECK:          %[[WH:.*]] = memref.subview %[[W2]][%[[H]], 0, 0] [1, 24, 12] [1, 1, 1] : memref<2x24x12xf32> to memref<1x24x12xf32, strided<[288, 12, 1], offset: ?>>
// CHECK-NEXT:     %[[BH:.*]] = memref.subview %[[B]][%[[H]], 0] [1, 24] [1, 1] : memref<2x24xf32> to memref<1x24xf32, strided<[24, 1], offset: ?>>
// CHECK-NEXT:     attn.linear ins(%{{.*}}, %[[WH]] : {{.*}}) bias(%[[BH]] : {{.*}}) outs
// CHECK-NEXT:     attn.online_softmax_update additive {{.*}} key_row(
func.func @per_head_weights(
    %q: memref<1x2x3x24xf32>, %k: memref<1x2x7x12xf32>, %v: memref<1x2x7x8xf32>,
    %W2h: memref<2x24x12xf32>, %b2h: memref<2x24xf32>, %w: memref<24xf32>,
    %c: memref<1x3x2x8xf32>) {
  %kp = memref.alloc() : memref<1x2x7x24xf32>
  attn.linear ins(%k, %W2h : memref<1x2x7x12xf32>, memref<2x24x12xf32>) bias(%b2h : memref<2x24xf32>) outs(%kp : memref<1x2x7x24xf32>)
  attn.online_attention additive act(tanh)
      ins(%q, %kp, %v : memref<1x2x3x24xf32>, memref<1x2x7x24xf32>, memref<1x2x7x8xf32>)
      score_weights(%w : memref<24xf32>) outs(%c : memref<1x3x2x8xf32>)
  memref.dealloc %kp : memref<1x2x7x24xf32>
  return
}

// Left as they are: a key buffer that something else writes; an input
// written between the projection and the attention.
// CHECK-LABEL: func @not_fused
// CHECK-NOT:  key_row
// CHECK:      attn.linear ins(%{{.*}} : memref<1x2x7x12xf32>, memref<24x12xf32>) outs(%{{.*}} : memref<1x2x7x24xf32>)
// CHECK-NOT:  key_row
// CHECK:      attn.linear ins(%{{.*}} : memref<1x2x7x12xf32>, memref<24x12xf32>) outs(%{{.*}} : memref<1x2x7x24xf32>)
// CHECK-NOT:  key_row
// CHECK:      return
func.func @not_fused(
    %q: memref<1x2x3x24xf32>, %k: memref<1x2x7x12xf32>, %v: memref<1x2x7x8xf32>,
    %W2: memref<24x12xf32>, %w: memref<24xf32>, %c: memref<1x3x2x8xf32>) {
  %kp2 = memref.alloc() : memref<1x2x7x24xf32>
  attn.linear ins(%k, %W2 : memref<1x2x7x12xf32>, memref<24x12xf32>) outs(%kp2 : memref<1x2x7x24xf32>)
  %zero = arith.constant 0.0 : f32
  %i0 = arith.constant 0 : index
  memref.store %zero, %kp2[%i0, %i0, %i0, %i0] : memref<1x2x7x24xf32>
  attn.online_attention additive act(tanh)
      ins(%q, %kp2, %v : memref<1x2x3x24xf32>, memref<1x2x7x24xf32>, memref<1x2x7x8xf32>)
      score_weights(%w : memref<24xf32>) outs(%c : memref<1x3x2x8xf32>)
  memref.dealloc %kp2 : memref<1x2x7x24xf32>

  %kp3 = memref.alloc() : memref<1x2x7x24xf32>
  attn.linear ins(%k, %W2 : memref<1x2x7x12xf32>, memref<24x12xf32>) outs(%kp3 : memref<1x2x7x24xf32>)
  %k1 = memref.subview %k[0, 1, 0, 0] [1, 1, 7, 12] [1, 1, 1, 1] : memref<1x2x7x12xf32> to memref<1x1x7x12xf32, strided<[168, 84, 12, 1], offset: 84>>
  memref.store %zero, %k1[%i0, %i0, %i0, %i0] : memref<1x1x7x12xf32, strided<[168, 84, 12, 1], offset: 84>>
  attn.online_attention additive act(tanh)
      ins(%q, %kp3, %v : memref<1x2x3x24xf32>, memref<1x2x7x24xf32>, memref<1x2x7x8xf32>)
      score_weights(%w : memref<24xf32>) outs(%c : memref<1x3x2x8xf32>)
  memref.dealloc %kp3 : memref<1x2x7x24xf32>
  return
}

// An input of dynamic width (the tile's view needs a static one): left.
// CHECK-LABEL: func @dynamic_input_size
// CHECK:      attn.linear ins(%{{.*}} : memref<?x1x?x?xf32>, memref<48x64xf32>)
// CHECK-NOT:  key_row
// CHECK:      return
func.func @dynamic_input_size(%q: memref<?x1x1x48xf32>, %k: memref<?x1x?x?xf32>,
                    %W2: memref<48x64xf32>, %w: memref<48xf32>,
                    %c: memref<?x1x1x64xf32>, %v: memref<?x1x?x64xf32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = memref.dim %k, %c0 : memref<?x1x?x?xf32>
  %n = memref.dim %k, %c2 : memref<?x1x?x?xf32>
  %kp = memref.alloc(%b, %n) {alignment = 64 : i64} : memref<?x1x?x48xf32>
  attn.linear ins(%k, %W2 : memref<?x1x?x?xf32>, memref<48x64xf32>) outs(%kp : memref<?x1x?x48xf32>)
  attn.online_attention additive act(tanh)
      ins(%q, %kp, %v : memref<?x1x1x48xf32>, memref<?x1x?x48xf32>, memref<?x1x?x64xf32>)
      score_weights(%w : memref<48xf32>) outs(%c : memref<?x1x1x64xf32>)
  memref.dealloc %kp : memref<?x1x?x48xf32>
  return
}
