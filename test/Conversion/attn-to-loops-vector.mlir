// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s
//
// With static D and Dv (at most 256) and contiguous buffers, the tiled form
// carries the state of a query tile as vectors, and the kernels keep q_i, w
// and the accumulator rows in vector registers: in the generic per-query
// kernel each score is a vector product and a vector.reduction, each key
// adds p_j v_j with one vector.fma, and the context row is written with one
// vector.store. No accumulator buffer is allocated. A query tile holds 8
// queries, or n_q when it is static and smaller (3 here). (attn-to-loops.mlir
// checks the scalar form with vectorize=false; attn-to-loops-blocked.mlir
// the blocked kernel that dot scores take.)

// A dot score with a weights output: the key tiles take the blocked kernel
// (the keys read in place: n_q = 3 is one tile per head), which also stores each row's scores into the
// weights (scores_out: a plain vector store in the copy for whole tiles, a
// masked one past the last key), and attn.tile_weights, a second pass of
// its own, takes the blocked weights kernel (BlockedWeights.cpp) with
// scores_stored: no keys packed again and no products, the rows' scores
// read back 16 keys at a time (all rows before any is written),
// exp(s - m) / l masked to the visible keys, stored in place.
// CHECK-LABEL: func @dot_vector
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x1x3x8xf32>, %[[K:[^:]*]]: memref<2x1x5x8xf32>, %[[V:[^:]*]]: memref<2x1x5x4xf32>, %[[S:[^:]*]]: f32, %[[C:[^:]*]]: memref<2x3x1x4xf32>, %[[W:[^:]*]]: memref<2x1x3x5xf32>)
// CHECK-NOT:  memref<?x?x?x8x16xf32>
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %{{[^)]*}}) =
// CHECK:        %[[LOOP:.*]]:3 = scf.for {{.*}} -> (vector<3xf32>, vector<3xf32>, vector<3x4xf32>)
// CHECK:          vector.shuffle
// CHECK:          vector.store %{{.*}}, %[[W]][%[[B]], %[[H]], %{{.*}}, %{{.*}}] : memref<2x1x3x5xf32>, vector<16xf32>
// CHECK:          vector.maskedstore %[[W]][%[[B]], %[[H]], %{{.*}}, %{{.*}}], %{{.*}}, %{{.*}} : memref<2x1x3x5xf32>
// c = acc / l, one vector store of the row context[b, i, h, :] per query.
// CHECK:        vector.extract %[[LOOP]]#1[0] : f32 from vector<3xf32>
// CHECK:        %[[INVL:.*]] = arith.select
// CHECK-NEXT:   %[[ROW:.*]] = vector.extract %[[LOOP]]#2[0] : vector<4xf32> from vector<3x4xf32>
// CHECK-NEXT:   %[[INVLV:.*]] = vector.broadcast %[[INVL]] : f32 to vector<4xf32>
// CHECK-NEXT:   %[[CV:.*]] = arith.mulf %[[ROW]], %[[INVLV]]
// CHECK-NEXT:   vector.store %[[CV]], %[[C]][%[[B]], %{{.*}}, %[[H]], %{{.*}}] : memref<2x3x1x4xf32>, vector<4xf32>
// CHECK-COUNT-2: vector.store %{{.*}}, %[[C]]
// The weights: 16 keys at a time, the 3 rows' stored scores read first.
// CHECK:        scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %c16
// CHECK:          %[[INRANGE:.*]] = arith.cmpi slt, %{{.*}}, %{{.*}} : vector<16xindex>
// CHECK-COUNT-3:  vector.maskedload %[[W]][%[[B]], %[[H]], %{{.*}}, %[[J]]], %[[INRANGE]]
// CHECK-NOT:      memref<?x?x?x8x16xf32>
// CHECK:          arith.shli %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK:          %[[VISIBLE:.*]] = arith.cmpi slt, %{{.*}}, %{{.*}} : vector<16xindex>
// CHECK-NEXT:     %[[A:.*]] = arith.select %[[VISIBLE]]
// CHECK-NEXT:     vector.maskedstore %[[W]][%[[B]], %[[H]], %{{.*}}, %{{.*}}], %[[INRANGE]], %[[A]]
// CHECK-NOT:      memref.store %{{.*}}, %[[W]]
// CHECK:      return
func.func @dot_vector(%q: memref<2x1x3x8xf32>, %k: memref<2x1x5x8xf32>,
                      %v: memref<2x1x5x4xf32>, %s: f32,
                      %c: memref<2x3x1x4xf32>, %a: memref<2x1x3x5xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<2x1x3x8xf32>, memref<2x1x5x8xf32>, memref<2x1x5x4xf32>)
      scale(%s) outs(%c : memref<2x3x1x4xf32>) weights(%a : memref<2x1x3x5xf32>)
  return
}

// Additive, the generic per-query kernel: w (row h of a per-head w) is
// loaded once per key tile; each query row of the tile in turn gets its
// scores as vector products with the activation on the vector q' + k', and
// its accumulator row, extracted from the state, rescaled by alpha, added
// p_j v_j and inserted back.
// CHECK-LABEL: func @additive_vector
// CHECK-SAME: %[[W:[^:]*]]: memref<4x16xf32>
// CHECK:      scf.parallel (%{{[^,]*}}, %[[H:[^,]*]], %{{[^)]*}}) =
// CHECK:        scf.for {{.*}} -> (vector<3xf32>, vector<3xf32>, vector<3x8xf32>)
// CHECK:          %[[WV:.*]] = vector.load %[[W]][%[[H]], %{{.*}}] : memref<4x16xf32>, vector<16xf32>
// CHECK:          scf.for
// CHECK:            %[[SUM:.*]] = arith.addf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK-NEXT:       %[[T:.*]] = math.tanh %[[SUM]] : vector<16xf32>
// CHECK-NEXT:       %[[WT:.*]] = arith.mulf %[[WV]], %[[T]] {{.*}} : vector<16xf32>
// CHECK-NEXT:       vector.reduction <add>, %[[WT]]
// CHECK:          %[[ACC:.*]] = vector.extract %{{.*}}[0] : vector<8xf32> from vector<3x8xf32>
// CHECK-NEXT:     %[[ALPHAV:.*]] = vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK-NEXT:     %[[RESCALED:.*]] = arith.mulf %[[ACC]], %[[ALPHAV]]
// CHECK:          scf.for {{.*}} iter_args(%[[A:.*]] = %[[RESCALED]]) -> (vector<8xf32>)
// CHECK:            %[[PV:.*]] = vector.broadcast %{{.*}} : f32 to vector<8xf32>
// CHECK-NEXT:       %[[VV:.*]] = vector.load
// CHECK-NEXT:       %[[FMA:.*]] = vector.fma %[[PV]], %[[VV]], %[[A]] : vector<8xf32>
// CHECK-NEXT:       scf.yield %[[FMA]] : vector<8xf32>
// CHECK:          vector.insert %{{.*}}, %{{.*}} [0] : vector<8xf32> into vector<3x8xf32>
// The other three queries of the tile.
// CHECK-COUNT-2:  vector.insert %{{.*}}, %{{.*}} [{{[12]}}] : vector<8xf32> into vector<3x8xf32>
func.func @additive_vector(%q: memref<1x4x3x16xf32>, %k: memref<2x2x5x16xf32>,
                           %v: memref<2x2x5x8xf32>, %w: memref<4x16xf32>,
                           %c: memref<2x3x4x8xf32>) {
  attn.online_attention additive act(tanh)
      ins(%q, %k, %v : memref<1x4x3x16xf32>, memref<2x2x5x16xf32>, memref<2x2x5x8xf32>)
      score_weights(%w : memref<4x16xf32>) outs(%c : memref<2x3x4x8xf32>)
  return
}

// Cosine with the softmax takes the blocked kernel (static D, whole key
// panels): with n_q = 12 (two tiles) the keys are packed divided by their
// norms (1/|k|, 0 for a zero key), and each query row's scores are
// multiplied by 1/|q_i| after its 16-lane FMAs.
// CHECK-LABEL: func @cosine_vector
// CHECK:        %[[KT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x?x?x5x16xf32>
// CHECK:              %[[KV:.*]] = vector.load %arg1{{.*}} : memref<1x1x7x5xf32>, vector<5xf32>
// CHECK-NEXT:         %[[KK:.*]] = arith.mulf %[[KV]], %[[KV]]
// CHECK-NEXT:         %[[KN2:.*]] = vector.reduction <add>, %[[KK]]
// CHECK:              math.sqrt
// CHECK-NEXT:         arith.constant 1.0
// CHECK-NEXT:         %[[KINV:.*]] = arith.divf
// CHECK:              %[[KSCALE:.*]] = arith.select %{{.*}}, %[[KINV]], %{{.*}} : f32
// The first key's row (after the 16 norms), padded to 16 lanes, scaled.
// CHECK:              %[[KPAD:.*]] = vector.insert_strided_slice %{{.*}} : vector<5xf32> into vector<16xf32>
// CHECK-NEXT:         %[[KB:.*]] = vector.broadcast %[[KSCALE]] : f32 to vector<16xf32>
// CHECK-NEXT:         arith.mulf %[[KPAD]], %[[KB]] {{.*}}: vector<16xf32>
// CHECK:              vector.store %{{.*}}, %[[KT]]
// CHECK:        scf.parallel
// CHECK:          %[[QV:.*]] = vector.load %arg0{{.*}} : memref<1x1x12x5xf32>, vector<5xf32>
// CHECK-NEXT:     %[[QQ:.*]] = arith.mulf %[[QV]], %[[QV]]
// CHECK-NEXT:     vector.reduction <add>, %[[QQ]]
// CHECK:          math.sqrt
// CHECK:          %[[QSCALE:.*]] = vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK:            vector.fma
// CHECK:          arith.mulf %{{.*}}, %[[QSCALE]] {{.*}}: vector<16xf32>
func.func @cosine_vector(%q: memref<1x1x12x5xf32>, %k: memref<1x1x7x5xf32>,
                         %v: memref<1x1x7x3xf32>, %c: memref<1x12x1x3xf32>) {
  attn.online_attention cosine
      ins(%q, %k, %v : memref<1x1x12x5xf32>, memref<1x1x7x5xf32>, memref<1x1x7x3xf32>)
      outs(%c : memref<1x12x1x3xf32>)
  return
}

// Cosine with another alignment (sigmoid here) keeps the per-query vector
// loop: |q_i| from the query vector, |k_j| and q.k from two reductions.
// CHECK-LABEL: func @cosine_vector_sigmoid
// CHECK:            %[[QV:.*]] = vector.load
// CHECK-NEXT:       %[[QQ:.*]] = arith.mulf %[[QV]], %[[QV]]
// CHECK-NEXT:       %[[QN2:.*]] = vector.reduction <add>, %[[QQ]]
// CHECK-NEXT:       math.sqrt %[[QN2]] : f32
// CHECK:                %[[KV:.*]] = vector.load
// CHECK:                vector.reduction <add>
// CHECK:                %[[KK:.*]] = arith.mulf %[[KV]], %[[KV]]
// CHECK-NEXT:           vector.reduction <add>, %[[KK]]
func.func @cosine_vector_sigmoid(%q: memref<1x1x3x5xf32>, %k: memref<1x1x7x5xf32>,
                                 %v: memref<1x1x7x3xf32>, %c: memref<1x3x1x3xf32>) {
  attn.online_attention cosine align(sigmoid)
      ins(%q, %k, %v : memref<1x1x3x5xf32>, memref<1x1x7x5xf32>, memref<1x1x7x3xf32>)
      outs(%c : memref<1x3x1x3xf32>)
  return
}

// neg_sq_euclidean: q_i - k_j as one vector, one reduction of its square.
// CHECK-LABEL: func @neg_sq_euclidean_vector
// CHECK:            %[[QV:.*]] = vector.load %arg0
// CHECK:                %[[KV:.*]] = vector.load %arg1
// CHECK-NEXT:           %[[DV:.*]] = arith.subf %[[QV]], %[[KV]] : vector<5xf32>
// CHECK-NEXT:           %[[SQ:.*]] = arith.mulf %[[DV]], %[[DV]] {{.*}}: vector<5xf32>
// CHECK-NEXT:           %[[S:.*]] = vector.reduction <add>, %[[SQ]]
// CHECK-NEXT:           arith.negf %[[S]] : f32
func.func @neg_sq_euclidean_vector(%q: memref<1x1x3x5xf32>, %k: memref<1x1x7x5xf32>,
                                   %v: memref<1x1x7x3xf32>, %c: memref<1x3x1x3xf32>) {
  attn.online_attention neg_sq_euclidean
      ins(%q, %k, %v : memref<1x1x3x5xf32>, memref<1x1x7x5xf32>, memref<1x1x7x3xf32>)
      outs(%c : memref<1x3x1x3xf32>)
  return
}

// A dynamic D (or Dv) keeps the scalar loops over a state in buffers.
// CHECK-NOT:   memref.prefetch
// CHECK-LABEL: func @dynamic_size_is_scalar
// CHECK:       scf.parallel
// CHECK:         memref.alloc() : memref<3x3xf32>
// CHECK-NOT:     vector.
// CHECK:         memref.dealloc
// CHECK:         scf.reduce
func.func @dynamic_size_is_scalar(%q: memref<1x1x3x?xf32>, %k: memref<1x1x7x?xf32>,
                                  %v: memref<1x1x7x3xf32>, %c: memref<1x3x1x3xf32>) {
  attn.online_attention dot
      ins(%q, %k, %v : memref<1x1x3x?xf32>, memref<1x1x7x?xf32>, memref<1x1x7x3xf32>)
      outs(%c : memref<1x3x1x3xf32>)
  return
}

// The generic kernel takes every form of the tiled ops: a vector state with
// a dynamic D (hand-written; -attn-tile-attention would choose buffers)
// gets scalar scores and vector accumulators, and strided values and
// context rows go through vector transfers.
// CHECK-LABEL: func @vector_state_dynamic_d
// CHECK-NOT:     attn.
// CHECK:         scf.for {{.*}} iter_args({{.*}}) -> (f32, f32)
// CHECK:         vector.transfer_read %{{.*}} {in_bounds = [true]} : memref<1x1x?x4xf32, strided<[?, ?, ?, 1]>>, vector<4xf32>
// CHECK:       vector.transfer_write %{{.*}} {in_bounds = [true]} : vector<4xf32>, memref<1x?x1x4xf32, strided<[?, ?, ?, 1]>>
func.func @vector_state_dynamic_d(%q: memref<1x1x?x?xf32>, %k: memref<1x1x?x?xf32>,
                                  %v: memref<1x1x?x4xf32, strided<[?, ?, ?, 1]>>,
                                  %c: memref<1x?x1x4xf32, strided<[?, ?, ?, 1]>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %nq = memref.dim %q, %c2 : memref<1x1x?x?xf32>
  %nk = memref.dim %k, %c2 : memref<1x1x?x?xf32>
  %m0 = arith.constant dense<0xFF800000> : vector<4xf32>
  %zero = arith.constant dense<0.0> : vector<4xf32>
  %acc0 = arith.constant dense<0.0> : vector<4x4xf32>
  scf.parallel (%b, %h, %i0) = (%c0, %c0, %c0) to (%c1, %c1, %nq) step (%c1, %c1, %c4) {
    %state:3 = scf.for %j0 = %c0 to %nk step %c16
        iter_args(%m = %m0, %l = %zero, %acc = %acc0)
        -> (vector<4xf32>, vector<4xf32>, vector<4x4xf32>) {
      %new:3 = attn.online_softmax_update cosine key_tile(16)
          query(%q[%b, %h, %i0] : memref<1x1x?x?xf32>)
          keys(%k[%b, %h, %j0] : memref<1x1x?x?xf32>)
          values(%v[%b, %h] : memref<1x1x?x4xf32, strided<[?, ?, ?, 1]>>) key_end(%nk)
          state(%m, %l, %acc : vector<4xf32>, vector<4xf32>, vector<4x4xf32>)
          -> vector<4xf32>, vector<4xf32>, vector<4x4xf32>
      scf.yield %new#0, %new#1, %new#2 : vector<4xf32>, vector<4xf32>, vector<4x4xf32>
    }
    attn.tile_finalize ins(%state#1, %state#2 : vector<4xf32>, vector<4x4xf32>)
        outs(%c[%b, %i0, %h] : memref<1x?x1x4xf32, strided<[?, ?, ?, 1]>>)
    scf.reduce
  }
  return
}

// Rows of 64 floats (4 cache lines) or more: the per-query kernel
// prefetches the key row 8 ahead while it scores a key, and the value row
// 8 ahead while it adds p_j v_j, a line (16 floats) at a time, clamped to
// the last row. Shorter rows (the cases above) are not prefetched.
// CHECK-LABEL: func @long_rows_prefetched
// CHECK-SAME: (%[[Q:[^:]*]]: memref<1x1x?x64xf32>, %[[K:[^:]*]]: memref<1x1x?x64xf32>, %[[V:[^:]*]]: memref<1x1x?x64xf32>
// CHECK:          %[[NEXT:.*]] = arith.addi %{{.*}}, %c8{{.*}} : index
// CHECK-NEXT:     %[[AHEAD:.*]] = arith.minsi %[[NEXT]], %{{.*}} : index
// CHECK-COUNT-4:  memref.prefetch %[[K]][%{{.*}}, %{{.*}}, %[[AHEAD]], %{{.*}}], read, locality<3>, data
// CHECK:          %[[VNEXT:.*]] = arith.addi %{{.*}}, %c8{{.*}} : index
// CHECK-NEXT:     %[[VAHEAD:.*]] = arith.minsi %[[VNEXT]], %{{.*}} : index
// CHECK-COUNT-4:  memref.prefetch %[[V]][%{{.*}}, %{{.*}}, %[[VAHEAD]], %{{.*}}], read, locality<3>, data
func.func @long_rows_prefetched(%q: memref<1x1x?x64xf32>, %k: memref<1x1x?x64xf32>,
                                %v: memref<1x1x?x64xf32>, %c: memref<1x?x1x64xf32>) {
  attn.online_attention neg_sq_euclidean
      ins(%q, %k, %v : memref<1x1x?x64xf32>, memref<1x1x?x64xf32>, memref<1x1x?x64xf32>)
      outs(%c : memref<1x?x1x64xf32>)
  return
}
