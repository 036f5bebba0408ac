/* A protobuf text-format document as a generic tree, and typed queries on
 * it. caffe_text.c builds the tree without knowing any schema; the layer
 * importers give fields their Caffe meaning. Every node remembers where it
 * was written, so errors can say "file:line:column: reason". */
#ifndef INFER_CAFFE_TREE_H
#define INFER_CAFFE_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "infer/status.h"

typedef enum CaffeValueKind {
  CAFFE_VALUE_IDENT,   /* an identifier: enum values, true/false, inf/nan */
  CAFFE_VALUE_NUMBER,  /* a number as written (a leading '-' included) */
  CAFFE_VALUE_STRING,  /* a quoted string, unescaped (adjacent strings joined) */
  CAFFE_VALUE_MESSAGE  /* a nested message: see children */
} CaffeValueKind;

typedef struct CaffeNode {
  char *name;                 /* the field name */
  int line, col;              /* where the field name starts (1-based) */
  CaffeValueKind kind;
  char *text;                 /* scalars: the value (NUL-terminated) */
  size_t text_len;            /* strings may hold NUL bytes */
  struct CaffeNode *first, *last; /* messages: fields in the order written */
  struct CaffeNode *next;     /* the next field of the parent */
} CaffeNode;

/* A parsed document: the root is a message node without a name. */
typedef struct CaffeDoc {
  char *file;                 /* for messages */
  CaffeNode *root;
} CaffeDoc;

/* ---- caffe_text.c --------------------------------------------------------- */

/* Parses text (len bytes, need not be NUL-terminated). Errors are
 * INFER_ERR_PARSE "<file>:<line>:<col>: <reason>". */
InferStatus *caffe_text_parse(const char *text, size_t len, const char *file, CaffeDoc *out);
void caffe_doc_free(CaffeDoc *doc);

/* ---- caffe_tree.c: queries -------------------------------------------------- */

/* The last field called name (protobuf keeps the last of a repeated
 * singular field), or NULL. msg may be NULL (an absent message). */
const CaffeNode *caffe_find(const CaffeNode *msg, const char *name);
/* The field after `prev` with the same name (prev NULL: the first). */
const CaffeNode *caffe_next(const CaffeNode *msg, const char *name, const CaffeNode *prev);
int caffe_count(const CaffeNode *msg, const char *name);

/* An error at a node: "<file>:<line>:<col>: <reason>". */
InferStatus *caffe_node_error(const char *file, const CaffeNode *node, InferStatusCode code,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Scalar conversions of one node; errors name the field and its text. */
InferStatus *caffe_node_int(const char *file, const CaffeNode *n, int64_t *out);
InferStatus *caffe_node_float(const char *file, const CaffeNode *n, double *out);
InferStatus *caffe_node_bool(const char *file, const CaffeNode *n, bool *out);
InferStatus *caffe_node_string(const char *file, const CaffeNode *n, const char **out);
/* An enum field: an identifier from names (value = its index) or a number
 * naming an index; names[i] may be NULL for unused values. */
InferStatus *caffe_node_enum(const char *file, const CaffeNode *n, const char *const *names,
                             int n_names, int *out);

/* Optional singular fields of msg: *out keeps def when absent. */
InferStatus *caffe_get_int(const char *file, const CaffeNode *msg, const char *name, int64_t def,
                           int64_t *out);
InferStatus *caffe_get_float(const char *file, const CaffeNode *msg, const char *name, double def,
                             double *out);
InferStatus *caffe_get_bool(const char *file, const CaffeNode *msg, const char *name, bool def,
                            bool *out);
InferStatus *caffe_get_enum(const char *file, const CaffeNode *msg, const char *name,
                            const char *const *names, int n_names, int def, int *out);
/* A repeated integer field: up to max values into out, *n the count;
 * more than max is an error naming the field. */
InferStatus *caffe_get_ints(const char *file, const CaffeNode *msg, const char *name, int64_t *out,
                            int max, int *n);
InferStatus *caffe_get_floats(const char *file, const CaffeNode *msg, const char *name,
                              double *out, int max, int *n);

/* Errors for a field of msg that is not in `known` (NULL-terminated), so a
 * misspelt parameter is reported instead of silently ignored. `what` names
 * the message ("convolution_param"). */
InferStatus *caffe_check_fields(const char *file, const CaffeNode *msg, const char *what,
                                const char *const *known);

#endif
