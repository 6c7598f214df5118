"""The benchmark scripts that read recorded runs (no annealing): their arithmetic on small inputs."""

import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ["dataset_label", "method", "bits", "test_accuracy", "path"]


def write_runs(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(dict(zip(FIELDS, row)) for row in rows)


def test_paired_runs_pairs_by_run_path_and_groups_by_data_set_and_variant(tmp_path):
    """Runs pair by path only (a run in one file alone is left out, as is another method or K); the
    difference is after minus before per seed, in points."""
    runs = "results/run/runs"
    write_runs(tmp_path / "before.csv", [
        ("MNIST", "qubo-trust", "20", "0.90", f"{runs}/mnist/qubo-trust-K20-seed0.json"),
        ("MNIST", "qubo-trust", "20", "0.80", f"{runs}/mnist/qubo-trust-K20-seed1.json"),
        ("MNIST", "qubo-trust", "20", "0.50", f"{runs}/mnist/qubo-trust-K20-seed2.json"),
        ("MNIST", "qubo-trust", "20", "0.70", f"{runs}/mnist/round/qubo-trust-K20-seed0.json"),
        ("MNIST", "qubo-trust", "10", "0.10", f"{runs}/mnist/qubo-trust-K10-seed0.json"),
    ])
    write_runs(tmp_path / "after.csv", [
        ("MNIST", "qubo-trust", "20", "0.91", f"{runs}/mnist/qubo-trust-K20-seed0.json"),
        ("MNIST", "qubo-trust", "20", "0.82", f"{runs}/mnist/qubo-trust-K20-seed1.json"),
        ("MNIST", "qubo-trust", "20", "0.70", f"{runs}/mnist/round/qubo-trust-K20-seed0.json"),
        ("MNIST", "qubo-trust", "10", "0.99", f"{runs}/mnist/qubo-trust-K10-seed0.json"),
    ])
    script = ROOT / "benchmarks" / "paired_runs.py"
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "before.csv"), str(tmp_path / "after.csv"),
                          "--bits", "20"], capture_output=True, text=True, check=True).stdout
    assert "| mnist | main | 2 | 85.00 | 86.50 | +1.50 ± 0.50 | 2.00 |" in out
    assert "| mnist | round | 1 | 70.00 | 70.00 | +0.00 (1 seed) | 0.00 |" in out
    refused = subprocess.run([sys.executable, str(script), str(tmp_path / "before.csv"), str(tmp_path / "after.csv"),
                              "--method", "qubo-box"], capture_output=True, text=True)
    assert refused.returncode == 1 and "no qubo-box run is in both files" in refused.stderr
