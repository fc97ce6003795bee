// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s
// RUN: attn-opt %s --convert-attn-to-loops --attn-expand-lanewise-calls | FileCheck %s --check-prefix=EXPANDED
// RUN: attn-opt %s --convert-attn-to-loops --attn-expand-lanewise-calls --inline --symbol-dce | FileCheck %s --check-prefix=INLINED
//
// Score modifiers and mask predicates in the blocked dot kernel: pass 1
// stores the tile's scores (the FMA blocks, keys the intervals mask at
// -inf), then a pass over each row's stored scores, 16 keys at a time,
// applies the score_mod function lane-wise (attn.lanewise_call, with the
// batch entry, the head and the query shared and a vector of keys; lanes
// past the tile's last visible key take that key), selects -inf where the
// mask_mod function is false, keeps the interval-masked keys at -inf (a
// modifier could make them finite), stores the result and takes the row's
// lane-wise maxima again, which pass 2 uses. The tables are cast to the
// functions' any-strides type. -attn-expand-lanewise-calls then inlines the
// functions on vectors: the slope (indexed by the head) is loaded once, the
// segment ids of the keys one lane at a time; no call is left, and after
// --symbol-dce (the attnc pipeline) no function either.

// CHECK-LABEL: func @modifiers
// CHECK:        %[[IOTA:.*]] = vector.step : vector<16xindex>
// CHECK:        vector.fma
// CHECK-DAG:    %[[SLOPE:.*]] = memref.cast %{{.*}} : memref<4xf32> to memref<?xf32, strided<[?], offset: ?>>
// CHECK-DAG:    %[[SEG:.*]] = memref.cast %{{.*}} : memref<2x?xi32> to memref<?x?xi32, strided<[?, ?], offset: ?>>
// CHECK:        %[[LAST:.*]] = vector.broadcast %{{.*}} : index to vector<16xindex>
// CHECK:        scf.for %[[JV:.*]] = %{{.*}} to %{{.*}} step %c16{{.*}} iter_args(%[[M:.*]] = %{{.*}}) -> (vector<16xf32>)
// CHECK:          %[[S:.*]] = vector.load %[[SCORES:.*]][%{{.*}}, %[[JV]]] : memref<8x144xf32>, vector<16xf32>
// CHECK:          %[[MASKED:.*]] = arith.cmpf oeq, %[[S]], %{{.*}} : vector<16xf32>
// CHECK:          %[[J0:.*]] = arith.addi %{{.*}}, %[[JV]] : index
// CHECK:          %[[JB:.*]] = vector.broadcast %[[J0]] : index to vector<16xindex>
// CHECK:          %[[JS:.*]] = arith.addi %[[JB]], %[[IOTA]] : vector<16xindex>
// CHECK:          %[[J:.*]] = arith.minui %[[JS]], %[[LAST]] : vector<16xindex>
// CHECK:          %[[MOD:.*]] = attn.lanewise_call @alibi(%[[S]], %[[B:[^,]*]], %[[H:[^,]*]], %[[I:[^,]*]], %[[J]], %[[SLOPE]], %[[SEG]]) : (vector<16xf32>, index, index, index, vector<16xindex>, {{.*}}) -> vector<16xf32>
// CHECK:          %[[KEEP:.*]] = attn.lanewise_call @same_doc(%[[B]], %[[H]], %[[I]], %[[J]], %[[SLOPE]], %[[SEG]]) : {{.*}} -> vector<16xi1>
// CHECK:          %[[NEGINF:.*]] = vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK:          %[[KEPT:.*]] = arith.select %[[KEEP]], %[[MOD]], %[[NEGINF]] : vector<16xi1>, vector<16xf32>
// CHECK:          %[[NEW:.*]] = arith.select %[[MASKED]], %[[S]], %[[KEPT]] : vector<16xi1>, vector<16xf32>
// CHECK:          vector.store %[[NEW]], %[[SCORES]][%{{.*}}, %[[JV]]] : memref<8x144xf32>, vector<16xf32>
// CHECK:          arith.maxnumf %[[M]], %[[NEW]] : vector<16xf32>

// EXPANDED-LABEL: func @modifiers
// EXPANDED-NOT:   attn.lanewise_call
// EXPANDED:       scf.for %{{.*}} iter_args(%{{.*}}) -> (vector<16xf32>)
// EXPANDED:         %[[J:.*]] = arith.minui %{{.*}} : vector<16xindex>
// EXPANDED:         %[[SL:.*]] = memref.load %{{.*}}[%{{.*}}] : memref<?xf32, strided<[?], offset: ?>>
// EXPANDED:         %[[IB:.*]] = vector.broadcast %{{.*}} : index to vector<16xindex>
// EXPANDED:         %[[D:.*]] = arith.subi %[[IB]], %[[J]] : vector<16xindex>
// EXPANDED:         %[[DI:.*]] = arith.index_cast %[[D]] : vector<16xindex> to vector<16xi64>
// EXPANDED:         %[[DF:.*]] = arith.sitofp %[[DI]] : vector<16xi64> to vector<16xf32>
// EXPANDED:         %[[SLB:.*]] = vector.broadcast %[[SL]] : f32 to vector<16xf32>
// EXPANDED:         %[[P:.*]] = arith.mulf %[[SLB]], %[[DF]] : vector<16xf32>
// EXPANDED:         arith.subf %{{.*}}, %[[P]] : vector<16xf32>
// EXPANDED:         %[[SI:.*]] = memref.load %{{.*}} : memref<?x?xi32, strided<[?, ?], offset: ?>>
// EXPANDED:         %[[L0:.*]] = vector.extract %[[J]][0] : index from vector<16xindex>
// EXPANDED:         memref.load %{{.*}}[%{{.*}}, %[[L0]]] : memref<?x?xi32, strided<[?, ?], offset: ?>>
// EXPANDED:         %[[L15:.*]] = vector.extract %[[J]][15] : index from vector<16xindex>
// EXPANDED:         memref.load %{{.*}}[%{{.*}}, %[[L15]]] : memref<?x?xi32, strided<[?, ?], offset: ?>>
// EXPANDED:         %[[SIB:.*]] = vector.broadcast %[[SI]] : i32 to vector<16xi32>
// EXPANDED:         arith.cmpi eq, %[[SIB]], %{{.*}} : vector<16xi32>

// INLINED-NOT: func.func private
// INLINED-NOT: func.call
// INLINED-NOT: attn.lanewise_call
// INLINED-LABEL: func @modifiers
// INLINED: memref.load %{{.*}} : memref<2x?xi32>
func.func private @alibi(%e: f32, %b: index, %h: index, %i: index, %l: index,
                         %slope: memref<?xf32, strided<[?], offset: ?>>,
                         %seg: memref<?x?xi32, strided<[?, ?], offset: ?>>) -> f32 {
  %s = memref.load %slope[%h] : memref<?xf32, strided<[?], offset: ?>>
  %d = arith.subi %i, %l : index
  %di = arith.index_cast %d : index to i64
  %df = arith.sitofp %di : i64 to f32
  %p = arith.mulf %s, %df : f32
  %r = arith.subf %e, %p : f32
  return %r : f32
}
func.func private @same_doc(%b: index, %h: index, %i: index, %l: index,
                            %slope: memref<?xf32, strided<[?], offset: ?>>,
                            %seg: memref<?x?xi32, strided<[?, ?], offset: ?>>) -> i1 {
  %si = memref.load %seg[%b, %i] : memref<?x?xi32, strided<[?, ?], offset: ?>>
  %sl = memref.load %seg[%b, %l] : memref<?x?xi32, strided<[?, ?], offset: ?>>
  %eq = arith.cmpi eq, %si, %sl : i32
  return %eq : i1
}
func.func @modifiers(%q: memref<2x4x?x16xf32>, %slope: memref<4xf32>,
                     %seg: memref<2x?xi32>, %c: memref<2x?x4x16xf32>) {
  attn.online_attention dot score_mod(@alibi) mask_mod(@same_doc)
      ins(%q, %q, %q : memref<2x4x?x16xf32>, memref<2x4x?x16xf32>, memref<2x4x?x16xf32>)
      mod_tables(%slope, %seg : memref<4xf32>, memref<2x?xi32>)
      outs(%c : memref<2x?x4x16xf32>)
  return
}
