"""Cross-entropy of a linear head and its Boehning quadratic majoriser.

Notation (docs/method.md): X = [Phi, 1] is N x (d+1), W is (d+1) x C,
L(W) = mean_i CE(softmax(x_i^T W), y_i) + lam/2 ||W||^2.
Boehning: the Hessian of the mean cross-entropy is bounded by (1/2) I_C (x) X^T X / N, so with
H = X^T X / (2N) + lam I the quadratic U(W) = L(W_t) + <G, W - W_t> + 1/2 sum_c e_c^T H e_c
(e_c = w_c - w_c,t) majorises L and touches it at W_t. U splits into one quadratic per class,
all sharing H.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.special import log_softmax

DEFAULT_LAM = 1e-3  # the L2 weight lambda of training and of the representative QUBOs


def check_features(*arrays: np.ndarray) -> None:
    """Refuse NaN or inf features: they would silently poison every QUBO."""
    bad = sum(int(np.count_nonzero(~np.isfinite(a))) for a in arrays)
    if bad:
        raise ValueError(f"features contain NaN or inf values ({bad} of them): "
                         "check the input images and the feature extraction")


def check_lam(lam: float) -> float:
    """lam must be a positive number: H = A/2 + lam I is then positive definite (NaN is refused too)."""
    if not lam > 0 or not np.isfinite(lam):
        raise ValueError(f"lam must be a positive finite number (the curvature must be positive definite), got {lam}")
    return lam


def add_bias(features: np.ndarray) -> np.ndarray:
    """X = [Phi, 1]: the bias is the last row of W."""
    return np.hstack([features, np.ones((features.shape[0], 1), dtype=features.dtype)])


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    return np.eye(num_classes)[labels]


def accuracy(X: np.ndarray, labels: np.ndarray, W: np.ndarray) -> float:
    return float(np.mean(np.argmax(X @ W, axis=1) == labels))


def cross_entropy(X: np.ndarray, labels: np.ndarray, W: np.ndarray, lam: float) -> float:
    """L(W): mean cross-entropy plus lam/2 ||W||^2."""
    logp = log_softmax(X @ W, axis=1)
    mean_ce = -logp[np.arange(len(labels)), labels].mean()
    return float(mean_ce + 0.5 * lam * np.sum(W * W))


def gradient(X: np.ndarray, labels: np.ndarray, W: np.ndarray, lam: float) -> np.ndarray:
    """G = X^T (softmax(XW) - Y) / N + lam W."""
    P = np.exp(log_softmax(X @ W, axis=1))
    P[np.arange(len(labels)), labels] -= 1.0
    return X.T @ P / X.shape[0] + lam * W


def boehning_curvature(X: np.ndarray, lam: float) -> np.ndarray:
    """H = X^T X / (2N) + lam I: the iteration-stable curvature shared by every class."""
    H = X.T @ X / (2.0 * X.shape[0])
    H[np.diag_indices_from(H)] += lam
    return H


def class_surrogate(e: np.ndarray, g: np.ndarray, H: np.ndarray) -> np.ndarray:
    """U_c - L(W_t) for steps e = w_c - w_c,t: g^T e + 1/2 e^T H e. e may be (d+1,) or (m, d+1)."""
    e = np.asarray(e, dtype=float)
    return e @ g + 0.5 * np.einsum("...i,ij,...j->...", e, H, e)


def curvature_factor(H: np.ndarray):
    """Cholesky factor of H, computed once per run: H does not change between iterations."""
    return scipy.linalg.cho_factor(H)


def continuous_step(G: np.ndarray, factor) -> np.ndarray:
    """-H^{-1} G: the step to the continuous minimiser of every U_c at once."""
    return -scipy.linalg.cho_solve(factor, G)
