"""Training time of the QUBO head against SGD on the same frozen features, side by side in one run.

Rows: SGD at its tuned learning rate (the search itself is timed and reported apart), trust mode
at K (wsa, the package's defaults), optionally the same with wsa's previous kernel
(tests/wsa_reference.py: same final integers, so the same accuracy), the same loop with the
classical rounding solver, and the continuous majorise-minimise path. Prints a Markdown table of
wall and CPU times, ratios of CPU time to SGD's (robust on a shared machine), accuracies and where
the time went; "kernel (CPU)" is the CPU time inside wsa's numba kernel, the rest of "solve" is
Python work per QUBO (schedule, SampleSet, decoding). One process, one core for every row (run it with OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1).

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/train_speed.py --dataset digits --previous-kernel
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 QUBOCNN_DATA=data python benchmarks/train_speed.py --dataset mnist
    python benchmarks/train_speed.py --features results/full/features/mnist-default-seed0.npz
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import sys
import time

import numpy as np

import qubocnn.wsa
from qubocnn.baselines import fit_baseline, tune_sgd
from qubocnn.data import load_dataset
from qubocnn.features import FeatureSet, make_feature_set
from qubocnn.solvers import SolverConfig
from qubocnn.surrogate import add_bias
from qubocnn.train import TrainConfig, train_qubo_head


def timed(function, *args, **kwargs):
    """(result, (wall seconds, CPU seconds of this process)): on a shared machine the CPU time of a
    single-threaded row is what it would take alone; wall time also counts the waits for a core."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


class KernelClock:
    """Sums the CPU seconds spent inside wsa's kernel (`kernel` replaces it while the clock is on)."""

    def __init__(self):
        self.seconds = 0.0

    @contextlib.contextmanager
    def around(self, kernel=None):
        original = qubocnn.wsa._anneal_kernel
        inner = original if kernel is None else kernel

        def clocked(*args):
            start = time.process_time()
            try:
                return inner(*args)
            finally:
                self.seconds += time.process_time() - start

        qubocnn.wsa._anneal_kernel, self.seconds = clocked, 0.0
        try:
            yield self
        finally:
            qubocnn.wsa._anneal_kernel = original


def previous_kernel():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))
    from wsa_reference import reference_kernel

    return reference_kernel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--features", help="a cached feature file (`qubocnn features`) instead of --dataset")
    parser.add_argument("--bits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--previous-kernel", action="store_true",
                        help="add a row with wsa's previous kernel (about 3x slower: the speed-up side by side)")
    parser.add_argument("--markdown", help="also write the table to this file (atomically)")
    args = parser.parse_args()

    f = (FeatureSet.load(args.features) if args.features
         else make_feature_set(load_dataset(args.dataset), "default", args.seed, progress=False))
    data = (f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes)
    (lr, _), (search, _) = timed(tune_sgd, add_bias(f.x_train), f.y_train, f.num_classes, 1e-3, seed=args.seed)
    sgd, sgd_seconds = timed(fit_baseline, "sgd", *data, 1e-3, seed=args.seed, progress=False, learning_rates=[lr])
    rows = [(f"SGD, learning rate {lr:g} (chosen on validation; the search took {search:.1f} s)", sgd_seconds,
             sgd["test_accuracy"], "")]
    runs = [(f"QUBO trust K={args.bits}, wsa (defaults)", "wsa", "trust", None)]
    if args.previous_kernel:
        runs.append((f"QUBO trust K={args.bits}, wsa's previous kernel", "wsa", "trust", previous_kernel()))
    runs += [(f"QUBO trust K={args.bits}, rounding (no annealing)", "round", "trust", None),
             ("continuous MM (no QUBO)", "wsa", "continuous", None)]
    clock, heads = KernelClock(), {}
    for name, solver, mode, kernel in runs:
        config = TrainConfig(bits=args.bits, mode=mode, seed=args.seed, solver=SolverConfig(solver))
        with clock.around(kernel):
            fit, seconds = timed(train_qubo_head, *data, config, progress=False)
        timings = dict(fit["timings"], **({"kernel (CPU)": clock.seconds} if solver == "wsa" and mode != "continuous" else {}))
        split = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items() if k != "total")
        heads[name] = fit["W"]
        if kernel is not None:
            same = np.array_equal(fit["W"], heads[runs[0][0]])
            split += "; trained head " + ("bit-identical to the row above" if same else "DIFFERS from the row above")
        rows.append((name, seconds, fit["test_accuracy"], split))
    lines = [f"{f.label}, preset {f.preset}: {len(f.y_train)} training rows, d = {f.num_features}", "",
             "| method | wall time (s) | CPU time (s) | CPU time / SGD's | test accuracy (%) | where the wall time went |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {wall:.1f} | {cpu:.1f} | {cpu / rows[0][1][1]:.1f}x | {100 * accuracy:.2f} | {split} |"
              for name, (wall, cpu), accuracy, split in rows]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.markdown:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        tmp = args.markdown + ".tmp"
        with open(tmp, "w") as fp:
            fp.write(f"<!-- python benchmarks/train_speed.py {' '.join(sys.argv[1:])}; {stamp}, "
                     f"{os.cpu_count()}-core machine, its load not recorded; rows one after another in one process -->"
                     f"\n\n{text}")
        os.replace(tmp, args.markdown)


if __name__ == "__main__":
    main()
