"""The paper's claims, each tested on the runs by an explicit rule, per feature preset (the default
one and the paper's hardware scale, d = 16) and per reading of the paper's loop (box mode taking an
answer only when it lowers the surrogate, box mode taking every answer, and our trust mode).

Rules (points are test-accuracy percentage points; means over seeds; differences paired by seed):
- "rises monotonically with K": on every data set the accuracy never drops by more than
  MONOTONE_TOLERANCE from one K to the next and rises by at least RISE from the smallest to the largest K.
- "5 bits fails on every data set": at K = 5 the accuracy is more than FAIL_MARGIN below logistic
  regression's, on every data set.
- "10 bits is the practical minimum": on every data set K = 10 is within PRACTICAL_MARGIN of the best
  K, and K = 5 is not.
- "15 bits fit the qubit and coupler counts of an Advantage": the paper's raw-count criterion for one
  class's dense QUBO at K = 15, and whether it minor-embeds as a clique (from the feasibility file).
- "20 bits matches or beats SGD" on MNIST, Fashion-MNIST, EMNIST: K = 20 minus SGD >= -MATCH_MARGIN;
  "competitive" on CIFAR-10 (either copy) and KMNIST: >= -COMPETITIVE_MARGIN.
- "100-400x slower than SGD": the training time at K = 20 over SGD's (SGD's includes its
  learning-rate search), with this repository's annealer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .formatting import MISSING, Table
from .runs import dataset_key, dataset_order, group_runs, mean_std, mean_timing, paired_difference

MONOTONE_TOLERANCE = 0.5
RISE = 1.0
FAIL_MARGIN = 5.0
PRACTICAL_MARGIN = 1.0
MATCH_MARGIN = 0.5
COMPETITIVE_MARGIN = 2.0
SLOWDOWN = (100.0, 400.0)
MATCH_DATASETS = ("mnist", "fashion_mnist", "emnist")
COMPETITIVE_DATASETS = ("cifar10", "cifar10_jpeg", "kmnist")
READINGS = (("qubo-box", "box, improving answers"), ("qubo-box-always", "box, every answer"),
            ("qubo-trust", "trust (ours)"))
SHORT_NAMES = {"digits": "digits", "mnist": "MNIST", "fashion_mnist": "Fashion", "cifar10": "CIFAR-10",
               "cifar10_jpeg": "CIFAR (JPEG)", "emnist": "EMNIST", "kmnist": "KMNIST"}


def _accuracy(groups, dataset, method, bits) -> float:
    return 100 * mean_std([r["test_accuracy"] for r in groups.get((dataset, method, bits), [])])[0]


def _short(dataset: str) -> str:
    return SHORT_NAMES.get(dataset.split(":")[0], dataset.split(":")[0])


def _verdict(flags: Sequence[bool], what: str = "holds") -> str:
    if not flags:
        return MISSING
    if all(flags):
        return what
    return "does not hold" if not any(flags) else f"holds on {sum(flags)} of {len(flags)} data sets"


def _curves(groups, datasets, method):
    """{dataset: {K: accuracy}} of the data sets that have runs of `method`."""
    curves = {}
    for dataset in datasets:
        points = {k: _accuracy(groups, dataset, m, k) for (d, m, k) in groups if d == dataset and m == method}
        points = {k: v for k, v in sorted(points.items()) if not math.isnan(v)}
        if points:
            curves[dataset] = points
    return curves


def claim_monotone(groups, datasets, method):
    curves = _curves(groups, datasets, method)
    if not curves:
        return MISSING, MISSING
    flags, measured = [], []
    for dataset, points in curves.items():
        values = list(points.values())
        steady = all(b >= a - MONOTONE_TOLERANCE for a, b in zip(values, values[1:]))
        flags.append(steady and values[-1] - values[0] >= RISE)
        measured.append(f"{_short(dataset)} " + "/".join(f"{v:.1f}" for v in values))
    if flags and not any(flags) and all(max(p.values()) - min(p.values()) < RISE for p in curves.values()):
        return "; ".join(measured), "does not hold (flat in K)"
    return "; ".join(measured), _verdict(flags)


def claim_five_bits_fail(groups, datasets, method):
    flags, measured = [], []
    for dataset in datasets:
        five = _accuracy(groups, dataset, method, 5)
        logreg = 100 * mean_std([r["test_accuracy"] for r in groups.get((dataset, "logreg", None), [])])[0]
        if math.isnan(five) or math.isnan(logreg):
            continue
        flags.append(five < logreg - FAIL_MARGIN)
        measured.append(f"{_short(dataset)} {five - logreg:+.1f}")
    return ("K=5 vs logreg: " + "; ".join(measured)) if measured else MISSING, _verdict(flags)


def claim_ten_bits_minimum(groups, datasets, method):
    flags, measured = [], []
    for dataset, points in _curves(groups, datasets, method).items():
        if 5 not in points or 10 not in points:
            continue
        best = max(points.values())
        flags.append(points[10] >= best - PRACTICAL_MARGIN and points[5] < best - PRACTICAL_MARGIN)
        measured.append(f"{_short(dataset)} K=5 {points[5] - best:+.1f}, K=10 {points[10] - best:+.1f}")
    return ("vs best K: " + "; ".join(measured)) if measured else MISSING, _verdict(flags)


def claim_fifteen_bits_fit(results, datasets, hardware_rows):
    if not hardware_rows:
        return MISSING, MISSING
    dims = sorted({r["num_features"] for r in results if dataset_key(r) in datasets})
    rows = {(int(r["num_features"]), r["system"]): r for r in hardware_rows if r["bits"] == 15}
    counts, embeds, measured = [], [], []
    for d in dims:
        found = [r for (dim, _), r in rows.items() if dim == d]
        if not found:
            continue
        counts.append(any(r["raw_count_fits"] for r in found))
        embeds.append(any(r["embeddable"] for r in found))
        measured.append(f"d={d}: {found[0]['variables']} variables, {found[0]['couplers']} couplers")
    if not counts:
        return MISSING, MISSING
    verdict = _verdict(counts, "holds by the counts")
    verdict += "; embeds as a clique" if all(embeds) else "; does not embed as a clique" if not any(embeds) else \
        "; embeds for some d"
    return "; ".join(measured), verdict


def claim_matches_sgd(groups, datasets, method):
    bits = 20
    flags, measured = [], []
    for dataset in datasets:
        name = dataset.split(":")[0]
        margin = MATCH_MARGIN if name in MATCH_DATASETS else COMPETITIVE_MARGIN if name in COMPETITIVE_DATASETS else None
        if margin is None:
            continue
        mean, _, n = paired_difference(groups.get((dataset, method, bits), []), groups.get((dataset, "sgd", None), []))
        if n:
            flags.append(mean >= -margin)
            measured.append(f"{_short(dataset)} {mean:+.2f}")
    return ("K=20 − SGD: " + "; ".join(measured)) if measured else MISSING, _verdict(flags)


def claim_slowdown(groups, datasets, method):
    ratios = []
    for dataset in datasets:
        sgd = mean_timing(groups.get((dataset, "sgd", None), []))
        own = mean_timing(groups.get((dataset, method, 20), []))
        if sgd and not math.isnan(sgd) and not math.isnan(own):
            ratios.append((dataset, own / sgd))
    if not ratios:
        return MISSING, MISSING
    low, high = min(r for _, r in ratios), max(r for _, r in ratios)
    verdict = ("holds" if SLOWDOWN[0] <= low and high <= SLOWDOWN[1] else
               f"faster than claimed ({low:.2g}-{high:.2g}x with wsa; SGD's time includes its learning-rate search)"
               if high < SLOWDOWN[0] else "does not hold")
    return "; ".join(f"{_short(d)} {r:.3g}x" for d, r in ratios), verdict


CLAIMS = (
    ("accuracy rises monotonically with K", claim_monotone),
    ("5 bits fails on every data set", claim_five_bits_fail),
    ("10 bits is the practical minimum", claim_ten_bits_minimum),
    ("20 bits matches or beats SGD (MNIST, Fashion-MNIST, EMNIST); competitive on CIFAR-10, KMNIST",
     claim_matches_sgd),
    ("training with simulated annealing is 100-400x slower than SGD", claim_slowdown),
)


def claims_table(results: Sequence[dict], hardware_rows: Sequence[dict] | None = None) -> Table:
    groups = group_runs(results)
    order = dataset_order(results)
    presets = {"default": [d for d in order if ":" not in d],
               "d=16": [d for d in order if d.endswith(":clique")]}
    header = ["claim of the paper", "reading", "default preset: measured", "verdict", "paper scale (d=16): measured",
              "verdict"]
    rows, starts = [], []
    for claim, rule in CLAIMS:
        starts.append(len(rows))
        for method, reading in READINGS:
            cells = []
            for datasets in presets.values():
                cells += list(rule(groups, datasets, method)) if datasets else [MISSING, MISSING]
            if any(cell != MISSING for cell in cells):
                rows.append([claim, reading, *cells])
    starts.append(len(rows))
    cells = []
    for datasets in presets.values():
        cells += list(claim_fifteen_bits_fit(results, datasets, hardware_rows)) if datasets else [MISSING, MISSING]
    rows.append(["15 bits fit the qubit and coupler counts of a D-Wave Advantage", "any", *cells])
    shown = [[row[0] if i in starts else "", *row[1:]] for i, row in enumerate(rows)]  # each claim once
    return Table("claims", "The paper's claims: measured here, and the verdict by the rules of qubocnn.report.claims",
                 header, shown, header, [list(row) for row in rows], groups=starts,
                 latex_align="".join(r">{\raggedright\arraybackslash}p{%s}" % width
                                     for width in ("2.8cm", "1.6cm", "3.8cm", "2.0cm", "3.2cm", "1.8cm")))
