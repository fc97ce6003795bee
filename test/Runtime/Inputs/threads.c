/* A compiled model called from 16 threads at once (test/Runtime/threads.test,
 * and threads-tsan.test under ThreadSanitizer).
 *
 *   threads libconc.so [repeats]
 *
 * Loads attnc_conc (Inputs/threads.attn) and gives each of 16 threads sizes
 * and data of its own. The main thread first makes every thread's call
 * serially and keeps the outputs; then the threads start together (a
 * barrier) and each repeats its call `repeats` times, comparing the outputs
 * bit for bit with the serial ones. Every thread but thread 0 then provokes
 * an error of its own (a call with 100 + k arguments, so that each message
 * is different); after a second barrier, once every thread has failed, and
 * after one more good call each, every thread must still read its own
 * message from attnc_conc_last_error(), and thread 0 (which never failed)
 * an empty one. Exit status 0 iff all of that holds.
 *
 * Built with -fsanitize=thread against a model linked with the TSan-built
 * runtime, it is the ThreadSanitizer test of the runtime; built plainly, it
 * checks the same with the kernels' OpenMP threads running too. */
#define _POSIX_C_SOURCE 200809L
#include <attnc/attnc.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_THREADS 16

/* The model's static sizes and arguments: X, S, L, Wq, Wk, Wv, then y. */
enum { D = 17, H = 2, DK = 5, NUM_ARGS = 7, OUTPUT = 6 };

typedef int32_t (*model_fn)(attnc_tensor *, int32_t);
typedef const char *(*error_fn)(void);

static model_fn model;
static error_fn lastError;
static int repeats = 4;
static pthread_barrier_t started, failed;

typedef struct {
  int index;
  attnc_tensor args[NUM_ARGS];
  size_t bytes[NUM_ARGS];
  unsigned char *expected; /* the output of the serial call */
  char failure[512];       /* the thread's first failure, "" if none */
} job;

static attnc_tensor tensorOf(int32_t dtype, int32_t rank, const int64_t *shape,
                             size_t elementSize, size_t *bytes) {
  attnc_tensor t;
  memset(&t, 0, sizeof t);
  t.dtype = dtype;
  t.rank = rank;
  int64_t stride = 1;
  for (int32_t d = rank - 1; d >= 0; --d) {
    t.shape[d] = shape[d];
    t.strides[d] = stride;
    stride *= shape[d];
  }
  *bytes = (size_t)stride * elementSize;
  /* At least one byte, so that an empty tensor still has non-null data. */
  t.data = malloc(*bytes ? *bytes : 1);
  return t;
}

/* A linear congruential generator: the same data on every run. */
static uint32_t nextRandom(uint32_t *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

static void setUp(job *j, int k) {
  int64_t b = 1 + k % 3, n = 1 + 11 * k, m = 1 + (5 * k) % 23;
  const int64_t x[] = {b, n, D}, s[] = {b, m, D}, w[] = {H, DK, D},
                y[] = {b, m, H * DK};
  j->index = k;
  j->failure[0] = '\0';
  j->args[0] = tensorOf(ATTNC_F32, 3, x, 4, &j->bytes[0]);
  j->args[1] = tensorOf(ATTNC_F32, 3, s, 4, &j->bytes[1]);
  j->args[2] = tensorOf(ATTNC_I32, 1, &b, 4, &j->bytes[2]);
  for (int i = 3; i < 6; ++i)
    j->args[i] = tensorOf(ATTNC_F32, 3, w, 4, &j->bytes[i]);
  j->args[OUTPUT] = tensorOf(ATTNC_F32, 3, y, 4, &j->bytes[OUTPUT]);
  uint32_t state = 1000u + (uint32_t)k;
  for (int i = 0; i < OUTPUT; ++i) {
    size_t count = j->bytes[i] / 4;
    if (i == 2) {
      /* Key lengths in [0, n]: 0 leaves the rows without a visible key. */
      int32_t *lengths = j->args[i].data;
      for (size_t e = 0; e < count; ++e)
        lengths[e] = (int32_t)(nextRandom(&state) % (uint32_t)(n + 1));
      continue;
    }
    float *values = j->args[i].data;
    for (size_t e = 0; e < count; ++e)
      values[e] = (float)nextRandom(&state) / (float)(1u << 23) - 1.0f;
  }
}

static int callModel(job *j) {
  memset(j->args[OUTPUT].data, 0x5a, j->bytes[OUTPUT]);
  return model(j->args, NUM_ARGS);
}

static void fail(job *j, const char *what, const char *detail) {
  if (!j->failure[0])
    snprintf(j->failure, sizeof j->failure, "thread %d: %s%s", j->index, what,
             detail);
}

static void *runThread(void *arg) {
  job *j = arg;
  pthread_barrier_wait(&started);
  for (int r = 0; r < repeats; ++r) {
    if (callModel(j) != 0)
      fail(j, "a good call was refused: ", lastError());
    else if (memcmp(j->args[OUTPUT].data, j->expected, j->bytes[OUTPUT]))
      fail(j, "the outputs differ from those of the serial call", "");
  }
  char own[256] = "";
  if (j->index != 0) {
    if (model(j->args, 100 + j->index) == 0)
      fail(j, "a call with the wrong number of arguments was accepted", "");
    snprintf(own, sizeof own, "%s", lastError());
    char expected[64];
    snprintf(expected, sizeof expected, "but got %d", 100 + j->index);
    if (!strstr(own, expected))
      fail(j, "the message does not name the thread's call: ", own);
  }
  /* Every other thread has now failed too. */
  pthread_barrier_wait(&failed);
  if (callModel(j) != 0)
    fail(j, "a good call was refused: ", lastError());
  if (strcmp(lastError(), own) != 0)
    fail(j, "last_error changed under another thread's failure: ",
         lastError());
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s libconc.so [repeats]\n", argv[0]);
    return 2;
  }
  if (argc > 2)
    repeats = atoi(argv[2]);
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 2;
  }
  model = (model_fn)dlsym(lib, "attnc_conc");
  lastError = (error_fn)dlsym(lib, "attnc_conc_last_error");
  if (!model || !lastError) {
    fprintf(stderr, "no attnc_conc in %s\n", argv[1]);
    return 2;
  }

  static job jobs[NUM_THREADS];
  for (int k = 0; k < NUM_THREADS; ++k) {
    job *j = &jobs[k];
    setUp(j, k);
    if (callModel(j) != 0) {
      fprintf(stderr, "serial call %d refused: %s\n", k, lastError());
      return 1;
    }
    j->expected = malloc(j->bytes[OUTPUT] ? j->bytes[OUTPUT] : 1);
    memcpy(j->expected, j->args[OUTPUT].data, j->bytes[OUTPUT]);
  }

  pthread_barrier_init(&started, NULL, NUM_THREADS);
  pthread_barrier_init(&failed, NULL, NUM_THREADS);
  pthread_t threads[NUM_THREADS];
  for (int k = 0; k < NUM_THREADS; ++k)
    if (pthread_create(&threads[k], NULL, runThread, &jobs[k])) {
      fprintf(stderr, "cannot start thread %d\n", k);
      return 2;
    }
  int failures = 0;
  for (int k = 0; k < NUM_THREADS; ++k) {
    pthread_join(threads[k], NULL);
    if (jobs[k].failure[0]) {
      fprintf(stderr, "%s\n", jobs[k].failure);
      ++failures;
    }
  }
  pthread_barrier_destroy(&started);
  pthread_barrier_destroy(&failed);
  if (lastError()[0]) {
    fprintf(stderr, "the main thread, which never failed, reads: %s\n",
            lastError());
    ++failures;
  }
  for (int k = 0; k < NUM_THREADS; ++k) {
    for (int i = 0; i < NUM_ARGS; ++i)
      free(jobs[k].args[i].data);
    free(jobs[k].expected);
  }
  if (failures)
    return 1;
  printf("%d threads x %d calls: outputs identical to the serial calls, "
         "last_error per thread\n",
         NUM_THREADS, repeats + 1);
  return 0;
}
