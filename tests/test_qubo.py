import dimod
import dimod.serialization.coo
import numpy as np
import pytest

from qubocnn import qubo, schedules, surrogate

LAM = 1e-3


def problems(X, y, W, bits):
    H = surrogate.boehning_curvature(X, LAM)
    G = surrogate.gradient(X, y, W, LAM)
    yield qubo.ClassQubo(H, G[:, 0], W[:, 0], qubo.box_encoding(len(H), bits, 1.5))
    yield qubo.ClassQubo(H, G[:, 1], W[:, 1], qubo.trust_encoding(W[:, 1], bits, 0.25))


@pytest.mark.parametrize("bits", [1, 2, 5, 10, 20])
def test_qubo_energy_equals_the_surrogate_it_encodes(small_problem_data, bits):
    X, y, W = small_problem_data
    rng = np.random.default_rng(bits)
    for problem in problems(X, y, W, bits):
        Q, offset = qubo.dense_qubo(problem)
        assert np.all(np.tril(Q, -1) == 0)
        b = rng.integers(0, 2, size=(50, problem.num_variables))
        dense = np.einsum("si,ij,sj->s", b, Q, b) + offset
        u = surrogate.class_surrogate(problem.encoding.decode(b) - problem.anchor, problem.gradient, problem.curvature)
        scale = max(1.0, np.abs(u).max())
        np.testing.assert_allclose(dense, u, atol=1e-9 * scale)
        bqm = qubo.to_bqm(problem)
        np.testing.assert_allclose(bqm.energies((b, range(problem.num_variables))), u, atol=1e-9 * scale)


@pytest.mark.parametrize("bits", [1, 7, 20])
def test_answers_read_from_integers_are_the_answers_read_from_bits_exactly(small_problem_data, bits):
    # the annealer hands back integers and decodes only its best read: the same numbers as via bits
    X, y, W = small_problem_data
    for problem in problems(X, y, W, bits):
        v = np.random.default_rng(bits).integers(0, 2**bits, size=(30, problem.encoding.num_params))
        b = qubo.integers_to_bits(v, bits)
        assert np.array_equal(problem.integer_energies(v), problem.energies(b))
        assert np.array_equal(problem.encoding.decode_integers(v), problem.encoding.decode(b))
        assert np.array_equal(problem.encoding.integers_on_edge(v), problem.encoding.on_edge(b))
        assert problem.encoding.integers_on_edge(np.array([0, 2**bits - 1, 2**bits // 2])).tolist() == \
            [True, True, bits == 1]


def test_trust_grid_contains_the_current_weights(small_problem_data):
    X, y, W = small_problem_data
    for bits in (1, 3, 12):
        problem = list(problems(X, y, W, bits))[1]
        b = problem.encoding.encode(W[:, 1])
        np.testing.assert_allclose(problem.encoding.decode(b), W[:, 1], atol=1e-15)
        assert problem.energies(b) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("bits", [1, 4, 16, 32])
def test_box_encode_decode_round_trip(bits):
    encoding = qubo.box_encoding(7, bits, 3.0)
    rng = np.random.default_rng(bits)
    b = rng.integers(0, 2, size=encoding.num_variables).astype(np.int8)
    w = encoding.decode(b)
    assert np.all(w >= -3.0) and np.all(w < 3.0)
    np.testing.assert_array_equal(encoding.encode(w), b)
    # values off the grid go to the nearest grid point, clipped to the box
    np.testing.assert_array_equal(encoding.nearest_integers(np.full(7, 100.0)), 2**bits - 1)
    np.testing.assert_array_equal(encoding.nearest_integers(np.full(7, -100.0)), 0)


@pytest.mark.parametrize("bits", [0, 33, -1, 2.5, True, "10"])
def test_bits_out_of_range_refused(bits):
    with pytest.raises(ValueError, match="1..32"):
        qubo.box_encoding(3, bits, 1.0)


def test_coefficient_scales_match_the_dense_matrix(small_problem_data):
    X, y, W = small_problem_data
    for bits in (1, 3, 8):
        for problem in problems(X, y, W, bits):
            Q, _ = qubo.dense_qubo(problem)
            full = Q + Q.T - np.diag(np.diag(Q))
            magnitudes = np.abs(np.concatenate([np.diag(Q), Q[np.triu_indices_from(Q, 1)]]))
            max_flip, min_coefficient = schedules.coefficient_scales(problem)
            assert max_flip == pytest.approx(np.abs(full).sum(axis=1).max(), rel=1e-12)
            assert min_coefficient == pytest.approx(
                magnitudes[magnitudes > schedules.COEFFICIENT_REL_TOL * magnitudes.max()].min(), rel=1e-12)


@pytest.mark.parametrize("suffix", [".coo", ".json", ".npz"])
def test_export_round_trips_energies(small_problem_data, tmp_path, suffix):
    import json

    X, y, W = small_problem_data
    problem = next(problems(X, y, W, 3))
    path = qubo.export_qubo(problem, tmp_path / f"q{suffix}", metadata={"class": 0})
    b = np.random.default_rng(0).integers(0, 2, size=(10, problem.num_variables))
    expected = problem.energies(b)
    if suffix == ".npz":
        with np.load(path) as data:
            got = np.einsum("si,ij,sj->s", b, data["Q"], b) + float(data["offset"])
    elif suffix == ".json":
        bqm = dimod.BinaryQuadraticModel.from_serializable(json.loads(path.read_text())["bqm"])
        got = bqm.energies((b, range(problem.num_variables)))
    else:
        text = path.read_text()
        offset = float(text.splitlines()[1].split()[-1])
        bqm = dimod.serialization.coo.loads(text, vartype="BINARY")
        got = bqm.energies((b, range(problem.num_variables))) + offset
    np.testing.assert_allclose(got, expected, atol=1e-9)
    with pytest.raises(ValueError, match="unknown QUBO file type"):
        qubo.export_qubo(problem, tmp_path / "q.txt")
