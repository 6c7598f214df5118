"""The stopping rule on the QPU path, evaluated on the hardware study's recorded runs: QPU time saved
against test accuracy lost, side by side for several tolerances.

A run with `--tol T` follows the same seeded trajectory as the full run up to the iteration where
`train.converged` first holds (the loss fell by less than T, relative, over the last STOP_WINDOW
iterations), and stops there. Every run records its training loss and test accuracy per iteration
(`history`) and its packed call count, which is the same at every iteration, so each row is exact
arithmetic on recorded runs: no annealing is run. Per data set and tolerance: the mean iterations
run, the QPU calls and seconds (D-Wave's timing model, at the runs' reads) and the test accuracy
at the stop minus the full run's, paired by seed (mean ± standard error, points).

    python benchmarks/qpu_stopping.py results/run/runs      # a study's runs (variant qpu-model/)
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from qubocnn.report.loading import load_results
from qubocnn.report.runs import has_control_errors
from qubocnn.report.statistics import difference
from qubocnn.train import converged

TOLERANCES = (0.0, 1e-3, 1e-2, 0.03, 0.1, 0.2)


def stop(run: dict, tol: float) -> dict:
    """Where a run with stopping tolerance `tol` would have stopped: its history entry."""
    history = run["history"]
    losses = [history[0]["train_loss"]]
    for entry in history[1:]:
        losses.append(entry["train_loss"])
        if converged(losses, tol):
            return entry
    return history[-1]


def rows(runs: list[dict]) -> list[str]:
    by_dataset = defaultdict(list)
    for run in runs:
        if has_control_errors(run) and "chains" not in run:  # the hardware study's main runs (qpu-model/)
            by_dataset[run["dataset_label"]].append(run)
    lines = ["| data set | tol | seeds | iterations | QPU calls | QPU s | test acc. at stop (%) | "
             "stop − full (points) |", "|---|---|---|---|---|---|---|---|"]
    for label, group in sorted(by_dataset.items()):
        for tol in TOLERANCES:
            stops = [stop(run, tol) for run in group]
            share = [s["iteration"] / run["iterations_run"] for s, run in zip(stops, group)]
            calls = sum(run["qpu_budget"]["qpu_calls"] * f for run, f in zip(group, share)) / len(group)
            seconds = sum(run["qpu_budget"]["qpu_access_time_s"] * f for run, f in zip(group, share)) / len(group)
            accuracy = sum(100 * s["test_accuracy"] for s in stops) / len(stops)
            paired = difference([100 * (s["test_accuracy"] - run["test_accuracy"]) for s, run in zip(stops, group)])
            iterations = sum(s["iteration"] for s in stops) / len(stops)
            lines.append(f"| {label} | {tol:g} | {len(group)} | {iterations:.1f} | {calls:.0f} | {seconds:.2f} "
                         f"| {accuracy:.2f} | {paired} |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="run result files or folders (the runs under the QPU model)")
    args = parser.parse_args(argv)
    runs = [r for r in load_results(args.results) if r.get("qpu_budget")]
    if not runs:
        raise SystemExit("qpu_stopping: no runs with a QPU budget (the hardware study's qpu-model/ runs) there")
    print("\n".join(rows(runs)))


if __name__ == "__main__":
    main()
