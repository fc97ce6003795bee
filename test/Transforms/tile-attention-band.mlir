// RUN: attn-opt %s "--attn-tile-attention=query-tiles-per-group=1 split-keys=false" | FileCheck %s
//
// A key band (from a mask predicate such as `abs(i - l) <= 3 && l <= i +
// 1`) keeps keys i - 3 <= l <= i + 1 of query i (its own index): the key
// loop of the query tile [i0, i0 + 8) starts at the key tile holding
// i0 - 3 (clamped at 0, rounded down to a key tile of 64) and ends one
// past the last query's i + 1 (cut by the keys there are): key tiles
// outside the band are never visited. The partial tiles at both ends are
// masked by the update op, which carries the band.

// CHECK-LABEL: func @band
// CHECK-DAG:  %[[KT:.*]] = arith.constant 128 : index
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) =
// The upper bound: the tile's last query (clamped to Nq - 1) + 2.
// CHECK:        %[[LASTQ:.*]] = arith.minsi
// CHECK:        %[[END:.*]] = arith.addi %[[LASTQ]], %c2 : index
// CHECK:        %[[CUT:.*]] = arith.minsi %{{.*}}, %[[END]] : index
// CHECK:        %[[UB:.*]] = arith.maxsi %[[CUT]], %{{.*}} : index
// The lower bound: i0 - 3, clamped at 0, rounded down to a key tile.
// CHECK:        %[[FIRST:.*]] = arith.addi %[[I0]], %c-3 : index
// CHECK:        %[[FIRST0:.*]] = arith.maxsi %[[FIRST]], %{{.*}} : index
// CHECK:        %[[TILEIDX:.*]] = arith.divui %[[FIRST0]], %[[KT]] : index
// CHECK:        %[[LB:.*]] = arith.muli %[[TILEIDX]], %[[KT]] : index
// CHECK:        scf.for %[[J0:.*]] = %[[LB]] to %[[UB]] step %[[KT]] iter_args(
// CHECK:          attn.online_softmax_update dot band_lower(-3) band_upper(1) key_tile(128)
func.func @band(%q: memref<2x1x?x16xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot band_lower(-3) band_upper(1)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}

// A score modifier and a mask predicate are passed on to the update op
// (and to the weights pass), with the batch entry the functions see.
// CHECK-LABEL: func @modifiers
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) =
// CHECK:        attn.online_softmax_update dot score_mod(@alibi) mask_mod(@same_doc) key_tile(128) {{.*}} mod_tables(%{{.*}}, %{{.*}} : memref<4xf32>, memref<2x?xi32>) sample_batch(%[[B]])
// CHECK:        attn.tile_weights dot score_mod(@alibi) mask_mod(@same_doc) {{.*}} mod_tables(
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
                     %seg: memref<2x?xi32>, %c: memref<2x?x4x16xf32>,
                     %w: memref<2x4x?x?xf32>) {
  attn.online_attention dot score_mod(@alibi) mask_mod(@same_doc)
      ins(%q, %q, %q : memref<2x4x?x16xf32>, memref<2x4x?x16xf32>, memref<2x4x?x16xf32>)
      mod_tables(%slope, %seg : memref<4xf32>, memref<2x?xi32>)
      outs(%c : memref<2x?x4x16xf32>) weights(%w : memref<2x4x?x?xf32>)
  return
}

// A key range from data (a predicted window: `mask [i, l]: abs(l - p[i])
// <= D`): the range function is called for each query of the tile, and the
// key loop runs over the union of their ranges, [min lo, max hi], rounded
// down to a key tile at the start; the mask function still decides each key.
// CHECK-LABEL: func @predicted_window
// CHECK:      scf.parallel (%[[B:[^,]*]], %[[H:[^,]*]], %[[I0:[^)]*]]) =
// CHECK-COUNT-8: func.call @range(%[[B]], %[[H]], %{{.*}}, %{{.*}}) : (index, index, index, memref<?x?xf32, strided<[?, ?], offset: ?>>) -> (index, index)
// CHECK:        %[[LO:.*]] = arith.minsi
// CHECK:        %[[HI:.*]] = arith.maxsi
// CHECK:        %[[FIRST:.*]] = arith.maxsi %[[LO]], %{{.*}} : index
// CHECK:        %[[T:.*]] = arith.divui %[[FIRST]], %{{.*}} : index
// CHECK:        %[[ROUNDED:.*]] = arith.muli %[[T]], %{{.*}} : index
// CHECK:        %[[LB:.*]] = arith.maxsi %[[ROUNDED]], %{{.*}} : index
// CHECK:        %[[END:.*]] = arith.addi %[[HI]], %{{.*}} : index
// CHECK:        %[[END0:.*]] = arith.maxsi %[[END]], %{{.*}} : index
// CHECK:        %[[UB:.*]] = arith.minsi %{{.*}}, %[[END0]] : index
// CHECK:        scf.for %{{.*}} = %[[LB]] to %[[UB]] step
// CHECK:          attn.online_softmax_update dot mask_mod(@near) key_tile(128)
func.func private @range(%b: index, %h: index, %i: index,
                         %p: memref<?x?xf32, strided<[?, ?], offset: ?>>) -> (index, index) {
  %x = memref.load %p[%b, %i] : memref<?x?xf32, strided<[?, ?], offset: ?>>
  %f = math.floor %x : f32
  %c = math.ceil %x : f32
  %fi = arith.fptosi %f : f32 to i64
  %ci = arith.fptosi %c : f32 to i64
  %lo = arith.index_cast %fi : i64 to index
  %hi = arith.index_cast %ci : i64 to index
  %c3 = arith.constant 3 : index
  %lo3 = arith.subi %lo, %c3 : index
  %hi3 = arith.addi %hi, %c3 : index
  return %lo3, %hi3 : index, index
}
func.func private @near(%b: index, %h: index, %i: index, %l: index,
                        %p: memref<?x?xf32, strided<[?, ?], offset: ?>>) -> i1 {
  %x = memref.load %p[%b, %i] : memref<?x?xf32, strided<[?, ?], offset: ?>>
  %li = arith.index_cast %l : index to i64
  %lf = arith.sitofp %li : i64 to f32
  %d = arith.subf %lf, %x : f32
  %a = math.absf %d : f32
  %c3 = arith.constant 3.0 : f32
  %r = arith.cmpf ole, %a, %c3 : f32
  return %r : i1
}
func.func @predicted_window(%q: memref<2x1x?x16xf32>, %p: memref<2x?xf32>, %c: memref<2x?x1x16xf32>) {
  attn.online_attention dot mask_mod(@near) key_range(@range)
      ins(%q, %q, %q : memref<2x1x?x16xf32>, memref<2x1x?x16xf32>, memref<2x1x?x16xf32>)
      mod_tables(%p : memref<2x?xf32>)
      outs(%c : memref<2x?x1x16xf32>)
  return
}
