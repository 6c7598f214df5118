"""How a run's solver is made: `make_solver` turns a `SolverConfig` (by name, with its noise model,
packing and block size) or a dimod sampler into a `Solver` once per run, and the two solvers that
wrap another one and change one thing, as dwave-system's composites do: `BlockSolver` (each class
QUBO in clique-sized blocks, qubocnn.blocks) and `PackedSolver` (several class QUBOs per call on
disjoint cliques, qubocnn.packing)."""

from __future__ import annotations

import time

import dimod

from .blocks import solve_many_in_blocks, solver_solve_many_fn
from .qpu_noise import ControlErrorComposite
from .qubo import ClassQubo, to_bqm
from .solvers import (EXACT_MAX_VARIABLES, SET_BY_SOLVER, SOLVERS, Answer, DimodSolver, RoundingSolver, Solver,
                      SolverConfig, WeightSpaceSolver, answer_from_samples, check_dense_memory, check_options,
                      sample_parameters)


def make_solver(solver: SolverConfig | dimod.Sampler | Solver, sample_kwargs: dict | None = None) -> Solver:
    """The solver of a run, made once. `solver`: a SolverConfig (by name, with its noise model and
    block size), a dimod sampler (given `sample_kwargs`, e.g. num_reads=10, annealing_time=20), or a
    ready Solver. Unknown options and blocks that do not embed are refused here, before any work."""
    if isinstance(solver, Solver):
        return solver
    if not isinstance(solver, SolverConfig):
        if not isinstance(solver, dimod.Sampler):
            raise ValueError(f"solver must be a name in {', '.join(SOLVERS)}, a SolverConfig or a dimod sampler, "
                             f"got {type(solver).__name__}")
        return DimodSolver(solver, sample_kwargs)
    if sample_kwargs:
        raise ValueError("sample_kwargs go with a dimod sampler object; for a named solver use SolverConfig.options")
    named = _named_solver(solver)
    if solver.packed:
        named = packed_solver(named, solver)
    return named if solver.block_size is None else BlockSolver(named, solver.block_size)


def _named_solver(solver: SolverConfig) -> Solver:
    name, options = solver.name, dict(solver.options)
    if name == "wsa":
        return WeightSpaceSolver(solver.num_reads, solver.num_sweeps, options)
    if name == "round":
        check_options(options, (), name)
        return RoundingSolver()
    if name in ("sa", "neal"):
        from dwave.samplers import SimulatedAnnealingSampler
        defaults = dict(num_reads=solver.num_reads, num_sweeps=solver.num_sweeps, beta_schedule_type="geometric")
        return _named(SimulatedAnnealingSampler(), defaults, solver)
    if name == "sqa":
        from dwave.samplers import PathIntegralAnnealingSampler
        defaults = dict(num_reads=solver.num_reads, num_sweeps=solver.num_sweeps, beta_schedule_type="geometric")
        return _named(PathIntegralAnnealingSampler(), defaults, solver)
    if name == "tabu":
        from dwave.samplers import TabuSampler
        return _named(TabuSampler(), dict(num_reads=solver.num_reads, timeout=100), solver)
    if name == "steepest":
        from dwave.samplers import SteepestDescentSolver
        return _named(SteepestDescentSolver(), dict(num_reads=solver.num_reads), solver)
    if name == "exact":
        return _named(dimod.ExactSolver(), {}, solver, max_variables=EXACT_MAX_VARIABLES)
    from .qpu import QpuCallLog, qpu_sampler
    return _named(qpu_sampler(), dict(num_reads=solver.num_reads), solver, call_log=QpuCallLog())


def _named(sampler, defaults: dict, solver: SolverConfig, max_variables: int | None = None,
           call_log=None) -> DimodSolver:
    """A named dimod solver; under the QPU noise model its sampler goes inside the control-error
    composite, and its calls are counted (each stands for one QPU call)."""
    if solver.qpu_noise:
        from .qpu import QpuCallLog
        sampler = ControlErrorComposite(sampler, solver.sigma_h, solver.sigma_J)
        call_log = QpuCallLog()
    check_options(solver.options, sample_parameters(sampler) - SET_BY_SOLVER, solver.name)
    return DimodSolver(sampler, {**defaults, **solver.options}, solver.name, max_variables, call_log)


class BlockSolver(Solver):
    """Any solver, given each class QUBO in blocks of at most `block_size` variables (default: the
    largest clique that embeds on `system`), by block-coordinate majorise-minimise
    (blocks.solve_in_blocks): one call of the wrapped solver per block, a block's answer kept only
    if it does not raise the class surrogate. The answer's info counts the blocks and keeps the
    wrapped solver's info of every block call (a QPU's timing and problem ids)."""

    def __init__(self, inner: Solver, block_size: int | None = None, system: str | None = None):
        from .embedding import DEFAULT_SYSTEM, max_clique_size

        self.system = DEFAULT_SYSTEM if system is None else system
        clique = max_clique_size(self.system)
        self.block_size = clique if block_size is None else int(block_size)
        if not 1 <= self.block_size <= clique:
            raise ValueError(f"block size {self.block_size} does not embed on {self.system}: "
                             f"its largest clique has {clique} variables")
        self.inner = inner
        self.name = f"{inner.name}, blocks of {self.block_size}"

    @property
    def call_log(self):
        return self.inner.call_log

    def check_memory(self, num_variables, concurrent=1):
        self.inner.check_memory(min(num_variables, self.block_size), concurrent)

    def solve(self, problem, seed, initial_bits=None):
        return self.solve_many([problem], [seed], None if initial_bits is None else [initial_bits])[0]

    def solve_many(self, problems, seeds, initial_bits=None, pool=None):
        """The problems in the pool's threads, one at a time each; with a batched inner solver
        (packing), in lockstep: every problem's same block goes into one solve_many of the inner."""
        if not self.inner.batched and len(problems) > 1:
            return super().solve_many(problems, seeds, initial_bits, pool)
        started = time.perf_counter()
        answers = [[] for _ in problems]
        solve_many_fn = solver_solve_many_fn(self.inner, warm_start=initial_bits is not None, answers=answers)
        solutions = solve_many_in_blocks(problems, solve_many_fn, self.block_size, initial_bits=initial_bits,
                                         seeds=seeds, system=self.system)
        return [self._block_answer(p, s, a, started) for p, s, a in zip(problems, solutions, answers)]

    @staticmethod
    def _block_answer(problem, solution, answers, started) -> Answer:
        info = dict(blocks=solution.calls, accepted_blocks=solution.accepted)
        block_infos = [a.info for a in answers if a.info]  # a QPU's timing and problem ids, per call
        if block_infos:
            info["block_info"] = block_infos
        return Answer(problem.encoding.decode(solution.bits), solution.energy, time.perf_counter() - started,
                      sum(a.num_samples for a in answers), bool(problem.encoding.on_edge(solution.bits).any()), info,
                      solution.bits)


class PackedSolver(Solver):
    """A training round's class QUBOs solved `pack` per call of a packing.ParallelEmbeddingComposite
    (`pack` = 0: as many as fit on disjoint cliques). Each call is one entry of `call_log`; every
    call is seeded by the seed of its first problem. Reads are forward anneals: a start state
    (`initial_bits`) is not passed on."""

    batched = True

    def __init__(self, composite, sample_kwargs: dict, pack: int = 0, name: str = "packed", call_log=None):
        from .qpu import QpuCallLog

        if int(pack) < 0:
            raise ValueError(f"pack must be >= 0 problems per call (0: as many as fit), got {pack}")
        self.composite, self.sample_kwargs, self.pack = composite, dict(sample_kwargs), int(pack)
        self.name = f"{name}, packed"
        self.call_log = QpuCallLog() if call_log is None else call_log

    def check_memory(self, num_variables, concurrent=1):
        check_dense_memory(num_variables * max(self.pack, 1), 1, self.name)

    def problems_per_call(self, variables: int, num_problems: int) -> int:
        """How many of `num_problems` problems of `variables` variables go in one call."""
        count = self.pack or max(1, len(self.composite.fitting(variables, num_problems)))
        self.composite.embeddings(variables, count)  # refuses a packing that does not fit
        return min(count, num_problems)

    def solve(self, problem, seed, initial_bits=None):
        return self.solve_many([problem], [seed])[0]

    def solve_many(self, problems: list[ClassQubo], seeds, initial_bits=None, pool=None) -> list[Answer]:
        started = time.perf_counter()
        per_call = self.problems_per_call(max(p.num_variables for p in problems), len(problems))
        answers = []
        for start in range(0, len(problems), per_call):
            group = problems[start:start + per_call]
            kwargs = dict(self.sample_kwargs)
            if "seed" in self.composite.parameters:
                kwargs["seed"] = int(seeds[start]) % 2**31
            samplesets, call = self.composite.sample_many([to_bqm(p) for p in group], **kwargs)
            self.call_log.add(call)
            answers += [answer_from_samples(p, s, started) for p, s in zip(group, samplesets)]
        return answers


def packed_solver(solver: DimodSolver, config: SolverConfig) -> PackedSolver:
    """The named dimod solver `solver` (solvers.DimodSolver, made from the SolverConfig `config`)
    with its calls packed: on a QPU, the structured sampler inside DWaveCliqueSampler gets the
    packed embedded problems; in software, its sampler (under the control-error model, if any)
    gets the packed logical problems, or the embedded ones with `config.qpu_chains`."""
    from .packing import ParallelEmbeddingComposite

    kwargs = dict(solver.sample_kwargs)
    strength = kwargs.pop("chain_strength", None) if config.chain_strength is None else config.chain_strength
    kwargs.pop("chain_strength", None)
    if config.name == "qpu":
        child, chains = solver.sampler.child, True
    else:
        child, chains = solver.sampler, config.qpu_chains
    composite = ParallelEmbeddingComposite(child, chains, chain_strength=strength, chain_prefactor=config.chain_prefactor)
    return PackedSolver(composite, kwargs, config.pack, solver.name, solver.call_log)
