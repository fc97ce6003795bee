// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s
// RUN: attn-opt %s --attn-tile-attention | FileCheck %s --check-prefix=TILE
//
// Multi-dimensional attention (the multidim_additive combine, survey eqs.
// 30-32) has no tiled form: -attn-tile-attention leaves it, and
// -convert-attn-to-loops lowers it (MultiDimensional.cpp) to one parallel
// iteration per (batch, head, query) whose key loop runs between the mask
// bounds and carries the per-feature state of the online softmax (buffers or
// vectors of Dv): the running maximum m, the sum l and the accumulator acc, plus the
// hidden vector t of Dw. Per key: t = act(q' + k'), then per feature f,
// s = W_d[f] . t, m' = max(m, s), l = l exp(m - m') + exp(s - m'),
// acc = acc exp(m - m') + exp(s - m') v_f; finally c = acc / l (0 if l = 0).
// (Each exp is 0 below 2^-99.5: no subnormal products.)

// TILE-LABEL: func @multidim_scalar
// TILE-NOT: scf.parallel
// TILE: attn.online_attention multidim_additive act(tanh) causal
// TILE-NOT: attn.online_softmax_update

// With dynamic Dw and Dv (or sizes past the target's vectors): buffers
// updated by scalar loops.

// CHECK-LABEL: func @multidim_scalar
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x?x?xf32>, %[[K:[^:]*]]: memref<?x1x?x?xf32>, %[[V:[^:]*]]: memref<?x1x?x?xf32>, %[[WD:[^:]*]]: memref<?x?xf32>, %[[L:[^:]*]]: memref<?xi32>, %[[C:[^:]*]]: memref<?x?x1x?xf32>)
// CHECK-NOT: attn.
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]], %[[I:.*]]) = ({{.*}}) to ({{.*}}) step (%[[ONE:[^,]*]], %[[ONE]], %[[ONE]]) {
// The keys of query i: [0, min(lengths[b], i + 1 - (Nq - Nk))), at least 0.
// CHECK: memref.load %[[L]][%[[B]]] : memref<?xi32>
// CHECK: arith.minsi
// CHECK: arith.minsi
// CHECK-NEXT: arith.constant 0
// CHECK-NEXT: %[[END:.*]] = arith.maxsi
// The per-feature state and the hidden vector, per query.
// CHECK: %[[T:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK-NEXT: %[[M:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK-NEXT: %[[SUM:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK-NEXT: %[[ACC:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK: scf.for %[[F0:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: memref.store %[[NEGINF]], %[[M]][%[[F0]]]
// CHECK: memref.store %{{.*}}, %[[SUM]][%[[F0]]]
// CHECK: memref.store %{{.*}}, %[[ACC]][%[[F0]]]
// The key loop.
// CHECK: scf.for %[[KEY:.*]] = %{{.*}} to %[[END]] step
// t = act(q' + k'), once per key.
// CHECK: scf.for %[[D:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[QD:.*]] = memref.load %[[Q]][%{{.*}}, %[[H]], %[[I]], %[[D]]]
// CHECK: %[[KD:.*]] = memref.load %[[K]][%{{.*}}, %{{.*}}, %[[KEY]], %[[D]]]
// CHECK: %[[X:.*]] = arith.addf %[[QD]], %[[KD]]
// CHECK: %[[ACT:.*]] = math.tanh %[[X]]
// CHECK: memref.store %[[ACT]], %[[T]][%[[D]]]
// Per feature f: s = W_d[f] . t and the online-softmax update of its state.
// CHECK: scf.for %[[F:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[S:.*]] = scf.for {{.*}} iter_args
// CHECK: memref.load %[[WD]][%[[F]], %{{.*}}] : memref<?x?xf32>
// CHECK: memref.load %[[T]]
// CHECK: %[[MOLD:.*]] = memref.load %[[M]][%[[F]]]
// CHECK-NEXT: %[[MNEW:.*]] = arith.maximumf %[[MOLD]], %[[S]] : f32
// CHECK: arith.subf %[[MOLD]], %[[MNEW]]
// CHECK: %[[ALPHAE:.*]] = math.exp
// CHECK: %[[ALPHA0:.*]] = arith.select %{{.*}}, %{{.*}}, %[[ALPHAE]]
// CHECK: %[[ALPHA:.*]] = arith.select %{{.*}}, %{{.*}}, %[[ALPHA0]]
// CHECK: arith.subf %[[S]], %[[MNEW]]
// CHECK: %[[PE:.*]] = math.exp
// CHECK: %[[P0:.*]] = arith.select %{{.*}}, %{{.*}}, %[[PE]]
// CHECK: %[[P:.*]] = arith.select %{{.*}}, %{{.*}}, %[[P0]]
// CHECK: %[[VF:.*]] = memref.load %[[V]][%{{.*}}, %{{.*}}, %[[KEY]], %[[F]]]
// CHECK: %[[LOLD:.*]] = memref.load %[[SUM]][%[[F]]]
// CHECK: %[[LSC:.*]] = arith.mulf %[[LOLD]], %[[ALPHA]]
// CHECK: %[[LNEW:.*]] = arith.addf %[[LSC]], %[[P]]
// CHECK: memref.store %[[LNEW]], %[[SUM]][%[[F]]]
// CHECK: %[[AOLD:.*]] = memref.load %[[ACC]][%[[F]]]
// CHECK: %[[ASC:.*]] = arith.mulf %[[AOLD]], %[[ALPHA]]
// CHECK: %[[PV:.*]] = arith.mulf %[[P]], %[[VF]]
// CHECK: %[[ANEW:.*]] = arith.addf %[[ASC]], %[[PV]]
// CHECK: memref.store %[[ANEW]], %[[ACC]][%[[F]]]
// CHECK: memref.store %[[MNEW]], %[[M]][%[[F]]]
// Finalize: c[b, i, h, f] = acc_f / l_f, 0 when l_f = 0.
// CHECK: scf.for %[[G:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[A:.*]] = memref.load %[[ACC]][%[[G]]]
// CHECK: %[[LF:.*]] = memref.load %[[SUM]][%[[G]]]
// CHECK: arith.cmpf ogt, %[[LF]]
// CHECK: %[[INV:.*]] = arith.select
// CHECK: %[[CF:.*]] = arith.mulf %[[A]], %[[INV]]
// CHECK: memref.store %[[CF]], %[[C]][%[[B]], %[[I]], %[[H]], %[[G]]]
// CHECK: memref.dealloc %[[T]]
// CHECK: memref.dealloc %[[M]]
// CHECK: memref.dealloc %[[SUM]]
// CHECK: memref.dealloc %[[ACC]]
func.func @multidim_scalar(%q: memref<?x1x?x?xf32>, %k: memref<?x1x?x?xf32>, %v: memref<?x1x?x?xf32>,
                    %wd: memref<?x?xf32>, %len: memref<?xi32>, %c: memref<?x?x1x?xf32>) {
  attn.online_attention multidim_additive act(tanh) causal
      ins(%q, %k, %v : memref<?x1x?x?xf32>, memref<?x1x?x?xf32>, memref<?x1x?x?xf32>)
      score_weights(%wd : memref<?x?xf32>)
      lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x1x?xf32>)
  return
}


// With static Dw = 4 and Dv = 3: W_d^T [Dw, Dv] once before the parallel
// loop, q' in a vector<Dw>, the state (m, l, acc) three vector<Dv> carried by
// the key loop, s = sum_c t_c W_d^T[c] with FMAs, the update lane-wise.
// CHECK-LABEL: func @multidim_vector
// CHECK-SAME: (%[[Q:[^:]*]]: memref<?x1x?x4xf32>, %[[K:[^:]*]]: memref<?x1x?x4xf32>, %[[V:[^:]*]]: memref<?x1x?x3xf32>, %[[WD:[^:]*]]: memref<3x4xf32>, %{{[^:]*}}: memref<?xi32>, %[[C:[^:]*]]: memref<?x?x1x3xf32>)
// CHECK: %[[WDT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x3xf32>
// CHECK: memref.load %[[WD]][%[[F:.*]], %[[D:.*]]] : memref<3x4xf32>
// CHECK-NEXT: memref.store %{{.*}}, %[[WDT]][%[[D]], %[[F]]] : memref<4x3xf32>
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]], %[[I:.*]]) =
// CHECK: %[[QV:.*]] = vector.load %[[Q]][%{{.*}}, %[[H]], %[[I]], %{{.*}}] : memref<?x1x?x4xf32>, vector<4xf32>
// CHECK: %[[S:.*]]:3 = scf.for %[[KEY:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[M:.*]] = %{{.*}}, %[[L:.*]] = %{{.*}}, %[[ACC:.*]] = %{{.*}}) -> (vector<3xf32>, vector<3xf32>, vector<3xf32>) {
// CHECK: %[[KV:.*]] = vector.load %[[K]][%{{.*}}, %{{.*}}, %[[KEY]], %{{.*}}] : memref<?x1x?x4xf32>, vector<4xf32>
// CHECK: %[[X:.*]] = arith.addf %[[QV]], %[[KV]]
// CHECK: %[[T:.*]] = math.tanh %[[X]] : vector<4xf32>
// CHECK: vector.extract %[[T]][0]
// CHECK: vector.load %[[WDT]]
// CHECK: vector.fma
// CHECK: vector.extract %[[T]][3]
// CHECK: vector.load %[[WDT]]
// CHECK: %[[SC:.*]] = vector.fma {{.*}} : vector<3xf32>
// CHECK: %[[MNEW:.*]] = arith.maximumf %[[M]], %[[SC]] : vector<3xf32>
// CHECK: arith.subf %[[M]], %[[MNEW]]
// CHECK: %[[ALPHAE:.*]] = math.exp {{.*}} : vector<3xf32>
// CHECK: %[[ALPHA0:.*]] = arith.select %{{.*}}, %{{.*}}, %[[ALPHAE]]
// CHECK: %[[ALPHA:.*]] = arith.select %{{.*}}, %{{.*}}, %[[ALPHA0]]
// CHECK: arith.subf %[[SC]], %[[MNEW]]
// CHECK: %[[PE:.*]] = math.exp {{.*}} : vector<3xf32>
// CHECK: %[[P0:.*]] = arith.select %{{.*}}, %{{.*}}, %[[PE]]
// CHECK: %[[P:.*]] = arith.select %{{.*}}, %{{.*}}, %[[P0]]
// CHECK: %[[VV:.*]] = vector.load %[[V]][%{{.*}}, %{{.*}}, %[[KEY]], %{{.*}}] : memref<?x1x?x3xf32>, vector<3xf32>
// CHECK: %[[LSC:.*]] = arith.mulf %[[L]], %[[ALPHA]]
// CHECK: %[[LNEW:.*]] = arith.addf %[[LSC]], %[[P]]
// CHECK: %[[ASC:.*]] = arith.mulf %[[ACC]], %[[ALPHA]]
// CHECK: %[[PV:.*]] = arith.mulf %[[P]], %[[VV]]
// CHECK: %[[ANEW:.*]] = arith.addf %[[ASC]], %[[PV]]
// CHECK: scf.yield %[[MNEW]], %[[LNEW]], %[[ANEW]] : vector<3xf32>, vector<3xf32>, vector<3xf32>
// CHECK: %[[SEEN:.*]] = arith.cmpf ogt, %[[S]]#1
// CHECK: %[[SAFE:.*]] = arith.select %[[SEEN]], %[[S]]#1
// CHECK: %[[DIV:.*]] = arith.divf %[[S]]#2, %[[SAFE]]
// CHECK: %[[CV:.*]] = arith.select %[[SEEN]], %[[DIV]]
// CHECK: vector.store %[[CV]], %[[C]][%[[B]], %[[I]], %[[H]], %{{.*}}] : memref<?x?x1x3xf32>, vector<3xf32>
// CHECK: scf.reduce
// CHECK: memref.dealloc %[[WDT]] : memref<4x3xf32>
func.func @multidim_vector(%q: memref<?x1x?x4xf32>, %k: memref<?x1x?x4xf32>, %v: memref<?x1x?x3xf32>,
                           %wd: memref<3x4xf32>, %len: memref<?xi32>, %c: memref<?x?x1x3xf32>) {
  attn.online_attention multidim_additive act(tanh) causal
      ins(%q, %k, %v : memref<?x1x?x4xf32>, memref<?x1x?x4xf32>, memref<?x1x?x3xf32>)
      score_weights(%wd : memref<3x4xf32>)
      lengths(%len : memref<?xi32>)
      outs(%c : memref<?x?x1x3xf32>)
  return
}

// Dynamic Dv and Dw: the state is allocated with the values' size; a window
// gives the key loop a lower bound.
// CHECK-LABEL: func @multidim_dynamic
// CHECK-SAME: (%[[Q:[^:]*]]: memref<2x2x?x?xf32>, %{{[^:]*}}: memref<2x1x?x?xf32>, %[[V:[^:]*]]: memref<2x1x?x?xf32>
// CHECK: scf.parallel
// CHECK: %[[BEGIN:.*]] = arith.maxsi %{{.*}}, %{{.*}} : index
// CHECK: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK-NEXT: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK-NEXT: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK-NEXT: memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?xf32>
// CHECK: scf.for %{{.*}} = %[[BEGIN]] to %{{.*}} step
// CHECK: arith.maximumf
func.func @multidim_dynamic(%q: memref<2x2x?x?xf32>, %k: memref<2x1x?x?xf32>, %v: memref<2x1x?x?xf32>,
                            %wd: memref<?x?xf32>, %c: memref<2x?x2x?xf32>) {
  attn.online_attention multidim_additive act(relu) window(3)
      ins(%q, %k, %v : memref<2x2x?x?xf32>, memref<2x1x?x?xf32>, memref<2x1x?x?xf32>)
      score_weights(%wd : memref<?x?xf32>)
      outs(%c : memref<2x?x2x?xf32>)
  return
}
