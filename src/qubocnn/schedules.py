"""Annealing schedules from a QUBO's coefficient scales: the geometric beta range of dwave-samplers'
rule (hot enough that the largest single flip is accepted half the time, cold enough that the smallest
significant coefficient is accepted 1% of the time), computed vectorised. A leaf module: solvers, the
weight-space annealer and the hardware path all size their schedules here."""

from __future__ import annotations

import math

import dimod
import numpy as np

from .qubo import ClassQubo

# Coefficients smaller than this fraction of the largest are round-off (the bias row of H holds
# means of standardised features, ~1e-17) or below any useful resolution; sizing the cold end of
# the schedule from them would make it absurdly cold.
COEFFICIENT_REL_TOL = 1e-9


class _CurvatureScales:
    """The |H| statistics coefficient_scales needs, which depend on the curvature alone: computed
    once per curvature array (a training run shares one H across every class and iteration; the
    sort is most of a call's cost). Kept for the last curvature seen, by identity, as
    solvers.RoundingSolver keeps its factorisation."""

    def __init__(self):
        self._last = (None, None)

    def of(self, H: np.ndarray):
        last_H, statistics = self._last
        if last_H is not H:
            absH = np.abs(H)
            statistics = (absH.sum(axis=1), np.diag(absH).copy(), np.sort(absH[~np.eye(len(H), dtype=bool)]),
                          np.sort(np.diag(absH)))
            self._last = (H, statistics)
        return statistics


_curvature_scales = _CurvatureScales()


def coefficient_scales(problem: ClassQubo, rel_tol: float = COEFFICIENT_REL_TOL) -> tuple[float, float]:
    """(largest single-flip energy change bound, smallest significant |coefficient|) of the dense
    QUBO, computed from its structure in O(d^2 K) without building the n x n matrix.

    Off-diagonal coefficients are delta^2 2^(k+m) H_jl; diagonal ones delta^2 4^k H_jj / 2 +
    delta 2^k (g + H s)_j."""
    H, delta, K = problem.curvature, problem.delta, problem.bits
    abs_row_sums, abs_diagonal, off_diagonal_sorted, diagonal_sorted = _curvature_scales.of(H)
    p = 2.0 ** np.arange(K)
    linear = problem.gradient + H @ problem.shift
    diagonal = (delta**2 * np.outer(np.diag(H), p * p) / 2 + delta * np.outer(linear, p)).ravel()
    # sum over every other bit (l, m) of |Q_(j,k),(l,m)| = delta^2 2^k (sum_l |H_jl| (2^K - 1) - |H_jj| 2^k)
    row_sums = delta**2 * p * ((abs_row_sums * (2.0**K - 1))[:, None] - np.outer(abs_diagonal, p))
    max_flip = float(np.max(np.abs(diagonal) + row_sums.ravel()))
    # Off-diagonal magnitudes delta^2 2^(k+m) |H_jl|: any 0 <= k+m <= 2K-2 for j != l, and
    # 1 <= k+m <= 2K-3 within one parameter (k != m). Per exponent, the smallest significant one is
    # found by bisection in the sorted |H| values, without listing all O(d^2 K^2) coefficients.
    exponents = delta**2 * 2.0 ** np.arange(2 * K - 1)
    groups = [(off_diagonal_sorted, exponents), (diagonal_sorted, exponents[1:2 * K - 2])]
    groups = [(values, scales) for values, scales in groups if len(values) and len(scales)]
    diagonal = np.abs(diagonal)
    threshold = rel_tol * max(diagonal.max(), *(values[-1] * scales[-1] for values, scales in groups))
    smallest = [diagonal[diagonal > threshold]]
    for values, scales in groups:
        index = np.searchsorted(values, threshold / scales, side="right")
        found = index < len(values)
        smallest.append(values[index[found]] * scales[found])
    return max_flip, float(np.concatenate(smallest).min())


def beta_range(problem: ClassQubo, rel_tol: float = COEFFICIENT_REL_TOL) -> tuple[float, float]:
    """Geometric-schedule end points: hot enough that the largest flip is accepted half the time,
    cold enough that the smallest significant coefficient is accepted 1% of the time
    (dwave-samplers' own rule, vectorised)."""
    max_flip, min_coefficient = coefficient_scales(problem, rel_tol)
    return float(np.log(2) / max_flip), float(np.log(100) / min_coefficient)


def bqm_beta_range(bqm: dimod.BinaryQuadraticModel, rel_threshold: float = COEFFICIENT_REL_TOL) -> tuple[float, float]:
    """The same rule for any BQM (an embedded one, say), from its Ising coefficients, vectorised:
    hot = ln 2 / max_i (|h_i| + sum_j |J_ij|), cold = ln 100 / smallest |coefficient| above
    rel_threshold x the largest (round-off-sized coefficients are ignored)."""
    spin = bqm.change_vartype(dimod.SPIN, inplace=False) if bqm.vartype is dimod.BINARY else bqm
    ldata, (irow, icol, qdata), _ = spin.to_numpy_vectors()
    ldata, qdata = np.abs(np.asarray(ldata, float)), np.abs(np.asarray(qdata, float))
    field = ldata.copy()
    np.add.at(field, np.asarray(irow, np.int64), qdata)
    np.add.at(field, np.asarray(icol, np.int64), qdata)
    coeffs = np.concatenate([ldata, qdata])
    largest = coeffs.max(initial=0.0)
    if largest <= 0.0:
        return 0.1, 1.0
    small = coeffs[coeffs > rel_threshold * largest].min()
    hot, cold = math.log(2.0) / field.max(), math.log(100.0) / small
    return float(hot), float(max(cold, hot))
