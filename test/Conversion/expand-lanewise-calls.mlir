// RUN: attn-opt %s --attn-expand-lanewise-calls --split-input-file | FileCheck %s
//
// -attn-expand-lanewise-calls: attn.lanewise_call @f becomes @f's body on
// vectors where it can (values that depend on a per-lane operand become
// vectors, the others stay scalar), and one func.call per lane where it
// cannot.

// A table read under the guard ScalarPrograms emits (an scf.if on the
// table's size, the same for every lane) at a per-lane index: the guard
// stays an scf.if, now yielding a vector, and the load is a gather.
// The shared part (the size test, the clamp bound) is scalar.

// CHECK-LABEL: func @guarded_table
// CHECK-SAME:    (%[[E:.*]]: vector<4xf32>, %[[I:.*]]: index, %[[L:.*]]: vector<4xindex>, %[[T:.*]]: memref<?xf32>)
// CHECK-NOT:     attn.lanewise_call
// CHECK:         %[[N:.*]] = memref.dim %[[T]], %{{.*}} : memref<?xf32>
// CHECK:         %[[NONEMPTY:.*]] = arith.cmpi sgt, %[[N]], %{{.*}} : index
// CHECK:         %[[IB:.*]] = vector.broadcast %[[I]] : index to vector<4xindex>
// CHECK:         %[[D:.*]] = arith.subi %[[IB]], %[[L]] : vector<4xindex>
// CHECK:         %[[LASTB:.*]] = vector.broadcast %{{.*}} : index to vector<4xindex>
// CHECK:         %[[IDX:.*]] = arith.minsi %[[D]], %[[LASTB]] : vector<4xindex>
// CHECK:         %[[BIAS:.*]] = scf.if %[[NONEMPTY]] -> (vector<4xf32>) {
// CHECK:           %[[V:.*]] = vector.gather %[[T]][%{{.*}}] [%[[IDX]]], %{{.*}}, %{{.*}} : memref<?xf32>, vector<4xindex>, vector<4xi1>, vector<4xf32> into vector<4xf32>
// CHECK:           scf.yield %[[V]] : vector<4xf32>
// CHECK:         } else {
// CHECK:           %[[ZB:.*]] = vector.broadcast %{{.*}} : f32 to vector<4xf32>
// CHECK:           scf.yield %[[ZB]] : vector<4xf32>
// CHECK:         }
// CHECK:         %[[R:.*]] = arith.addf %[[E]], %[[BIAS]] : vector<4xf32>
// CHECK:         return %[[R]] : vector<4xf32>
func.func private @bias(%e: f32, %i: index, %l: index, %t: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %t, %c0 : memref<?xf32>
  %nonempty = arith.cmpi sgt, %n, %c0 : index
  %d = arith.subi %i, %l : index
  %last = arith.subi %n, %c1 : index
  %idx = arith.minsi %d, %last : index
  %x = scf.if %nonempty -> (f32) {
    %v = memref.load %t[%idx] : memref<?xf32>
    scf.yield %v : f32
  } else {
    scf.yield %zero : f32
  }
  %r = arith.addf %e, %x : f32
  return %r : f32
}
func.func @guarded_table(%e: vector<4xf32>, %i: index, %l: vector<4xindex>,
                         %t: memref<?xf32>) -> vector<4xf32> {
  %r = attn.lanewise_call @bias(%e, %i, %l, %t)
      : (vector<4xf32>, index, vector<4xindex>, memref<?xf32>) -> vector<4xf32>
  return %r : vector<4xf32>
}

// -----

// A table of rows whose row index differs between lanes: a gather's
// offsets run along the last dimension only, so each lane is loaded on its
// own (the shared column index stays scalar).

// CHECK-LABEL: func @row_per_lane
// CHECK-SAME:    (%[[L:.*]]: vector<4xindex>, %[[J:.*]]: index, %[[T:.*]]: memref<?x8xf32>)
// CHECK-NOT:     vector.gather
// CHECK:         %[[L0:.*]] = vector.extract %[[L]][0] : index from vector<4xindex>
// CHECK:         memref.load %[[T]][%[[L0]], %[[J]]] : memref<?x8xf32>
// CHECK:         %[[L3:.*]] = vector.extract %[[L]][3] : index from vector<4xindex>
// CHECK:         %[[X3:.*]] = memref.load %[[T]][%[[L3]], %[[J]]] : memref<?x8xf32>
// CHECK:         %[[V:.*]] = vector.insert %[[X3]], %{{.*}} [3] : f32 into vector<4xf32>
// CHECK:         return %[[V]] : vector<4xf32>
func.func private @row(%l: index, %j: index, %t: memref<?x8xf32>) -> f32 {
  %v = memref.load %t[%l, %j] : memref<?x8xf32>
  return %v : f32
}
func.func @row_per_lane(%l: vector<4xindex>, %j: index,
                        %t: memref<?x8xf32>) -> vector<4xf32> {
  %r = attn.lanewise_call @row(%l, %j, %t)
      : (vector<4xindex>, index, memref<?x8xf32>) -> vector<4xf32>
  return %r : vector<4xf32>
}

// -----

// Math ops on per-lane values become vector math ops; a result that does
// not depend on any per-lane operand is computed once and broadcast.

// CHECK-LABEL: func @math_and_shared
// CHECK-SAME:    (%[[E:.*]]: vector<8xf32>, %[[H:.*]]: index)
// CHECK:         %[[X:.*]] = math.tanh %[[E]] : vector<8xf32>
// CHECK:         %[[HI:.*]] = arith.index_cast %[[H]] : index to i64
// CHECK:         %[[HF:.*]] = arith.sitofp %[[HI]] : i64 to f32
// CHECK:         %[[HB:.*]] = vector.broadcast %[[HF]] : f32 to vector<8xf32>
// CHECK:         %[[R:.*]] = arith.mulf %[[X]], %[[HB]] : vector<8xf32>
// CHECK:         %[[HI2:.*]] = arith.index_cast %[[H]] : index to i64
// CHECK:         %[[HF2:.*]] = arith.sitofp %[[HI2]] : i64 to f32
// CHECK:         %[[S:.*]] = vector.broadcast %[[HF2]] : f32 to vector<8xf32>
// CHECK:         return %[[R]], %[[S]]
func.func private @tanh_times_head(%e: f32, %h: index) -> f32 {
  %x = math.tanh %e : f32
  %hi = arith.index_cast %h : index to i64
  %hf = arith.sitofp %hi : i64 to f32
  %r = arith.mulf %x, %hf : f32
  return %r : f32
}
func.func private @head_only(%e: f32, %h: index) -> f32 {
  %hi = arith.index_cast %h : index to i64
  %hf = arith.sitofp %hi : i64 to f32
  return %hf : f32
}
func.func @math_and_shared(%e: vector<8xf32>, %h: index)
    -> (vector<8xf32>, vector<8xf32>) {
  %r = attn.lanewise_call @tanh_times_head(%e, %h)
      : (vector<8xf32>, index) -> vector<8xf32>
  %s = attn.lanewise_call @head_only(%e, %h)
      : (vector<8xf32>, index) -> vector<8xf32>
  return %r, %s : vector<8xf32>, vector<8xf32>
}

// -----

// An scf.if on a per-lane condition, and a callee without a body: one
// func.call per lane, lane k of the vector operands, the results inserted.

// CHECK-LABEL: func @per_lane
// CHECK-SAME:    (%[[E:.*]]: vector<2xf32>, %[[L:.*]]: vector<2xindex>)
// CHECK:         %[[Z:.*]] = arith.constant dense<0.000000e+00> : vector<2xf32>
// CHECK:         %[[E0:.*]] = vector.extract %[[E]][0] : f32 from vector<2xf32>
// CHECK:         %[[L0:.*]] = vector.extract %[[L]][0] : index from vector<2xindex>
// CHECK:         %[[C0:.*]] = call @branchy(%[[E0]], %[[L0]]) : (f32, index) -> f32
// CHECK:         %[[V0:.*]] = vector.insert %[[C0]], %[[Z]] [0] : f32 into vector<2xf32>
// CHECK:         %[[E1:.*]] = vector.extract %[[E]][1] : f32 from vector<2xf32>
// CHECK:         %[[L1:.*]] = vector.extract %[[L]][1] : index from vector<2xindex>
// CHECK:         %[[C1:.*]] = call @branchy(%[[E1]], %[[L1]]) : (f32, index) -> f32
// CHECK:         %[[V1:.*]] = vector.insert %[[C1]], %[[V0]] [1] : f32 into vector<2xf32>
// CHECK:         %[[K0:.*]] = vector.extract %[[L]][0] : index from vector<2xindex>
// CHECK:         call @opaque(%[[K0]]) : (index) -> i1
// CHECK:         %[[K1:.*]] = vector.extract %[[L]][1] : index from vector<2xindex>
// CHECK:         call @opaque(%[[K1]]) : (index) -> i1
// CHECK:         return %[[V1]]
func.func private @branchy(%e: f32, %l: index) -> f32 {
  %c0 = arith.constant 0 : index
  %odd = arith.cmpi ne, %l, %c0 : index
  %r = scf.if %odd -> (f32) {
    %n = arith.negf %e : f32
    scf.yield %n : f32
  } else {
    scf.yield %e : f32
  }
  return %r : f32
}
func.func private @opaque(%l: index) -> i1
func.func @per_lane(%e: vector<2xf32>, %l: vector<2xindex>)
    -> (vector<2xf32>, vector<2xi1>) {
  %r = attn.lanewise_call @branchy(%e, %l)
      : (vector<2xf32>, vector<2xindex>) -> vector<2xf32>
  %k = attn.lanewise_call @opaque(%l) : (vector<2xindex>) -> vector<2xi1>
  return %r, %k : vector<2xf32>, vector<2xi1>
}
