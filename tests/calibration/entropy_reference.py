#!/usr/bin/env python3
"""An independent numpy implementation of entropy calibration, checked
against the C calibrator on the histograms test_calib_algos dumps.

Same definition as calibration/calib_entropy.c (TensorRT's
EntropyCalibration2): the search sees the histogram with bin 0 holding
bin 1's count (exact zeros need no range); candidates i = 128..n_bins;
P = first i bins with the outliers added to the last; Q = the first i bins
merged into 128 groups (bin j -> group floor(j*128/i)), each group's total
spread over its non-zero bins; KL(P||Q) infinite where P > 0 = Q;
amax = min((i + 0.5) * width, abs-max); abs-max when every value lies in
bin 0.

A histogram labelled X_nonzero holds X's non-zero values alone (same
bins): X's threshold must lie within 2% of the KL minimum of that
histogram searched as counted (no bin-0 replacement), i.e. the zeros must
not move the threshold.

Usage: entropy_reference.py TEST_EXECUTABLE
"""

import math
import os
import subprocess
import sys
import tempfile

import numpy as np


def divergences(counts, replace_zero_bin=True):
    counts = np.asarray(counts, dtype=np.float64).copy()
    if replace_zero_bin:
        counts[0] = counts[1]
    n = len(counts)
    total = counts.sum()
    out = {}
    for i in range(128, n + 1):
        p = counts[:i].copy()
        p[-1] += counts[i:].sum()
        groups = (np.arange(i) * 128) // i
        group_total = np.bincount(groups, weights=counts[:i], minlength=128)
        group_nonzero = np.bincount(groups, weights=(counts[:i] != 0).astype(float), minlength=128)
        q = np.where(counts[:i] != 0, group_total[groups] / np.maximum(group_nonzero[groups], 1), 0.0)
        if q.sum() == 0 or np.any((p > 0) & (q == 0)):
            out[i] = math.inf
            continue
        pn, qn = p / total, q / q.sum()
        m = pn > 0
        out[i] = float(np.sum(pn[m] * np.log(pn[m] / qn[m])))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hist.txt")
        subprocess.run([sys.argv[1], "--dump", path], check=True, stdout=subprocess.DEVNULL)
        with open(path) as f:
            lines = f.read().splitlines()
    failures = 0
    chosen_amax = {}
    hists = {}
    for line in lines:
        fields = line.split()
        label, width = fields[0], float(fields[1])
        amax_c, absmax = float(fields[2]), float(fields[3])
        counts = [int(c) for c in fields[4:]]
        chosen_amax[label] = amax_c
        hists[label] = (width, absmax, counts)
        if sum(counts[1:]) == 0:
            ok = np.float32(amax_c) == np.float32(absmax)
            print(f"{label}: every value in bin 0: C amax {amax_c:.6g}, abs-max {absmax:.6g}: "
                  f"{'ok' if ok else 'MISMATCH'}")
            failures += not ok
            continue
        kl = divergences(counts)
        best_i = min(kl, key=lambda i: (kl[i], i))
        amax_ref = np.float32(min((best_i + 0.5) * width, absmax))
        if amax_c == np.float32(absmax):
            # clamped: any candidate at or past the abs-max gives this amax
            chosen = min((i for i in kl if (i + 0.5) * width >= absmax),
                         key=lambda i: (kl[i], i))
        else:
            chosen = int(round(amax_c / width - 0.5))
        # the same threshold, or one whose divergence ties within rounding
        ok = (chosen in kl and kl[chosen] <= kl[best_i] + 1e-12 * max(1.0, abs(kl[best_i]))
              and (amax_ref == np.float32(amax_c) or kl[chosen] <= kl[best_i]))
        print(f"{label}: C amax {amax_c:.6g} (i={chosen}), reference {float(amax_ref):.6g} "
              f"(i={best_i}), KL {kl.get(chosen, math.nan):.6g} vs {kl[best_i]:.6g}: "
              f"{'ok' if ok else 'MISMATCH'}")
        failures += not ok
    if len(lines) < 4:
        print("expected at least 4 histograms")
        failures += 1
    pairs = 0
    for label, (width, absmax, counts) in hists.items():
        if not label.endswith("_nonzero") or label[:-8] not in chosen_amax:
            continue
        pairs += 1
        kl = divergences(counts, replace_zero_bin=False)
        best_i = min(kl, key=lambda i: (kl[i], i))
        want = min((best_i + 0.5) * width, absmax)
        got = chosen_amax[label[:-8]]
        ok = abs(got - want) <= 0.02 * want and got / width > 4 * 128
        print(f"{label[:-8]} (with zeros): C amax {got:.6g} (bin {got / width:.1f}); the non-zero "
              f"part's KL minimum {want:.6g} (i={best_i}): {'ok' if ok else 'MISMATCH'}")
        failures += not ok
    if pairs == 0:
        print("expected a histogram of non-zero values (X_nonzero)")
        failures += 1
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
