"""Solvers for the per-class QUBOs: one interface for every solver, by name or any dimod sampler.

Names: `wsa` (qubocnn's weight-space simulated annealer, the same single-flip Metropolis chain over
the same QUBO; the default), `sa` and `neal` (dwave-samplers' SimulatedAnnealingSampler; `neal` is
the paper's name for it), `tabu`, `steepest` (dwave-samplers), `exact` (dimod.ExactSolver, tiny
problems only), `qpu` (a D-Wave QPU through a clique embedding; needs credentials) and `round`
(classical, no annealing: the continuous minimiser of the class surrogate rounded to the grid, then
polished by steepest single-bit descent).

`make_solver` turns a `SolverConfig` or a dimod sampler (with its sample keyword arguments) into a
`Solver` once per run; `Solver.solve(problem, seed, initial_bits)` returns an `Answer` whose energy is
recomputed in weight space, so every solver's answer is measured the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import dimod
import numpy as np
import scipy.linalg

from .qubo import ClassQubo, to_bqm
from .schedules import beta_range

SOLVERS = ("wsa", "sa", "neal", "tabu", "steepest", "exact", "qpu", "round")
EXACT_MAX_VARIABLES = 24
# Keyword arguments each named solver sets itself; the rest of the sampler's parameters are options.
_SET_BY_SOLVER = {"num_reads", "num_sweeps", "seed", "initial_states", "initial_states_generator",
                  "initial_bits", "beta_schedule_type"}


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
    """A class's answer: the decoded weight column, its surrogate value U_c - L(anchor) recomputed
    in weight space, and whether it touches the edge of its grid (the step may want to go further)."""

    weights: np.ndarray
    energy: float
    seconds: float
    num_samples: int
    on_edge: bool
    info: dict = field(default_factory=dict)


def check_solver_name(name: str) -> str:
    if name not in SOLVERS:
        raise ValueError(f"unknown solver {name!r}: choose one of {', '.join(SOLVERS)}")
    return name


def _answer(problem: ClassQubo, bits: np.ndarray, started: float, info: dict | None = None) -> Answer:
    """The best of `bits` (one row per sample) by its weight-space energy."""
    bits = np.atleast_2d(bits)
    energies = problem.energies(bits)
    best = int(np.argmin(energies))
    return Answer(problem.encoding.decode(bits[best]), float(energies[best]), time.perf_counter() - started,
                  len(bits), bool(problem.encoding.on_edge(bits[best]).any()), info or {})


def _check_options(options: dict, valid, solver: str) -> None:
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for solver {solver}: "
                         f"valid are {', '.join(sorted(valid)) or 'none'}")


class Solver:
    """solve(problem, seed, initial_bits=None) -> Answer. `initial_bits` starts every read from that
    state where the solver supports it (as reverse annealing would on hardware)."""

    name = "solver"

    def solve(self, problem: ClassQubo, seed: int, initial_bits: np.ndarray | None = None) -> Answer:
        raise NotImplementedError


class DimodSolver(Solver):
    """Any dimod sampler on the dense BQM. It gets `sample_kwargs` as given, plus what it accepts and
    was not given: the run's seed, the start state, and the vectorised geometric beta range of the
    problem (dwave-samplers' own default range is computed in pure Python and costs seconds)."""

    def __init__(self, sampler: dimod.Sampler, sample_kwargs: dict | None = None, name: str | None = None,
                 max_variables: int | None = None):
        self.sampler = sampler
        self.sample_kwargs = dict(sample_kwargs or {})
        self.name = name or type(sampler).__name__
        self.max_variables = max_variables
        _check_options(self.sample_kwargs, sampler.parameters, self.name)

    def solve(self, problem, seed, initial_bits=None):
        started = time.perf_counter()
        if self.max_variables is not None and problem.num_variables > self.max_variables:
            raise ValueError(f"the {self.name} solver enumerates 2^n states: refused for n={problem.num_variables} "
                             f"> {self.max_variables}; choose wsa, sa, tabu, steepest or round")
        parameters = self.sampler.parameters
        kwargs = dict(self.sample_kwargs)
        if "seed" in parameters:
            kwargs.setdefault("seed", int(seed) % 2**31)  # dwave-samplers accepts 0 <= seed < 2^31
        if "beta_range" in parameters and "beta_range" not in kwargs:
            kwargs["beta_range"] = beta_range(problem)
        if initial_bits is not None and "initial_states" in parameters:
            kwargs["initial_states"] = np.tile(initial_bits, (kwargs.get("num_reads", 1), 1))
            if "initial_states_generator" in parameters:
                kwargs["initial_states_generator"] = "none"
        sampleset = self.sampler.sample(to_bqm(problem), **kwargs)
        bits = sampleset.record.sample[:, np.argsort(np.asarray(list(sampleset.variables)))]
        return _answer(problem, bits, started, _sampleset_info(sampleset))


def _sampleset_info(sampleset: dimod.SampleSet) -> dict:
    """What a QPU reports (timing in microseconds, problem id) and the chain-break fraction, if any."""
    info = {key: sampleset.info[key] for key in ("problem_id",) if key in sampleset.info}
    if "qpu_access_time" in sampleset.info.get("timing", {}):
        info["timing"] = sampleset.info["timing"]
    if "chain_break_fraction" in sampleset.record.dtype.names:
        info["chain_break_fraction"] = float(np.mean(sampleset.record.chain_break_fraction))
    return info


class WeightSpaceSolver(Solver):
    """qubocnn's weight-space annealer (`wsa`): never builds the dense QUBO."""

    name = "wsa"

    def __init__(self, num_reads: int, num_sweeps: int, options: dict | None = None):
        from .wsa import WeightSpaceAnnealer

        self.sampler = WeightSpaceAnnealer()
        self.kwargs = dict(options or {}, num_reads=num_reads, num_sweeps=num_sweeps)
        _check_options(options or {}, set(self.sampler.parameters) - _SET_BY_SOLVER, self.name)

    def solve(self, problem, seed, initial_bits=None):
        started = time.perf_counter()
        sampleset = self.sampler.sample_problem(problem, seed=int(seed) % 2**31, initial_bits=initial_bits,
                                                **self.kwargs)
        return _answer(problem, sampleset.record.sample, started)


def steepest_bit_descent(problem: ClassQubo, integers: np.ndarray, max_flips: int | None = None) -> np.ndarray:
    """Greedy single-bit descent on the QUBO, in weight space: flip the bit whose flip lowers the
    energy most, until no flip does (dwave-samplers' SteepestDescentSolver's rule, without building
    the dense matrix). Flipping bit k of parameter j moves its step e_j by de = +-delta 2^k and changes
    the energy by de (g + H e)_j + de^2 H_jj / 2. Returns the integers v of the local minimum."""
    H, g, delta, K = problem.curvature, problem.gradient, problem.delta, problem.bits
    v = np.asarray(integers, dtype=np.int64).copy()
    powers = np.int64(1) << np.arange(K, dtype=np.int64)
    diagonal = np.diag(H)[:, None]
    e = problem.shift + delta * v
    for _ in range(max_flips or 64 * v.size * K):
        bit_set = (v[:, None] & powers) != 0
        de = delta * np.where(bit_set, -powers, powers)
        change = de * (g + H @ e)[:, None] + 0.5 * de * de * diagonal
        j, k = np.unravel_index(int(np.argmin(change)), change.shape)
        if change[j, k] >= 0.0:
            break
        v[j] += -powers[k] if bit_set[j, k] else powers[k]
        e[j] += de[j, k]
    return v


class RoundingSolver(Solver):
    """The classical baseline (`round`): the continuous minimiser w_t - H^-1 g of the class surrogate,
    rounded to the nearest grid point (clipped to the box), then steepest single-bit descent. No
    sampling and no randomness: the seed is ignored. H is factorised once per distinct curvature."""

    name = "round"

    def __init__(self):
        self._factor = (None, None)

    def solve(self, problem, seed, initial_bits=None):
        started = time.perf_counter()
        H = problem.curvature
        if self._factor[0] is not H:
            self._factor = (H, scipy.linalg.cho_factor(H))
        minimiser = problem.anchor - scipy.linalg.cho_solve(self._factor[1], problem.gradient)
        v = steepest_bit_descent(problem, problem.encoding.nearest_integers(minimiser))
        bits = ((v[:, None] >> np.arange(problem.bits)) & 1).astype(np.int8).ravel()
        return _answer(problem, bits, started)


def make_solver(solver: SolverConfig | dimod.Sampler | Solver, sample_kwargs: dict | None = None) -> Solver:
    """The solver of a run, made once. `solver`: a SolverConfig (by name), a dimod sampler (given
    `sample_kwargs`, e.g. num_reads=10, annealing_time=20), or a ready Solver. Unknown options are
    refused here, before any work."""
    if isinstance(solver, Solver):
        return solver
    if not isinstance(solver, SolverConfig):
        if not isinstance(solver, dimod.Sampler):
            raise ValueError(f"solver must be a name in {', '.join(SOLVERS)}, a SolverConfig or a dimod sampler, "
                             f"got {type(solver).__name__}")
        return DimodSolver(solver, sample_kwargs)
    if sample_kwargs:
        raise ValueError("sample_kwargs go with a dimod sampler object; for a named solver use SolverConfig.options")
    name, options = solver.name, dict(solver.options)
    if name == "wsa":
        return WeightSpaceSolver(solver.num_reads, solver.num_sweeps, options)
    if name == "round":
        _check_options(options, (), name)
        return RoundingSolver()
    if name in ("sa", "neal"):
        from dwave.samplers import SimulatedAnnealingSampler
        defaults = dict(num_reads=solver.num_reads, num_sweeps=solver.num_sweeps, beta_schedule_type="geometric")
        return _named(SimulatedAnnealingSampler(), defaults, options, name)
    if name == "tabu":
        from dwave.samplers import TabuSampler
        return _named(TabuSampler(), dict(num_reads=solver.num_reads, timeout=100), options, name)
    if name == "steepest":
        from dwave.samplers import SteepestDescentSolver
        return _named(SteepestDescentSolver(), dict(num_reads=solver.num_reads), options, name)
    if name == "exact":
        return _named(dimod.ExactSolver(), {}, options, name, max_variables=EXACT_MAX_VARIABLES)
    from .qpu import qpu_sampler
    return _named(qpu_sampler(), dict(num_reads=solver.num_reads), options, name)


def _named(sampler, defaults: dict, options: dict, name: str, max_variables: int | None = None) -> DimodSolver:
    _check_options(options, set(sampler.parameters) - _SET_BY_SOLVER, name)
    return DimodSolver(sampler, {**defaults, **options}, name, max_variables)
