"""The reproduction check at the end of `make run`: every number of the run's tables against the
reference, matched on the row keys, on small synthetic tables."""

import csv
import json

import pytest

from qubocnn import reproduce
from qubocnn.cli import main

PRECISION = ["dataset", "dataset_label", "bits", "mode", "test_accuracy_mean", "median_relative_gap", "seeds"]
RUNTIMES = ["dataset", "dataset_label", "bits", "box_seconds", "trust_seconds", "sgd_seconds", "trust_over_sgd"]


def write(path, columns, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        writer.writerows(rows)


@pytest.fixture
def tables(tmp_path):
    reference, run = tmp_path / "reference", tmp_path / "run"
    write(reference / "precision.csv", PRECISION, [
        ["digits", "sklearn digits", 5, "box", 0.2451851851851852, 2.3114, 3],
        ["digits", "sklearn digits", 5, "trust", 0.957037037037037, 0.00023325528007202227, 3],
        ["digits", "sklearn digits", 10, "trust", 0.957037037037037, 0.0002, 3],
        ["mnist", "MNIST", 5, "trust", 0.9433, 0.0014, 3],
    ])
    write(run / "precision.csv", PRECISION, [
        # round-off in the last digits is still a reproduction; a different test accuracy is not
        ["digits", "sklearn digits", 5, "box", 0.2451851851851852 * (1 + 1e-12), 2.3114, 3],
        ["digits", "sklearn digits", 5, "trust", 0.9548148148148149, 0.00023325528007202227, 3],
        ["digits", "sklearn digits", 10, "trust", 0.957037037037037, 0.0002, 3],
        ["kmnist", "KMNIST", 5, "trust", 0.80, 0.01, 3],
    ])
    write(reference / "runtimes.csv", RUNTIMES, [["digits", "sklearn digits", 5, 3.3, 12.4, 2.3, 5.5]])
    write(run / "runtimes.csv", RUNTIMES, [["digits", "sklearn digits", 5, 4.1, 15.0, 2.0, 7.5]])
    write(reference / "only_in_reference.csv", ["dataset", "x"], [["digits", 1]])
    return run, reference


def test_rows_are_matched_on_their_keys_and_judged(tables):
    run, reference = tables
    checks = {t.name: t for t in reproduce.compare_dirs(run, reference)}
    assert set(checks) == {"precision", "runtimes"}  # a table the run did not make is not compared
    precision = checks["precision"]
    assert precision.keys == ["dataset", "bits", "mode"]
    status = {(r.key["dataset"], r.key["bits"], r.key["mode"]): r for r in precision.rows}
    assert status["digits", "5", "box"].status == "reproduced"
    assert status["digits", "10", "trust"].status == "reproduced"
    assert status["mnist", "5", "trust"].status == "not run"
    assert status["kmnist", "5", "trust"].status == "no reference"
    differs = status["digits", "5", "trust"]
    assert differs.status == "differs" and [d.column for d in differs.differences] == ["test_accuracy_mean"]
    assert "0.954815 vs 0.957037 (-0.00222, -0.232%)" in differs.describe()
    # timings differ on every machine: matched, never a mismatch
    assert [r.status for r in checks["runtimes"].rows] == ["reproduced"]
    assert any("machine-dependent" in note and "trust_over_sgd" in note for note in checks["runtimes"].notes)


def test_report_per_row_and_a_visible_warning(tables, tmp_path, capsys):
    run, reference = tables
    out = tmp_path / "reproduction.md"
    assert main(["reproduce", "--run", str(run), "--reference", str(reference), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"reproduction check ({out}): 3 reproduced, 1 differs, 1 not run, 1 no reference" in err
    warnings = [line for line in err.splitlines() if line.startswith("WARNING")]
    assert warnings == ["WARNING: not reproduced: precision: dataset=digits, bits=5, mode=trust: differs: "
                        "test_accuracy_mean 0.954815 vs 0.957037 (-0.00222, -0.232%)"]
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["rows"] == {"reproduced": 3, "differs": 1, "not run": 1, "no reference": 1}
    assert summary["schema"] == reproduce.SUMMARY_SCHEMA and len(summary["differs"]) == 1
    report = out.read_text()
    assert "| digits | 5 | box | reproduced |" in report and "| mnist | 5 | trust | not run |" in report
    assert "| kmnist | 5 | trust | no reference |" in report and "## runtimes (1 reproduced)" in report


def test_everything_reproduced_prints_no_warning(tables, tmp_path, capsys):
    _, reference = tables
    assert main(["reproduce", "--run", str(reference), "--reference", str(reference),
                 "--out", str(tmp_path / "r.md")]) == 0
    err = capsys.readouterr().err
    assert "WARNING" not in err and "0 differs" in err


def test_bad_input_is_one_line(tmp_path, capsys):
    assert main(["reproduce", "--run", str(tmp_path / "none"), "--reference", str(tmp_path),
                 "--out", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qubocnn: error: run tables directory") and len(err.splitlines()) == 1
    assert not (tmp_path / "r.md").exists()
    write(tmp_path / "a" / "t.csv", ["dataset", "x"], [["digits", 1], ["digits", 2]])
    assert main(["reproduce", "--run", str(tmp_path / "a"), "--reference", str(tmp_path / "a"),
                 "--out", str(tmp_path / "r.md")]) == 2
    assert "two rows with dataset=digits" in capsys.readouterr().err


def test_a_summary_table_without_keys_is_named_not_compared(tables):
    """The claims table summarises the others; a run on fewer data sets changes its verdicts by design."""
    run, reference = tables
    for directory, verdict in ((reference, "holds"), (run, "does not hold")):
        write(directory / "claims.csv", ["claim of the paper", "reading", "verdict"], [["5 bits fails", "box", verdict]])
    checks = {check.name: check for check in reproduce.compare_dirs(run, reference)}
    assert checks["claims"].rows == [] and "not compared" in checks["claims"].notes[0]
    assert checks["precision"].count("reproduced") == 2  # the keyed tables are still compared


def test_runs_of_one_method_in_different_variant_folders_are_told_apart(tmp_path):
    """The hardware study's noisy, noiseless and chains runs share method, K and seed; their run
    files differ, and a study written elsewhere still matches the reference."""
    columns = ["dataset", "method", "bits", "seed", "test_accuracy", "path"]
    rows = [["digits", "qubo-trust-noise", 2, 0, accuracy, f"{{}}/runs/digits/{variant}/qubo-trust-K2-seed0.json"]
            for variant, accuracy in (("qpu-model", 0.93), ("qpu-model-noiseless", 0.95))]
    write(tmp_path / "ref" / "runs.csv", columns, [r[:-1] + [r[-1].format("results/run")] for r in rows])
    moved = [r[:-1] + [r[-1].format("/elsewhere/study")] for r in rows]
    write(tmp_path / "run" / "runs.csv", columns, [moved[0], moved[1][:-2] + [0.90, moved[1][-1]]])
    (check,) = reproduce.compare_dirs(tmp_path / "run", tmp_path / "ref")
    status = {r.key["run file"]: r.status for r in check.rows}
    assert status == {"digits/qpu-model/qubo-trust-K2-seed0.json": "reproduced",
                      "digits/qpu-model-noiseless/qubo-trust-K2-seed0.json": "differs"}
