/*===- fma_peak.c - The fp32 FMA peak of this CPU, measured ---------------===*
 *
 * What "% of peak" means in bench/peers.py: every thread runs a loop of
 * fused multiply-adds on the widest vector registers it is compiled for
 * (512 bits with AVX-512, 256 with AVX2) on 12 independent accumulators
 * (enough to cover the FMA latency on both FMA ports, and 12 of AVX2's 16
 * registers), nothing else, and the rate counted is 2 flops x lanes per
 * FMA. The best of REPEAT runs is printed, as GFLOP/s for all threads
 * together:
 *
 *   fma_peak THREADS [REPEAT]        -> "fma_peak threads=T gflops=G"
 *
 * Built by bench/peers.py with clang-19 -O3 -march=native -pthread (any
 * compiler with GCC's vector extensions works). The threads are not pinned: a
 * busy machine shows a lower number, as it does for the benchmarks that
 * run next to it in the same process.
 *
 *===----------------------------------------------------------------------===*/

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef __AVX512F__
enum { LANES = 16 };
#else
enum { LANES = 8 };
#endif
typedef float vec __attribute__((vector_size(4 * LANES)));

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
  vec acc[ACCS], a, b;
  for (int l = 0; l < LANES; ++l) {
    for (int i = 0; i < ACCS; ++i)
      acc[i][l] = 0.001f * (float)(i + id);
    /* x -> x * a + b with a close to 1: stays finite for every iteration. */
    a[l] = 0.999999f, b[l] = 1e-6f;
  }
  pthread_barrier_wait(&start);
  /* Each thread times itself: the main thread may be descheduled after the
   * barrier, and a clock read there would miss the workers' first cycles. */
  began[id] = now();
  for (long it = 0; it < ITERS; ++it) {
    for (int i = 0; i < ACCS; ++i)
      acc[i] = acc[i] * a + b;
    /* Keeps the accumulators in registers and the chains apart. */
    __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]),
                     "+v"(acc[3]), "+v"(acc[4]), "+v"(acc[5]), "+v"(acc[6]),
                     "+v"(acc[7]), "+v"(acc[8]), "+v"(acc[9]), "+v"(acc[10]),
                     "+v"(acc[11]));
  }
  vec s = acc[0];
  for (int i = 1; i < ACCS; ++i)
    s = s + acc[i];
  ended[id] = now();
  float total = 0;
  for (int l = 0; l < LANES; ++l)
    total += s[l];
  sink[id] = total;
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
    double gflops = 2.0 * LANES * ACCS * (double)ITERS * threads / sec * 1e-9;
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
