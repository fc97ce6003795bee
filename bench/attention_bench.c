/*===- attention_bench.c - attnc kernels vs baselines, same process -------===*
 *
 * Times the attnc-compiled single-head scaled dot-product attention
 * (bench/sdpa.attn, models sdpa and sdpa_causal) against two baselines in
 * the same run, all on one thread:
 *   plain: C compiled with -O3 -march=native (row-by-row scores, softmax,
 *          weighted sum: what one writes by hand without BLAS);
 *   blas:  OpenBLAS sgemm on blocks of 128 queries plus a vectorized
 *          softmax (blas_baseline.c; when OpenBLAS was found at build time).
 * It prints the time, GFLOP/s (4 n_q n_k d flops, halved with the causal
 * mask), the ratios (baseline time / attnc time) and the largest difference
 * between attnc and each baseline, which must stay below 1e-3.
 * A second table prices the masks: the time of causal and of a sliding
 * window of 256 keys (model sdpa_window) relative to full attention, next
 * to the fraction of the scores each computes (about 1/2 and 256/n): the
 * masks are loop bounds, so the time should follow the visible keys.
 *
 * A "targets" table times the shapes of issue 7's kernel targets against
 * the FMA peak of one core measured in the same run (12 independent
 * 16-lane FMA chains; times OMP_NUM_THREADS for the % column): one head of
 * d = 64 at n = 8192, one head of d = 128 (models sdpa128) at n = 2048 and
 * 4096, and 4 heads of d_k = 16 (model sdpa16 with a batch of 4: the same
 * parallel loop over batch x head x query tile) against one head of d = 64
 * at n = 2048, the same FLOPs (the heads/1 column: time ratio, <= 1 is the
 * target). Each output is checked on its first rows against a float64
 * reference. ATTNC_BENCH_TARGETS=0 skips the table. With it, a
 * "projections" table times model projections: the n x 512 x 512 products
 * Wq X (8 heads of 64) and Wo concat(c) around an attention over two keys,
 * checked on its first 64 rows and its last against a float64 evaluation.
 *
 * A third table times additive (Bahdanau) attention (model bahdanau): a
 * batch of 64 entries, one query each, n_k = n keys of d = 256, d_w = 128
 * (the configuration at n = 4096), against a plain C version and
 * one from OpenBLAS sgemm (W2 K for the whole batch) plus a vectorized
 * tanh/softmax; GFLOP/s count 2 n_k d d_w (W2 K) + 2 d d_w (W1 q) +
 * 4 n_k d_w (add, tanh, multiply, sum) + 2 n_k d (context) per entry.
 *
 *   attnc-bench [n ...]      (default: 256 1024 2048)
 *   ATTNC_BENCH_REPEAT=R     repetitions (median reported, default 5)
 *
 * OpenBLAS 0.3.21 misdetects AVX-512 CPUs unless OPENBLAS_CORETYPE is set
 * (see shared/TOOLCHAIN.md); on such a CPU the bench sets SkylakeX and
 * re-executes itself when it is unset. Timings are noisy on shared machines: compare ratios.
 *
 *===----------------------------------------------------------------------===*/

#include "sdpa.h"

#ifdef ATTNC_BENCH_BLAS
#include "blas_baseline.h"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { D = 64, WINDOW = 256 };
enum { ADD_B = 64, ADD_D = 256, ADD_DW = 128 };
enum { PROJ_D = 512, PROJ_H = 8, PROJ_DK = 64, PROJ_M = 2 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static attnc_tensor tensor3(float *data, int64_t b, int64_t n, int64_t d) {
  attnc_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = ATTNC_F32;
  t.rank = 3;
  t.shape[0] = b, t.shape[1] = n, t.shape[2] = d;
  t.strides[0] = n * d, t.strides[1] = d, t.strides[2] = 1;
  return t;
}

/* The baseline: for each query, all scores into a row buffer, softmax, then
 * the weighted sum of the values. */
static void baseline_window(const float *q, const float *k, const float *v,
                            float *o, int nq, int nk, int causal, int window,
                            float *row) {
  const float scale = 1.0f / sqrtf((float)D);
  for (int i = 0; i < nq; ++i) {
    int end = causal || window ? i + 1 + nk - nq : nk;
    if (end > nk)
      end = nk;
    if (end < 0)
      end = 0;
    int begin = window ? i + 1 + nk - nq - window : 0;
    if (begin < 0)
      begin = 0;
    if (begin > end)
      begin = end;
    float m = -INFINITY;
    for (int j = begin; j < end; ++j) {
      float s = 0;
      for (int c = 0; c < D; ++c)
        s += q[i * D + c] * k[j * D + c];
      row[j] = s * scale;
      if (row[j] > m)
        m = row[j];
    }
    float l = 0;
    for (int j = begin; j < end; ++j)
      l += row[j] = expf(row[j] - m);
    float acc[D] = {0};
    for (int j = begin; j < end; ++j)
      for (int c = 0; c < D; ++c)
        acc[c] += row[j] * v[j * D + c];
    for (int c = 0; c < D; ++c)
      o[i * D + c] = end > begin ? acc[c] / l : 0.0f;
  }
}

static void baseline(const float *q, const float *k, const float *v, float *o,
                     int nq, int nk, int causal, float *row) {
  baseline_window(q, k, v, o, nq, nk, causal, 0, row);
}

/* Additive attention written plainly: W1 q + b, then per key W2 k_l, the
 * tanh and the dot with w, a softmax, and the weighted sum of the keys. */
static void plain_additive(const float *q, const float *k, const float *W1,
                           const float *W2, const float *bw, const float *w,
                           float *o, int B, int nk, float *e) {
  for (int bi = 0; bi < B; ++bi) {
    const float *qb = q + (size_t)bi * ADD_D, *kb = k + (size_t)bi * nk * ADD_D;
    float qp[ADD_DW];
    for (int j = 0; j < ADD_DW; ++j) {
      float s = bw[j];
      for (int c = 0; c < ADD_D; ++c)
        s += W1[j * ADD_D + c] * qb[c];
      qp[j] = s;
    }
    float m = -INFINITY;
    for (int l = 0; l < nk; ++l) {
      float s = 0;
      for (int j = 0; j < ADD_DW; ++j) {
        float h = qp[j];
        for (int c = 0; c < ADD_D; ++c)
          h += W2[j * ADD_D + c] * kb[(size_t)l * ADD_D + c];
        s += w[j] * tanhf(h);
      }
      e[l] = s;
      if (s > m)
        m = s;
    }
    float sum = 0;
    for (int l = 0; l < nk; ++l)
      sum += e[l] = expf(e[l] - m);
    float acc[ADD_D] = {0};
    for (int l = 0; l < nk; ++l)
      for (int c = 0; c < ADD_D; ++c)
        acc[c] += e[l] * kb[(size_t)l * ADD_D + c];
    for (int c = 0; c < ADD_D; ++c)
      o[(size_t)bi * ADD_D + c] = nk ? acc[c] / sum : 0.0f;
  }
}

static attnc_tensor tensor_nd(float *data, int rank, const int64_t *shape) {
  attnc_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = ATTNC_F32;
  t.rank = rank;
  int64_t stride = 1;
  for (int r = rank - 1; r >= 0; --r) {
    t.shape[r] = shape[r];
    t.strides[r] = stride;
    stride *= shape[r];
  }
  return t;
}

static float uniform(float scale) {
  return scale * (float)(2.0 * rand() / RAND_MAX - 1.0);
}

static double median_ms(double *t, int r) {
  qsort(t, r, sizeof *t, cmp_double);
  return 1e3 * t[r / 2];
}

/* Times `run` `repeat` times; returns the median in ms. */
#define TIME_MS(result, repeat, times, ...)                                    \
  do {                                                                         \
    for (int r_ = 0; r_ < (repeat); ++r_) {                                    \
      double t0_ = now();                                                      \
      __VA_ARGS__;                                                             \
      (times)[r_] = now() - t0_;                                               \
    }                                                                          \
    (result) = median_ms((times), (repeat));                                   \
  } while (0)

static double max_diff(const float *a, const float *b, size_t n) {
  double diff = 0;
  for (size_t e = 0; e < n; ++e)
    diff = fmax(diff, fabs((double)a[e] - b[e]));
  return diff;
}

/* Model `projections` (bench/sdpa.attn) on n rows: returns the median time
 * in ms (-1 when the call fails) and, in *diff, the largest difference
 * from a float64 evaluation of its first rows and its last row. */
static double time_projections(int n, int repeat, double *times,
                               double *diff) {
  const int D = PROJ_D, H = PROJ_H, DK = PROJ_DK, M = PROJ_M, HD = H * DK;
  float *x = malloc(sizeof(float) * (size_t)n * D);
  float *z = malloc(sizeof(float) * M * D);
  float *w[4], *y = malloc(sizeof(float) * (size_t)n * D);
  for (int t = 0; t < 4; ++t)
    w[t] = malloc(sizeof(float) * (size_t)HD * D);
  srand(1357);
  const float wscale = 1.0f / sqrtf((float)D);
  for (size_t e = 0; e < (size_t)n * D; ++e)
    x[e] = uniform(1.0f);
  for (int e = 0; e < M * D; ++e)
    z[e] = uniform(1.0f);
  for (int t = 0; t < 4; ++t)
    for (int e = 0; e < HD * D; ++e)
      w[t][e] = uniform(wscale);
  const int64_t xs[3] = {1, n, D}, zs[3] = {1, M, D}, ws[3] = {H, DK, D},
                os[2] = {D, HD};
  attnc_tensor args[7] = {tensor_nd(x, 3, xs),    tensor_nd(z, 3, zs),
                          tensor_nd(w[0], 3, ws), tensor_nd(w[1], 3, ws),
                          tensor_nd(w[2], 3, ws), tensor_nd(w[3], 2, os),
                          tensor_nd(y, 3, xs)};
  double ms;
  int32_t status = 0;
  TIME_MS(ms, repeat, times, status |= attnc_projections(args, 7));
  if (status != 0) {
    fprintf(stderr, "attnc call failed: %s\n", attnc_projections_last_error());
    ms = -1;
  }
  /* The reference: k, v per head from Z, then per checked row the query,
   * the softmax over the M keys, the context and Wo concat(c). */
  double *kv = malloc(sizeof(double) * 2 * M * HD), *c = malloc(sizeof(double) * HD);
  for (int t = 0; t < 2; ++t)
    for (int j = 0; j < M; ++j)
      for (int o = 0; o < HD; ++o) {
        double s = 0;
        for (int i = 0; i < D; ++i)
          s += (double)w[1 + t][(size_t)o * D + i] * z[j * D + i];
        kv[(t * M + j) * HD + o] = s;
      }
  *diff = 0;
  for (int r = 0; r < n && ms >= 0; r = r < 63 ? r + 1 : (r < n - 1 ? n - 1 : n)) {
    for (int h = 0; h < H; ++h) {
      double q[PROJ_DK], e[PROJ_M], m = -INFINITY, sum = 0;
      for (int o = 0; o < DK; ++o) {
        q[o] = 0;
        for (int i = 0; i < D; ++i)
          q[o] += (double)w[0][((size_t)h * DK + o) * D + i] * x[(size_t)r * D + i];
      }
      for (int j = 0; j < M; ++j) {
        e[j] = 0;
        for (int o = 0; o < DK; ++o)
          e[j] += q[o] * kv[j * HD + h * DK + o];
        e[j] /= sqrt((double)DK);
        m = fmax(m, e[j]);
      }
      for (int j = 0; j < M; ++j)
        sum += (e[j] = exp(e[j] - m));
      for (int o = 0; o < DK; ++o) {
        c[h * DK + o] = 0;
        for (int j = 0; j < M; ++j)
          c[h * DK + o] += e[j] / sum * kv[(M + j) * HD + h * DK + o];
      }
    }
    for (int o = 0; o < D; ++o) {
      double s = 0;
      for (int i = 0; i < HD; ++i)
        s += (double)w[3][(size_t)o * HD + i] * c[i];
      *diff = fmax(*diff, fabs(s - y[(size_t)r * D + o]));
    }
  }
  free(kv), free(c), free(x), free(z), free(y);
  for (int t = 0; t < 4; ++t)
    free(w[t]);
  return ms;
}

/* The FMA peak of one core: 12 independent chains of FMAs on the widest
 * vector registers this file is compiled for (-march=native): 16 lanes
 * with AVX-512, 8 with AVX2 (12 accumulators of 16 lanes would need 24 of
 * AVX2's 16 registers, and the spills would understate the peak). */
#ifdef __AVX512F__
enum { FMA_LANES = 16 };
#else
enum { FMA_LANES = 8 };
#endif
typedef float fma_vec __attribute__((vector_size(4 * FMA_LANES)));
static double fma_peak_gflops(void) {
  fma_vec a[12], x, y;
  for (int i = 0; i < FMA_LANES; ++i)
    x[i] = 0.9999f, y[i] = 1e-5f;
  for (int c = 0; c < 12; ++c)
    for (int i = 0; i < FMA_LANES; ++i)
      a[c][i] = 0.001f * c;
  const long iters = 20000000;
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    double t0 = now();
    for (long it = 0; it < iters; ++it) {
      for (int c = 0; c < 12; ++c)
        a[c] = a[c] * x + y;
      __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]),
                       "+v"(a[4]), "+v"(a[5]), "+v"(a[6]), "+v"(a[7]),
                       "+v"(a[8]), "+v"(a[9]), "+v"(a[10]), "+v"(a[11]));
    }
    double t = now() - t0;
    if (t < best)
      best = t;
  }
  float sink = 0;
  for (int c = 0; c < 12; ++c)
    sink += a[c][0];
  if (sink == 12345.0f)
    printf(" ");
  return iters * 12.0 * 2.0 * FMA_LANES / best * 1e-9;
}

/* The largest difference between o (first `rows` rows of each batch entry)
 * and a float64 softmax(q K^T / sqrt(d)) V. */
static double check_rows(const float *q, const float *k, const float *v,
                         const float *o, int b, int n, int d, int rows) {
  double diff = 0, *s = malloc(sizeof(double) * n);
  for (int bi = 0; bi < b; ++bi)
    for (int i = 0; i < rows && i < n; ++i) {
      const float *qi = q + ((size_t)bi * n + i) * d;
      double m = -INFINITY, l = 0;
      for (int j = 0; j < n; ++j) {
        const float *kj = k + ((size_t)bi * n + j) * d;
        double x = 0;
        for (int c = 0; c < d; ++c)
          x += (double)qi[c] * kj[c];
        s[j] = x / sqrt((double)d);
        if (s[j] > m)
          m = s[j];
      }
      for (int j = 0; j < n; ++j)
        l += s[j] = exp(s[j] - m);
      for (int c = 0; c < d; ++c) {
        double acc = 0;
        for (int j = 0; j < n; ++j)
          acc += s[j] * v[((size_t)bi * n + j) * d + c];
        diff = fmax(diff, fabs(acc / l - o[((size_t)bi * n + i) * d + c]));
      }
    }
  free(s);
  return diff;
}

typedef int32_t (*sdpa_fn)(attnc_tensor *, int32_t);

/* Times one call of `fn` on b x n x d inputs (median of `repeat` after a
 * warm-up call); checks the first rows; returns ms, -1 on failure. */
static double time_sdpa(sdpa_fn fn, int b, int n, int d, int repeat,
                        double *times, double *diff) {
  size_t elems = (size_t)b * n * d;
  float *q = malloc(elems * 4), *k = malloc(elems * 4), *v = malloc(elems * 4);
  float *o = malloc(elems * 4);
  srand(97);
  for (size_t e = 0; e < elems; ++e) {
    q[e] = uniform(1.0f);
    k[e] = uniform(1.0f);
    v[e] = uniform(1.0f);
  }
  attnc_tensor args[4] = {tensor3(q, b, n, d), tensor3(k, b, n, d),
                          tensor3(v, b, n, d), tensor3(o, b, n, d)};
  int32_t status = fn(args, 4);
  double ms = -1;
  if (status == 0) {
    TIME_MS(ms, repeat, times, status |= fn(args, 4));
    *diff = check_rows(q, k, v, o, b, n, d, 8);
  }
  free(q), free(k), free(v), free(o);
  return status == 0 ? ms : -1;
}

int main(int argc, char **argv) {
  for (int a = 1; a < argc; ++a) {
    char *end;
    long n = strtol(argv[a], &end, 10);
    if (*end || end == argv[a] || n < 1 || n > (1 << 20)) {
      fprintf(stderr,
              "usage: attnc-bench [n ...]   (sizes from 1 to 1048576; "
              "ATTNC_BENCH_REPEAT, ATTNC_BENCH_TARGETS, OMP_NUM_THREADS)\n"
              "attnc-bench: '%s' is not a size\n",
              argv[a]);
      return 2;
    }
  }
  // The tables are one thread's unless OMP_NUM_THREADS says otherwise
  // (libomp would otherwise take every core while the report says 1).
  setenv("OMP_NUM_THREADS", "1", /*overwrite=*/0);
#ifdef ATTNC_BENCH_BLAS
  // Only on an AVX-512 CPU: elsewhere SkylakeX's kernels would not run.
  if (__builtin_cpu_supports("avx512f") && !getenv("OPENBLAS_CORETYPE")) {
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
  }
  blas_use_one_thread();
#endif
  int sizes[16] = {256, 1024, 2048}, nsizes = 3;
  if (argc > 1) {
    nsizes = 0;
    for (int a = 1; a < argc && nsizes < 16; ++a)
      sizes[nsizes++] = atoi(argv[a]);
  }
  const char *rep = getenv("ATTNC_BENCH_REPEAT");
  int repeat = rep ? atoi(rep) : 5;
  if (repeat < 1)
    repeat = 1;
  double *times = malloc(sizeof(double) * repeat);
  int failed = 0;

  printf("%-7s %5s %3s | %8s %7s | %8s %7s %6s | %8s %7s %6s | %s\n", "model",
         "n", "d", "attnc ms", "GFLOP/s", "plain ms", "GFLOP/s", "ratio",
         "blas ms", "GFLOP/s", "ratio", "max |diff|");
  for (int si = 0; si < nsizes; ++si) {
    int n = sizes[si];
    size_t elems = (size_t)n * D;
    float *q = malloc(elems * 4), *k = malloc(elems * 4), *v = malloc(elems * 4);
    float *o = malloc(elems * 4), *ob = malloc(elems * 4);
    float *row = malloc((size_t)n * 4);
    srand(1234);
    for (size_t e = 0; e < elems; ++e) {
      q[e] = (float)(2.0 * rand() / RAND_MAX - 1.0);
      k[e] = (float)(2.0 * rand() / RAND_MAX - 1.0);
      v[e] = (float)(2.0 * rand() / RAND_MAX - 1.0);
    }
    for (int causal = 0; causal <= 1; ++causal) {
      attnc_tensor args[4] = {tensor3(q, 1, n, D), tensor3(k, 1, n, D),
                              tensor3(v, 1, n, D), tensor3(o, 1, n, D)};
      double flops = 4.0 * n * (double)n * D * (causal ? 0.5 : 1.0);
      int32_t status = 0;
      double attnc_ms, plain_ms, blas_ms = NAN, diff;
      TIME_MS(attnc_ms, repeat, times,
              status = causal ? attnc_sdpa_causal(args, 4)
                              : attnc_sdpa(args, 4));
      if (status != 0) {
        fprintf(stderr, "attnc call failed: %s\n",
                causal ? attnc_sdpa_causal_last_error()
                       : attnc_sdpa_last_error());
        return 1;
      }
      TIME_MS(plain_ms, repeat, times, baseline(q, k, v, ob, n, n, causal, row));
      diff = max_diff(o, ob, elems);
#ifdef ATTNC_BENCH_BLAS
      TIME_MS(blas_ms, repeat, times,
              blas_attention(q, k, v, ob, n, n, D, causal));
      diff = fmax(diff, max_diff(o, ob, elems));
#endif
      printf("%-7s %5d %3d | %8.3f %7.2f | %8.3f %7.2f %6.2f | %8.3f %7.2f "
             "%6.2f | %.2e\n",
             causal ? "causal" : "full", n, D, attnc_ms,
             flops / attnc_ms * 1e-6, plain_ms, flops / plain_ms * 1e-6,
             plain_ms / attnc_ms, blas_ms, flops / blas_ms * 1e-6,
             blas_ms / attnc_ms, diff);
      if (diff > 1e-3) {
        fprintf(stderr, "attnc and a baseline disagree\n");
        failed = 1;
      }
    }
    free(q), free(k), free(v), free(o), free(ob), free(row);
  }
  printf("ratio = baseline time / attnc time (> 1: attnc is faster); one "
         "thread\n");

  /* The price of the masks: time relative to full attention, and the
   * fraction of the n x n scores each mask leaves visible. */
  printf("\n%-7s %5s %3s | %8s | %8s %6s %6s | %8s %4s %6s %6s | %s\n",
         "masks", "n", "d", "full ms", "causal", "ratio", "ideal", "window",
         "W", "ratio", "ideal", "max |diff|");
  double (*pred_rows)[4] = calloc(nsizes ? nsizes : 1, sizeof *pred_rows);
  for (int si = 0; si < nsizes; ++si) {
    int n = sizes[si];
    size_t elems = (size_t)n * D;
    float *q = malloc(elems * 4), *k = malloc(elems * 4), *v = malloc(elems * 4);
    float *o = malloc(elems * 4), *ob = malloc(elems * 4);
    float *row = malloc((size_t)n * 4 + 4);
    srand(4321);
    for (size_t e = 0; e < elems; ++e) {
      q[e] = (float)(2.0 * rand() / RAND_MAX - 1.0);
      k[e] = (float)(2.0 * rand() / RAND_MAX - 1.0);
      v[e] = (float)(2.0 * rand() / RAND_MAX - 1.0);
    }
    attnc_tensor args[4] = {tensor3(q, 1, n, D), tensor3(k, 1, n, D),
                            tensor3(v, 1, n, D), tensor3(o, 1, n, D)};
    double full_ms, causal_ms, window_ms, diff = 0;
    int32_t status = 0;
    TIME_MS(full_ms, repeat, times, status |= attnc_sdpa(args, 4));
    TIME_MS(causal_ms, repeat, times, status |= attnc_sdpa_causal(args, 4));
    baseline_window(q, k, v, ob, n, n, 1, 0, row);
    diff = fmax(diff, max_diff(o, ob, elems));
    TIME_MS(window_ms, repeat, times, status |= attnc_sdpa_window(args, 4));
    baseline_window(q, k, v, ob, n, n, 0, WINDOW, row);
    diff = fmax(diff, max_diff(o, ob, elems));
    if (status != 0) {
      fprintf(stderr, "attnc call failed: %s\n", attnc_sdpa_window_last_error());
      return 1;
    }
    /* Visible scores: n(n+1)/2 with causal; each query i sees
     * min(i + 1, W) keys with the window. */
    double all = (double)n * n, causal_frac = n ? (n + 1.0) / (2.0 * n) : 0;
    double window_keys = 0;
    for (int i = 0; i < n; ++i)
      window_keys += i + 1 < WINDOW ? i + 1 : WINDOW;
    double window_frac = n ? window_keys / all : 0;
    printf("%-7s %5d %3d | %8.3f | %8.3f %6.3f %6.3f | %8.3f %4d %6.3f %6.3f "
           "| %.2e\n",
           "masks", n, D, full_ms, causal_ms, causal_ms / full_ms, causal_frac,
           window_ms, WINDOW, window_ms / full_ms, window_frac, diff);
    if (diff > 1e-3) {
      fprintf(stderr, "attnc and the baseline disagree on a mask\n");
      failed = 1;
    }
    /* The same masks as predicates (key bands), and ALiBi (a score
     * modifier, the generic kernel) on top of the causal band. */
    double pcausal_ms, pwindow_ms, alibi_ms, pdiff = 0;
    TIME_MS(pcausal_ms, repeat, times,
            status |= attnc_sdpa_pred_causal(args, 4));
    baseline_window(q, k, v, ob, n, n, 1, 0, row);
    pdiff = fmax(pdiff, max_diff(o, ob, elems));
    TIME_MS(pwindow_ms, repeat, times,
            status |= attnc_sdpa_pred_window(args, 4));
    baseline_window(q, k, v, ob, n, n, 0, WINDOW, row);
    pdiff = fmax(pdiff, max_diff(o, ob, elems));
    TIME_MS(alibi_ms, repeat, times,
            status |= attnc_sdpa_alibi_causal(args, 4));
    if (status != 0) {
      fprintf(stderr, "attnc call failed: %s\n",
              attnc_sdpa_alibi_causal_last_error());
      return 1;
    }
    pred_rows[si][0] = pcausal_ms / full_ms;
    pred_rows[si][1] = pwindow_ms / full_ms;
    pred_rows[si][2] = alibi_ms / causal_ms;
    pred_rows[si][3] = pdiff;
    if (pdiff > 1e-3) {
      fprintf(stderr, "attnc and the baseline disagree on a predicate\n");
      failed = 1;
    }
    free(q), free(k), free(v), free(o), free(ob), free(row);
  }
  printf("masks: ratio = mask time / full time; ideal = fraction of the "
         "scores visible\n");
  printf("\n%-10s %5s | %12s %12s | %14s | %s\n", "predicates", "n",
         "causal/full", "window/full", "alibi/causal", "max |diff|");
  for (int si = 0; si < nsizes; ++si)
    printf("%-10s %5d | %12.3f %12.3f | %14.3f | %.2e\n", "predicates",
           sizes[si], pred_rows[si][0], pred_rows[si][1], pred_rows[si][2],
           pred_rows[si][3]);
  printf("predicates: the masks written 'mask [i, l]: l <= i' and "
         "'i - l < %d && l <= i' (key bands), time / full; alibi/causal: "
         "'score e[i, l] = scaled_dot(q, K) - 0.0625 * (i - l)' with the "
         "causal band, time / causal's\n", WINDOW);
  free(pred_rows);

  /* The kernel targets of issue 7, as % of the FMA peak of the threads. */
  const char *threads_env = getenv("OMP_NUM_THREADS");
  int threads = threads_env && atoi(threads_env) > 0 ? atoi(threads_env) : 1;
  double peak = fma_peak_gflops();
  const char *targets_env = getenv("ATTNC_BENCH_TARGETS");
  if (!targets_env || atoi(targets_env) != 0) {
    printf("\n%-8s %2s %5s %3s %3s | %8s %7s %6s | %9s | %s\n", "targets",
           "H", "n", "d", "thr", "attnc ms", "GFLOP/s", "%peak", "heads/1",
           "max |diff|");
    struct {
      sdpa_fn fn;
      int b, n, d;
    } shapes[] = {{attnc_sdpa, 1, 2048, 64},   {attnc_sdpa, 1, 8192, 64},
                  {attnc_sdpa128, 1, 2048, 128}, {attnc_sdpa128, 1, 4096, 128},
                  {attnc_sdpa16, 4, 2048, 16}};
    double one_head_ms = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; ++si) {
      int b = shapes[si].b, n = shapes[si].n, d = shapes[si].d;
      double diff = 0;
      double ms = time_sdpa(shapes[si].fn, b, n, d, repeat, times, &diff);
      if (ms < 0) {
        fprintf(stderr, "attnc call failed (targets, d = %d)\n", d);
        return 1;
      }
      double gflops = 4.0 * b * (double)n * n * d / ms * 1e-6;
      if (si == 0)
        one_head_ms = ms;
      char ratio[16] = "";
      if (d == 16)
        snprintf(ratio, sizeof ratio, "%.3f", ms / one_head_ms);
      printf("%-8s %2d %5d %3d %3d | %8.3f %7.2f %5.1f%% | %9s | %.2e\n",
             "targets", b, n, d, threads, ms, gflops,
             100.0 * gflops / (peak * threads), ratio, diff);
      if (diff > 1e-3) {
        fprintf(stderr, "attnc and the float64 reference disagree\n");
        failed = 1;
      }
    }
    printf("targets: FMA peak %.1f GFLOP/s per core (measured now); %%peak = "
           "GFLOP/s / (peak x threads); heads/1 = time of 4 heads of d_k = 16 "
           "/ one head of d = 64 (n = 2048); issue 7: >= 85%% at d = 128, "
           ">= 75%% at d = 64 and n = 8192\n",
           peak);

    /* Projections: Wq X and Wo concat(c), n x 512 x 512 each. */
    printf("\n%-11s %5s %3s %3s | %8s %7s %6s | %s\n", "projections", "n",
           "d", "thr", "attnc ms", "GFLOP/s", "%peak", "max |diff|");
    for (int si = 0; si < nsizes; ++si) {
      int n = sizes[si];
      double diff = 0, ms = time_projections(n, repeat, times, &diff);
      if (ms < 0)
        return 1;
      double gflops = 4.0 * n * PROJ_D * (double)(PROJ_H * PROJ_DK) / ms * 1e-6;
      printf("%-11s %5d %3d %3d | %8.3f %7.2f %5.1f%% | %.2e\n",
             "projections", n, PROJ_D, threads, ms, gflops,
             100.0 * gflops / (peak * threads), diff);
      if (diff > 1e-3) {
        fprintf(stderr, "attnc and the float64 reference disagree on the "
                        "projections\n");
        failed = 1;
      }
    }
    printf("projections: model projections, GFLOP/s = 4 n d (h d_k) (Wq X "
           "and Wo concat(c)); the two-key attention and Wk / Wv Z are in "
           "the time, not in the FLOPs; issue 7: >= 70%% at n >= 512\n");
  }

  /* Additive attention (Bahdanau): a batch of single queries. */
  printf("\n%-8s %3s %5s %3s %3s | %8s %7s %6s | %8s %7s %6s | %8s %7s %6s "
         "| %s\n",
         "additive", "b", "n_k", "d", "d_w", "attnc ms", "GFLOP/s", "%peak",
         "plain ms", "GFLOP/s", "ratio", "blas ms", "GFLOP/s", "ratio",
         "max |diff|");
  for (int si = 0; si < nsizes; ++si) {
    int nk = sizes[si];
    size_t kelems = (size_t)ADD_B * nk * ADD_D;
    float *q = malloc(sizeof(float) * ADD_B * ADD_D);
    float *k = malloc(sizeof(float) * (kelems ? kelems : 1));
    float *W1 = malloc(sizeof(float) * ADD_DW * ADD_D);
    float *W2 = malloc(sizeof(float) * ADD_DW * ADD_D);
    float *bw = malloc(sizeof(float) * ADD_DW), *w = malloc(sizeof(float) * ADD_DW);
    float *o = malloc(sizeof(float) * ADD_B * ADD_D);
    float *ob = malloc(sizeof(float) * ADD_B * ADD_D);
    float *e = malloc(sizeof(float) * (nk ? nk : 1));
    srand(2468);
    /* Hidden units O(1) before the tanh, scores O(1): a softmax that is
     * neither flat nor one-hot. */
    const float wscale = 1.0f / sqrtf((float)ADD_D);
    for (size_t x = 0; x < (size_t)ADD_B * ADD_D; ++x)
      q[x] = uniform(1.0f);
    for (size_t x = 0; x < kelems; ++x)
      k[x] = uniform(1.0f);
    for (int x = 0; x < ADD_DW * ADD_D; ++x)
      W1[x] = uniform(wscale), W2[x] = uniform(wscale);
    for (int j = 0; j < ADD_DW; ++j)
      bw[j] = uniform(0.5f), w[j] = uniform(0.5f);
    const int64_t qs[2] = {ADD_B, ADD_D}, ks[3] = {ADD_B, nk, ADD_D},
                  ws[2] = {ADD_DW, ADD_D}, vs[1] = {ADD_DW};
    attnc_tensor args[8] = {tensor_nd(q, 2, qs),  tensor_nd(k, 3, ks),
                            tensor_nd(W1, 2, ws), tensor_nd(W2, 2, ws),
                            tensor_nd(bw, 1, vs), tensor_nd(w, 1, vs),
                            tensor_nd(o, 2, qs)};
    double flops = (double)ADD_B *
                   (2.0 * nk * ADD_D * ADD_DW + 2.0 * ADD_D * ADD_DW +
                    4.0 * nk * ADD_DW + 2.0 * nk * ADD_D);
    double attnc_ms, plain_ms, blas_ms = NAN, diff;
    int32_t status = 0;
    TIME_MS(attnc_ms, repeat, times, status |= attnc_bahdanau(args, 7));
    if (status != 0) {
      fprintf(stderr, "attnc call failed: %s\n", attnc_bahdanau_last_error());
      return 1;
    }
    TIME_MS(plain_ms, repeat, times,
            plain_additive(q, k, W1, W2, bw, w, ob, ADD_B, nk, e));
    diff = max_diff(o, ob, (size_t)ADD_B * ADD_D);
#ifdef ATTNC_BENCH_BLAS
    TIME_MS(blas_ms, repeat, times,
            blas_additive(q, k, W1, W2, bw, w, ob, ADD_B, nk, ADD_D, ADD_DW));
    diff = fmax(diff, max_diff(o, ob, (size_t)ADD_B * ADD_D));
#endif
    printf("%-8s %3d %5d %3d %3d | %8.3f %7.2f %5.1f%% | %8.3f %7.2f %6.2f | "
           "%8.3f %7.2f %6.2f | %.2e\n",
           "additive", ADD_B, nk, ADD_D, ADD_DW, attnc_ms,
           flops / attnc_ms * 1e-6,
           100.0 * flops / attnc_ms * 1e-6 / (peak * threads), plain_ms,
           flops / plain_ms * 1e-6,
           plain_ms / attnc_ms, blas_ms, flops / blas_ms * 1e-6,
           blas_ms / attnc_ms, diff);
    if (diff > 1e-3) {
      fprintf(stderr, "attnc and a baseline disagree on additive attention\n");
      failed = 1;
    }
    free(q), free(k), free(W1), free(W2), free(bw), free(w), free(o), free(ob),
        free(e);
  }
  printf("additive: %%peak = GFLOP/s / (FMA peak %.1f x threads); ratio = "
         "baseline time / attnc time (> 1: attnc is faster); issue 7: >= 60%% "
         "of the peak\n", peak);
  free(times);
  return failed;
}
