import dimod
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler, SteepestDescentSolver

from qubocnn import qubo, schedules, solver_factory, solvers, surrogate


def tiny_problem(bits=3, params=3, mode="trust", seed=0):
    rng = np.random.default_rng(seed)
    phi = rng.normal(size=(40, params - 1))
    X = surrogate.add_bias((phi - phi.mean(0)) / phi.std(0))
    y = rng.integers(0, 2, 40)
    W = rng.normal(scale=0.2, size=(params, 2))
    H, G = surrogate.boehning_curvature(X, 1e-2), surrogate.gradient(X, y, W, 1e-2)
    enc = qubo.trust_encoding(W[:, 0], bits, 0.5) if mode == "trust" else qubo.box_encoding(params, bits, 1.0)
    return qubo.ClassQubo(H, G[:, 0], W[:, 0], enc)


def ground_energy(problem):
    return dimod.ExactSolver().sample(qubo.to_bqm(problem)).first.energy


def solve(problem, config, seed=0, initial_bits=None):
    return solver_factory.make_solver(config).solve(problem, seed, initial_bits)


@pytest.mark.parametrize("name", ["wsa", "sa", "neal", "tabu", "steepest", "round"])
@pytest.mark.parametrize("mode", ["trust", "box"])
def test_tiny_qubo_reaches_exact_ground_state(name, mode):
    problem = tiny_problem(bits=4, mode=mode)
    ground = ground_energy(problem)
    answer = solve(problem, solvers.SolverConfig(name, num_reads=20, num_sweeps=500), seed=1)
    if name == "steepest":  # a local search: its answer is a local minimum, never below the ground state
        assert answer.energy >= ground - 1e-12
    else:
        assert answer.energy == pytest.approx(ground, abs=1e-9)
    # the reported energy is the surrogate of the reported weights
    assert answer.energy == pytest.approx(surrogate.class_surrogate(answer.weights - problem.anchor, problem.gradient,
                                                                    problem.curvature), abs=1e-12)


def test_exact_solver_by_name_and_refused_when_large():
    problem = tiny_problem(bits=4)
    assert solve(problem, solvers.SolverConfig("exact")).energy == pytest.approx(ground_energy(problem))
    with pytest.raises(ValueError, match="refused for n=27"):
        solve(tiny_problem(bits=9), solvers.SolverConfig("exact"))


def test_any_dimod_sampler_object_is_accepted():
    problem = tiny_problem(bits=3)
    answer = solver_factory.make_solver(dimod.ExactSolver()).solve(problem, 0)
    assert answer.energy == pytest.approx(ground_energy(problem))


def test_a_users_sampler_gets_its_sample_kwargs_and_the_schedule():
    problem = tiny_problem(bits=5, params=4)
    tracked = dimod.TrackingComposite(SimulatedAnnealingSampler())
    answer = solver_factory.make_solver(tracked, dict(num_reads=10, num_sweeps=100)).solve(problem, 3)
    assert answer.num_samples == 10
    assert tracked.parameters and tracked.input["num_reads"] == 10 and tracked.input["num_sweeps"] == 100
    assert tracked.input["seed"] == 3 and tracked.input["beta_range"] == schedules.beta_range(problem)


def test_unknown_sample_kwargs_and_options_are_refused_before_solving():
    with pytest.raises(ValueError, match="unknown option.*bogus.*valid are"):
        solver_factory.make_solver(SimulatedAnnealingSampler(), dict(bogus=1))
    for name in ("wsa", "sa", "steepest", "round", "exact"):
        with pytest.raises(ValueError, match=f"unknown option.*for solver {name}"):
            solver_factory.make_solver(solvers.SolverConfig(name, options={"bogus": 1}))


def test_solver_options_reach_the_sampler():
    problem = tiny_problem(bits=4)
    solver = solver_factory.make_solver(solvers.SolverConfig("sa", num_reads=2, num_sweeps=10,
                                                      options={"beta_range": (1e6, 1e6)}))
    assert solver.sample_kwargs["beta_range"] == (1e6, 1e6)
    frozen = solver.solve(problem, 0, initial_bits=problem.encoding.encode(problem.anchor))
    # infinitely cold from the anchor: a pure descent, so never above the anchor's energy (0)
    assert frozen.energy <= 0.0


@pytest.mark.parametrize("name", ["sa", "wsa"])
def test_seeded_solves_are_identical(name):
    problem = tiny_problem(bits=6, params=5)
    config = solvers.SolverConfig(name, num_reads=3, num_sweeps=50)
    a, b = solve(problem, config, seed=7), solve(problem, config, seed=7)
    np.testing.assert_array_equal(a.weights, b.weights)


def test_steepest_bit_descent_equals_dwave_samplers_steepest_descent():
    rng = np.random.default_rng(4)
    for trial in range(5):
        problem = tiny_problem(bits=5, params=4, seed=trial)
        start = rng.integers(0, 2 ** 5, size=4)
        ours = solvers.steepest_bit_descent(problem, start)
        start_bits = ((start[:, None] >> np.arange(5)) & 1).ravel()
        theirs = SteepestDescentSolver().sample(qubo.to_bqm(problem), initial_states=start_bits[None, :]).first
        theirs_bits = np.array([theirs.sample[i] for i in range(problem.num_variables)])
        assert problem.energies(((ours[:, None] >> np.arange(5)) & 1).ravel()) == pytest.approx(
            problem.energies(theirs_bits), abs=1e-12)


def test_rounding_solver_starts_from_the_rounded_continuous_minimiser():
    problem = tiny_problem(bits=12, params=6, mode="box")
    minimiser = problem.anchor - np.linalg.solve(problem.curvature, problem.gradient)
    rounded = problem.encoding.decode(problem.encoding.encode(minimiser))
    answer = solve(problem, solvers.SolverConfig("round"))
    rounded_energy = surrogate.class_surrogate(rounded - problem.anchor, problem.gradient, problem.curvature)
    continuous = surrogate.class_surrogate(minimiser - problem.anchor, problem.gradient, problem.curvature)
    assert continuous <= answer.energy <= rounded_energy


def test_beta_range_ignores_round_off_coefficients():
    problem = tiny_problem(bits=5)
    H = problem.curvature.copy()
    H[-1, :-1] = H[:-1, -1] = 1e-17  # the bias row of a Gram matrix of standardised features
    hot, cold = schedules.beta_range(qubo.ClassQubo(H, problem.gradient, problem.anchor, problem.encoding))
    assert 0 < hot < cold < 1e9


def test_unknown_solver_refused():
    with pytest.raises(ValueError, match="unknown solver 'bogus'"):
        solvers.SolverConfig("bogus")


@pytest.mark.parametrize("config", [solvers.SolverConfig("wsa", 2, 20), solvers.SolverConfig("sa", 2, 20),
                                    solvers.SolverConfig("round"), solvers.SolverConfig("sa", 2, 20, block_size=6)])
def test_an_answer_carries_the_bits_it_decodes_from(config):
    problem = tiny_problem(bits=3, params=4)
    answer = solve(problem, config)
    np.testing.assert_array_equal(problem.encoding.decode(answer.bits), answer.weights)
    assert problem.energies(answer.bits[None])[0] == answer.energy
