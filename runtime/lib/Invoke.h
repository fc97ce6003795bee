/*===- Invoke.h - What the CPU and CUDA invoke functions share ---*- C -*-===*
 *
 * Internal to the runtime archive (hidden, not installed): Runtime.c does
 * the argument checks and builds the memref descriptors once for every
 * entry point; what runs afterwards (the thunk on the CPU, or the CUDA
 * driver work around it in CudaRuntime.c) is a runner called with the
 * checked call.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNC_RUNTIME_INVOKE_H
#define ATTNC_RUNTIME_INVOKE_H

#include "Signature.h"
#include "attnc/runtime.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One call whose arguments passed the checks, for messages. */
typedef struct {
  const attnc_signature *sig;
  const attnc_tensor *args;
} attnc_rt_call;

/* What runs after the checks. `descs[i]` is the memref descriptor of
 * argument i (words: allocated, aligned, offset, sizes[R], strides[R]); a
 * runner may rewrite its two pointer words (e.g. to device copies).
 * `bytes[i]` is the byte size of argument i (0 for an empty tensor). Returns
 * ATTNC_RT_OK or the code of attnc_rt_refuse. */
typedef int32_t (*attnc_rt_runner)(const attnc_rt_call *call,
                                   attnc_rt_thunk thunk, void **descs,
                                   const int64_t *bytes, void *user);

/* attnc_rt_invoke_cached with `run` instead of attnc_rt_run_thunk. */
int32_t attnc_rt_invoke_with(const char *signature, void **cache,
                             attnc_tensor *args, int32_t nargs,
                             attnc_rt_thunk thunk, attnc_rt_runner run,
                             void *user);

/* Runs the thunk in a call context (the kernels' host allocations; see
 * "Memory of the kernels" in Runtime.c). */
int32_t attnc_rt_run_thunk(const attnc_rt_call *call, attnc_rt_thunk thunk,
                           void **descs);

/* Sets the thread's message to "attnc_M: <fmt>" and returns `code`. */
int32_t attnc_rt_refuse(const attnc_rt_call *call, int32_t code,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "argument 'X' (#0)" / "output 'Y' (#2)" into buf. */
const char *attnc_rt_arg_desc(const attnc_rt_call *call, int32_t i, char *buf,
                              size_t n);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_INVOKE_H */
