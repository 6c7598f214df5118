"""The run object: a result records its RunSpec, every replay rebuilds the run from it, results
written before it still replay, and the command-line options are the dataclass fields."""

import json
import logging
from pathlib import Path

import pytest

from qubocnn import options
from qubocnn.cli import DEFAULTS, FIELDS, build_parser, main, parse_options
from qubocnn.results import read_result
from qubocnn.runspec import SPEC_FORMAT, RunSpec, SourceSpec, run
from qubocnn.solvers import SolverConfig
from qubocnn.train import TrainConfig

FIXTURES = Path(__file__).parent / "fixtures"
# Written by `qubocnn train --features` before the run spec existed. The features are a file, not
# extracted here, because the frozen CNN's float arithmetic differs between CPUs and so would the run.
OLD_RESULT = FIXTURES / "result_v1.json"
OLD_FEATURES = "tests/fixtures/result_v1.features.npz"  # as recorded: relative to the repository root


@pytest.fixture(autouse=True)
def _at_repository_root(monkeypatch):
    monkeypatch.chdir(FIXTURES.parent.parent)


@pytest.fixture
def kernel_that_wrote_it(monkeypatch):
    """The annealing kernel of that qubocnn version. Today's defers field updates, which sums the
    same terms in another order: the same Metropolis chain up to round-off, and a decision that
    round-off tips changes a class's answer (in this run, classes 8 and 9 from iteration 1)."""
    from wsa_reference import reference_kernel
    monkeypatch.setattr("qubocnn.wsa._anneal_kernel", reference_kernel)
FAST = ["--solver", "sa", "--reads", "2", "--sweeps", "20", "--iterations", "2", "--no-progress"]


def test_a_result_written_before_the_run_spec_replays_and_predicts(tmp_path, kernel_that_wrote_it):
    config = json.loads(OLD_RESULT.read_text())["config"]
    assert "format" not in config and config["reads"] == 4  # the old flat command-line options
    spec = RunSpec.from_result(OLD_RESULT)
    assert spec.source == SourceSpec(features=OLD_FEATURES)
    assert (spec.train.bits, spec.train.mode, spec.train.refinements, spec.solver) == (6, "trust", 1, SolverConfig(num_sweeps=200))
    # the replay passes through the recorded run: the recorded continuous optimum is checked
    assert main(["export-qubo", "--run", str(OLD_RESULT), "--iteration", "3", "--class", "1", "--no-progress",
                 "--out", str(tmp_path / "q.npz")]) == 0
    out = tmp_path / "p.json"
    assert main(["predict", "--head", str(FIXTURES / "result_v1.head.npz"), "--features", OLD_FEATURES,
                 "--no-progress", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["test_accuracy"] == read_result(OLD_RESULT)["test_accuracy"]


def test_the_run_object_trains_the_numbers_recorded_before_it(kernel_that_wrote_it):
    """Same spec, same numbers: the old result's history is retrained (timings aside), its losses
    and answers exactly; the continuous optima and energies to round-off, since BLAS sums in a
    CPU-dependent order."""
    recorded = read_result(OLD_RESULT)
    again = run(RunSpec.from_result(OLD_RESULT)).record
    to_round_off = ("continuous_optimum", "energy", "relative_gap")
    for new, old in zip(again["history"], recorded["history"], strict=True):
        assert new.keys() == old.keys()
        for key in new.keys() - {"solve_seconds"}:
            if key in to_round_off:
                assert new[key] == pytest.approx(old[key], rel=1e-9, abs=1e-15), key
            else:
                assert new[key] == old[key], key
    assert (again["test_accuracy"], again["method"], again["qubo"]) == (recorded["test_accuracy"],
                                                                      recorded["method"], recorded["qubo"])


def test_a_result_records_its_spec_and_the_spec_reruns_it(tmp_path):
    out = tmp_path / "run.json"
    assert main(["train", "--dataset", "digits", "--limit-train", "200", "--bits", "4", "--mode", "box", *FAST,
                 "--solver-option", "randomize_order=true", "--out", str(out)]) == 0
    result = read_result(out)
    assert result["config"]["format"] == SPEC_FORMAT
    spec = RunSpec.from_result(out)
    assert spec.to_dict() == result["config"] and RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert spec.solver.options == {"randomize_order": True} and spec.source.limit_train == 200
    again = run(spec)
    assert again.record["history"][-1]["train_loss"] == result["history"][-1]["train_loss"]
    assert again.record["config"] == result["config"]


@pytest.mark.parametrize("spec,message", [
    ({"format": "qubocnn.runspec/9"}, "unknown run spec format"),
    ({"format": SPEC_FORMAT, "train": {"bitz": 3}}, "train.bitz"),
    ({"format": SPEC_FORMAT, "train": {"jobs": 2.5}}, "jobs takes an integer"),
    ({"format": SPEC_FORMAT, "solver": {"qpu_noise": "yes"}}, "qpu_noise takes a boolean"),
])
def test_bad_specs_are_refused_in_one_line(spec, message):
    with pytest.raises(ValueError, match=message):
        RunSpec.from_dict(spec)


@pytest.mark.parametrize("line,message", [("jobs: '4'", "jobs takes an integer"),
                                          ("warm_start: 'no'", "warm_start takes a boolean"),
                                          ("bits: 2.5", "bits takes an integer"),
                                          ("block_size: many", "number of variables or 'clique'")])
def test_yaml_values_get_the_fields_types(tmp_path, capsys, line, message):
    config = tmp_path / "c.yaml"
    config.write_text(f"dataset: digits\n{line}\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "r.json")]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "r.json").exists()


def test_every_option_default_and_help_is_its_fields():
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    checked = 0
    for command, groups in FIELDS.items():
        actions = {a.dest: a for a in commands[command]._actions}
        for cls, only in groups:
            for f in options.option_fields(cls, only):
                action = actions[options.dest(f)]
                assert action.help.startswith(f.metadata["help"]), (command, f.name)
                assert action.help == options.help_text(f) + (" (repeatable)" if action.nargs == "*" or
                                                              action.__class__.__name__ == "_AppendAction" else "")
                default = options.default_of(f)
                assert DEFAULTS[command][options.dest(f)] == default, (command, f.name)
                if default not in (None, {}):
                    assert str(default if not isinstance(default, bool) else "on" if default else "off") in action.help
                checked += 1
    assert checked > 30
    # and a bare command line is the dataclasses' defaults
    command, values = parse_options(["train", "--out", "r.json"])
    assert RunSpec.from_options(values) == RunSpec() == RunSpec(SourceSpec(), TrainConfig(solver=SolverConfig()))


def test_replaying_a_qpu_run_calls_no_qpu(tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("DWAVE_API_TOKEN", raising=False)
    monkeypatch.setenv("DWAVE_CONFIG_FILE", str(tmp_path / "none.conf"))
    result = read_result(OLD_RESULT)
    spec = RunSpec.from_result(OLD_RESULT).replace(solver=dict(name="qpu", options={"annealing_time": 20}))
    result["config"] = spec.to_dict()
    recorded = tmp_path / "qpu.json"
    recorded.write_text(json.dumps(result))
    with caplog.at_level(logging.INFO, logger="qubocnn"):
        assert main(["export-qubo", "--run", str(recorded), "--iteration", "1", "--no-progress",
                     "--out", str(tmp_path / "q.json")]) == 0
    assert "no QPU call" in caplog.text
    # asking for the QPU without credentials is refused, not silently replaced
    assert main(["export-qubo", "--run", str(recorded), "--replay-on-qpu", "--no-progress",
                 "--out", str(tmp_path / "q.json")]) == 2
