/* Classifier outputs: optional softmax, threshold and top-k (see decode.h).
 *
 * Choices the contract leaves open:
 * - The tensor is [N, C] or [N, C, 1, ..., 1]; any other shape is
 *   INFER_ERR_UNSUPPORTED, unknown dims, NULL data and b outside [0, N) are
 *   INFER_ERR_INVALID_ARGUMENT, and so is top_k < 1.
 * - F32 is read as is, F16 through infer_half_to_float; any other dtype is
 *   INFER_ERR_UNSUPPORTED.
 * - NaN scores (or logits) are never reported and take no part in the
 *   softmax. The softmax is the stable max-subtracted one, summed in double;
 *   if some logits are +inf they share probability 1 equally, and if every
 *   logit is -inf the classes are equally likely.
 * - Kept: confidence >= threshold, highest first, equal confidences in class
 *   order, at most min(top_k, max_out). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "decode.h"

static float load(const InferTensorView *v, int64_t i) {
  if (v->dtype == INFER_DTYPE_F16) return infer_half_to_float(((const uint16_t *)v->data)[i]);
  return ((const float *)v->data)[i];
}

typedef struct ClassEntry {
  float confidence;
  int class_id;
} ClassEntry;

static int compare_entries(const void *pa, const void *pb) {
  const ClassEntry *a = pa, *b = pb;
  if (a->confidence > b->confidence) return -1;
  if (a->confidence < b->confidence) return 1;
  return (a->class_id > b->class_id) - (a->class_id < b->class_id);
}

InferStatus *infer_decode_classification(const InferTensorView *scores, int b,
                                         const InferClassifierParams *p, InferClassification *out,
                                         int max_out, int *n) {
  if (n) *n = 0;
  if (!scores || !p || !n)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "classification: NULL argument");
  if (max_out < 0 || (max_out > 0 && !out))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "classification: invalid output buffer (max_out %d)", max_out);
  if (p->top_k < 1)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "classification: top_k must be >= 1 (got %d)", p->top_k);
  if (scores->dtype != INFER_DTYPE_F32 && scores->dtype != INFER_DTYPE_F16)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "classifier scores have dtype %s; only f32 and f16 are decoded",
                            infer_dtype_name(scores->dtype));
  const InferShape *s = &scores->shape;
  char buf[128];
  if (s->rank < 0 || s->rank > INFER_MAX_RANK || !infer_shape_is_static(s))
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "classifier scores have an invalid or unknown shape");
  bool fits = s->rank >= 2;
  for (int i = 0; i < s->rank && fits; i++) {
    if (s->d[i] < 0 || s->d[i] > INT32_MAX) fits = false;
    if (i >= 2 && s->d[i] != 1) fits = false;
  }
  if (!fits)
    return infer_status_new(INFER_ERR_UNSUPPORTED,
                            "classifier scores have shape %s; expected [N, C] or [N, C, 1, 1]",
                            infer_shape_str(s, buf, sizeof buf));
  int64_t batch = s->d[0], classes = s->d[1];
  if (b < 0 || b >= batch)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT,
                            "classification: batch item %d is outside the scores' shape %s", b,
                            infer_shape_str(s, buf, sizeof buf));
  if (classes == 0) return NULL;
  if (!scores->data)
    return infer_status_new(INFER_ERR_INVALID_ARGUMENT, "classifier scores have no data");
  int k = p->top_k < max_out ? p->top_k : max_out;
  if (k == 0) return NULL;

  const int64_t base = (int64_t)b * classes;
  /* Softmax: max over the non-NaN logits, then the sum of exponentials. */
  double mx = -INFINITY, sum = 0.0;
  int64_t finite_count = 0, posinf = 0;
  bool any = false;
  if (p->apply_softmax) {
    for (int64_t c = 0; c < classes; c++) {
      float v = load(scores, base + c);
      if (isnan(v)) continue;
      finite_count++;
      if (v == INFINITY) posinf++;
      if (!any || v > mx) mx = v;
      any = true;
    }
    if (!any) return NULL;
    if (isfinite(mx)) {
      for (int64_t c = 0; c < classes; c++) {
        float v = load(scores, base + c);
        if (!isnan(v)) sum += exp((double)v - mx);
      }
    }
  }

  ClassEntry *all = NULL;
  int64_t n_all = 0;
  if (k > 64) {
    all = malloc((size_t)classes * sizeof *all);
    if (!all)
      return infer_status_new(INFER_ERR_OUT_OF_MEMORY, "classification: no memory for %lld classes",
                              (long long)classes);
  }
  int cnt = 0;
  for (int64_t c = 0; c < classes; c++) {
    float v = load(scores, base + c);
    if (isnan(v)) continue;
    if (p->apply_softmax) {
      if (mx == INFINITY)
        v = v == INFINITY ? (float)(1.0 / (double)posinf) : 0.0f;
      else if (mx == -INFINITY)
        v = (float)(1.0 / (double)finite_count);
      else
        v = (float)(exp((double)v - mx) / sum);
    }
    if (!(v >= p->threshold)) continue;
    if (all) {
      all[n_all].confidence = v;
      all[n_all].class_id = (int)c;
      n_all++;
      continue;
    }
    /* Insertion into the sorted top k; an equal confidence goes after the
     * ones already there (lower class ids). */
    if (cnt == k && !(v > out[k - 1].confidence)) continue;
    int pos = cnt < k ? cnt : k - 1;
    while (pos > 0 && out[pos - 1].confidence < v) {
      out[pos] = out[pos - 1];
      pos--;
    }
    out[pos].class_id = (int)c;
    out[pos].confidence = v;
    if (cnt < k) cnt++;
  }
  if (all) {
    qsort(all, (size_t)n_all, sizeof *all, compare_entries);
    cnt = n_all < k ? (int)n_all : k;
    for (int i = 0; i < cnt; i++) {
      out[i].class_id = all[i].class_id;
      out[i].confidence = all[i].confidence;
    }
    free(all);
  }
  *n = cnt;
  return NULL;
}
