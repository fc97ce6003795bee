// RUN: attn-opt %s --convert-scf-to-openmp --attn-omp-thread-scratch | FileCheck %s
// RUN: attn-opt %s --convert-scf-to-openmp "--attn-omp-thread-scratch=max-bytes=1024" | FileCheck %s --check-prefix=SMALL
//
// The per-tile scratch of the kernels, allocated and freed in each
// iteration of the parallel loop, becomes one stack buffer per thread at
// the start of the omp.parallel region (each thread runs its iterations
// one after another). Buffers of a dynamic size, above max-bytes, made in
// an inner loop, or not freed in the iteration stay as they are.

// CHECK-LABEL: func @tile_scratch
// CHECK:         omp.parallel {
// CHECK-NEXT:      %[[S:.*]] = memref.alloca() {alignment = 64 : i64} : memref<8x64xf32>
// CHECK:           omp.wsloop {
// CHECK:             omp.loop_nest
// CHECK-NOT:           memref.alloc()
// CHECK:               memref.store %{{.*}}, %[[S]]
// CHECK:               memref.load %[[S]]
// CHECK-NOT:           memref.dealloc
// CHECK:             omp.yield
// SMALL-LABEL: func @tile_scratch
// SMALL:         omp.loop_nest
// SMALL:           memref.alloc() : memref<8x64xf32>
// SMALL:           memref.dealloc
func.func @tile_scratch(%tiles: index, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%tiles) step (%c1) {
    %s = memref.alloc() : memref<8x64xf32>
    memref.store %one, %s[%c0, %c1] : memref<8x64xf32>
    %x = memref.load %s[%c0, %c1] : memref<8x64xf32>
    memref.store %x, %out[%i] : memref<?xf32>
    memref.dealloc %s : memref<8x64xf32>
    scf.reduce
  }
  return
}

// CHECK-LABEL: func @stays
// CHECK:         omp.parallel {
// CHECK-NOT:       memref.alloca()
// CHECK:           omp.loop_nest
// A dynamic size.
// CHECK:             memref.alloc(%{{.*}}) : memref<?xf32>
// Made in an inner loop.
// CHECK:             scf.for
// CHECK:               memref.alloc() : memref<16xf32>
// Not freed in the iteration.
// CHECK:             memref.alloc() : memref<4xf32>
func.func @stays(%tiles: index, %n: index, %out: memref<?xf32>) -> memref<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  %kept = memref.alloc() : memref<1xmemref<4xf32>>
  scf.parallel (%i) = (%c0) to (%tiles) step (%c1) {
    %d = memref.alloc(%n) : memref<?xf32>
    memref.store %one, %d[%c0] : memref<?xf32>
    memref.dealloc %d : memref<?xf32>
    scf.for %j = %c0 to %c4 step %c1 {
      %inner = memref.alloc() : memref<16xf32>
      memref.store %one, %inner[%j] : memref<16xf32>
      memref.dealloc %inner : memref<16xf32>
    }
    %escapes = memref.alloc() : memref<4xf32>
    memref.store %escapes, %kept[%c0] : memref<1xmemref<4xf32>>
    scf.reduce
  }
  %r = memref.load %kept[%c0] : memref<1xmemref<4xf32>>
  return %r : memref<4xf32>
}

// The alloca_scope around each loop body goes when it holds no alloca,
// here a body with a memref.prefetch (which declares no memory effects, so
// the canonicalizer would keep the scope, and scf-to-cf would then fail on
// a scope of several blocks). A scope holding an alloca stays.
// CHECK-LABEL: func @prefetching_body
// CHECK:         omp.loop_nest
// CHECK-NOT:       memref.alloca_scope
// CHECK:           memref.prefetch %{{.*}}[%{{.*}}], read, locality<3>, data
// CHECK:           memref.store
// CHECK:         omp.yield
// CHECK-LABEL: func @stack_allocating_body
// CHECK:         omp.loop_nest
// CHECK-NEXT:      memref.alloca_scope
// CHECK:             memref.alloca() : memref<2xf32>
func.func @prefetching_body(%tiles: index, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%tiles) step (%c1) {
    %next = arith.addi %i, %c1 : index
    memref.prefetch %out[%next], read, locality<3>, data : memref<?xf32>
    memref.store %one, %out[%i] : memref<?xf32>
    scf.reduce
  }
  return
}

func.func @stack_allocating_body(%tiles: index, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%tiles) step (%c1) {
    %s = memref.alloca() : memref<2xf32>
    memref.store %one, %s[%c0] : memref<2xf32>
    %x = memref.load %s[%c0] : memref<2xf32>
    memref.store %x, %out[%i] : memref<?xf32>
    scf.reduce
  }
  return
}
