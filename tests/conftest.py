import numpy as np
import pytest

from qubocnn import surrogate


@pytest.fixture
def small_problem_data():
    """Random standardised features, labels and a head: enough structure for every identity."""
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(80, 4))
    X = surrogate.add_bias((phi - phi.mean(0)) / phi.std(0))
    labels = rng.integers(0, 3, size=80)
    W = rng.normal(scale=0.3, size=(5, 3))
    return X, labels, W


@pytest.fixture(scope="session")
def digits_features():
    from qubocnn.data import load_dataset
    from qubocnn.features import make_feature_set

    return make_feature_set(load_dataset("digits"), "default", seed=0, progress=False)
