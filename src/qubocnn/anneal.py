"""Solvers for the per-class QUBOs, by name or as any dimod sampler.

Names: `wsa` (qubocnn's weight-space simulated annealer, same single-flip Metropolis chain over the
same QUBO, the default), `sa` and `neal` (dwave-samplers' SimulatedAnnealingSampler; `neal` is the
paper's name for it), `tabu`, `steepest`, `exact` (dimod.ExactSolver, tiny problems only) and
`qpu` (a D-Wave QPU through a clique embedding; needs credentials). Any dimod.Sampler instance can
be passed instead of a name from Python.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import dimod
import numpy as np

from .qubo import ClassQubo, to_bqm

SOLVERS = ("wsa", "sa", "neal", "tabu", "steepest", "exact", "qpu")
EXACT_MAX_VARIABLES = 24
# Coefficients smaller than this fraction of the largest are round-off (the bias row of H holds
# means of standardised features, ~1e-17) or below any useful resolution; sizing the cold end of
# the schedule from them would make it absurdly cold.
COEFFICIENT_REL_TOL = 1e-9


@dataclass(frozen=True)
class SolverConfig:
    name: str = "wsa"
    num_reads: int = 4
    num_sweeps: int = 200
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        check_solver_name(self.name)
        if self.num_reads < 1 or self.num_sweeps < 1:
            raise ValueError(f"num_reads and num_sweeps must be >= 1, got {self.num_reads}, {self.num_sweeps}")


@dataclass(frozen=True)
class Answer:
    """The best sample of one solve, its energy recomputed in weight space (solver-independent)."""

    bits: np.ndarray
    energy: float
    seconds: float
    num_samples: int


def check_solver_name(name: str) -> str:
    if name not in SOLVERS:
        raise ValueError(f"unknown solver {name!r}: choose one of {', '.join(SOLVERS)}")
    return name


def coefficient_scales(problem: ClassQubo, rel_tol: float = COEFFICIENT_REL_TOL) -> tuple[float, float]:
    """(largest single-flip energy change bound, smallest significant |coefficient|) of the dense
    QUBO, computed from its structure in O(d^2 K) without building the n x n matrix.

    Off-diagonal coefficients are delta^2 2^(k+m) H_jl; diagonal ones delta^2 4^k H_jj / 2 +
    delta 2^k (g + H s)_j."""
    H, delta, K = problem.curvature, problem.delta, problem.bits
    absH = np.abs(H)
    p = 2.0 ** np.arange(K)
    linear = problem.gradient + H @ problem.shift
    diagonal = (delta**2 * np.outer(np.diag(H), p * p) / 2 + delta * np.outer(linear, p)).ravel()
    # sum over every other bit (l, m) of |Q_(j,k),(l,m)| = delta^2 2^k (sum_l |H_jl| (2^K - 1) - |H_jj| 2^k)
    row_sums = delta**2 * p * ((absH.sum(axis=1) * (2.0**K - 1))[:, None] - np.outer(np.diag(absH), p))
    max_flip = float(np.max(np.abs(diagonal) + row_sums.ravel()))
    # Off-diagonal magnitudes delta^2 2^(k+m) |H_jl|: any 0 <= k+m <= 2K-2 for j != l, and
    # 1 <= k+m <= 2K-3 within one parameter (k != m). Per exponent, the smallest significant one is
    # found by bisection in the sorted |H| values, without listing all O(d^2 K^2) coefficients.
    exponents = delta**2 * 2.0 ** np.arange(2 * K - 1)
    groups = [(np.sort(absH[~np.eye(len(H), dtype=bool)]), exponents), (np.sort(np.diag(absH)), exponents[1:2 * K - 2])]
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


def make_sampler(name: str):
    """A sampler object for a solver name (imports lazily: the QPU and wsa pull in heavy modules)."""
    check_solver_name(name)
    if name in ("sa", "neal"):
        from dwave.samplers import SimulatedAnnealingSampler
        return SimulatedAnnealingSampler()
    if name == "tabu":
        from dwave.samplers import TabuSampler
        return TabuSampler()
    if name == "steepest":
        from dwave.samplers import SteepestDescentSolver
        return SteepestDescentSolver()
    if name == "exact":
        return dimod.ExactSolver()
    if name == "wsa":
        from .wsa import WeightSpaceAnnealer
        return WeightSpaceAnnealer()
    from .hardware import qpu_sampler
    return qpu_sampler()


def _sample_kwargs(name: str, config: SolverConfig, problem: ClassQubo, seed: int) -> dict:
    if name in ("sa", "neal"):
        return dict(num_reads=config.num_reads, num_sweeps=config.num_sweeps, seed=seed,
                    beta_range=beta_range(problem), beta_schedule_type="geometric")
    if name == "tabu":
        return dict(num_reads=config.num_reads, seed=seed, timeout=config.options.get("timeout_ms", 100))
    if name == "steepest":
        return dict(num_reads=config.num_reads, seed=seed)
    if name == "qpu":
        return dict(num_reads=config.num_reads, **config.options)
    return {}


def solve(problem: ClassQubo, solver: SolverConfig | dimod.Sampler, seed: int,
          initial_bits: np.ndarray | None = None) -> Answer:
    """Solve one class's QUBO and return its best sample.

    `initial_bits` starts every read from that state where the solver supports it (wsa, sa), as
    reverse annealing would on hardware."""
    start = time.perf_counter()
    seed = int(seed) % 2**31  # dwave-samplers accepts 0 <= seed < 2^31
    if isinstance(solver, SolverConfig):
        name = solver.name
        if name == "exact" and problem.num_variables > EXACT_MAX_VARIABLES:
            raise ValueError(f"the exact solver enumerates 2^n states: refused for n={problem.num_variables} "
                             f"> {EXACT_MAX_VARIABLES}; choose wsa, sa, tabu or steepest")
        sampler = make_sampler(name)
        if name == "wsa":
            sampleset = sampler.sample_problem(problem, num_reads=solver.num_reads, num_sweeps=solver.num_sweeps,
                                               seed=seed, initial_bits=initial_bits, **solver.options)
        else:
            kwargs = _sample_kwargs(name, solver, problem, seed)
            if initial_bits is not None and name in ("sa", "neal"):
                kwargs["initial_states"] = np.tile(initial_bits, (solver.num_reads, 1))
                kwargs["initial_states_generator"] = "none"
            sampleset = sampler.sample(to_bqm(problem), **kwargs)
    else:
        kwargs = {"seed": seed} if "seed" in solver.parameters else {}
        sampleset = solver.sample(to_bqm(problem), **kwargs)
    bits = sampleset.record.sample[:, np.argsort(np.asarray(list(sampleset.variables)))]
    energies = problem.energies(bits)
    best = int(np.argmin(energies))
    return Answer(bits[best].astype(np.int8), float(energies[best]), time.perf_counter() - start, len(bits))
