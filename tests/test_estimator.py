from dataclasses import fields

import dimod
import numpy as np
import pytest
from dwave.samplers import SimulatedAnnealingSampler
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from qubocnn import FrozenCNNFeatures, QuboHeadClassifier
from qubocnn.cli import main
from qubocnn.data import load_dataset
from qubocnn.results import read_result
from qubocnn.solvers import SolverConfig
from qubocnn.train import TrainConfig

# small enough that scikit-learn's ~50 checks run in seconds
FAST_HEAD = QuboHeadClassifier(solver="round", bits=6, iterations=5)


@parametrize_with_checks([FAST_HEAD])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_parameters_are_train_and_solver_config_fields_with_their_defaults():
    params = QuboHeadClassifier().get_params()
    for field in fields(TrainConfig):
        if field.name != "solver":
            assert params[field.name] == getattr(TrainConfig(), field.name), field.name
    solver = SolverConfig()
    for field in fields(SolverConfig):  # the noise model and the blocks included
        if field.name not in ("name", "options"):
            assert params[field.name] == getattr(solver, field.name), field.name
    assert params["solver"] == solver.name


def test_noise_model_and_blocks_train_as_on_the_command_line(tmp_path):
    """The estimator runs the command line's code: same noise, same blocks, same QPU budget."""
    out = tmp_path / "run.json"
    assert main(["train", "--dataset", "digits", "--bits", "4", "--mode", "box", "--iterations", "2", "--solver", "sa",
                 "--reads", "2", "--sweeps", "20", "--qpu-noise", "--block-size", "40", "--no-progress",
                 "--out", str(out)]) == 0
    result = read_result(out)
    digits = load_dataset("digits")
    pipeline = Pipeline([("cnn", FrozenCNNFeatures()), ("head", QuboHeadClassifier(
        bits=4, mode="box", iterations=2, solver="sa", num_reads=2, num_sweeps=20, qpu_noise=True, block_size=40))])
    pipeline.fit(digits.x_train, digits.y_train)
    head = pipeline.named_steps["head"]
    assert [r["train_loss"] for r in head.history_] == [r["train_loss"] for r in result["history"]]
    assert head.qpu_records_["qpu_budget"] == result["qpu_budget"]
    assert head.qpu_records_["blocks"] == result["blocks"]


def test_pipeline_on_images_matches_the_command_line_exactly(tmp_path):
    settings = dict(bits=6, iterations=2, seed=0, num_reads=2, num_sweeps=50)
    out = tmp_path / "run.json"
    assert main(["train", "--dataset", "digits", "--bits", "6", "--iterations", "2", "--seed", "0", "--reads", "2",
                 "--sweeps", "50", "--no-progress", "--out", str(out)]) == 0
    result = read_result(out)
    digits = load_dataset("digits")
    pipeline = Pipeline([("cnn", FrozenCNNFeatures(preset="default", seed=0)),
                         ("head", QuboHeadClassifier(**settings))]).fit(digits.x_train, digits.y_train)
    assert pipeline.score(digits.x_test, digits.y_test) == result["test_accuracy"]
    head = pipeline.named_steps["head"]
    assert [r["train_loss"] for r in head.history_] == [r["train_loss"] for r in result["history"]]
    assert head.W_.shape == (result["num_features"] + 1, result["num_classes"])


def small_blobs(classes=3):
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=3.0, size=(classes, 4))
    labels = np.repeat(np.arange(classes), 20)
    return centres[labels] + rng.normal(size=(len(labels), 4)), labels


def test_a_users_sampler_gets_every_sample_kwarg_in_every_call():
    X, y = small_blobs()
    tracked = dimod.TrackingComposite(SimulatedAnnealingSampler())
    head = QuboHeadClassifier(solver=tracked, sample_kwargs=dict(num_reads=10, num_sweeps=20), bits=3, iterations=2,
                              refinements=1).fit(X, y)
    assert len(tracked.inputs) == 3 * 2 * 2  # classes x iterations x (1 + refinements)
    assert all(call["num_reads"] == 10 and call["num_sweeps"] == 20 for call in tracked.inputs)
    assert all(len(sampleset) == 10 for sampleset in tracked.outputs)
    assert head.score(X, y) > 0.9


def test_labels_of_any_kind_come_back_as_given():
    X, y = small_blobs()
    names = np.array(["cat", "dog", "eel"])[y]
    head = clone(FAST_HEAD).fit(X, names)
    assert list(head.classes_) == ["cat", "dog", "eel"]
    assert np.mean(head.predict(X) == names) > 0.9
    np.testing.assert_allclose(head.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.parametrize("head,message", [
    (QuboHeadClassifier(solver="sa", sample_kwargs={"bogus": 1}), "unknown option.*bogus.*for solver sa"),
    (QuboHeadClassifier(solver=SimulatedAnnealingSampler(), sample_kwargs={"bogus": 1}), "unknown option.*bogus"),
    (QuboHeadClassifier(solver="annealing"), "unknown solver 'annealing'"),
    (QuboHeadClassifier(bits=40), "1..32"),
])
def test_bad_settings_are_refused_before_any_work(head, message):
    X, y = small_blobs()
    with pytest.raises(ValueError, match=message):
        head.fit(X, y)
    assert not hasattr(head, "classes_")


def test_frozen_cnn_features_refuse_what_they_cannot_take():
    with pytest.raises(ValueError, match=r"images of shape \(N, C, H, W\)"):
        FrozenCNNFeatures().fit(np.zeros((5, 64)))
    with pytest.raises(ValueError, match="no pooled size for 9 px"):
        FrozenCNNFeatures().fit(np.zeros((5, 1, 9, 9)))
    features = FrozenCNNFeatures().fit(np.zeros((5, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"fitted on images of shape \(1, 8, 8\)"):
        features.transform(np.zeros((5, 1, 28, 28)))
