"""The certified solver (qubocnn.exact) and the symmetric grid it is used on (qubocnn.qubo)."""

import sys

import dimod
import numpy as np
import pytest

from qubocnn import exact, qubo, surrogate
from qubocnn.solver_factory import make_solver
from qubocnn.solvers import SolverConfig

LAM = 1e-3


def class_problems(X, y, W, bits, grid, half_range=1.5):
    """Every class's QUBO at the head W (box grid `grid`) and at a trust grid around W."""
    H = surrogate.boehning_curvature(X, LAM)
    G = surrogate.gradient(X, y, W, LAM)
    for c in range(W.shape[1]):
        yield qubo.ClassQubo(H, G[:, c], W[:, c], qubo.box_encoding(len(H), bits, half_range, grid))
    yield qubo.ClassQubo(H, G[:, 0], W[:, 0], qubo.trust_encoding(W[:, 0], bits, 0.5))


@pytest.mark.parametrize("bits", [1, 2, 3])
def test_symmetric_grid_has_2_to_the_k_levels_evenly_over_minus_r_to_r(bits):
    encoding = qubo.box_encoding(3, bits, 1.5, "symmetric")
    levels = np.unique(encoding.decode(qubo.integers_to_bits(np.arange(2**bits)[:, None].repeat(3, 1), bits)))
    np.testing.assert_allclose(levels, np.linspace(-1.5, 1.5, 2**bits), atol=1e-15)
    assert encoding.half_range == pytest.approx(1.5)
    offset = qubo.box_encoding(3, 1, 1.5, "offset")
    np.testing.assert_allclose(np.unique(offset.decode(np.array([[0, 0, 0], [1, 1, 1]]))), [-1.5, 0.0])
    with pytest.raises(ValueError, match="unknown grid"):
        qubo.box_encoding(3, bits, 1.5, "skewed")


@pytest.mark.parametrize("grid", qubo.GRIDS)
@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_certified_optimum_equals_exactsolver_ground_state(small_problem_data, grid, bits):
    X, y, W = small_problem_data  # 5 parameters: at most 20 variables
    solver = exact.ExactSolver()
    for problem in class_problems(X, y, W, bits, grid):
        # the symmetric grid's dense QUBO encodes the surrogate exactly, like the offset grid's
        b = np.random.default_rng(bits).integers(0, 2, size=(20, problem.num_variables))
        np.testing.assert_allclose(qubo.to_bqm(problem).energies((b, range(problem.num_variables))),
                                   problem.energies(b), atol=1e-9)
        ground = dimod.ExactSolver().sample(qubo.to_bqm(problem)).first.energy
        answer = solver.solve(problem, 0)
        assert answer.info["proved"] and answer.info["status"] == "optimal"
        assert answer.energy == pytest.approx(ground, abs=1e-9)
        assert answer.info["gap"] == 0.0 and answer.info["optimum"] == answer.energy


def test_scip_proves_the_same_optima(small_problem_data):
    pytest.importorskip("pyscipopt")
    X, y, W = small_problem_data
    enumeration, scip = exact.ExactSolver(), exact.ExactSolver(method="scip", time_limit=30)
    for grid in qubo.GRIDS:
        for problem in class_problems(X, y, 0.5 * W, 3, grid):
            by_scip = scip.solve(problem, 0)
            assert by_scip.info["status"] == "optimal"
            assert by_scip.energy == pytest.approx(enumeration.solve(problem, 0).energy, abs=1e-8)


def test_no_solver_beats_a_proved_optimum(small_problem_data):
    """Where the certified solver proves optimality, every other solver's energy on the same QUBO is
    at least the optimum (every answer is measured in weight space, the same way)."""
    X, y, W = small_problem_data
    certified = exact.ExactSolver()
    others = [make_solver(SolverConfig(name, num_reads=8, num_sweeps=100)) for name in ("round", "wsa", "sa", "sqa")]
    others += [make_solver(SolverConfig("tabu", options={"timeout": 5})),
               make_solver(SolverConfig("sa", qpu_noise=True))]
    for bits in (1, 2, 3):
        for grid in qubo.GRIDS:
            for problem in class_problems(X, y, W, bits, grid):
                best = certified.solve(problem, 0)
                assert best.info["proved"]
                for solver in others:
                    assert solver.solve(problem, 1).energy >= best.energy - 1e-12, solver.name


def test_node_limit_reports_a_bound_and_gap_not_a_proof(small_problem_data):
    X, y, W = small_problem_data
    problem = next(class_problems(X, y, W, 4, "symmetric"))
    answer = exact.ExactSolver(max_nodes=2).solve(problem, 0)
    assert not answer.info["proved"] and answer.info["status"] == "nodelimit"
    optimum = exact.ExactSolver().solve(problem, 0).energy
    assert answer.info["bound"] <= optimum <= answer.energy
    assert answer.info["gap"] == pytest.approx(answer.energy - answer.info["bound"]) and answer.info["gap"] > 0


@pytest.mark.parametrize("max_nodes", [10**6, 50])
def test_enumeration_visits_the_pure_python_references_nodes(small_problem_data, max_nodes):
    # the numba enumeration must keep the pure-Python arithmetic (libm's pow for the squares), or a
    # re-run changes the node counts and, at the node limit, the answers the study recorded
    from exact_reference import reference_enumeration

    X, y, W = small_problem_data
    for bits in (2, 3, 5):
        for problem in class_problems(X, y, W, bits, "offset"):
            A, c, _ = exact.integer_form(problem)
            start = np.clip(np.rint(c), 0, 2**bits - 1).astype(np.int64)
            ours = exact.enumerate_box(A, c, 2**bits - 1, start, max_nodes)
            reference = reference_enumeration(A, c, 2**bits - 1, start, max_nodes)
            assert np.array_equal(ours[0], reference[0]) and ours[1:] == reference[1:]


def test_enumeration_costs_are_the_pure_python_squares():
    # libm's pow(x, 2) and x * x differ in about 1 case in 1,000: 20,000 costs tell them apart
    rng = np.random.default_rng(0)
    n, top = 20, 999
    R = np.triu(rng.normal(size=(n, n))) + 3 * np.eye(n)
    centre, v = rng.normal(size=n) * 300, rng.integers(0, top + 1, n)
    order, costs = np.zeros((n, top + 1), np.int64), np.zeros((n, top + 1))
    for i in range(n):
        exact._level_order(R, centre, v, i, top, order, costs, 2.0)
        row = R[i].tolist()
        z = centre[i] - sum(row[j] * (int(v[j]) - centre[j]) for j in range(i + 1, n)) / row[i]
        expected = [(row[i] * (x - z)) ** 2 for x in range(top + 1)]
        assert costs[i].tolist() == expected
        assert [x for _, x in sorted(zip(expected, range(top + 1)))] == order[i].tolist()


def test_above_the_size_limit_refused_before_any_work(small_problem_data):
    X, y, W = small_problem_data
    H = surrogate.boehning_curvature(X, LAM)
    encoding = qubo.box_encoding(5, 32, 1.0)  # 5 x 32 = 160 variables
    solver = exact.ExactSolver(max_variables=100)
    problem = qubo.ClassQubo(H, np.ones(5), np.zeros(5), encoding)
    with pytest.raises(ValueError, match="at most 100 binary variables, got 160"):
        solver.solve(problem, 0)
    with pytest.raises(ValueError, match="at most 300 binary variables, got 301"):
        exact.ExactSolver().check_memory(301)


def test_missing_pyscipopt_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyscipopt", None)
    with pytest.raises(ValueError, match=r"pip install \"qubocnn\[lowbit\]\""):
        exact.ExactSolver(method="scip")
    with pytest.raises(ValueError, match="unknown exact method"):
        exact.ExactSolver(method="gurobi")
