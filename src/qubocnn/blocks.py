"""Clique-sized blocks: solve one class's QUBO at any feature size on a QPU that embeds only
small dense problems.

A class QUBO has (d+1)K variables and is dense, so on a D-Wave QPU it must embed as a clique,
whose size the hardware caps (`embedding.max_clique_size`). Block-coordinate majorise-minimise
splits the d+1 parameters into blocks B whose QUBOs have at most that many variables and
minimises the class surrogate U(e) = g^T e + 1/2 e^T H e block by block: with the other
parameters fixed at the current step e, U restricted to B is again a class surrogate,

    U(e_B; e_~B) = const + (g_B + H_B,~B e_~B)^T e_B + 1/2 e_B^T H_BB e_B,

i.e. a ClassQubo over H[B, B] with gradient g[B] + H[B, ~B] e[~B] on the same grid
(`block_problem`). A block's answer is accepted only if it does not raise U, so U never rises
over the blocks, and the majorisation argument of the full method still holds: the loss never
rises above the surrogate's value.

Why contiguous blocks of whole parameters, not dwave-hybrid's EnergyImpactDecomposer:
EnergyImpactDecomposer ranks *binary variables* by their energy impact (the energy gain of
flipping each one in the current sample) and takes the top of that list, or grows the
subproblem from it along the problem graph (traversal 'bfs' or 'pfs'), rolling on to fresh
variables on later calls. Here a parameter's K bits are one fixed-point number: a subproblem
holding only some of them can move that parameter only on a coarser or shifted sub-grid, and on
a complete problem graph the traversals add no locality. (dwave-hybrid's
RandomConstraintDecomposer keeps such groups together, but draws them at random.) Blocks of
whole parameters keep every block a well-formed class QUBO of the same encoding; contiguous
blocks of one size visit every parameter once per sweep in a fixed order (a reproducible count
of QPU calls for the budget) and need a single clique embedding, which busclique caches.
Monotonicity needs nothing more: any partition works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .qubo import ClassQubo, Encoding

SolveFn = Callable[[ClassQubo, int, np.ndarray], tuple[np.ndarray, float]]
"""solve_fn(problem, seed, initial_bits) -> (bits, energy): any solver of a class QUBO; the
energy is recomputed here in weight space, so only the bits matter."""


@dataclass(frozen=True)
class BlockSolution:
    """The bits of the whole class QUBO after the sweeps, their surrogate value U (= the dense
    QUBO's energy), U after every block call (`history`, starting with the initial bits), and how
    many block answers were accepted out of how many calls."""

    bits: np.ndarray
    energy: float
    history: list[float]
    accepted: int
    calls: int


def parameter_blocks(num_params: int, bits: int, max_variables: int) -> list[np.ndarray]:
    """Contiguous blocks of parameter indices whose QUBOs have at most max_variables variables."""
    per_block = int(max_variables) // int(bits)
    if per_block < 1:
        raise ValueError(f"a block of {max_variables} variables cannot hold one parameter of {bits} bits: "
                         f"use blocks of at least {bits} variables")
    return [np.arange(start, min(start + per_block, num_params)) for start in range(0, num_params, per_block)]


def block_problem(problem: ClassQubo, block: np.ndarray, step: np.ndarray) -> ClassQubo:
    """The class QUBO over the parameters in `block` with the others fixed at `step`."""
    block = np.asarray(block)
    rest = np.setdiff1d(np.arange(len(problem.anchor)), block)
    H, enc = problem.curvature, problem.encoding
    gradient = problem.gradient[block] + H[np.ix_(block, rest)] @ step[rest]
    return ClassQubo(H[np.ix_(block, block)], gradient, problem.anchor[block],
                     Encoding(enc.centre[block], enc.delta, enc.bits, enc.grid))


def _bit_indices(block: np.ndarray, bits: int) -> np.ndarray:
    """Positions of the block's parameters' bits in the full bit vector (bit k of j at j*K + k)."""
    return (np.asarray(block)[:, None] * bits + np.arange(bits)).ravel()


def check_block_size(block_size: int, bits: int, system: str) -> int:
    """Refuse, before any work, a block that cannot embed on `system` or cannot hold a parameter."""
    from .embedding import max_clique_size

    clique = max_clique_size(system)
    if not bits <= int(block_size) <= clique:
        raise ValueError(f"block size {block_size} must be between the bits per parameter ({bits}) and the "
                         f"largest clique that embeds on {system} ({clique})")
    return int(block_size)


def solve_in_blocks(problem: ClassQubo, solve_fn: SolveFn, block_size: int | None = None,
                    sweeps_over_blocks: int = 1, initial_bits: np.ndarray | None = None, seed=None,
                    system: str | None = None) -> BlockSolution:
    """Minimise the class surrogate by block-coordinate MM over clique-sized blocks.

    block_size is the largest number of variables of one block QUBO (default: the largest clique
    of `system`, default embedding.DEFAULT_SYSTEM); the blocks are `parameter_blocks`. Starts from
    `initial_bits` (default: the grid point nearest to the anchor) and calls solve_fn once per
    block and sweep with a seed drawn from `seed`; keeps a block's answer only if U does not rise.
    """
    def solve_one(subs, seeds, initial):
        return [solve_fn(subs[0], seeds[0], initial[0])]

    return solve_many_in_blocks([problem], solve_one, block_size, sweeps_over_blocks,
                                None if initial_bits is None else [initial_bits], [seed], system)[0]


SolveManyFn = Callable[[list, list, list], list]
"""solve_many_fn(problems, seeds, initial_bits) -> [(bits, energy), ...]: one answer per problem,
e.g. from one packed QPU call for all of them (qubocnn.packing)."""


def solve_many_in_blocks(problems: list[ClassQubo], solve_many_fn: SolveManyFn, block_size: int | None = None,
                         sweeps_over_blocks: int = 1, initial_bits: list | None = None, seeds=None,
                         system: str | None = None) -> list[BlockSolution]:
    """`solve_in_blocks` for several class QUBOs of one shape (the classes of a training round),
    in lockstep: the same block of every problem goes to one solve_many_fn, so a solver that packs
    problems into one call (qubocnn.packing) spends one call per block for all of them. Each
    problem draws its block seeds from its own seed in `seeds`, so its path is the one
    solve_in_blocks takes for it alone with the same answers."""
    from .embedding import DEFAULT_SYSTEM, max_clique_size

    problems = list(problems)
    system = DEFAULT_SYSTEM if system is None else system
    shapes = {(len(p.anchor), p.bits) for p in problems}
    if len(shapes) != 1:
        raise ValueError(f"problems solved in lockstep need one number of parameters and bits, got {sorted(shapes)}")
    (num_params, bits), = shapes
    block_size = check_block_size(max_clique_size(system) if block_size is None else block_size, bits, system)
    if int(sweeps_over_blocks) < 1:
        raise ValueError(f"sweeps_over_blocks must be >= 1, got {sweeps_over_blocks}")
    seeds = [None] * len(problems) if seeds is None else list(seeds)
    initial_bits = [None] * len(problems) if initial_bits is None else list(initial_bits)
    current = []
    for problem, start in zip(problems, initial_bits):
        bits_now = (problem.encoding.encode(problem.anchor) if start is None
                    else np.asarray(start, dtype=np.int8).copy())
        if bits_now.shape != (problem.num_variables,):
            raise ValueError(f"initial_bits must have {problem.num_variables} entries, got shape {bits_now.shape}")
        current.append(bits_now)

    rngs = [np.random.default_rng(seed) for seed in seeds]
    energy = [float(p.energies(c)) for p, c in zip(problems, current)]
    history, accepted, calls = [[e] for e in energy], [0] * len(problems), 0
    for _ in range(int(sweeps_over_blocks)):
        for block in parameter_blocks(num_params, bits, block_size):
            positions = _bit_indices(block, bits)
            subs = [block_problem(p, block, p.step(c)) for p, c in zip(problems, current)]
            block_seeds = [int(rng.integers(2**31)) for rng in rngs]
            candidates = solve_many_fn(subs, block_seeds, [c[positions].copy() for c in current])
            calls += 1
            for i, (candidate, _) in enumerate(candidates):
                trial = current[i].copy()
                trial[positions] = candidate
                # judged on the whole surrogate (O(d^2)), so the recorded U never rises, not even by round-off
                trial_energy = float(problems[i].energies(trial))
                if trial_energy <= energy[i]:
                    current[i], energy[i] = trial, trial_energy
                    accepted[i] += 1
                history[i].append(energy[i])
    return [BlockSolution(c, e, h, a, calls) for c, e, h, a in zip(current, energy, history, accepted)]


def solver_solve_many_fn(solver, warm_start: bool = False, answers: list | None = None) -> SolveManyFn:
    """A solve_many_fn from any `solvers.Solver` (one `solver.solve_many` per block of all the
    problems); problem i's Answers are appended to answers[i] when given."""

    def solve_many(subs, seeds, initial_bits):
        got = solver.solve_many(subs, seeds, initial_bits if warm_start else None)
        if answers is not None:
            for mine, answer in zip(answers, got):
                mine.append(answer)
        return [(answer.bits, answer.energy) for answer in got]

    return solve_many


def solver_solve_fn(solver, warm_start: bool = False, answers: list | None = None) -> SolveFn:
    """A solve_fn from any `solvers.Solver` (one solve per block). The block's current bits start
    its reads only with `warm_start`; every Answer is appended to `answers` when given."""
    solve_many = solver_solve_many_fn(solver, warm_start, None if answers is None else [answers])
    return lambda sub, seed, initial_bits: solve_many([sub], [seed], [initial_bits])[0]
