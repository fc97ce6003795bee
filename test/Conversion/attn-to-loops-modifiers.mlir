// RUN: attn-opt %s --convert-attn-to-loops | FileCheck %s
// RUN: attn-opt %s --convert-attn-to-loops --inline --symbol-dce | FileCheck %s --check-prefix=INLINED
//
// Score modifiers and mask predicates in the blocked dot kernel: pass 1
// stores the tile's scores (the FMA blocks, keys the intervals mask at
// -inf), then a scalar pass over each row's stored scores calls the
// score_mod function (with the batch entry, the head, the query and the
// key), selects -inf where the mask_mod function is false, keeps the
// interval-masked keys at -inf (a modifier could make them finite), stores
// the result and takes the row's maximum again, which pass 2 uses. The
// tables are cast to the functions' any-strides type. After inlining (the
// attnc pipeline runs --inline --symbol-dce), the functions are part of
// the key loop and gone from the module.

// CHECK-LABEL: func @modifiers
// CHECK:        vector.fma
// CHECK-DAG:    %[[SLOPE:.*]] = memref.cast %{{.*}} : memref<4xf32> to memref<?xf32, strided<[?], offset: ?>>
// CHECK-DAG:    %[[SEG:.*]] = memref.cast %{{.*}} : memref<2x?xi32> to memref<?x?xi32, strided<[?, ?], offset: ?>>
// CHECK:        scf.for %[[JJ:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[M:.*]] = %{{.*}}) -> (f32)
// CHECK:          %[[S:.*]] = memref.load %[[SCORES:.*]][%{{.*}}, %[[JJ]]] : memref<8x128xf32>
// CHECK:          %[[MASKED:.*]] = arith.cmpf oeq, %[[S]], %{{.*}} : f32
// CHECK:          %[[J:.*]] = arith.addi %{{.*}}, %[[JJ]] : index
// CHECK:          %[[MOD:.*]] = func.call @alibi(%[[S]], %[[B:[^,]*]], %[[H:[^,]*]], %[[I:[^,]*]], %[[J]], %[[SLOPE]], %[[SEG]])
// CHECK:          %[[KEEP:.*]] = func.call @same_doc(%[[B]], %[[H]], %[[I]], %[[J]], %[[SLOPE]], %[[SEG]])
// CHECK:          %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK:          %[[KEPT:.*]] = arith.select %[[KEEP]], %[[MOD]], %[[NEGINF]] : f32
// CHECK:          %[[NEW:.*]] = arith.select %[[MASKED]], %[[S]], %[[KEPT]] : f32
// CHECK:          memref.store %[[NEW]], %[[SCORES]][%{{.*}}, %[[JJ]]] : memref<8x128xf32>
// CHECK:          arith.maxnumf %[[M]], %[[NEW]] : f32

// INLINED-NOT: func.func private
// INLINED-NOT: func.call
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
