"""Verdicts that survive the seed noise: differences paired by seed, against their standard error.

Two methods trained with the same seed see the same split and the same frozen features, so the
seed-to-seed spread of the features cancels in their difference. A difference COUNTS when the mean of
the paired differences exceeds SE_FACTOR times its standard error (the sample standard deviation of
the paired differences over sqrt(n)) and MIN_POINTS test-accuracy points. A difference of one seed
never counts (its standard error is unknown).

What three seeds can show: a difference that is large against the seed-to-seed spread of the
paired differences. What they cannot show:
that two methods are equal. "No difference counts" means a difference smaller than about two
standard errors (or MIN_POINTS) is not excluded, and with 3 seeds the standard error itself is
uncertain by about half of its value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SE_FACTOR = 2.0
MIN_POINTS = 0.5
CHANCE_MARGIN = 1.0  # points: a curve this close to chance (1/C) at every K has learnt nothing

RULE = (f"a difference counts when the mean of the differences paired by seed exceeds {SE_FACTOR:g} standard "
        f"errors and {MIN_POINTS:g} points (one seed: never); a curve within {CHANCE_MARGIN:g} point of chance "
        f"(1/C) at every K fails at every K")


@dataclass(frozen=True)
class Difference:
    """Mean and standard error of a paired difference, in points, over `n` seeds."""

    mean: float
    se: float
    n: int

    @property
    def counts(self) -> bool:
        return (self.n >= 2 and not math.isnan(self.mean)
                and abs(self.mean) > max(SE_FACTOR * self.se, MIN_POINTS))

    @property
    def sign(self) -> int:
        """+1 or -1 when the difference counts, else 0."""
        return int(math.copysign(1, self.mean)) if self.counts else 0

    def __str__(self) -> str:
        if self.n == 0:
            return "–"
        return f"{self.mean:+.1f}" + (f" ± {self.se:.1f}" if self.n > 1 else " (1 seed)")


def paired(runs: Sequence[dict], references: Sequence[dict], key: str = "test_accuracy",
           scale: float = 100.0) -> Difference:
    """`runs` minus `references` of the same seed, over the seeds both have."""
    reference = {r.get("seed"): r[key] for r in references}
    return difference([scale * (float(r[key]) - float(reference[r.get("seed")])) for r in runs
                       if r.get("seed") in reference])


def difference(values: Sequence[float]) -> Difference:
    """The Difference of per-seed paired differences `values` (in points)."""
    if not len(values):
        return Difference(math.nan, math.nan, 0)
    se = float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    return Difference(float(np.mean(values)), se, len(values))


def at_chance(accuracies: Sequence[float], num_classes: int) -> bool:
    """Every accuracy (in points) within CHANCE_MARGIN of chance, 100 / num_classes."""
    chance = 100.0 / num_classes
    return bool(accuracies) and all(abs(a - chance) <= CHANCE_MARGIN for a in accuracies)
