#!/usr/bin/env python3
"""Merge classifier_metrics.json and detector_metrics.json into metrics.json
and print a summary table.  Used by train_all.sh.

Usage: summarize.py OUT_DIR WALL_SECONDS COMMAND [--strict]
Exit status 3 with --strict when a model misses its accuracy target.
"""

import json
import os
import sys

TARGETS = {"classifier_top1": 0.98, "detector_map50": 0.95}


def main():
    out, wall, command = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    strict = "--strict" in sys.argv[4:]
    with open(os.path.join(out, "classifier_metrics.json")) as f:
        cls = json.load(f)
    with open(os.path.join(out, "detector_metrics.json")) as f:
        det = json.load(f)
    env = dict(det["env"])
    checks = {
        "classifier_top1": cls["top1_onnxruntime"] >= TARGETS["classifier_top1"],
        "detector_map50": det["map50_onnxruntime"] >= TARGETS["detector_map50"],
    }
    merged = {
        "command": command, "wall_seconds": round(wall, 1), "quick": cls["quick"],
        "torch": env.get("torch"), "gpu": env.get("gpu", "none (CPU)"), "env": env,
        "targets": TARGETS, "meets_targets": checks,
        "classifier": cls, "detector": det,
    }
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(merged, f, indent=2, sort_keys=True)
        f.write("\n")

    rows = [
        ("model", "params", "train s", "metric", "PyTorch", "onnxruntime", "target"),
        ("classifier", f"{cls['params'] / 1e6:.2f} M", f"{cls['train_seconds']:.0f}",
         "top-1", f"{cls['top1_torch']:.4f}", f"{cls['top1_onnxruntime']:.4f}",
         f">= {TARGETS['classifier_top1']} {'ok' if checks['classifier_top1'] else 'MISSED'}"),
        ("detector", f"{det['params'] / 1e6:.2f} M", f"{det['train_seconds']:.0f}",
         "mAP@0.5", f"{det['map50_torch']:.4f}", f"{det['map50_onnxruntime']:.4f}",
         f">= {TARGETS['detector_map50']} {'ok' if checks['detector_map50'] else 'MISSED'}"),
        ("detector", "", "", "mAP@.5:.95", f"{det['map50_95_torch']:.4f}",
         f"{det['map50_95_onnxruntime']:.4f}", ""),
    ]
    if cls["quick"]:
        rows = [r[:-1] + (("target",) if i == 0 else ("n/a (quick)" if r[-1] else "",))
                for i, r in enumerate(rows)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    print(f"summary ({'QUICK smoke run, accuracy meaningless' if cls['quick'] else 'full run'}; "
          f"torch {env.get('torch')}; {merged['gpu']}; wall {wall:.0f} s)")
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if strict and not cls["quick"] and not all(checks.values()):
        print("accuracy target missed", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
