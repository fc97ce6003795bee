// RUN: attn-opt %s --attn-privatize-tile-scratch --split-input-file --verify-diagnostics | FileCheck %s

// The scratch of an iteration of the parallel loop (static shapes, freed in
// the iteration) becomes stack memory at the start of the loop's body, also
// when it is allocated in an inner loop; the host-side buffer stays.
// CHECK-LABEL: func.func @tile_scratch
// CHECK:         %[[HOST:.*]] = memref.alloc(%{{.*}}) : memref<?x16xf32>
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[SCORES:.*]] = memref.alloca() : memref<64xf32>
// CHECK-NEXT:      %[[ACC:.*]] = memref.alloca() {alignment = 64 : i64} : memref<8x16xf32>
// CHECK-NEXT:      %[[MAX:.*]] = memref.alloca() : memref<8xf32>
// CHECK-NOT:       memref.alloc(
// CHECK:           memref.store %{{.*}}, %[[MAX]]
// CHECK:           memref.store %{{.*}}, %[[ACC]]
// CHECK:           memref.store %{{.*}}, %[[SCORES]]
// CHECK-NOT:       memref.dealloc
// CHECK:           scf.reduce
// CHECK:         memref.dealloc %[[HOST]] : memref<?x16xf32>
func.func @tile_scratch(%n: index, %out: memref<?x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %host = memref.alloc(%n) : memref<?x16xf32>
  scf.parallel (%b, %i0) = (%c0, %c0) to (%c4, %n) step (%c1, %c8) {
    %max = memref.alloc() : memref<8xf32>
    %acc = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
    memref.store %zero, %max[%c0] : memref<8xf32>
    memref.store %zero, %acc[%c0, %c0] : memref<8x16xf32>
    scf.for %j = %c0 to %n step %c8 {
      %scores = memref.alloc() : memref<64xf32>
      memref.store %zero, %scores[%c0] : memref<64xf32>
      memref.dealloc %scores : memref<64xf32>
    }
    memref.dealloc %acc : memref<8x16xf32>
    memref.dealloc %max : memref<8xf32>
    scf.reduce
  }
  memref.dealloc %host : memref<?x16xf32>
  return
}

// -----

// Scratch of dynamic size (the sparse alignments' row of scores): a slot
// of one workspace per iteration, 64-byte aligned, at the iteration's
// row-major index.
// CHECK-LABEL: func.func @dynamic_scratch(
// CHECK-SAME:      %[[N:[a-z0-9]+]]: index, %[[M:[a-z0-9]+]]: index
// CHECK:         arith.muli %{{.*}}, %[[N]] : index
// CHECK:         %[[SLOT:.*]] = arith.muli %{{.*}}, %c64 : index
// The query tiles' trip count, ceil(m / 8), once before the loop.
// CHECK:         %[[TRIPS:.*]] = arith.divui %{{.*}}, %c8 : index
// CHECK-NEXT:    %[[PART:.*]] = arith.muli %[[SLOT]], %{{.*}} : index
// CHECK-NEXT:    %[[TOTAL:.*]] = arith.muli %[[PART]], %[[TRIPS]] : index
// CHECK-NEXT:    %[[WS:.*]] = memref.alloc(%[[TOTAL]]) {alignment = 64 : i64} : memref<?xi8>
// CHECK:         scf.parallel (%[[B:.*]], %[[I:.*]]) =
// The tile's position along the queries, after the batch's rows of tiles.
// CHECK:           %[[Q:.*]] = arith.subi %[[I]], %c0 : index
// CHECK-NEXT:      %[[POS:.*]] = arith.divui %[[Q]], %c8 : index
// CHECK-NEXT:      %[[ROWS:.*]] = arith.muli %{{.*}}, %[[TRIPS]] : index
// CHECK-NEXT:      %[[INDEX:.*]] = arith.addi %[[ROWS]], %[[POS]] : index
// CHECK-NEXT:      %[[OFFSET:.*]] = arith.muli %[[INDEX]], %[[SLOT]] : index
// CHECK-NEXT:      %[[VIEW:.*]] = memref.view %[[WS]][%[[OFFSET]]][%[[N]]] : memref<?xi8> to memref<8x?xf32>
// CHECK-NEXT:      memref.store %{{.*}}, %[[VIEW]]
// CHECK-NOT:       memref.dealloc
// CHECK:           scf.reduce
// CHECK:         memref.dealloc %[[WS]] : memref<?xi8>
func.func @dynamic_scratch(%n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%b, %i) = (%c0, %c0) to (%c4, %m) step (%c1, %c8) {
    %scores = memref.alloc(%n) : memref<8x?xf32>
    memref.store %zero, %scores[%c0, %c0] : memref<8x?xf32>
    memref.dealloc %scores : memref<8x?xf32>
    scf.reduce
  }
  return
}

// -----

// A dynamic size computed in the iteration has no slot size before the loop.
func.func @size_in_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %k = arith.addi %i, %c1 : index
    // expected-error @+1 {{the cuda target does not support this scratch memory of a query tile yet ('memref<8x?xf32>' in the parallel loop of the tiled form: its size is computed in the loop)}}
    %scores = memref.alloc(%k) : memref<8x?xf32>
    memref.dealloc %scores : memref<8x?xf32>
    scf.reduce
  }
  return
}

// -----

// More private memory than a thread should hold.
func.func @too_much_scratch(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %a = memref.alloc() : memref<8x256xf32>
    // expected-error @+1 {{the cuda target keeps per-tile scratch in private memory, and this parallel loop needs more than 16384 bytes of it (at 'memref<8x512xf32>')}}
    %b = memref.alloc() : memref<8x512xf32>
    memref.dealloc %a : memref<8x256xf32>
    memref.dealloc %b : memref<8x512xf32>
    scf.reduce
  }
  return
}
