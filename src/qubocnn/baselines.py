"""Reference heads on the same frozen features, with the same loss and lambda where it applies.

- `sgd`: the same linear head trained on cross-entropy + lam/2 ||W||^2 with torch's SGD (the paper's
  baseline); seeded, deterministic on the CPU.
- `logreg`: multinomial logistic regression (scikit-learn, lbfgs) on X = [Phi, 1] without a separate
  intercept, C = 1/(N lam): exactly the minimiser of L, the continuous optimum the QUBO loop chases.
- `ridge`: closed-form ridge regression on one-hot targets (the classic ELM head), alpha = N lam.
Each returns W of shape (d+1, C) in the layout of `surrogate` (bias last) and a loss history.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression, Ridge

from . import surrogate

METHODS = ("sgd", "logreg", "ridge")


def sgd_head(X, labels, num_classes, lam, *, lr=0.1, momentum=0.9, epochs=20, batch_size=128, seed=0,
             progress=False) -> tuple[np.ndarray, list[float]]:
    """Minibatch SGD on the mean cross-entropy; weight decay lam on W and bias alike (as in L)."""
    from tqdm.auto import tqdm

    generator = torch.Generator().manual_seed(seed)
    Xt = torch.from_numpy(X.astype(np.float32))
    yt = torch.from_numpy(labels.astype(np.int64))
    W = torch.zeros(X.shape[1], num_classes, requires_grad=True)
    optimiser = torch.optim.SGD([W], lr=lr, momentum=momentum, weight_decay=lam)
    losses = []
    for _ in tqdm(range(epochs), desc="sgd", disable=not progress):
        order = torch.randperm(len(Xt), generator=generator)
        for start in range(0, len(Xt), batch_size):
            batch = order[start:start + batch_size]
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(Xt[batch] @ W, yt[batch]).backward()
            optimiser.step()
        losses.append(surrogate.cross_entropy(X, labels, W.detach().numpy().astype(np.float64), lam))
    return W.detach().numpy().astype(np.float64), losses


def logreg_head(X, labels, num_classes, lam, *, max_iter=2000, tol=1e-8) -> tuple[np.ndarray, list[float]]:
    model = LogisticRegression(C=1.0 / (len(X) * lam), fit_intercept=False, max_iter=max_iter, tol=tol)
    model.fit(X, labels)
    W = np.zeros((X.shape[1], num_classes))
    W[:, model.classes_] = model.coef_.T
    return W, [surrogate.cross_entropy(X, labels, W, lam)]


def ridge_head(X, labels, num_classes, lam) -> tuple[np.ndarray, list[float]]:
    model = Ridge(alpha=len(X) * lam, fit_intercept=False, solver="cholesky")
    model.fit(X, surrogate.one_hot(labels, num_classes))
    W = model.coef_.T.copy()
    return W, [surrogate.cross_entropy(X, labels, W, lam)]


def fit_baseline(method, x_train, y_train, x_test, y_test, num_classes, lam, seed=0, progress=True,
                 **sgd_options) -> dict:
    if method not in METHODS:
        raise ValueError(f"unknown baseline {method!r}: choose one of {', '.join(METHODS)}")
    surrogate.check_features(x_train, x_test)
    X, X_test = surrogate.add_bias(x_train), surrogate.add_bias(x_test)
    started = time.perf_counter()
    if method == "sgd":
        torch.manual_seed(seed)
        W, losses = sgd_head(X, y_train, num_classes, lam, seed=seed, progress=progress, **sgd_options)
    elif method == "logreg":
        W, losses = logreg_head(X, y_train, num_classes, lam)
    else:
        W, losses = ridge_head(X, y_train, num_classes, lam)
    seconds = time.perf_counter() - started
    history = [{"iteration": i + 1, "train_loss": loss} for i, loss in enumerate(losses)]
    return {"W": W, "history": history, "timings": {"total": seconds},
            "train_loss": surrogate.cross_entropy(X, y_train, W, lam),
            "train_accuracy": surrogate.accuracy(X, y_train, W),
            "test_accuracy": surrogate.accuracy(X_test, y_test, W)}
