import json

import pytest

from qubocnn.cli import main
from qubocnn.results import SCHEMA, read_result

FAST = ["--solver", "sa", "--reads", "2", "--sweeps", "50", "--iterations", "2", "--no-progress"]
VOLATILE = ("timings", "solve_seconds", "versions", "out", "head")  # "out", "head": named after the run


def numbers_only(value):
    """The result without wall-clock fields, which no seed can fix."""
    if isinstance(value, dict):
        return {k: numbers_only(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [numbers_only(v) for v in value]
    return value


def test_train_digits_end_to_end(tmp_path):
    out = tmp_path / "run.json"
    assert main(["train", "--dataset", "digits", "--bits", "6", "--mode", "trust", *FAST, "--out", str(out)]) == 0
    result = read_result(out)
    assert result["schema"] == SCHEMA and result["kind"] == "qubo" and result["method"] == "qubo-trust"
    assert 0.5 < result["test_accuracy"] <= 1 and 0.5 < result["train_accuracy"] <= 1
    assert [r["iteration"] for r in result["history"]] == [0, 1, 2]
    assert result["qubo"]["variables"] == (result["num_features"] + 1) * 6
    assert result["accelerated"] is True and result["refinements"] == 6  # the trust defaults
    assert len(result["history"][1]["half_range"]) == result["num_classes"]

    assert main(["train", "--dataset", "digits", "--bits", "6", "--mode", "trust", *FAST, "--no-accelerate",
                 "--refinements", "0", "--out", str(out)]) == 0
    plain = read_result(out)
    assert plain["accelerated"] is False and plain["refinements"] == 0
    assert all(r["step_taken"] for r in plain["history"][1:])


def test_seeded_runs_are_identical(tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path in paths:
        assert main(["train", "--dataset", "digits", "--bits", "5", "--mode", "trust", "--seed", "3", *FAST,
                     "--out", str(path)]) == 0
    a, b = (json.loads(p.read_text()) for p in paths)
    assert numbers_only(a) == numbers_only(b)
    assert main(["train", "--dataset", "digits", "--bits", "5", "--mode", "trust", "--seed", "4", *FAST,
                 "--out", str(paths[1])]) == 0
    assert numbers_only(a) != numbers_only(json.loads(paths[1].read_text()))


def test_config_file_and_command_line_precedence(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("dataset: digits\nbits: 4\nmode: box\nsolver: sa\nreads: 2\nsweeps: 20\niterations: 1\n")
    out = tmp_path / "r.json"
    assert main(["train", "--config", str(config), "--bits", "3", "--no-progress", "--out", str(out)]) == 0
    result = read_result(out)
    assert result["bits"] == 3 and result["mode"] == "box" and len(result["history"]) == 2
    config.write_text("dataset: digits\nbitz: 4\n")
    assert main(["train", "--config", str(config), "--out", str(out)]) == 2


def test_baseline_and_export(tmp_path):
    out = tmp_path / "ridge.json"
    assert main(["baseline", "--dataset", "digits", "--method", "ridge", "--out", str(out)]) == 0
    assert read_result(out)["method"] == "ridge"
    coo = tmp_path / "q.coo"
    assert main(["export-qubo", "--dataset", "digits", "--bits", "3", "--class", "2", "--out", str(coo)]) == 0
    assert coo.read_text().startswith("# vartype=BINARY")


@pytest.mark.parametrize("argv,message", [
    (["train", "--dataset", "nope"], "unknown dataset 'nope'"),
    (["train", "--dataset", "mnist", "--data-root", "{tmp}"], "MNIST not found under"),
    (["train", "--dataset", "digits", "--bits", "33"], "1..32"),
    (["train", "--dataset", "digits", "--solver", "annealing"], "unknown solver"),
    (["train", "--dataset", "digits", "--solver", "qpu", "--iterations", "1"], "DWAVE_API_TOKEN"),
    (["baseline", "--dataset", "digits", "--method", "svm"], "unknown baseline"),
    (["train", "--features", "{tmp}/missing.npz"], "not found"),
    (["train", "--dataset", "digits", "--solver", "sa", "--qpu-noise", "--sigma-h", "-0.01"], "sigma_h must be >= 0"),
    (["train", "--dataset", "digits", "--solver", "wsa", "--qpu-noise"], "wraps a classical dimod sampler"),
    (["train", "--dataset", "digits", "--solver", "sa", "--block-size", "500"], "largest clique"),
    (["train", "--dataset", "digits", "--solver", "sa", "--block-size", "many"], "number of variables or 'clique'"),
    # digits' d = 55 at K = 5: 280 variables, more than the largest clique
    (["train", "--dataset", "digits", "--solver", "sa", "--qpu-noise", "--bits", "5"], "does not embed"),
])
def test_bad_input_is_one_clear_line_and_keeps_earlier_results(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DWAVE_CONFIG_FILE", str(tmp_path / "none.conf"))
    out = tmp_path / "earlier.json"
    out.write_text("{\"earlier\": true}")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main([*argv, "--no-progress", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("qubocnn: error:")
    assert json.loads(out.read_text()) == {"earlier": True}
