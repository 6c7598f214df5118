"""Clique-sized blocks: a block QUBO is the class surrogate restricted to its block, and
block-coordinate MM never raises the surrogate."""

import dimod
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler

from qubocnn import embedding
from qubocnn.blocks import block_problem, parameter_blocks, solve_in_blocks, solver_solve_fn
from qubocnn.solvers import DimodSolver
from qubocnn.qubo import ClassQubo, box_encoding, to_bqm, trust_encoding
from qubocnn.surrogate import class_surrogate


def make_problem(num_params, bits, mode="trust", seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(6 * num_params, num_params))
    H = A.T @ A / (12 * num_params) + 1e-3 * np.eye(num_params)
    g, anchor = 0.3 * rng.normal(size=num_params), 0.5 * rng.normal(size=num_params)
    encoding = trust_encoding(anchor, bits, 1.0) if mode == "trust" else box_encoding(num_params, bits, 2.0)
    return ClassQubo(H, g, anchor, encoding)


def random_solve_fn(seed):
    """A poor solver: random bits, so that many block answers must be refused."""
    rng = np.random.default_rng(seed)

    def solve(sub, _seed, _initial):
        bits = rng.integers(0, 2, size=sub.num_variables).astype(np.int8)
        return bits, float(sub.energies(bits))

    return solve


@pytest.mark.parametrize("mode", ["box", "trust"])
def test_block_qubo_is_the_surrogate_restricted_to_the_block(mode):
    problem = make_problem(9, 3, mode)
    rng = np.random.default_rng(1)
    full = rng.integers(0, 2, size=(problem.num_variables,))
    step = problem.step(full)
    block = np.array([2, 3, 4, 8])
    sub = block_problem(problem, block, step)
    for _ in range(10):
        block_bits = rng.integers(0, 2, size=sub.num_variables)
        e = step.copy()
        e[block] = sub.step(block_bits)
        fixed = step.copy()
        fixed[block] = 0.0
        # U with the block moved, minus U of the fixed parameters alone (the block's constant)
        expected = class_surrogate(e, problem.gradient, problem.curvature) - class_surrogate(
            fixed, problem.gradient, problem.curvature)
        assert sub.energies(block_bits) == pytest.approx(expected, rel=1e-10, abs=1e-12)
        assert to_bqm(sub).energy(dict(enumerate(block_bits))) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("solve_fn", [random_solve_fn(0), solver_solve_fn(
    DimodSolver(SimulatedAnnealingSampler(), dict(num_reads=4, num_sweeps=50)))])
def test_surrogate_never_rises_across_blocks(solve_fn):
    problem = make_problem(12, 4, "box", seed=2)
    solution = solve_in_blocks(problem, solve_fn, block_size=12, sweeps_over_blocks=3, seed=0)
    assert np.all(np.diff(solution.history) <= 0)
    assert solution.calls == 3 * 4 and solution.history[0] >= solution.energy
    # the reported U is the dense QUBO's energy of the returned bits
    assert to_bqm(problem).energy(dict(enumerate(solution.bits))) == pytest.approx(solution.energy, abs=1e-9)


def test_random_answers_are_refused_and_good_ones_taken():
    problem = make_problem(12, 4, "box", seed=3)
    bad = solve_in_blocks(problem, random_solve_fn(1), block_size=8, sweeps_over_blocks=2, seed=0)
    good = solve_in_blocks(problem, solver_solve_fn(DimodSolver(dimod.ExactSolver())), block_size=8, sweeps_over_blocks=2)
    assert bad.accepted < bad.calls
    assert good.energy < bad.energy and good.energy < good.history[0]


def test_one_block_with_an_exact_solver_finds_the_optimum():
    problem = make_problem(4, 3, "trust", seed=4)
    solution = solve_in_blocks(problem, solver_solve_fn(DimodSolver(dimod.ExactSolver())), block_size=12)
    assert solution.calls == 1
    assert solution.energy == pytest.approx(dimod.ExactSolver().sample(to_bqm(problem)).first.energy, abs=1e-9)


def test_default_blocks_are_the_largest_clique_of_the_system():
    problem = make_problem(197, 10, "trust", seed=5)  # the default preset's d = 196 at K = 10
    clique = embedding.max_clique_size(embedding.DEFAULT_SYSTEM)
    blocks = parameter_blocks(197, 10, clique)
    assert all(len(b) * 10 <= clique for b in blocks) and len(blocks[0]) == clique // 10
    np.testing.assert_array_equal(np.concatenate(blocks), np.arange(197))
    keep = lambda sub, seed, initial: (initial, 0.0)  # noqa: E731
    solution = solve_in_blocks(problem, keep)
    assert solution.calls == len(blocks) and solution.accepted == len(blocks)


@pytest.mark.parametrize("kwargs, match", [
    (dict(block_size=10_000), "largest clique"),
    (dict(block_size=2), "between the bits per parameter"),
    (dict(sweeps_over_blocks=0), "sweeps_over_blocks"),
    (dict(initial_bits=np.zeros(5)), "initial_bits must have"),
])
def test_bad_block_input_is_refused_before_any_solve(kwargs, match):
    def never(*_):
        raise AssertionError("solve_fn called despite bad input")

    with pytest.raises(ValueError, match=match):
        solve_in_blocks(make_problem(6, 3), never, **kwargs)
