/* Caffe import errors: each must fail with the right code and a message
 * that locates the problem (file:line:column, layer and type, blob shapes).
 *
 * usage: test_caffe_errors MODELS_DIR */
#include <stdio.h>
#include <string.h>

#include "infer/caffe.h"
#include "infer/infer.h"
#include "test_util.h"

static const char *dir;

static const char *path(const char *model, const char *file) {
  static char buf[4][4096];
  static int next;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s/%s", dir, model, file);
  return p;
}

#define CHECK_HAS(msg, part)                                                   \
  do {                                                                         \
    bool has_ = strstr((msg), (part)) != NULL;                                 \
    CHECK(has_);                                                               \
    if (!has_) fprintf(stderr, "  message: %s\n  lacks: %s\n", (msg), (part)); \
  } while (0)

/* Parses text as "t.prototxt" (no caffemodel); must fail with code. */
static void parse_fails(const char *text, InferStatusCode code, char *msg, size_t size) {
  InferNetwork *net = NULL;
  InferStatus *st = infer_caffe_parse_memory(text, strlen(text), "t.prototxt", NULL, 0, NULL,
                                             NULL, &net);
  CHECK(st != NULL && infer_status_code(st) == code && net == NULL);
  if (st && infer_status_code(st) != code)
    fprintf(stderr, "  got %s: %s\n", infer_status_code_name(infer_status_code(st)),
            infer_status_message(st));
  snprintf(msg, size, "%s", infer_status_message(st));
  infer_status_free(st);
  infer_network_release(net);
}

#define INPUT_LAYER \
  "layer { name: 'in' type: 'Input' top: 'data' input_param { shape { dim: 1 dim: 2 dim: 5 dim: 5 } } }\n"

static void test_malformed_text(void) {
  char msg[1024];
  parse_fails("layer {\n  name: \"a\"\n  type \"Input\"\n}\n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:3:8: expected ':' or '{' after field name 'type'");
  parse_fails("layer {\n  name: 'unclosed\n}\n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:2:9: the string is not closed");
  parse_fails("layer {\n  name: 'a'\n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:3:1: expected '}' before the end of the file");
  parse_fails("name: 'x'\n  } \n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:2:3: expected a field name, found '}'");
  parse_fails("input_dim: [1, 2 3]\n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:1:18: expected ',' or ']'");
  parse_fails("name: 'a\\q'\n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:1:7: unknown escape");
  parse_fails("name: @\n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:1:7: unexpected character '@'");
  /* typed values: a string where a number goes */
  parse_fails(INPUT_LAYER "layer { name: 'p' type: 'Power' bottom: 'data' top: 'p'\n"
              "  power_param { scale: 'two' } }\n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:3:17: field 'scale' needs a number, found 'two'");
  /* deep nesting is refused, not a stack overflow */
  char deep[800] = "";
  for (int i = 0; i < 100; i++) strcat(deep, "a{");
  parse_fails(deep, INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "nest deeper");
}

static void test_unknown_fields(void) {
  char msg[1024];
  parse_fails(INPUT_LAYER "layer { name: 'c' type: 'Convolution' bottom: 'data' top: 'c'\n"
              "  convolution_param { num_output: 2 kernel_sise: 3 } }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:3:37: unknown field 'kernel_sise' in convolution_param");
  parse_fails(INPUT_LAYER "layer { name: 'r' type: 'ReLU' botom: 'data' top: 'r' }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:2:32: unknown field 'botom' in a layer");
}

static void test_unknown_type(void) {
  char msg[1024];
  parse_fails(INPUT_LAYER "layer { name: 'm' type: 'Mystery' bottom: 'data' top: 'm' }\n",
              INFER_ERR_UNSUPPORTED, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:2:1: layer 'm' (Mystery): layer type 'Mystery' is not supported");
}

static void test_v1(void) {
  char msg[1024];
  parse_fails("name: 'old'\nlayers { name: 'conv1' type: CONVOLUTION }\n", INFER_ERR_UNSUPPORTED,
              msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:2:1:");
  CHECK_HAS(msg, "legacy V1 format");
  InferNetwork *net = NULL;
  CHECK_FAILS(infer_caffe_parse(path("lenet", "deploy.prototxt"), path("lenet", "v1.caffemodel"),
                                NULL, &net), INFER_ERR_UNSUPPORTED, msg);
  CHECK_HAS(msg, "v1.caffemodel: the caffemodel uses the legacy V1 format");
}

static void test_blob_errors(void) {
  char msg[1024];
  InferNetwork *net = NULL;
  CHECK_FAILS(infer_caffe_parse(path("lenet", "deploy.prototxt"),
                                path("lenet", "bad_shape.caffemodel"), NULL, &net),
              INFER_ERR_PARSE, msg);
  CHECK_HAS(msg, "bad_shape.caffemodel: layer 'conv1' (Convolution): blob 0 has shape 20x1x3x3, "
                 "the prototxt needs 20x1x5x5");
  /* a caffemodel of another net: the zoo's layers are not in LeNet's file */
  CHECK_FAILS(infer_caffe_parse(path("zoo", "deploy.prototxt"), path("lenet", "lenet.caffemodel"),
                                NULL, &net), INFER_ERR_PARSE, msg);
  CHECK_HAS(msg, "layer 'conv_a' (Convolution): the caffemodel has no layer of that name");
  /* not a caffemodel at all */
  CHECK_FAILS(infer_caffe_parse(path("lenet", "deploy.prototxt"), path("lenet", "deploy.prototxt"),
                                NULL, &net), INFER_ERR_PARSE, msg);
  CHECK_HAS(msg, "deploy.prototxt: not a caffemodel");
  CHECK_FAILS(infer_caffe_parse(path("lenet", "nothing.prototxt"), NULL, NULL, &net), INFER_ERR_IO,
              msg);
  CHECK_HAS(msg, "nothing.prototxt");
}

static void test_outputs_and_inputs(void) {
  char msg[1024];
  const char *outputs[] = {"prob", "nope"};
  InferCaffeOptions o = {0};
  o.outputs = outputs;
  o.n_outputs = 2;
  InferNetwork *net = NULL;
  CHECK_FAILS(infer_caffe_parse(path("lenet", "deploy.prototxt"), path("lenet", "lenet.caffemodel"),
                                &o, &net), INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_HAS(msg, "output blob 'nope' is not produced by any layer");
  parse_fails(INPUT_LAYER "layer { name: 'r' type: 'ReLU' bottom: 'dat' top: 'r' }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:2:32: layer 'r' (ReLU): bottom 'dat' is not produced");
  parse_fails("layer { name: 'd' type: 'Data' top: 'data' top: 'label' }\n",
              INFER_ERR_INVALID_ARGUMENT, msg, sizeof msg);
  CHECK_HAS(msg, "input 'data' has no declared shape");
  /* the mean must fit the input */
  o.n_outputs = 0;
  o.mean_file = path("lenet", "mean.binaryproto");
  CHECK_FAILS(infer_caffe_parse(path("zoo", "deploy.prototxt"), NULL, &o, &net),
              INFER_ERR_INVALID_ARGUMENT, msg);
  CHECK_HAS(msg, "does not fit input 'data'");
}

static void test_layer_params(void) {
  char msg[1024];
  /* Caffe keeps a last window that starts past the input when there is no
     padding; the IR's ceil mode drops it: refused, not miscomputed */
  parse_fails(INPUT_LAYER "layer { name: 'p' type: 'Pooling' bottom: 'data' top: 'p'\n"
              "  pooling_param { pool: MAX kernel_size: 1 stride: 3 } }\n",
              INFER_ERR_UNSUPPORTED, msg, sizeof msg);
  CHECK_HAS(msg, "layer 'p' (Pooling): Caffe pools 3 positions along dim 2");
  parse_fails(INPUT_LAYER "layer { name: 'p' type: 'Pooling' bottom: 'data' top: 'p'\n"
              "  pooling_param { pool: STOCHASTIC kernel_size: 2 } }\n",
              INFER_ERR_UNSUPPORTED, msg, sizeof msg);
  CHECK_HAS(msg, "STOCHASTIC");
  parse_fails(INPUT_LAYER "layer { name: 'p' type: 'Pooling' bottom: 'data' top: 'p'\n"
              "  pooling_param { pool: MEDIAN kernel_size: 2 } }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "t.prototxt:3:19: field 'pool' has value 'MEDIAN'; expected one of MAX, AVE");
  parse_fails(INPUT_LAYER "layer { name: 'c' type: 'Convolution' bottom: 'data' top: 'c'\n"
              "  convolution_param { num_output: 3 kernel_size: 3 group: 2 } }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "group 2 must divide");
  parse_fails(INPUT_LAYER "layer { name: 'b' type: 'BatchNorm' bottom: 'data' top: 'data'\n"
              "  batch_norm_param { use_global_stats: false } }\n",
              INFER_ERR_UNSUPPORTED, msg, sizeof msg);
  CHECK_HAS(msg, "use_global_stats: false");
  parse_fails(INPUT_LAYER "layer { name: 's' type: 'Slice' bottom: 'data' top: 'a' top: 'b'\n"
              "  slice_param { slice_point: 3 slice_point: 4 } }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "2 slice points for 2 tops");
  parse_fails(INPUT_LAYER "layer { name: 'e' type: 'Eltwise' bottom: 'data' bottom: 'data' top: 'e'\n"
              "  eltwise_param { operation: MAX coeff: 1 coeff: 2 } }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "coeff needs operation SUM");
  parse_fails(INPUT_LAYER "layer { name: 'r' type: 'Reshape' bottom: 'data' top: 'r'\n"
              "  reshape_param { shape { dim: -1 dim: -1 } } }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "more than one dim is -1");
  parse_fails(INPUT_LAYER "layer { name: 'i' type: 'InnerProduct' bottom: 'data' top: 'i' }\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "num_output must be given");
  parse_fails(INPUT_LAYER "layer { name: 'l' type: 'LRN' bottom: 'data' top: 'l'\n"
              "  lrn_param { local_size: 4 } }\n", INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "local_size must be odd");
  /* every blob is consumed: no default output */
  parse_fails("input: 'x'\ninput_dim: 1 input_dim: 1 input_dim: 1 input_dim: 1\n",
              INFER_ERR_PARSE, msg, sizeof msg);
  CHECK_HAS(msg, "no output");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODELS_DIR\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  test_malformed_text();
  test_unknown_fields();
  test_unknown_type();
  test_v1();
  test_blob_errors();
  test_outputs_and_inputs();
  test_layer_params();
  TEST_MAIN_END("caffe_errors");
}
