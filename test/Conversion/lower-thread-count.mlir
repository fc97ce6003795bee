// RUN: attn-opt %s --split-input-file --attn-lower-thread-count | FileCheck %s
// RUN: attn-opt %s --split-input-file "--attn-lower-thread-count=openmp=false" | FileCheck %s --check-prefix=SERIAL
//
// -attn-lower-thread-count: attn.thread_count (the threads that share the
// tiled form's parallel loops; -attn-tile-attention sizes its query groups
// with it) becomes omp_get_max_threads() when the parallel loops run on
// OpenMP, declared once in the module, and 1 when they run serially.

// CHECK:       func.func @two_counts
// CHECK-NEXT:    %[[N0:.*]] = call @omp_get_max_threads() : () -> i32
// CHECK-NEXT:    %[[T0:.*]] = arith.index_cast %[[N0]] : i32 to index
// CHECK-NEXT:    %[[N1:.*]] = call @omp_get_max_threads() : () -> i32
// CHECK-NEXT:    %[[T1:.*]] = arith.index_cast %[[N1]] : i32 to index
// CHECK-NEXT:    return %[[T0]], %[[T1]] : index, index
// The declaration goes at the end of the module.
// CHECK:       func.func private @omp_get_max_threads() -> i32
// CHECK-NOT:   attn.thread_count

// SERIAL-LABEL: func.func @two_counts
// SERIAL-NEXT:    %[[ONE:.*]] = arith.constant 1 : index
// SERIAL-NEXT:    %[[ONE2:.*]] = arith.constant 1 : index
// SERIAL-NEXT:    return %[[ONE]], %[[ONE2]] : index, index
// SERIAL-NOT:   omp_get_max_threads
// SERIAL:       {{^// -{5}$}}
func.func @two_counts() -> (index, index) {
  %0 = attn.thread_count : index
  %1 = attn.thread_count : index
  return %0, %1 : index, index
}

// -----

// A module that already declares the function keeps that one declaration.
// CHECK:       {{^// -{5}$}}
// CHECK-NEXT:  module {
// CHECK-NEXT:    func.func private @omp_get_max_threads() -> i32
// CHECK-NOT:     func.func private @omp_get_max_threads
// CHECK:         func.func @declared
// CHECK-NEXT:      call @omp_get_max_threads() : () -> i32
// CHECK-NOT:     func.func private @omp_get_max_threads
// CHECK:       {{^// -{5}$}}
// SERIAL:       func.func @declared
// SERIAL-NEXT:    arith.constant 1 : index
func.func private @omp_get_max_threads() -> i32
func.func @declared() -> index {
  %0 = attn.thread_count : index
  return %0 : index
}

// -----

// A module without attn.thread_count gets no declaration.
// CHECK:       func.func @none
// CHECK-NOT:   omp_get_max_threads
func.func @none() {
  return
}
