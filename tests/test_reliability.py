"""Nothing lost, nothing silently wrong (issue 20): outputs never overwrite inputs and are written
atomically, a head with its result as one unit; bad data, bad result files and bad settings are
refused before work with one line (exit 2), an interrupt with one line (exit 130)."""

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from qubocnn import results
from qubocnn.cli import main
from qubocnn.data import DataError, load_dataset
from qubocnn.features import FeatureSet
from qubocnn.heads import Head
from qubocnn.report import load_results
from qubocnn.results import read_result
from qubocnn.runspec import SourceSpec
from qubocnn.solver_factory import make_solver
from qubocnn.solvers import SolverConfig
from qubocnn.train import TrainConfig, train_qubo_head

FAST = ["--bits", "5", "--reads", "2", "--sweeps", "20", "--iterations", "2", "--no-progress"]


def one_line_error(capsys, argv, code=2) -> str:
    """Run the command line; it must fail with exit `code` and exactly one line, no traceback."""
    try:
        assert main(argv) == code
    except KeyboardInterrupt:
        pytest.fail("the interrupt escaped main()")
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def feature_set(num_train=60, num_test=30, num_classes=3, d=4, seed=0) -> FeatureSet:
    rng = np.random.default_rng(seed)
    return FeatureSet(rng.normal(size=(num_train, d)), np.arange(num_train) % num_classes,
                      rng.normal(size=(num_test, d)), np.arange(num_test) % num_classes, num_classes,
                      "synthetic", "synthetic", "default", 0, np.ones(d, dtype=bool))


def image_npz(path: Path, train_shape=(60, 8, 8), test_shape=(30, 8, 8), classes=3, test_labels=None) -> Path:
    rng = np.random.default_rng(1)
    np.savez(path, x_train=rng.integers(0, 256, train_shape, dtype=np.uint8),
             y_train=np.arange(train_shape[0]) % classes,
             x_test=rng.integers(0, 256, test_shape, dtype=np.uint8),
             y_test=np.arange(test_shape[0]) % classes if test_labels is None else test_labels)
    return path


@pytest.fixture
def features_file(tmp_path) -> Path:
    return feature_set().save(tmp_path / "features.npz")


@pytest.fixture
def trained(tmp_path, features_file) -> Path:
    out = tmp_path / "run.json"
    assert main(["train", "--features", str(features_file), *FAST, "--out", str(out)]) == 0
    return out


def snapshot(directory: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# 1. an output that resolves to an input is refused before work, the input byte-identical

@pytest.mark.parametrize("command", ["train-features", "train-dataset", "features-dataset", "predict-head",
                                     "train-head-file", "symlink"])
def test_output_over_an_input_is_refused_and_the_input_kept(tmp_path, capsys, features_file, command):
    dataset = image_npz(tmp_path / "images.npz")
    head = Head(np.zeros((5, 3)), np.ones(4, dtype=bool), None, None, "synthetic", "default", 0)
    head_file = head.save(tmp_path / "h.head.npz")
    (tmp_path / "link.json").symlink_to(features_file)
    argv = {"train-features": ["train", "--features", str(features_file), *FAST, "--out", str(features_file)],
            "train-dataset": ["train", "--dataset", str(dataset), *FAST, "--out", str(dataset)],
            "features-dataset": ["features", "--dataset", str(dataset), "--out", str(dataset)],
            "predict-head": ["predict", "--head", str(head_file), "--features", str(features_file),
                             "--out", str(head_file)],
            # train writes RUN.head.npz too: features.head.npz would be overwritten by features.json's head
            "train-head-file": ["train", "--features", str(tmp_path / "f.head.npz"), *FAST,
                                "--out", str(tmp_path / "f.json")],
            "symlink": ["train", "--features", str(features_file), *FAST, "--out", str(tmp_path / "link.json")]}
    if command == "train-head-file":
        feature_set().save(tmp_path / "f.head.npz")
    before = snapshot(tmp_path)
    err = one_line_error(capsys, argv[command])
    assert "is the input" in err
    assert snapshot(tmp_path) == before


# 2. the head and its result are one unit; nothing is left behind on a failure

def test_a_failed_result_write_leaves_the_earlier_head_and_result(tmp_path, capsys, monkeypatch, features_file,
                                                                  trained):
    before = snapshot(tmp_path)
    # a value JSON cannot hold, found only when the result is written: the head must not change either
    monkeypatch.setattr(results, "versions", lambda: {"numpy": float("nan")})
    err = one_line_error(capsys, ["train", "--features", str(features_file), *FAST, "--seed", "1",
                                  "--out", str(trained)])
    assert "versions.numpy is nan" in err and str(trained) in err
    assert snapshot(tmp_path) == before  # same bytes, no temporary file


def test_write_result_with_its_head_renames_the_result_last(tmp_path, monkeypatch):
    order = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (order.append(Path(b).name), replace(a, b)))
    results.write_result({"a": 1}, tmp_path / "r.json", also={tmp_path / "r.head.npz": lambda s: s.write(b"x")})
    assert order == ["r.head.npz", "r.json"] and sorted(snapshot(tmp_path)) == ["r.head.npz", "r.json"]


@pytest.mark.parametrize("target, message", [("directory", "is a directory"), ("under a file", "is not a directory"),
                                             ("pipe", "is not a regular file")])
def test_unwritable_out_is_refused_before_work(tmp_path, capsys, features_file, target, message):
    out = {"directory": tmp_path / "existing", "under a file": features_file / "run.json",
           "pipe": tmp_path / "pipe.json"}[target]
    if target == "directory":
        out.mkdir()
    if target == "pipe":
        os.mkfifo(out)
    err = one_line_error(capsys, ["train", "--features", str(features_file), *FAST, "--out", str(out)])
    assert message in err


# 3. a killed `features --out` leaves the earlier file

KILLED_SAVE = """
import os, signal, sys
import numpy as np
from qubocnn.features import FeatureSet
features = FeatureSet.load(sys.argv[1])
def half_then_killed(stream, **arrays):
    stream.write(b"PK broken")
    stream.flush()
    os.kill(os.getpid(), signal.SIGKILL)
np.savez_compressed = half_then_killed
features.save(sys.argv[1])
"""


def test_a_killed_feature_save_leaves_the_earlier_file(tmp_path, features_file):
    before = features_file.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(features_file)], env=env, timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert features_file.read_bytes() == before


def test_a_failed_save_leaves_no_temporary_file(tmp_path, monkeypatch, features_file):
    before = snapshot(tmp_path)

    def fails(stream, **arrays):
        stream.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", fails)
    with pytest.raises(OSError, match="disk full"):
        feature_set(seed=1).save(features_file)
    assert snapshot(tmp_path) == before


# 5. bad data is refused; channels-first images load

@pytest.mark.parametrize("case, message", [
    ("sizes", "must share one shape"), ("one class", "at least 2 classes"), ("empty test", "test split is empty"),
    ("one row", "1 training example"), ("layout", "channels-first (N, C, H, W)")])
def test_bad_splits_are_refused(tmp_path, capsys, case, message):
    shapes = {"sizes": dict(test_shape=(30, 6, 6)), "one class": dict(classes=1),
              "empty test": dict(test_shape=(0, 8, 8)), "one row": dict(train_shape=(1, 8, 8)),
              "layout": dict(train_shape=(60, 3, 7, 8), test_shape=(30, 3, 7, 8))}[case]
    path = image_npz(tmp_path / "bad.npz", **shapes)
    err = one_line_error(capsys, ["features", "--dataset", str(path), "--no-progress",
                                  "--out", str(tmp_path / "f.npz")])
    assert message in err and not (tmp_path / "f.npz").exists()


def test_bad_feature_files_are_refused(tmp_path, capsys):
    for name, features in [("one-class", feature_set(num_classes=1)), ("no-test", feature_set(num_test=0)),
                           ("one-row", feature_set(num_train=1))]:
        path = features.save(tmp_path / f"{name}.npz")
        err = one_line_error(capsys, ["train", "--features", str(path), *FAST, "--out", str(tmp_path / "r.json")])
        assert str(path) in err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("channels", [1, 3])
def test_channels_first_and_channels_last_images_load_alike(tmp_path, channels):
    rng = np.random.default_rng(2)
    last = rng.integers(0, 256, (20, 8, 8, channels), dtype=np.uint8)
    labels = np.arange(20) % 2
    np.savez(tmp_path / "last.npz", x_train=last, y_train=labels, x_test=last, y_test=labels)
    first = last.transpose(0, 3, 1, 2)
    np.savez(tmp_path / "first.npz", x_train=first, y_train=labels, x_test=first, y_test=labels)
    a, b = load_dataset(str(tmp_path / "last.npz")), load_dataset(str(tmp_path / "first.npz"))
    assert a.image_shape == b.image_shape == (channels, 8, 8)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    if channels == 1:  # without a channel axis
        np.savez(tmp_path / "plain.npz", x_train=last[..., 0], y_train=labels, x_test=last[..., 0], y_test=labels)
        np.testing.assert_array_equal(load_dataset(str(tmp_path / "plain.npz")).x_train, a.x_train)


# 6. report: one schema check, no run counted twice, every skipped file named

def result_record(**changes) -> dict:
    record = {"schema": results.SCHEMA, "kind": "baseline", "method": "ridge", "dataset": "digits",
              "preset": "default", "seed": 0, "test_accuracy": 0.9, "train_accuracy": 0.95, "train_loss": 0.2,
              "history": [], "config": {}, "versions": {}, "timings": {"total": 1.0}}
    return {**record, **changes}


def test_report_refuses_a_run_given_twice(tmp_path, capsys):
    run = results.write_result(result_record(), tmp_path / "runs" / "ridge.json")
    err = one_line_error(capsys, ["report", "collect", "--results", str(run), str(run), "--out",
                                  str(tmp_path / "runs.csv")])
    assert "same run" in err
    (tmp_path / "runs" / "copy").mkdir()
    results.write_result(result_record(), tmp_path / "runs" / "copy" / "ridge.json")
    with pytest.raises(ValueError, match="same run"):
        load_results(tmp_path / "runs")
    results.write_result(result_record(seed=1), tmp_path / "runs" / "copy" / "ridge.json")
    assert len(load_results(tmp_path / "runs")) == 2  # another seed is another run


def test_report_warns_about_every_file_it_skips(tmp_path, caplog):
    results.write_result(result_record(), tmp_path / "ridge.json")
    (tmp_path / "corrupt.json").write_text('{"schema": "qubocnn.result/1", ')
    results.write_result({"schema": "qubocnn.hardware/1", "rows": []}, tmp_path / "hardware.json")
    with caplog.at_level("WARNING", logger="qubocnn.report"):
        assert len(load_results(tmp_path)) == 1
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert "corrupt.json is not valid JSON" in warned and "hardware.json is a qubocnn.hardware/1" in warned


@pytest.mark.parametrize("record, message", [
    ([1, 2], "holds a list"), (result_record(test_accuracy=None), "test_accuracy must be a number"),
    (result_record(num_classes="10"), "num_classes must be an integer"),
    (result_record(history=None), "history must be a list"), (result_record(config=None), "config must be a"),
    (result_record(dataset=None), "dataset must be a string")])
def test_malformed_results_are_named_with_their_path(tmp_path, capsys, record, message):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(record))
    for argv in (["report", "collect", "--results", str(path), "--out", str(tmp_path / "r.csv")],
                 ["export-qubo", "--run", str(path), "--out", str(tmp_path / "q.coo")]):
        err = one_line_error(capsys, argv)
        assert str(path) in err and message in err


def test_json_errors_name_the_file(tmp_path, capsys):
    path = tmp_path / "run.json"
    path.write_text("{not json")
    err = one_line_error(capsys, ["export-qubo", "--run", str(path), "--out", str(tmp_path / "q.coo")])
    assert f"{path} is not valid JSON" in err


# 7. a dense solver is refused before it builds a matrix that does not fit

def test_dense_solver_memory_is_estimated_before_work(monkeypatch):
    monkeypatch.setenv("QUBOCNN_MEMORY_LIMIT", "1G")
    with pytest.raises(ValueError, match=r"dense 8224 x 8224 .* GiB .*wsa.*--block-size"):
        make_solver(SolverConfig("sa")).check_memory(8224, 1)
    make_solver(SolverConfig("wsa")).check_memory(8224, 32)  # no n x n matrix: any size
    make_solver(SolverConfig("sa", block_size=180)).check_memory(8224, 1)  # blocks: small matrices
    features = feature_set(d=60)
    monkeypatch.setenv("QUBOCNN_MEMORY_LIMIT", "20M")  # one 305-variable matrix fits, 3 at once do not
    config = TrainConfig(bits=5, mode="box", iterations=1, jobs=3, solver=SolverConfig("sa", 1, 1))
    with pytest.raises(ValueError, match="for 3 at once"):
        train_qubo_head(features.x_train, features.y_train, None, None, 3, config, progress=False)


# 9. no traceback: empty files, bad epochs, a QPU that cannot be reached, YAML syntax, an interrupt

def test_an_empty_npz_is_one_line(tmp_path, capsys):
    (tmp_path / "empty.npz").write_bytes(b"")
    for option in ("--dataset", "--features"):
        err = one_line_error(capsys, ["train", option, str(tmp_path / "empty.npz"), *FAST,
                                      "--out", str(tmp_path / "r.json")])
        assert "empty.npz is not" in err


def test_baseline_with_no_epochs_is_refused(tmp_path, capsys, features_file):
    err = one_line_error(capsys, ["baseline", "--features", str(features_file), "--method", "sgd", "--epochs", "0",
                                  "--no-progress", "--out", str(tmp_path / "b.json")])
    assert "epochs must be >= 1" in err


def test_a_qpu_network_failure_is_one_line(tmp_path, capsys, monkeypatch, features_file):
    import requests

    from qubocnn import qpu

    def unreachable(*args, **kwargs):
        raise requests.exceptions.ConnectionError("HTTPSConnectionPool(host='na-west-1.cloud.dwavesys.com'): "
                                                  "Max retries exceeded\n(Caused by NewConnectionError)")

    monkeypatch.setattr(qpu, "require_credentials", lambda: None)
    monkeypatch.setattr(qpu, "qpu_sampler", unreachable)
    err = one_line_error(capsys, ["train", "--features", str(features_file), "--solver", "qpu", "--bits", "2",
                                  "--out", str(tmp_path / "r.json")])
    assert "Max retries exceeded" in err


def test_yaml_syntax_error_is_one_line(tmp_path, capsys, features_file):
    config = tmp_path / "bad.yaml"
    config.write_text("bits: [5\nmode: box\n")
    one_line_error(capsys, ["train", "--features", str(features_file), "--config", str(config),
                            "--out", str(tmp_path / "r.json")])


def test_an_interrupt_is_one_line_and_exit_130(tmp_path, capsys, monkeypatch, features_file):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(SourceSpec, "load", interrupted)
    err = one_line_error(capsys, ["train", "--features", str(features_file), "--out", str(tmp_path / "r.json")],
                         code=130)
    assert "interrupted" in err


def test_a_real_sigint_during_training_is_one_line_and_exit_130(tmp_path, features_file):
    out = tmp_path / "r.json"
    launcher = "import sys; from qubocnn.cli import main; print('ready', flush=True); sys.exit(main(sys.argv[1:]))"
    argv = ["train", "--features", str(features_file), "--iterations", "100000", "--tol", "0", "--no-progress",
            "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    running = subprocess.Popen([sys.executable, "-c", launcher, *argv], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert running.stdout.readline() == "ready\n"
    time.sleep(1.0)
    running.send_signal(signal.SIGINT)
    _, err = running.communicate(timeout=120)
    assert running.returncode == 130 and "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("qubocnn: interrupted") and not out.exists()


# 10. messages that name the cause

@pytest.mark.parametrize("argv, message", [
    (["train", *FAST, "--lam", "nan"], "lam must be a positive"),
    (["baseline", "--method", "ridge", "--lam", "nan"], "lam must be a positive"),
    (["train", *FAST, "--mode", "box", "--box-half-range", "-1"], "box_half_range must be a positive"),
    (["train", *FAST, "--trust-half-range", "-1"], "trust_half_range must be a positive"),
    (["export-qubo", "--half-range", "-2"], "half-range must be a positive"),
    (["train", *FAST, "--seed", "-1"], "seed must be >= 0"),
    (["baseline", "--method", "ridge", "--seed", "-1"], "seed must be >= 0")])
def test_bad_settings_name_their_cause(tmp_path, capsys, features_file, argv, message):
    err = one_line_error(capsys, [*argv, "--features", str(features_file), "--out", str(tmp_path / "out.json")])
    assert message in err


def test_a_missing_feature_file_names_the_command_that_writes_it(tmp_path, capsys):
    err = one_line_error(capsys, ["train", "--features", str(tmp_path / "absent.npz"), *FAST,
                                  "--out", str(tmp_path / "r.json")])
    assert "qubocnn features --dataset" in err


# 11. heads are written with the mode of results

def test_head_and_result_have_one_mode(trained):
    head = trained.parent / read_result(trained)["head"]
    modes = {stat.S_IMODE(path.stat().st_mode) for path in (trained, head)}
    assert modes == {0o644}
