import json
import time

import dimod
import numpy as np
import pytest

from qubocnn.cli import main
from qubocnn.data import load_dataset
from qubocnn.features import make_feature_set
from qubocnn.qubo import to_bqm
from qubocnn.solver_factory import make_solver
from qubocnn.solvers import SolverConfig, answer_from_samples
from qubocnn.train import QuboTraining, TrainConfig, qubos_of_iteration, train_qubo_head

WALL_CLOCK = ("solve_seconds",)


def tiny_data():
    """3 classes, 3 features: 12-variable QUBOs at K = 3, small enough for dimod.ExactSolver."""
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), 15)
    x = rng.normal(scale=2.0, size=(3, 3))[labels] + rng.normal(size=(45, 3))
    return (x - x.mean(0)) / x.std(0), labels


def without_wall_clock(history):
    return [{k: v for k, v in record.items() if k not in WALL_CLOCK} for record in history]


def test_answers_from_outside_train_exactly_as_the_package_does():
    x, y = tiny_data()
    config = TrainConfig(bits=3, iterations=3, refinements=1, warm_start=True)
    exact = dimod.ExactSolver()
    training = QuboTraining(x, y, 3, config)
    rounds = []
    for qubos in training:
        samplesets = [exact.sample(bqm) for bqm in qubos.bqms()]
        answers = qubos.answer(samplesets)
        # the package reads every outside answer at the energy the outside solver reported
        assert [a.energy for a in answers] == pytest.approx([s.first.energy for s in samplesets], abs=1e-12)
        rounds.append((qubos.iteration, qubos.round))
    assert rounds == [(t, r) for t in (1, 2, 3) for r in (0, 1)]
    inside = train_qubo_head(x, y, None, None, 3, config, sampler=exact, progress=False)
    np.testing.assert_array_equal(training.result["W"], inside["W"])
    assert without_wall_clock(training.result["history"]) == without_wall_clock(inside["history"])
    assert all(all(record["accepted"]) for record in inside["history"][1:])


def test_a_round_must_be_answered_with_binary_samples_before_the_next():
    x, y = tiny_data()
    rounds = iter(QuboTraining(x, y, 3, TrainConfig(bits=3, iterations=2)))
    qubos = next(rounds)
    with pytest.raises(ValueError, match="one answer per class: 3 expected, got 2"):
        qubos.answer([np.zeros(12), np.zeros(12)])
    with pytest.raises(ValueError, match=r"binary \(0/1\) samples of shape \(12,\).*change_vartype"):
        qubos.answer([np.full(12, -1)] * 3)
    with pytest.raises(ValueError, match="round 0 of iteration 1 was not answered"):
        next(rounds)


def one_pixel_images(path):
    """8 x 8 images inked at one corner pixel, two classes by its intensity: the frozen CNN gives at
    most 4 non-constant features, so a class QUBO at K = 3 has at most 15 variables (ExactSolver)."""
    rng = np.random.default_rng(0)
    images = np.zeros((80, 8, 8), np.float32)
    images[:, 0, 0] = rng.random(80)
    labels = (images[:, 0, 0] > 0.5).astype(np.int64)
    np.savez(path, x_train=images[:60], y_train=labels[:60], x_test=images[60:], y_test=labels[60:])
    return path


def test_an_exported_iteration_qubo_solved_outside_is_the_packages_problem(tmp_path):
    data, run, exported = one_pixel_images(tmp_path / "tiny.npz"), tmp_path / "run.json", tmp_path / "q.json"
    options = ["--bits", "3", "--solver", "wsa", "--reads", "2", "--sweeps", "30", "--iterations", "3"]
    assert main(["train", "--dataset", str(data), *options, "--no-progress", "--out", str(run)]) == 0
    assert main(["export-qubo", "--run", str(run), "--iteration", "3", "--class", "1", "--no-progress",
                 "--out", str(exported)]) == 0
    saved = json.loads(exported.read_text())
    assert saved["metadata"]["iteration"] == 3 and saved["metadata"]["mode"] == "trust"
    bqm = dimod.BinaryQuadraticModel.from_serializable(saved["bqm"])

    f = make_feature_set(load_dataset(str(data)), "default", seed=0, progress=False)
    config = TrainConfig(bits=3, iterations=3, solver=SolverConfig("wsa", 2, 30))
    problem = qubos_of_iteration(f.x_train, f.y_train, f.num_classes, config, 3).problems[1]
    assert bqm == to_bqm(problem)
    assert np.any(problem.anchor != 0)  # a later iteration: the grid has moved off W = 0

    sampleset = dimod.ExactSolver().sample(bqm)
    answer = answer_from_samples(problem, sampleset, time.perf_counter())
    assert answer.energy == pytest.approx(sampleset.first.energy, abs=1e-12)
    assert answer.energy == make_solver(SolverConfig("exact")).solve(problem, 0).energy
    assert answer.energy <= 0  # accepted: it does not raise the class's surrogate


def test_export_refuses_what_it_cannot_replay(tmp_path, capsys):
    run = tmp_path / "run.json"
    assert main(["train", "--dataset", "digits", "--mode", "continuous", "--iterations", "1", "--no-progress",
                 "--out", str(run)]) == 0
    for argv, message in [(["--run", str(run)], "not a QUBO run in box or trust mode"),
                          (["--dataset", "digits", "--iteration", "2"], "--iteration needs --run")]:
        assert main(["export-qubo", *argv, "--out", str(tmp_path / "q.json")]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1
