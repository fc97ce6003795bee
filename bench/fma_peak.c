/*===- fma_peak.c - The fp32 FMA peak of this CPU, measured ---------------===*
 *
 * What "% of peak" means in bench/peers.py: every thread runs a loop of
 * 512-bit fused multiply-adds on 12 independent accumulators (enough to
 * cover the FMA latency on both FMA ports), nothing else, and the rate
 * counted is 2 flops x 16 lanes per FMA. The best of REPEAT runs is
 * printed, as GFLOP/s for all threads together:
 *
 *   fma_peak THREADS [REPEAT]        -> "fma_peak threads=T gflops=G"
 *
 * Built by bench/peers.py with clang-19 -O3 -mavx512f -pthread (any
 * compiler with AVX-512F intrinsics works). The threads are not pinned: a
 * busy machine shows a lower number, as it does for the benchmarks that
 * run next to it in the same process.
 *
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ACCS = 12, MAX_THREADS = 64 };
static const long ITERS = 20L * 1000 * 1000; /* x 12 FMAs: ~0.1 s a core */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static pthread_barrier_t start;
static float sink[MAX_THREADS];
static double began[MAX_THREADS], ended[MAX_THREADS];

static void *worker(void *arg) {
  long id = (long)arg;
  __m512 acc[ACCS];
  for (int i = 0; i < ACCS; ++i)
    acc[i] = _mm512_set1_ps(0.001f * (float)(i + id));
  /* x -> x * a + b with a close to 1: stays finite for every iteration. */
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
  pthread_barrier_wait(&start);
  /* Each thread times itself: the main thread may be descheduled after the
   * barrier, and a clock read there would miss the workers' first cycles. */
  began[id] = now();
  for (long it = 0; it < ITERS; ++it) {
    for (int i = 0; i < ACCS; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 s = acc[0];
  for (int i = 1; i < ACCS; ++i)
    s = _mm512_add_ps(s, acc[i]);
  ended[id] = now();
  sink[id] = _mm512_reduce_add_ps(s);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  int repeat = argc > 2 ? atoi(argv[2]) : 5;
  if (threads < 1 || threads > MAX_THREADS || repeat < 1) {
    fprintf(stderr, "usage: fma_peak THREADS [REPEAT]\n");
    return 2;
  }
  double best = 0;
  for (int r = 0; r < repeat; ++r) {
    pthread_t tid[MAX_THREADS];
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (long t = 0; t < threads; ++t)
      pthread_create(&tid[t], NULL, worker, (void *)t);
    pthread_barrier_wait(&start);
    for (int t = 0; t < threads; ++t)
      pthread_join(tid[t], NULL);
    double first = began[0], last = ended[0];
    for (int t = 1; t < threads; ++t) {
      first = began[t] < first ? began[t] : first;
      last = ended[t] > last ? ended[t] : last;
    }
    double sec = last - first;
    pthread_barrier_destroy(&start);
    double gflops = 2.0 * 16 * ACCS * (double)ITERS * threads / sec * 1e-9;
    if (gflops > best)
      best = gflops;
  }
  float check = 0;
  for (int t = 0; t < threads; ++t)
    check += sink[t];
  printf("fma_peak threads=%d gflops=%.1f (checksum %g)\n", threads, best,
         (double)check);
  return 0;
}
