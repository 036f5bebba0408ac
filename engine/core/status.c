/* Status objects carrying a code and a human-readable message. */
#include "infer/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct InferStatus {
  InferStatusCode code;
  int is_static;
  char *message;
};

/* Returned when allocating a status itself fails: it must never be freed. */
static InferStatus oom_status = {INFER_ERR_OUT_OF_MEMORY, 1, "out of memory while reporting an error"};

InferStatus *infer_status_newv(InferStatusCode code, const char *fmt, va_list ap) {
  InferStatus *st = malloc(sizeof *st);
  if (!st) return &oom_status;
  char probe[1];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(probe, sizeof probe, fmt ? fmt : "", ap2);
  va_end(ap2);
  if (n < 0) n = 0;
  st->message = malloc((size_t)n + 1);
  if (!st->message) {
    free(st);
    return &oom_status;
  }
  vsnprintf(st->message, (size_t)n + 1, fmt ? fmt : "", ap);
  st->code = code == INFER_OK ? INFER_ERR_INTERNAL : code;
  st->is_static = 0;
  return st;
}

InferStatus *infer_status_new(InferStatusCode code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  InferStatus *st = infer_status_newv(code, fmt, ap);
  va_end(ap);
  return st;
}

InferStatus *infer_status_prefix(InferStatus *st, const char *fmt, ...) {
  if (!st || st->is_static) return st;
  va_list ap;
  char probe[1];
  va_start(ap, fmt);
  int n = vsnprintf(probe, sizeof probe, fmt, ap);
  va_end(ap);
  if (n < 0) return st;
  size_t old = strlen(st->message);
  char *msg = malloc((size_t)n + 2 + old + 1);
  if (!msg) return st;
  va_start(ap, fmt);
  vsnprintf(msg, (size_t)n + 1, fmt, ap);
  va_end(ap);
  memcpy(msg + n, ": ", 2);
  memcpy(msg + n + 2, st->message, old + 1);
  free(st->message);
  st->message = msg;
  return st;
}

InferStatusCode infer_status_code(const InferStatus *st) { return st ? st->code : INFER_OK; }

const char *infer_status_message(const InferStatus *st) { return st ? st->message : ""; }

const char *infer_status_code_name(InferStatusCode code) {
  switch (code) {
    case INFER_OK: return "ok";
    case INFER_ERR_INVALID_ARGUMENT: return "invalid argument";
    case INFER_ERR_UNSUPPORTED: return "unsupported";
    case INFER_ERR_IO: return "i/o error";
    case INFER_ERR_PARSE: return "parse error";
    case INFER_ERR_OUT_OF_MEMORY: return "out of memory";
    case INFER_ERR_MISMATCH: return "mismatch";
    case INFER_ERR_DEVICE: return "device error";
    case INFER_ERR_INTERNAL: return "internal error";
  }
  return "unknown";
}

void infer_status_free(InferStatus *st) {
  if (!st || st->is_static) return;
  free(st->message);
  free(st);
}
