"""The low-bit claim's cases, "annealing finds better low-bit heads than rounding": per data set,
grid, K and annealer, the test-accuracy difference annealer minus round, paired by seed, judged by
the claims table's rule (report.statistics). Read by the low-bit report (table low_bit_claim) and by
the claims tables (report.claims); kept apart from the low-bit figures so neither imports the other."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..lowbit import ANNEALERS
from .statistics import Difference, difference

CLAIM = "annealing finds better low-bit heads than rounding"


def record_groups(records):
    groups = defaultdict(list)
    for r in records:
        groups[(r["dataset"], r["preset"], r["grid"], r["bits"])].append(r)
    return dict(sorted(groups.items()))


def record_label(record) -> str:
    return f"{record['dataset_label']}, {record['preset']} (d={record['num_features']})"


def paired_verdict(differences) -> str:
    """The claim's rule (module docstring) on per-seed differences."""
    return _verdict(difference(list(differences)))


def _verdict(d: Difference) -> str:
    if d.n < 2:
        return "undecided (one seed)"
    return {1: "holds", -1: "fails (rounding better)"}.get(d.sign, "undecided")


@dataclass(frozen=True)
class ClaimCase:
    """The claim on one data set, grid and K for one annealer: its paired difference and verdict."""

    dataset: str
    preset: str
    label: str
    grid: str
    bits: int
    annealer: str
    difference: Difference
    verdict: str
    proved: bool  # every class optimum of every seed proved


def claim_cases(records) -> list[ClaimCase]:
    """The claim per data set, grid, K and annealer (and `certified`: what any search could add over
    rounding): test accuracy annealer minus round in points, paired by seed."""
    cases = []
    for (dataset, preset, grid, bits), runs in record_groups(records).items():
        for annealer in (*ANNEALERS, "certified"):
            d = [100 * (r["heads"][annealer]["test_accuracy"] - r["heads"]["round"]["test_accuracy"]) for r in runs
                 if annealer in r["heads"] and "round" in r["heads"]]
            if d:
                paired_d = difference(d)
                cases.append(ClaimCase(dataset, preset, record_label(runs[0]), grid, bits, annealer, paired_d,
                                       _verdict(paired_d), all(r["all_proved"] for r in runs)))
    return cases


