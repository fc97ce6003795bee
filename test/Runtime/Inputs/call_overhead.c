/* Per-call overhead of a compiled model: calls attnc_tiny (Inputs/tiny.attn)
 * with n = 1 in a loop and prints the mean time per call.
 *
 *   call_overhead libtiny.so [calls]
 *
 * The first call is timed on its own (it parses the signature once); the
 * others run in 20 batches and the fastest batch is reported (the least
 * disturbed by other processes), with the mean over all of them. Exit
 * status 0 iff every call succeeded and the output is right (O = V for one
 * key). */
#define _POSIX_C_SOURCE 200809L
#include <attnc/attnc.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int32_t (*model_fn)(attnc_tensor *, int32_t);

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static attnc_tensor tensor(float *data) {
  attnc_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = ATTNC_F32;
  t.rank = 2;
  t.shape[0] = 1;
  t.shape[1] = 4;
  t.strides[0] = 4;
  t.strides[1] = 1;
  return t;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s libtiny.so [calls]\n", argv[0]);
    return 2;
  }
  long calls = argc > 2 ? atol(argv[2]) : 1000000;
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  model_fn fn = (model_fn)dlsym(lib, "attnc_tiny");
  if (!fn) {
    fprintf(stderr, "no attnc_tiny in %s\n", argv[1]);
    return 2;
  }
  float q[4] = {1, 2, 3, 4}, k[4] = {1, 0, 0, 1}, v[4] = {5, 6, 7, 8}, o[4];
  attnc_tensor args[4] = {tensor(q), tensor(k), tensor(v), tensor(o)};

  double t0 = now_ns();
  int bad = fn(args, 4) != 0;
  double first = now_ns() - t0;
  enum { BATCHES = 20 };
  long batch = calls / BATCHES > 0 ? calls / BATCHES : 1;
  double best = -1, total = 0;
  for (int k = 0; k < BATCHES; ++k) {
    t0 = now_ns();
    for (long i = 0; i < batch; ++i)
      bad |= fn(args, 4) != 0;
    double per = (now_ns() - t0) / (double)batch;
    total += per;
    if (best < 0 || per < best)
      best = per;
  }
  for (int i = 0; i < 4; ++i)
    bad |= o[i] != v[i];
  printf("first call: %.0f ns\n", first);
  printf("%d x %ld calls: best batch %.1f ns per call, mean %.1f ns\n", BATCHES,
         batch, best, total / BATCHES);
  if (bad)
    fprintf(stderr, "a call failed or gave a wrong result\n");
  return bad;
}
