/* The ONNX importer on bad input: missing, empty, non-ONNX, truncated
 * files, unknown ops and dangling references each give one clear error
 * naming the file (and the node and op), never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infer/infer.h"
#include "onnx.pb-c.h"
#include "test_util.h"

static char dir[] = "/tmp/infer_onnx_errors_XXXXXX";

/* A one-node model y = OP(x) with x, y float [2,3]; returns its bytes. */
static uint8_t *make_model(const char *op_type, const char *input_name, size_t *size) {
  Onnx__TensorShapeProto__Dimension d0 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                    d1 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
  d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  d0.dim_value = 2;
  d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
  d1.dim_value = 3;
  Onnx__TensorShapeProto__Dimension *dims[2] = {&d0, &d1};
  Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
  shape.n_dim = 2;
  shape.dim = dims;
  Onnx__TypeProto__Tensor tt = ONNX__TYPE_PROTO__TENSOR__INIT;
  tt.has_elem_type = 1;
  tt.elem_type = 1;
  tt.shape = &shape;
  Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
  type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type.tensor_type = &tt;
  Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out = ONNX__VALUE_INFO_PROTO__INIT;
  in.name = "x";
  in.type = &type;
  out.name = "y";
  out.type = &type;
  Onnx__ValueInfoProto *ins[1] = {&in}, *outs[1] = {&out};
  char *node_in[1] = {(char *)input_name}, *node_out[1] = {"y"};
  Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
  node.name = "the_node";
  node.op_type = (char *)op_type;
  node.n_input = 1;
  node.input = node_in;
  node.n_output = 1;
  node.output = node_out;
  Onnx__NodeProto *nodes[1] = {&node};
  Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
  graph.name = "g";
  graph.n_node = 1;
  graph.node = nodes;
  graph.n_input = 1;
  graph.input = ins;
  graph.n_output = 1;
  graph.output = outs;
  Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
  opset.domain = "";
  opset.has_version = 1;
  opset.version = 17;
  Onnx__OperatorSetIdProto *opsets[1] = {&opset};
  Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
  model.has_ir_version = 1;
  model.ir_version = 8;
  model.graph = &graph;
  model.n_opset_import = 1;
  model.opset_import = opsets;
  *size = onnx__model_proto__get_packed_size(&model);
  uint8_t *buf = malloc(*size);
  onnx__model_proto__pack(&model, buf);
  return buf;
}

static void write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(data, 1, size, f);
  fclose(f);
}

/* Parses path and checks the error code, one line, and the words in it. */
static void expect_error(const char *path, InferStatusCode code, const char *word1,
                         const char *word2) {
  InferNetwork *net = NULL;
  InferStatus *st = infer_onnx_parse_file(path, &net);
  CHECK(st != NULL);
  CHECK(net == NULL);
  if (!st) {
    infer_network_release(net);
    return;
  }
  const char *msg = infer_status_message(st);
  if (code != INFER_OK) CHECK(infer_status_code(st) == code);
  CHECK(strstr(msg, path) != NULL);
  CHECK(strchr(msg, '\n') == NULL);
  if (word1) CHECK(strstr(msg, word1) != NULL);
  if (word2) CHECK(strstr(msg, word2) != NULL);
  if (!strstr(msg, path) || (word1 && !strstr(msg, word1)) || (word2 && !strstr(msg, word2)))
    fprintf(stderr, "  message was: %s\n", msg);
  infer_status_free(st);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char path[512];

  snprintf(path, sizeof path, "%s/missing.onnx", dir);
  expect_error(path, INFER_ERR_IO, "cannot open", NULL);

  snprintf(path, sizeof path, "%s/empty.onnx", dir);
  write_file(path, "", 0);
  expect_error(path, INFER_ERR_PARSE, "empty", NULL);

  snprintf(path, sizeof path, "%s/text.onnx", dir);
  const char *text = "this is a text file, not an ONNX model\n";
  write_file(path, text, strlen(text));
  expect_error(path, INFER_ERR_PARSE, "not an ONNX model", NULL);

  size_t size;
  uint8_t *good = make_model("Relu", "x", &size);
  snprintf(path, sizeof path, "%s/good.onnx", dir);
  write_file(path, good, size);
  InferNetwork *net = NULL;
  CHECK_OK(infer_onnx_parse_file(path, &net));
  CHECK(net && infer_network_num_layers(net) == 1);
  infer_network_release(net);

  /* every truncation is an error, never a crash */
  for (size_t cut = 1; cut < size; cut++) {
    snprintf(path, sizeof path, "%s/truncated.onnx", dir);
    write_file(path, good, cut);
    expect_error(path, INFER_OK, NULL, NULL);
  }
  free(good);

  uint8_t *fancy = make_model("FancyOp", "x", &size);
  snprintf(path, sizeof path, "%s/fancy.onnx", dir);
  write_file(path, fancy, size);
  expect_error(path, INFER_ERR_UNSUPPORTED, "FancyOp", "the_node");
  free(fancy);

  uint8_t *dangling = make_model("Relu", "nowhere", &size);
  snprintf(path, sizeof path, "%s/dangling.onnx", dir);
  write_file(path, dangling, size);
  expect_error(path, INFER_ERR_PARSE, "nowhere", "the_node");
  free(dangling);

  const char *names[] = {"missing", "empty", "text", "good", "truncated", "fancy", "dangling"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(path, sizeof path, "%s/%s.onnx", dir, names[i]);
    unlink(path);
  }
  rmdir(dir);
  TEST_MAIN_END("onnx_errors");
}
