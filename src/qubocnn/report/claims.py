"""The paper's claims, each tested on the runs by an explicit rule, per feature preset (the default
one and the paper's hardware scale, d = 16) and per reading of the paper's loop: box mode taking an
answer only when it lowers the surrogate, box mode taking every answer, the box grid solved by the
rounding solver (the paper's encoding with a near-exact solver: no annealing), and our trust mode.

Every comparison is paired by seed and decided by `statistics.RULE` (a difference counts when the
mean paired difference exceeds twice its standard error and half a point). Per data set:
- "rises monotonically with K": the largest K minus the smallest counts as a rise and no step from
  one K to the next counts as a drop ("rises"); no counted rise is "flat"; a curve within a point of
  chance at every K "fails at every K".
- "5 bits fails on every data set": K = 5 minus logistic regression counts and is more than
  FAIL_MARGIN points below; a curve at chance at every K is not a failure of 5 bits in particular.
- "10 bits is the practical minimum": K = 10 is not below the best K by a counted difference, and
  K = 5 is.
- "20 bits matches or beats SGD" (MNIST, Fashion-MNIST, EMNIST): K = 20 minus SGD is not a counted
  deficit; "competitive" (CIFAR-10, KMNIST): the deficit is at most COMPETITIVE_MARGIN points or does
  not count. No counted difference is not a proof of equality (see qubocnn.report.statistics).
- "100-400x slower than SGD": the training time at K = 20 (the `wsa` annealer, not the paper's
  solver) over one SGD fit at its chosen learning rate (`timings.fit`), its learning-rate search
  reported apart; runs that did not time the fit apart leave the claim not decided.
- "15 bits fit the qubit and coupler counts of an Advantage": the paper's raw-count criterion for one
  class's dense QUBO at K = 15, and whether it minor-embeds as a clique (from the feasibility file).
- "annealing finds better low-bit heads than rounding" (this study's question, from the low-bit study's
  files, qubocnn.report.lowbit), per annealer: on a data set it holds where the annealer's head beats
  rounding's by a counted difference at some grid and K = 1-3 and rounding's never beats it.
Every verdict names the data sets it covers; the paper's data sets without runs here (EMNIST, KMNIST:
no data offline) are named as not tested; CIFAR-10 is the JPEG copy.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..data import DATASETS
from .formatting import MISSING, Table
from .lowbit_claims import CLAIM as LOW_BIT, ClaimCase, claim_cases
from .runs import dataset_key, dataset_order, group_runs, mean_std, mean_timing
from .statistics import RULE, Difference, at_chance, paired

FAIL_MARGIN = 5.0
COMPETITIVE_MARGIN = 2.0
SLOWDOWN = (100.0, 400.0)
MATCH_DATASETS = ("mnist", "fashion_mnist", "emnist")
COMPETITIVE_DATASETS = ("cifar10", "cifar10_jpeg", "kmnist")
UNTESTED = "not tested here (no data offline)"
READINGS = (("qubo-box", "box, improving answers"), ("qubo-box-always", "box, every answer"),
            ("qubo-box-round", "box grid, rounding solver"), ("qubo-trust", "trust (ours)"))
ANNEALED_READINGS = READINGS[:2] + READINGS[3:]  # the runtime claim: the readings that anneal
SHORT_NAMES = {"digits": "digits", "mnist": "MNIST", "fashion_mnist": "Fashion", "cifar10": "CIFAR-10",
               "cifar10_jpeg": "CIFAR-10 JPEG copy", "emnist": "EMNIST", "kmnist": "KMNIST"}
PAPER_DATASETS = ("mnist", "fashion_mnist", "cifar10", "emnist", "kmnist")


@dataclass
class Outcome:
    """What a rule found: the measured cell, the verdict, and the data sets it holds and fails on."""

    measured: str = MISSING
    verdict: str = MISSING
    holds: list[str] = field(default_factory=list)
    fails: list[str] = field(default_factory=list)


def short(dataset: str) -> str:
    name = dataset.split(":")[0]
    return SHORT_NAMES.get(name, name)


def _untested(datasets: Sequence[str], named: Sequence[str] = PAPER_DATASETS) -> list[str]:
    """The data sets a claim names that have no runs here (CIFAR-10 counts as run when its JPEG copy is)."""
    present = {d.split(":")[0] for d in datasets}
    if "cifar10_jpeg" in present:
        present.add("cifar10")
    return [d for d in named if d not in present and d in DATASETS]


def _outcome(measured: list[str], results: list[tuple[str, bool, str]], untested: Sequence[str],
             what: str = "holds") -> Outcome:
    """results: (data set, holds, what was found there)."""
    note = f"; {', '.join(short(d) for d in untested)}: {UNTESTED}" if untested else ""
    if not results:
        return Outcome()
    holds = [d for d, ok, _ in results if ok]
    fails = [d for d, ok, _ in results if not ok]
    failed = ", ".join(f"{short(d)} ({found})" for d, ok, found in results if not ok)
    if not fails:
        verdict = f"{what} ({', '.join(short(d) for d in holds)})"
    elif not holds:
        verdict = f"does not hold: {failed}"
    else:
        verdict = f"{what} on {', '.join(short(d) for d in holds)}; not on {failed}"
    return Outcome("; ".join(measured), verdict + note, holds, fails)


def _curve(groups, dataset, method) -> dict[int, list[dict]]:
    """{K: runs} of one data set and method, by K."""
    return {k: runs for (d, m, k), runs in sorted(groups.items(), key=lambda item: item[0][2] or 0)
            if d == dataset and m == method and runs}


def _mean(runs) -> float:
    return 100 * mean_std([r["test_accuracy"] for r in runs])[0]


def _chance(curve: dict[int, list[dict]]) -> bool:
    runs = next(iter(curve.values()))
    return at_chance([_mean(r) for r in curve.values()], int(runs[0]["num_classes"]))


def claim_monotone(groups, datasets, method) -> Outcome:
    measured, results = [], []
    for dataset in datasets:
        curve = _curve(groups, dataset, method)
        if len(curve) < 2:
            continue
        ks = list(curve)
        rise = paired(curve[ks[-1]], curve[ks[0]])
        drops = [b for a, b in zip(ks, ks[1:]) if paired(curve[b], curve[a]).sign < 0]
        found = ("fails at every K" if _chance(curve) else f"drops at K={drops[0]}" if drops else
                 "rises" if rise.sign > 0 else "flat")
        results.append((dataset, found == "rises", found))
        measured.append(f"{short(dataset)} " + "/".join(f"{_mean(r):.1f}" for r in curve.values())
                        + f" (K={ks[-1]} − K={ks[0]}: {rise})")
    return _outcome(measured, results, _untested(datasets))


def claim_five_bits_fail(groups, datasets, method) -> Outcome:
    measured, results = [], []
    for dataset in datasets:
        curve = _curve(groups, dataset, method)
        logreg = groups.get((dataset, "logreg", None), [])
        if 5 not in curve or not logreg:
            continue
        gap = paired(curve[5], logreg)
        found = ("fails at every K" if _chance(curve) else "fails" if gap.sign < 0 and gap.mean < -FAIL_MARGIN
                 else "does not fail")
        results.append((dataset, found == "fails", found))
        measured.append(f"{short(dataset)} {gap}")
    return _outcome(["K=5 − logreg: " + "; ".join(measured)] if measured else [], results, _untested(datasets))


def claim_ten_bits_minimum(groups, datasets, method) -> Outcome:
    measured, results = [], []
    for dataset in datasets:
        curve = _curve(groups, dataset, method)
        if 5 not in curve or 10 not in curve:
            continue
        best = max(curve, key=lambda k: _mean(curve[k]))
        ten, five = paired(curve[10], curve[best]), paired(curve[5], curve[best])
        found = ("fails at every K" if _chance(curve) else "K=10 below the best" if ten.sign < 0 else
                 "K=5 not below the best" if five.sign >= 0 else "K=10 suffices, K=5 does not")
        results.append((dataset, found == "K=10 suffices, K=5 does not", found))
        measured.append(f"{short(dataset)} K=5 {five}, K=10 {ten}")
    return _outcome(["vs best K: " + "; ".join(measured)] if measured else [], results, _untested(datasets))


def claim_matches_sgd(groups, datasets, method, bits: int = 20) -> Outcome:
    measured, results = [], []
    for dataset in datasets:
        name = dataset.split(":")[0]
        if name not in MATCH_DATASETS + COMPETITIVE_DATASETS:
            continue
        diff: Difference = paired(groups.get((dataset, method, bits), []), groups.get((dataset, "sgd", None), []))
        if not diff.n:
            continue
        if name in MATCH_DATASETS:
            ok = diff.sign >= 0
            found = "beats" if diff.sign > 0 else "no counted difference" if ok else "below SGD"
        else:
            ok = diff.sign >= 0 or diff.mean >= -COMPETITIVE_MARGIN
            found = "competitive" if ok else f"more than {COMPETITIVE_MARGIN:g} points below SGD"
        results.append((dataset, ok, found))
        measured.append(f"{short(dataset)} {diff}")
    untested = _untested(datasets, ("mnist", "fashion_mnist", "emnist", "cifar10", "kmnist"))
    return _outcome([f"K={bits} − SGD: " + "; ".join(measured)] if measured else [], results, untested)


def ratio_text(value: float) -> str:
    """Two significant digits, without an exponent (101 is "101", not "1e+02")."""
    return f"{value:.0f}" if value >= 100 else f"{value:.2g}"


def value_range(values: Sequence[float]) -> str:
    low, high = ratio_text(min(values)), ratio_text(max(values))
    return f"{low}x" if low == high else f"{low}-{high}x"


def claim_slowdown(groups, datasets, method, bits: int = 20) -> Outcome:
    """Against one SGD fit at its chosen learning rate (timings.fit); the search reported apart."""
    per_fit, per_search, measured = [], [], []
    for dataset in datasets:
        sgd = groups.get((dataset, "sgd", None), [])
        own = mean_timing(groups.get((dataset, method, bits), []))
        if not sgd or math.isnan(own):
            continue
        fit, total = mean_timing(sgd, "fit"), mean_timing(sgd, "total")
        if not math.isnan(fit) and fit > 0:
            per_fit.append((dataset, own / fit))
            measured.append(f"{short(dataset)} {own / fit:.3g}x one fit (search apart: "
                            f"{mean_timing(sgd, 'search'):.3g} s)")
        elif total > 0:
            per_search.append((dataset, own / total))
            measured.append(f"{short(dataset)} {own / total:.3g}x")
    if not per_fit and not per_search:
        return Outcome()
    if per_search:  # no fit timed apart: the ratio to the whole search is a lower bound of the claim's ratio
        ratios = [r for _, r in per_search]
        verdict = ("does not hold: slower than claimed" if min(ratios) > SLOWDOWN[1] else
                   f"not decided: these runs do not time one SGD fit apart from its learning-rate search "
                   f"(against the whole search: {value_range(ratios)}, a lower bound)")
        return Outcome("vs SGD with its search: " + "; ".join(measured), verdict + "; wsa, not the paper's solver")
    ratios = [r for _, r in per_fit]
    inside = [d for d, r in per_fit if SLOWDOWN[0] <= r <= SLOWDOWN[1]]
    results = [(d, d in inside, f"{r:.3g}x") for d, r in per_fit]
    outcome = _outcome(measured, results, [])
    if not inside:
        side = "below" if max(ratios) < SLOWDOWN[0] else "above" if min(ratios) > SLOWDOWN[1] else "outside"
        outcome.verdict = (f"does not hold: {value_range(ratios)} one SGD fit "
                           f"({', '.join(short(d) for d, _ in per_fit)}), {side} the claimed "
                           f"{SLOWDOWN[0]:g}-{SLOWDOWN[1]:g}x")
    outcome.verdict += "; wsa, not the paper's solver"
    return outcome


def claim_fifteen_bits_fit(results, datasets, hardware_rows) -> Outcome:
    if not hardware_rows:
        return Outcome()
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
        return Outcome()
    verdict = ("holds by the counts" if all(counts) else "does not hold" if not any(counts) else
               f"holds by the counts for {sum(counts)} of {len(counts)} d")
    verdict += "; embeds as a clique" if all(embeds) else "; does not embed as a clique" if not any(embeds) else \
        "; embeds for some d"
    return Outcome("; ".join(measured), verdict)


def claim_low_bit(cases: Sequence[ClaimCase]) -> Outcome:
    """One annealer's cases (data set, grid, K) of the low-bit claim, judged per data set."""
    by_dataset = defaultdict(list)
    for case in cases:
        by_dataset[case.dataset].append(case)
    measured, results = [], []
    for dataset, found in by_dataset.items():
        better = [f"{c.grid} K={c.bits} {c.difference}" for c in found if c.difference.sign > 0]
        worse = [f"{c.grid} K={c.bits} {c.difference}" for c in found if c.difference.sign < 0]
        unproved = sum(not c.proved for c in found)
        measured.append(f"{short(dataset)}" + (f" ({unproved} of {len(found)} cases with optima not all proved)"
                                               if unproved else "") + f": better in {len(better)} of {len(found)}"
                        + (f" ({'; '.join(better)})" if better else "")
                        + (f", worse in {len(worse)} ({'; '.join(worse)})" if worse else ""))
        results.append((dataset, bool(better) and not worse,
                        "rounding better" if worse else "no counted difference"))
    return _outcome(measured, results, [])


def low_bit_outcomes(records: Sequence[dict]) -> list[tuple[str, dict[str, Outcome]]]:
    """(reading, {preset column: Outcome}) per annealer of the low-bit study; its clique-preset runs
    are the d = 16 column, any other preset's the default column."""
    cases = claim_cases(records)
    found = []
    for annealer in dict.fromkeys(c.annealer for c in cases):
        outcomes = {"default": Outcome("not run at this preset (docs/low-bit.md)"),
                    "d=16": Outcome("not run at this preset (docs/low-bit.md)")}
        for column in outcomes:
            mine = [c for c in cases if c.annealer == annealer and (c.preset == "clique") == (column == "d=16")]
            if mine:
                outcomes[column] = claim_low_bit(mine)
        found.append((low_bit_reading(annealer), outcomes))
    return found


def low_bit_reading(annealer: str) -> str:
    return "certified optimum − round (what any search adds)" if annealer == "certified" else f"{annealer} − round"


CLAIMS = (
    ("accuracy rises monotonically with K", claim_monotone, READINGS),
    ("5 bits fails on every data set", claim_five_bits_fail, READINGS),
    ("10 bits is the practical minimum", claim_ten_bits_minimum, READINGS),
    ("20 bits matches or beats SGD (MNIST, Fashion-MNIST, EMNIST); competitive on CIFAR-10, KMNIST",
     claim_matches_sgd, READINGS),
    ("training with simulated annealing is 100-400x slower than SGD", claim_slowdown, ANNEALED_READINGS),
)
FIFTEEN_BITS = "15 bits fit the qubit and coupler counts of a D-Wave Advantage"


def presets(results: Sequence[dict]) -> dict[str, list[str]]:
    """The row groups of each feature preset the claims are tested on."""
    order = dataset_order(results)
    return {"default": [d for d in order if ":" not in d], "d=16": [d for d in order if d.endswith(":clique")]}


def evaluate(results: Sequence[dict], hardware_rows: Sequence[dict] | None = None,
             lowbit: Sequence[dict] = ()) -> list[tuple]:
    """(claim, reading, {preset: Outcome}) for every claim and reading that has runs; the low-bit
    claim from the low-bit study's records, where given."""
    groups = group_runs(results)
    by_preset = presets(results)
    found = []
    for claim, rule, readings in CLAIMS:
        for method, reading in readings:
            outcomes = {name: rule(groups, datasets, method) if datasets else Outcome()
                        for name, datasets in by_preset.items()}
            if any(o.measured != MISSING for o in outcomes.values()):
                found.append((claim, reading, outcomes))
    outcomes = {name: claim_fifteen_bits_fit(results, datasets, hardware_rows) if datasets else Outcome()
                for name, datasets in by_preset.items()}
    found.append((FIFTEEN_BITS, "any", outcomes))
    found += [(LOW_BIT, reading, outcomes) for reading, outcomes in low_bit_outcomes(lowbit)]
    return found


def claims_table(results: Sequence[dict], hardware_rows: Sequence[dict] | None = None,
                 lowbit: Sequence[dict] = ()) -> Table:
    header = ["claim of the paper", "reading", "default preset: measured", "verdict", "paper scale (d=16): measured",
              "verdict"]
    rows, starts, previous = [], [], None
    for claim, reading, outcomes in evaluate(results, hardware_rows, lowbit):
        if claim != previous:
            starts.append(len(rows))
            previous = claim
        rows.append([claim, reading, *(cell for o in outcomes.values() for cell in (o.measured, o.verdict))])
    shown = [[row[0] if i in starts else "", *row[1:]] for i, row in enumerate(rows)]  # each claim once
    return Table("claims", "The paper's claims: measured here (paired by seed, mean ± standard error in points), "
                 "and the verdict by the rules of qubocnn.report.claims",
                 header, shown, header, [list(row) for row in rows], groups=starts, long=True,
                 note=f"Rule: {RULE}. Three seeds can show a difference that is large against its seed-to-seed "
                      "spread; they cannot show that two methods are equal.",
                 latex_align="".join(r">{\raggedright\arraybackslash}p{%s}" % width
                                     for width in ("2.6cm", "1.7cm", "4.6cm", "3.6cm", "4.6cm", "3.6cm")))
