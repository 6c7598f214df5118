"""The precision column of the feasibility table: what a QPU's control errors leave of the
representative class QUBO at each size."""

import json

import numpy as np
import pytest

from qubocnn import embedding
from qubocnn.qpu_noise import precision_report
from qubocnn.qubo import to_bqm
from qubocnn.surrogate import class_surrogate


def test_representative_qubo_is_a_class_surrogate_of_the_right_size():
    problem = embedding.representative_qubo(16, 3)
    assert problem.num_variables == embedding.problem_size(16, 3)["variables"]
    assert np.all(np.linalg.eigvalsh(problem.curvature) > 0)  # Boehning curvature + lam I
    b = np.random.default_rng(0).integers(0, 2, size=(4, problem.num_variables))
    np.testing.assert_allclose(to_bqm(problem).energies((b, range(problem.num_variables))),
                               class_surrogate(problem.step(b), problem.gradient, problem.curvature), rtol=1e-9)


def test_more_bits_put_more_couplers_below_the_noise():
    """The heart of the precision limit: a K-bit fixed-point QUBO's couplers span 4^(K-1) times
    the range of H, so after scaling to the QPU's range ever more of them fall below sigma_J."""
    below = [precision_report(embedding.representative_qubo(16, k))["J_below_sigma"] for k in (1, 2, 3, 5, 10)]
    assert below == sorted(below) and below[-1] > 0.9 > 0.2 > below[0]


def test_feasibility_rows_carry_the_precision_columns():
    rows = embedding.feasibility_table({"clique": 16}, [5])
    json.dumps(rows)
    expected = precision_report(embedding.representative_qubo(16, 5))
    for row in rows:
        assert row["qpu_J_bits"] == pytest.approx(expected["J_bits"])
        assert row["qpu_J_below_sigma"] == pytest.approx(expected["J_below_sigma"])
        assert 0.0 <= row["qpu_h_below_sigma"] <= 1.0
