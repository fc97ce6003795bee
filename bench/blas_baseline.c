/*===- blas_baseline.c - Attention from OpenBLAS sgemm tiles --------------===*
 *
 * The strong baseline of attention_bench.c: what one writes by hand with a
 * tuned BLAS. Blocks of 128 queries: S = Q_blk K^T (sgemm), a row softmax
 * (causal: keys past the query masked), O_blk = P V (sgemm). The scores of
 * one block ([128, n_k]) are materialized, which fused kernels avoid.
 * Compiled with -ffast-math so that expf vectorizes (libmvec).
 *
 *===----------------------------------------------------------------------===*/

#include "blas_baseline.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

enum { BLOCK = 128 };

void blas_attention(const float *q, const float *k, const float *v, float *o,
                    int nq, int nk, int d, int causal) {
  float *s = malloc(sizeof(float) * BLOCK * (nk > 0 ? nk : 1));
  const float scale = 1.0f / sqrtf((float)d);
  for (int i0 = 0; i0 < nq; i0 += BLOCK) {
    int rows = nq - i0 < BLOCK ? nq - i0 : BLOCK;
    /* Keys any query of the block sees. */
    int keys = causal ? i0 + rows + nk - nq : nk;
    keys = keys < 0 ? 0 : keys > nk ? nk : keys;
    if (keys > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, keys, d,
                  scale, q + (size_t)i0 * d, d, k, d, 0.0f, s, keys);
    for (int r = 0; r < rows; ++r) {
      float *row = s + (size_t)r * keys;
      int end = causal ? i0 + r + 1 + nk - nq : keys;
      end = end < 0 ? 0 : end > keys ? keys : end;
      float m = -INFINITY, l = 0.0f;
      for (int j = 0; j < end; ++j)
        m = row[j] > m ? row[j] : m;
      for (int j = 0; j < end; ++j)
        l += row[j] = expf(row[j] - m);
      float inv = end ? 1.0f / l : 0.0f;
      for (int j = 0; j < end; ++j)
        row[j] *= inv;
      for (int j = end; j < keys; ++j)
        row[j] = 0.0f;
    }
    if (keys > 0)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, d, keys,
                  1.0f, s, keys, v, d, 0.0f, o + (size_t)i0 * d, d);
    else
      for (int e = 0; e < rows * d; ++e)
        o[(size_t)i0 * d + e] = 0.0f;
  }
  free(s);
}

/* Additive: W2 K for all the batch's keys in one sgemm ([B nk, d] x
 * [d, dw]), W1 q + b for all queries in another; then per key the tanh and
 * the dot with w (vectorized by -ffast-math), a softmax over the row and
 * c = a^T K (sgemv). The projected keys [B nk, dw] are materialized. */
void blas_additive(const float *q, const float *k, const float *W1,
                   const float *W2, const float *b, const float *w, float *o,
                   int B, int nk, int d, int dw) {
  size_t rows = (size_t)B * nk;
  float *kp = malloc(sizeof(float) * (rows ? rows : 1) * dw);
  float *qp = malloc(sizeof(float) * (B ? B : 1) * dw);
  float *e = malloc(sizeof(float) * (nk ? nk : 1));
  if (rows)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, dw, d,
                1.0f, k, d, W2, d, 0.0f, kp, dw);
  if (B)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, dw, d, 1.0f, q,
                d, W1, d, 0.0f, qp, dw);
  for (int bi = 0; bi < B; ++bi) {
    float *qb = qp + (size_t)bi * dw;
    for (int j = 0; j < dw; ++j)
      qb[j] += b[j];
    float m = -INFINITY;
    for (int l = 0; l < nk; ++l) {
      const float *kl = kp + ((size_t)bi * nk + l) * dw;
      float s = 0.0f;
      for (int j = 0; j < dw; ++j)
        s += w[j] * tanhf(qb[j] + kl[j]);
      e[l] = s;
      m = s > m ? s : m;
    }
    float sum = 0.0f;
    for (int l = 0; l < nk; ++l)
      sum += e[l] = expf(e[l] - m);
    float inv = nk ? 1.0f / sum : 0.0f;
    if (nk)
      cblas_sgemv(CblasRowMajor, CblasTrans, nk, d, inv, k + (size_t)bi * nk * d,
                  d, e, 1, 0.0f, o + (size_t)bi * d, 1);
    else
      for (int c = 0; c < d; ++c)
        o[(size_t)bi * d + c] = 0.0f;
  }
  free(kp), free(qp), free(e);
}

void blas_use_one_thread(void) { openblas_set_num_threads(1); }
