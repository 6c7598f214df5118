import dimod
import numpy as np
import pytest

from qubocnn import anneal, qubo, surrogate


def tiny_problem(bits=3, params=3, mode="trust", seed=0):
    rng = np.random.default_rng(seed)
    phi = rng.normal(size=(40, params - 1))
    X = surrogate.add_bias((phi - phi.mean(0)) / phi.std(0))
    y = rng.integers(0, 2, 40)
    W = rng.normal(scale=0.2, size=(params, 2))
    H, G = surrogate.boehning_curvature(X, 1e-2), surrogate.gradient(X, y, W, 1e-2)
    enc = qubo.trust_encoding(W[:, 0], bits, 0.5) if mode == "trust" else qubo.box_encoding(params, bits, 1.0)
    return qubo.ClassQubo(H, G[:, 0], W[:, 0], enc)


@pytest.mark.parametrize("name", ["sa", "neal", "tabu", "steepest"])
@pytest.mark.parametrize("mode", ["trust", "box"])
def test_tiny_qubo_reaches_exact_ground_state(name, mode):
    problem = tiny_problem(bits=4, mode=mode)
    ground = dimod.ExactSolver().sample(qubo.to_bqm(problem)).first.energy
    config = anneal.SolverConfig(name, num_reads=20, num_sweeps=500)
    answer = anneal.solve(problem, config, seed=1)
    if name == "steepest":  # a local search: its answer is a local minimum, never below the ground state
        assert answer.energy >= ground - 1e-12
    else:
        assert answer.energy == pytest.approx(ground, abs=1e-9)
    assert answer.energy == pytest.approx(problem.energies(answer.bits), abs=1e-15)


def test_exact_solver_by_name_and_refused_when_large():
    problem = tiny_problem(bits=4)
    answer = anneal.solve(problem, anneal.SolverConfig("exact"), seed=0)
    assert answer.energy == pytest.approx(dimod.ExactSolver().sample(qubo.to_bqm(problem)).first.energy)
    with pytest.raises(ValueError, match="refused for n=27"):
        anneal.solve(tiny_problem(bits=9), anneal.SolverConfig("exact"), seed=0)


def test_any_dimod_sampler_object_is_accepted():
    problem = tiny_problem(bits=3)
    answer = anneal.solve(problem, dimod.ExactSolver(), seed=0)
    assert answer.energy == pytest.approx(dimod.ExactSolver().sample(qubo.to_bqm(problem)).first.energy)


def test_seeded_solves_are_identical():
    problem = tiny_problem(bits=6, params=5)
    config = anneal.SolverConfig("sa", num_reads=3, num_sweeps=50)
    a, b = anneal.solve(problem, config, seed=7), anneal.solve(problem, config, seed=7)
    np.testing.assert_array_equal(a.bits, b.bits)


def test_beta_range_ignores_round_off_coefficients():
    problem = tiny_problem(bits=5)
    H = problem.curvature.copy()
    H[-1, :-1] = H[:-1, -1] = 1e-17  # the bias row of a Gram matrix of standardised features
    hot, cold = anneal.beta_range(qubo.ClassQubo(H, problem.gradient, problem.anchor, problem.encoding))
    assert 0 < hot < cold < 1e9


def test_unknown_solver_refused():
    with pytest.raises(ValueError, match="unknown solver 'bogus'"):
        anneal.SolverConfig("bogus")
