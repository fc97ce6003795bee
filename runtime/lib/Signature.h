/*===- Signature.h - Parsed model signatures (internal) ----------*- C -*-===*
 *
 * The parser of the signature JSON that attnc embeds in every compiled model
 * (see attnc.h for the format). It lives in the runtime library and is shared
 * with the host tools (attnc-run) so that there is exactly one reading of the
 * format. Not installed, not part of the ABI.
 *
 * The parser works on fixed storage (no malloc): names are not copied but
 * referenced as spans of the JSON text, which must therefore outlive the
 * parsed signature (it is a string literal in a compiled model). A span holds
 * the raw text between the quotes, escapes included; attnc only emits plain
 * identifiers, so this is the name itself in practice, and two spans name the
 * same dimension iff their raw texts are equal.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNC_RUNTIME_SIGNATURE_H
#define ATTNC_RUNTIME_SIGNATURE_H

#include "attnc/runtime.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A string of the JSON text: `len` bytes at `ptr`, not NUL-terminated. Print
 * it with "%.*s", (int)s.len, s.ptr. */
typedef struct {
  const char *ptr;
  int32_t len;
} attnc_sig_str;

typedef enum {
  ATTNC_ROLE_INPUT = 0,
  ATTNC_ROLE_PARAM = 1,
  ATTNC_ROLE_OUTPUT = 2
} attnc_sig_role;

/* One entry of a shape: static when size >= 0, else the dynamic dimension
 * named `dyn`. */
typedef struct {
  int64_t size;
  attnc_sig_str dyn;
} attnc_sig_dim;

typedef struct {
  attnc_sig_str name;
  int32_t role;  /* an attnc_sig_role */
  int32_t dtype; /* an attnc_dtype */
  int32_t rank;
  attnc_sig_dim dims[ATTNC_MAX_RANK];
} attnc_sig_arg;

typedef struct {
  attnc_sig_str name;
  int32_t nargs;
  attnc_sig_arg args[ATTNC_RT_MAX_ARGS];
} attnc_signature;

/* Parses `json` into `*sig`. Returns 0 on success; otherwise writes a message
 * (with the byte offset of the problem) into err[0..errlen) and returns
 * ATTNC_RT_ERR_SIGNATURE. */
int32_t attnc_rt_parse_signature(const char *json, attnc_signature *sig,
                                 char *err, size_t errlen);

/* Size in bytes of one element of `dtype`, or 0 if it is not an attnc_dtype. */
size_t attnc_rt_dtype_size(int32_t dtype);

/* "f32", "f64", ... or "?" for an unknown value. */
const char *attnc_rt_dtype_name(int32_t dtype);

/* "input", "param", "output" or "?". */
const char *attnc_rt_role_name(int32_t role);

/* 1 iff the two spans hold the same bytes. */
int attnc_rt_str_eq(attnc_sig_str a, attnc_sig_str b);

/* For tests: the number of blocks from _mlir_memref_to_llvm_alloc that
 * belong to calls in progress (or to no call in particular) and are not
 * freed yet. 0 whenever no call is in progress. */
int64_t attnc_rt_live_blocks(void);

/* For tests: the next `count` allocations fail as if malloc had. */
void attnc_rt_fail_next_allocations(int count);

/* For tests: the process's request for the AMX tile state answered
 * `error` (an errno value; 0: granted), instead of asking Linux. */
void attnc_rt_set_amx_request_result(int error);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_SIGNATURE_H */
