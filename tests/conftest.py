import socket

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


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    """No token anywhere: empty env, an empty explicit config file, HOME/XDG in a tmp dir; and any
    attempt to open a network connection fails the test."""
    for var in ("DWAVE_API_TOKEN", "DWAVE_PROFILE", "DWAVE_API_SOLVER"):
        monkeypatch.delenv(var, raising=False)
    empty = tmp_path / "dwave.conf"
    empty.write_text("")
    monkeypatch.setenv("DWAVE_CONFIG_FILE", str(empty))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path))

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return tmp_path
