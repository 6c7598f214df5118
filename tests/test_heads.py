import json

import numpy as np
import pytest

from qubocnn.cli import main
from qubocnn.features import FeatureSet
from qubocnn.heads import Head
from qubocnn.results import read_result

FAST = ["--bits", "5", "--solver", "wsa", "--reads", "2", "--sweeps", "30", "--iterations", "2", "--no-progress"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A feature file of digits, and a QUBO run trained on it."""
    directory = tmp_path_factory.mktemp("run")
    features, out = directory / "digits.npz", directory / "run.json"
    assert main(["features", "--dataset", "digits", "--seed", "3", "--no-progress", "--out", str(features)]) == 0
    assert main(["train", "--features", str(features), *FAST, "--out", str(out)]) == 0
    return features, out


def predict(tmp_path, head, *source):
    out = tmp_path / "predictions.json"
    assert main(["predict", "--head", str(head), *source, "--no-progress", "--out", str(out)]) == 0
    return json.loads(out.read_text())


def test_a_saved_head_reproduces_its_test_accuracy_from_features_and_from_images(tmp_path, trained_run):
    features, out = trained_run
    result = read_result(out)
    head = out.parent / result["head"]
    assert head.name == "run.head.npz"
    from_features = predict(tmp_path, head, "--features", str(features))
    assert from_features["test_accuracy"] == result["test_accuracy"]
    # new images get the head's own frozen CNN (preset, seed 3) and training statistics
    from_images = predict(tmp_path, head, "--dataset", "digits")
    assert from_images["test_accuracy"] == result["test_accuracy"]
    assert from_images["predictions"] == from_features["predictions"]
    assert len(from_images["predictions"]) == result["num_test"]


def test_a_head_refuses_other_features(tmp_path, capsys, trained_run):
    features, out = trained_run
    other = FeatureSet.load(features)
    other.seed = 4
    other.save(tmp_path / "other.npz")
    assert main(["predict", "--head", str(out.parent / "run.head.npz"), "--features", str(tmp_path / "other.npz"),
                 "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "the head was trained on digits features (preset default, seed 3" in err and len(err.splitlines()) == 1


def test_head_file_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    head = Head(rng.normal(size=(3, 2)), np.array([True, False, True]), rng.normal(size=2), rng.random(2) + 1,
                "digits", "clique", 5)
    loaded = Head.load(head.save(tmp_path / "h.head.npz"))
    for name in ("W", "kept", "mean", "scale"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(head, name))
    assert (loaded.dataset, loaded.preset, loaded.feature_seed) == ("digits", "clique", 5)
    (tmp_path / "bad.npz").write_text("not a head")
    with pytest.raises(ValueError, match="not a qubocnn head file"):
        Head.load(tmp_path / "bad.npz")
