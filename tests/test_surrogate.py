import numpy as np
import pytest
import scipy.optimize

from qubocnn import surrogate

LAM = 1e-2


def test_gradient_matches_finite_differences(small_problem_data):
    X, y, W = small_problem_data
    G = surrogate.gradient(X, y, W, LAM)
    numeric = scipy.optimize.approx_fprime(W.ravel(), lambda w: surrogate.cross_entropy(X, y, w.reshape(W.shape), LAM), 1e-7)
    np.testing.assert_allclose(G.ravel(), numeric, atol=1e-6)


def head_surrogate(W, W_t, L_t, G, H):
    """U(W) of the whole head in its Kronecker form: L_t + vec(G)^T vec(E) + 1/2 vec(E)^T (I_C (x) H) vec(E)."""
    e = (W - W_t).T.ravel()  # column-major: class by class
    return L_t + G.T.ravel() @ e + 0.5 * e @ np.kron(np.eye(W.shape[1]), H) @ e


def class_sum(W, W_t, L_t, G, H):
    return L_t + sum(surrogate.class_surrogate(W[:, c] - W_t[:, c], G[:, c], H) for c in range(W.shape[1]))


def test_surrogate_majorises_loss_and_touches_it(small_problem_data):
    X, y, W_t = small_problem_data
    H = surrogate.boehning_curvature(X, LAM)
    G = surrogate.gradient(X, y, W_t, LAM)
    L_t = surrogate.cross_entropy(X, y, W_t, LAM)
    assert class_sum(W_t, W_t, L_t, G, H) == pytest.approx(L_t, abs=1e-14)
    rng = np.random.default_rng(1)
    for scale in (1e-3, 0.1, 1.0, 10.0):
        for _ in range(50):
            W = W_t + rng.normal(scale=scale, size=W_t.shape)
            assert class_sum(W, W_t, L_t, G, H) >= surrogate.cross_entropy(X, y, W, LAM) - 1e-12


def test_surrogate_splits_into_class_quadratics(small_problem_data):
    X, y, W_t = small_problem_data
    H = surrogate.boehning_curvature(X, LAM)
    G = surrogate.gradient(X, y, W_t, LAM)
    W = W_t + np.random.default_rng(2).normal(size=W_t.shape)
    assert class_sum(W, W_t, 0.0, G, H) == pytest.approx(head_surrogate(W, W_t, 0.0, G, H), rel=1e-12)


def test_continuous_step_minimises_each_class_quadratic(small_problem_data):
    X, y, W_t = small_problem_data
    H = surrogate.boehning_curvature(X, LAM)
    G = surrogate.gradient(X, y, W_t, LAM)
    step = surrogate.continuous_step(G, surrogate.curvature_factor(H))
    np.testing.assert_allclose(H @ step + G, 0, atol=1e-12)
    rng = np.random.default_rng(3)
    for c in range(G.shape[1]):
        best = surrogate.class_surrogate(step[:, c], G[:, c], H)
        others = surrogate.class_surrogate(step[:, c] + rng.normal(scale=0.1, size=(20, len(H))), G[:, c], H)
        assert np.all(others > best)


def test_nan_features_refused():
    with pytest.raises(ValueError, match="NaN or inf"):
        surrogate.check_features(np.array([[0.0, np.nan]]))
