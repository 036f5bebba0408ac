#!/usr/bin/env bash
# Bad inputs to inferexec: missing, empty, truncated, random and malicious
# models and plans. Each must end with exit status 1 (not a crash, a
# sanitizer report or a hang) and exactly one "inferexec: error:" line;
# errors found while reading a file must name it.
#
#   bad_inputs_cli.sh INFEREXEC BAD_MODELS_DIR GENERATED_MODELS_DIR
set -u
exe=$1 bad=$2 gen=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 passes=0

# check NAME NEEDLE ARGS...: runs inferexec with ARGS; NEEDLE ("" for none)
# must appear in the error line.
check() {
  local name=$1 needle=$2
  shift 2
  local t0 rc err lines
  t0=$(date +%s)
  timeout 60 "$exe" "$@" --backend cpu --iterations 1 --warmup 0 >"$tmp/out" 2>"$tmp/err"
  rc=$?
  err=$(grep -a '^inferexec: ' "$tmp/err" || true)
  lines=$(printf '%s' "$err" | grep -c '' || true)
  local why=""
  if [ $rc -eq 124 ]; then why="hung (killed after 60 s)"
  elif [ $rc -ne 1 ]; then why="exit status $rc"
  elif grep -aq 'Sanitizer\|runtime error' "$tmp/err"; then why="sanitizer report"
  elif [ "$lines" -ne 1 ]; then why="$lines error lines"
  elif [ -n "$needle" ] && ! printf '%s' "$err" | grep -aqF -- "$needle"; then
    why="the message does not name '$needle'"
  fi
  if [ -n "$why" ]; then
    echo "FAIL $name: $why ($(( $(date +%s) - t0 )) s)"
    sed 's/^/    /' "$tmp/err" | grep -av '^    build: \|^    optimizer: ' | head -20
    fails=$((fails + 1))
  else
    echo "ok   $name: $err"
    passes=$((passes + 1))
  fi
}

# models: what cannot be read or is malformed names the file
check missing_model /nonexistent/model.onnx --onnx /nonexistent/model.onnx
check folder_as_model "$tmp" --onnx "$tmp"
for f in empty truncated random huge_initializer external_escape external_missing cycle \
         undefined_input opset_too_new unknown_domain no_outputs; do
  check "$f" "$f.onnx" --onnx "$bad/$f.onnx"
done
# valid files whose engine would need absurd memory: refused with one line
for f in huge_input huge_input_dyn huge_expand huge_constant_of_shape huge_reshape; do
  check "$f" "" --onnx "$bad/$f.onnx"
done

# plans
good_model=$gen/cnn_classifier/model.onnx
"$exe" --onnx "$good_model" --save-engine "$tmp/good.plan" --backend cpu --iterations 1 \
  --warmup 0 >/dev/null 2>&1 || { echo "FAIL: cannot write a plan"; exit 1; }
size=$(stat -c %s "$tmp/good.plan")
head -c $((size / 2)) "$tmp/good.plan" >"$tmp/half.plan"
head -c 600 "$tmp/good.plan" >"$tmp/header_only.plan"
cp "$tmp/good.plan" "$tmp/flipped.plan"
printf '\x5a' | dd of="$tmp/flipped.plan" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
# another plan format version (offset 8): a stale plan
cp "$tmp/good.plan" "$tmp/stale.plan"
printf '\x07' | dd of="$tmp/stale.plan" bs=1 seek=8 conv=notrunc 2>/dev/null
check missing_plan /nonexistent/x.plan --load-engine /nonexistent/x.plan
for f in plan_empty plan_random; do
  check "$f" "$f.plan" --load-engine "$bad/$f.plan"
done
for f in half header_only flipped stale; do
  check "${f}_plan" "$f.plan" --load-engine "$tmp/$f.plan"
done
check model_as_plan "model.onnx" --load-engine "$good_model"
check plan_as_model "good.plan" --onnx "$tmp/good.plan"
check missing_inputs_file "/nonexistent/in.pb" --onnx "$good_model" \
  --load-inputs input:/nonexistent/in.pb

echo "bad_inputs_cli: $passes passed, $fails failed"
[ $fails -eq 0 ]
