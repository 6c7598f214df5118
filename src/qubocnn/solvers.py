"""Solvers for the per-class QUBOs: one interface for every solver, by name or any dimod sampler.

Names: `wsa` (qubocnn's weight-space simulated annealer, the same single-flip Metropolis chain over
the same QUBO; the default), `sa` and `neal` (dwave-samplers' SimulatedAnnealingSampler; `neal` is
the paper's name for it), `tabu`, `steepest` (dwave-samplers), `sqa` (simulated quantum annealing:
dwave-samplers' PathIntegralAnnealingSampler), `exact` (dimod.ExactSolver, tiny problems only;
qubocnn.exact.ExactSolver certifies the optimum of larger ones), `qpu` (a D-Wave QPU through a clique embedding; needs credentials) and `round`
(classical, no annealing: the continuous minimiser of the class surrogate rounded to the grid, then
polished by steepest single-bit descent).

Two wrappers model what a QPU changes: `qpu_noise` puts a dimod solver's sampler inside
qpu_noise.ControlErrorComposite (the QPU's range scaling and control errors), and `block_size`
solves each class QUBO in clique-sized blocks (`solver_factory.BlockSolver`, qubocnn.blocks), as a QPU must once
(d+1)K exceeds its largest clique.

qubocnn.solver_factory's `make_solver` turns a `SolverConfig` or a dimod sampler (with its sample
keyword arguments) into a `Solver` once per run, wrapped as the config asks; `Solver.solve(problem, seed, initial_bits)` returns an `Answer` whose energy is
recomputed in weight space, so every solver's answer is measured the same way.
"""

from __future__ import annotations

import inspect
import os
import time
from dataclasses import dataclass, field

import dimod
import numpy as np
import scipy.linalg
from numba import njit

from .options import option
from .qpu_noise import DEFAULT_SIGMA_H, DEFAULT_SIGMA_J, ControlErrorComposite, check_sigma
from .qubo import ClassQubo, integers_to_bits, to_bqm
from .schedules import beta_range

SOLVERS = ("wsa", "sa", "neal", "sqa", "tabu", "steepest", "exact", "qpu", "round")
# The solvers that sample a dimod BQM with a classical sampler: the ones the noise model can wrap.
NOISE_MODEL_SOLVERS = ("sa", "neal", "sqa", "tabu", "steepest", "exact")
# The solvers whose calls can be packed, several class QUBOs per call (qubocnn.packing).
PACKING_SOLVERS = ("qpu", "sa", "neal", "sqa")
EXACT_MAX_VARIABLES = 24
# Keyword arguments each named solver sets itself; the rest of the sampler's parameters are options.
SET_BY_SOLVER = {"num_reads", "num_sweeps", "seed", "initial_states", "initial_states_generator",
                  "initial_bits", "beta_schedule_type"}
# Peak memory of one dense solve per entry of the n x n matrix, measured with dwave-samplers' SA
# (docs/errors-and-outputs.md): the dense Q and its temporaries, the BQM's adjacency, the sampler's copy.
DENSE_BYTES_PER_ENTRY = 88
# Default limit of the dense solves running at once: this share of the machine's memory
# ($QUBOCNN_MEMORY_LIMIT, in bytes or with a K, M or G suffix, overrides it).
DENSE_MEMORY_SHARE = 0.5


def block_size_value(value) -> int | None:
    """A block size as given (None, a number of variables, or 'clique': the largest clique that
    embeds on the default system) as a number of variables."""
    if value is None:
        return None
    if str(value) == "clique":
        from .embedding import DEFAULT_SYSTEM, max_clique_size
        return max_clique_size(DEFAULT_SYSTEM)
    if isinstance(value, bool) or not str(value).isdigit():
        raise ValueError(f"block_size takes a number of variables or 'clique', got {value!r}")
    return int(value)


@dataclass(frozen=True)
class SolverConfig:
    name: str = option("wsa", f"{', '.join(SOLVERS)}", flag="solver")
    num_reads: int = option(4, "reads per QUBO", flag="reads")
    num_sweeps: int = option(100, "sweeps per read", flag="sweeps")
    options: dict = option(help="extra sampler argument, e.g. annealing_time=20 or chain_strength=2",
                           default_factory=dict, flag="solver-option")
    qpu_noise: bool = option(False, "sample under the QPU control-error model: the QPU's h/J range scaling plus "
                                    "Gaussian errors (qpu_noise.ControlErrorComposite; solvers "
                                    f"{', '.join(NOISE_MODEL_SOLVERS)})")
    sigma_h: float = option(DEFAULT_SIGMA_H, "with --qpu-noise: sigma of the errors on h, in the QPU's units")
    sigma_J: float = option(DEFAULT_SIGMA_J, "with --qpu-noise: sigma of the errors on J, in the QPU's units",
                            flag="sigma-j")
    block_size: int | None = option(None, "solve each class QUBO in blocks of at most N variables (an integer, or "
                                          "'clique': the largest clique that embeds on an Advantage; default: "
                                          "in one piece)", parse=block_size_value)
    pack: int = option(1, "class QUBOs per QPU call, each on its own clique of the QPU graph (parallel annealing, "
                          "qubocnn.packing; 0: as many as fit; solvers qpu, sa, neal, sqa)")
    qpu_chains: bool = option(False, "send the embedded physical problem (clique chains, majority-vote unembedding) "
                                     "instead of the logical one; with --qpu-noise the errors fall on the physical "
                                     "h and J after chain scaling (solvers sa, neal, sqa)")
    chain_strength: float | None = option(None, "chain strength of embedded problems (default: dwave-system's "
                                                "uniform torque compensation)")
    chain_prefactor: float = option(1.414, "without --chain-strength: the prefactor of uniform torque compensation "
                                           "(dwave-system's default 1.414); a sweep of it is a chain-strength sweep")

    def __post_init__(self):
        if self.name not in SOLVERS:
            raise ValueError(f"unknown solver {self.name!r}: choose one of {', '.join(SOLVERS)}")
        if self.num_reads < 1 or self.num_sweeps < 1:
            raise ValueError(f"num_reads and num_sweeps must be >= 1, got {self.num_reads}, {self.num_sweeps}")
        check_sigma("sigma_h", self.sigma_h)
        check_sigma("sigma_J", self.sigma_J)
        if self.qpu_noise and self.name not in NOISE_MODEL_SOLVERS:
            raise ValueError(f"the QPU noise model wraps a classical dimod sampler ({', '.join(NOISE_MODEL_SOLVERS)}), "
                             f"not solver {self.name}")
        if self.block_size is not None and int(self.block_size) < 1:
            raise ValueError(f"block_size must be >= 1 variables, got {self.block_size}")
        if self.pack < 0:
            raise ValueError(f"pack must be >= 0 class QUBOs per call (0: as many as fit), got {self.pack}")
        if (self.pack != 1 or self.qpu_chains) and self.name not in PACKING_SOLVERS:
            raise ValueError(f"--pack and --qpu-chains take solver {', '.join(PACKING_SOLVERS)}, not {self.name}")
        if self.qpu_chains and self.name == "qpu":
            raise ValueError("--qpu-chains models chains in software; a QPU always samples the embedded problem")
        from .embedding import check_chain_strength
        check_chain_strength(self.chain_strength)
        if not self.chain_prefactor > 0:
            raise ValueError(f"chain prefactor must be positive, got {self.chain_prefactor}")

    @property
    def packed(self) -> bool:
        """Whether the calls go through qubocnn.packing (several per call, or chains modelled)."""
        return self.pack != 1 or self.qpu_chains


@dataclass(frozen=True)
class Answer:
    """A class's answer: the decoded weight column, its surrogate value U_c - L(anchor) recomputed
    in weight space, whether it touches the edge of its grid (the step may want to go further), and
    the bits it decodes from (on its problem's grid), so no caller encodes the weights back."""

    weights: np.ndarray
    energy: float
    seconds: float
    num_samples: int
    on_edge: bool
    info: dict = field(default_factory=dict)
    bits: np.ndarray | None = None


def best_answer(problem: ClassQubo, bits: np.ndarray, started: float, info: dict | None = None) -> Answer:
    """The best of `bits` (one row per sample) by its weight-space energy."""
    bits = np.atleast_2d(bits)
    return best_integer_answer(problem, problem.encoding.integers(bits), started, info, bits)


def best_integer_answer(problem: ClassQubo, integers: np.ndarray, started: float, info: dict | None = None,
                        bits: np.ndarray | None = None) -> Answer:
    """The best of the grid integers v (one row per sample, `bits` their bit vectors if at hand) by
    its weight-space energy: only the best row is decoded and turned into bits."""
    encoding = problem.encoding
    energies = problem.integer_energies(integers)
    best = int(np.argmin(energies))
    return Answer(encoding.decode_integers(integers[best]), float(energies[best]), time.perf_counter() - started,
                  len(integers), bool(encoding.integers_on_edge(integers[best]).any()), info or {},
                  integers_to_bits(integers[best], problem.bits) if bits is None else bits[best])


def sample_parameters(sampler: dimod.Sampler) -> set[str]:
    """The keyword arguments a dimod sampler takes: its `parameters`, and the named arguments of its
    `sample` method (DWaveCliqueSampler takes chain_strength there, not in `parameters`)."""
    named = inspect.signature(sampler.sample).parameters.values()
    return set(sampler.parameters) | {p.name for p in list(named)[1:] if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                                                   p.KEYWORD_ONLY)}


def check_options(options: dict, valid, solver: str) -> None:
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for solver {solver}: "
                         f"valid are {', '.join(sorted(valid)) or 'none'}")


class Solver:
    """solve(problem, seed, initial_bits=None) -> Answer. `initial_bits` starts every read from that
    state where the solver supports it (as reverse annealing would on hardware). `call_log`, where
    not None, is the qpu.QpuCallLog of every sampler call (solvers that stand for a QPU keep one)."""

    name = "solver"
    call_log = None
    batched = False  # solves several problems per sampler call (packing.PackedSolver)

    def solve(self, problem: ClassQubo, seed: int, initial_bits: np.ndarray | None = None) -> Answer:
        raise NotImplementedError

    def solve_many(self, problems: list[ClassQubo], seeds, initial_bits=None, pool=None) -> list[Answer]:
        """One Answer per problem, in `pool`'s threads if one is given."""
        jobs = list(zip(problems, seeds, initial_bits or [None] * len(problems)))
        return list(pool.map(lambda job: self.solve(*job), jobs) if pool else [self.solve(*job) for job in jobs])

    def check_memory(self, num_variables: int, concurrent: int = 1) -> None:
        """Refuse, before any work, problems of `num_variables` whose solves (`concurrent` at once)
        would not fit in memory; solvers that never build the n x n matrix take any size."""


def memory_limit() -> int:
    """Bytes the dense solves running at once may take: $QUBOCNN_MEMORY_LIMIT, else a share of memory."""
    value = os.environ.get("QUBOCNN_MEMORY_LIMIT")
    if value:
        units = {"K": 2**10, "M": 2**20, "G": 2**30}
        scale = units.get(value[-1].upper(), 1)
        try:
            return int(float(value[:-1] if scale > 1 else value) * scale)
        except ValueError:
            raise ValueError(f"QUBOCNN_MEMORY_LIMIT takes bytes or a number with K, M or G, got {value!r}") from None
    return int(DENSE_MEMORY_SHARE * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def check_dense_memory(num_variables: int, concurrent: int, solver: str) -> None:
    """Refuse a dense solver whose n x n matrices (`concurrent` at once) exceed memory_limit()."""
    estimate = DENSE_BYTES_PER_ENTRY * num_variables**2 * concurrent
    limit = memory_limit()
    if estimate > limit:
        raise ValueError(f"solver {solver} builds a dense {num_variables} x {num_variables} QUBO: about "
                         f"{estimate / 2**30:.1f} GiB for {concurrent} at once, above the limit of {limit / 2**30:.1f} "
                         "GiB ($QUBOCNN_MEMORY_LIMIT): use --solver wsa (no n x n matrix), --block-size clique, "
                         "fewer --jobs or fewer bits")


class DimodSolver(Solver):
    """Any dimod sampler on the dense BQM. It gets `sample_kwargs` as given, plus what it accepts and
    was not given: the run's seed, the start state, and the vectorised geometric beta range of the
    problem (dwave-samplers' own default range is computed in pure Python and costs seconds). The
    control-error composite gets no beta range: its child samples a perturbed problem, whose
    schedule the composite sizes itself. Every sample set goes to `call_log.add` when a call log
    is given."""

    def __init__(self, sampler: dimod.Sampler, sample_kwargs: dict | None = None, name: str | None = None,
                 max_variables: int | None = None, call_log=None):
        self.sampler = sampler
        self.sample_kwargs = dict(sample_kwargs or {})
        self.name = name or type(sampler).__name__
        self.max_variables = max_variables
        self.call_log = call_log
        check_options(self.sample_kwargs, sample_parameters(sampler), self.name)

    def check_memory(self, num_variables, concurrent=1):
        check_dense_memory(num_variables, concurrent, self.name)

    def solve(self, problem, seed, initial_bits=None):
        started = time.perf_counter()
        if self.max_variables is not None and problem.num_variables > self.max_variables:
            raise ValueError(f"the {self.name} solver enumerates 2^n states: refused for n={problem.num_variables} "
                             f"> {self.max_variables}; choose wsa, sa, tabu, steepest or round")
        parameters = self.sampler.parameters
        kwargs = dict(self.sample_kwargs)
        if "seed" in parameters:
            kwargs.setdefault("seed", int(seed) % 2**31)  # dwave-samplers accepts 0 <= seed < 2^31
        if ("beta_range" in parameters and "beta_range" not in kwargs
                and not isinstance(self.sampler, ControlErrorComposite)):
            kwargs["beta_range"] = beta_range(problem)
        if initial_bits is not None and "initial_states" in parameters:
            kwargs["initial_states"] = np.tile(initial_bits, (kwargs.get("num_reads", 1), 1))
            if "initial_states_generator" in parameters:
                kwargs["initial_states_generator"] = "none"
        sampleset = self.sampler.sample(to_bqm(problem), **kwargs)
        if self.call_log is not None:
            self.call_log.add(sampleset)
        return answer_from_samples(problem, sampleset, started)


def answer_from_samples(problem: ClassQubo, samples, started: float) -> Answer:
    """The Answer of samples from any solver: a dimod SampleSet over the variables 0..n-1 of
    `qubo.to_bqm(problem)`, or binary bits of shape (n,) or (reads, n). The best sample is chosen by
    its weight-space energy, so an outside answer is measured like the package's own."""
    info, n = {}, problem.num_variables
    if isinstance(samples, dimod.SampleSet):
        labels = np.asarray(list(samples.variables))
        if not np.array_equal(np.sort(labels), np.arange(n)):
            raise ValueError(f"the samples must be over the variables 0..{n - 1} of the class's BQM (qubo.to_bqm)")
        info = _sampleset_info(samples)
        samples = samples.record.sample[:, np.argsort(labels)]
    bits = np.atleast_2d(samples)
    if bits.ndim != 2 or bits.shape[1] != n or len(bits) == 0 or not np.isin(bits, (0, 1)).all():
        raise ValueError(f"an answer must be binary (0/1) samples of shape ({n},) or (reads, {n}), got shape "
                         f"{np.shape(samples)}; a SPIN sampleset converts with .change_vartype('BINARY')")
    return best_answer(problem, bits, started, info)


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
        check_options(options or {}, set(self.sampler.parameters) - SET_BY_SOLVER, self.name)

    def solve(self, problem, seed, initial_bits=None):
        started = time.perf_counter()
        integers, _ = self.sampler.anneal(problem, seed=int(seed) % 2**31, initial_bits=initial_bits, **self.kwargs)
        return best_integer_answer(problem, integers, started)


@njit(cache=True)
def _steepest_flip(v, field, delta, K, diagonal):
    """(j, k, change, de) of the single-bit flip that lowers the energy most, given the field
    g + H e: the first minimum in index order, each change computed with the same operations in the
    same order as the whole-array expression it replaces (so the same numbers)."""
    best_j, best_k, best_change, best_de = -1, -1, np.inf, 0.0
    for j in range(v.shape[0]):
        for k in range(K):
            p = np.int64(1) << k
            de = delta * np.float64(-p if (v[j] >> k) & 1 else p)
            change = de * field[j] + 0.5 * de * de * diagonal[j]
            if change < best_change:
                best_j, best_k, best_change, best_de = j, k, change, de
    return best_j, best_k, best_change, best_de


def steepest_bit_descent(problem: ClassQubo, integers: np.ndarray, max_flips: int | None = None) -> np.ndarray:
    """Greedy single-bit descent on the QUBO, in weight space: flip the bit whose flip lowers the
    energy most, until no flip does (dwave-samplers' SteepestDescentSolver's rule, without building
    the dense matrix). Flipping bit k of parameter j moves its step e_j by de = +-delta 2^k and changes
    the energy by de (g + H e)_j + de^2 H_jj / 2. Returns the integers v of the local minimum."""
    H, g, delta, K = problem.curvature, problem.gradient, problem.delta, problem.bits
    v = np.asarray(integers, dtype=np.int64).copy()
    diagonal = np.ascontiguousarray(np.diag(H))
    e = problem.shift + delta * v
    for _ in range(max_flips or 64 * v.size * K):
        # the field from scratch at every flip (not updated by a column of H): its round-off stays
        # that of one matrix-vector product, whatever the number of flips
        j, k, change, de = _steepest_flip(v, g + H @ e, delta, K, diagonal)
        if change >= 0.0:
            break
        v[j] += -(1 << k) if (v[j] >> k) & 1 else 1 << k
        e[j] += de
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
        return best_integer_answer(problem, v[None], started)
