"""Training time of the QUBO head against SGD on the same frozen features, side by side in one run.

Rows: SGD at its tuned learning rate (the search itself is timed and reported apart), trust mode
at K (wsa, the package's defaults), the same loop with the classical rounding solver, and the
continuous majorise-minimise path. Prints a Markdown table of wall times, ratios to SGD and
accuracies; one process, one core for every row (run it with OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1).

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/train_speed.py --dataset digits
    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 QUBOCNN_DATA=data python benchmarks/train_speed.py --dataset mnist
    python benchmarks/train_speed.py --features results/full/features/mnist-default-seed0.npz
"""

from __future__ import annotations

import argparse
import time

from qubocnn.baselines import fit_baseline, tune_sgd
from qubocnn.data import load_dataset
from qubocnn.features import FeatureSet, make_feature_set
from qubocnn.solvers import SolverConfig
from qubocnn.surrogate import add_bias
from qubocnn.train import TrainConfig, train_qubo_head


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--features", help="a cached feature file (`qubocnn features`) instead of --dataset")
    parser.add_argument("--bits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    f = (FeatureSet.load(args.features) if args.features
         else make_feature_set(load_dataset(args.dataset), "default", args.seed, progress=False))
    data = (f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes)
    (lr, _), search = timed(tune_sgd, add_bias(f.x_train), f.y_train, f.num_classes, 1e-3, seed=args.seed)
    sgd, sgd_seconds = timed(fit_baseline, "sgd", *data, 1e-3, seed=args.seed, progress=False, learning_rates=[lr])
    rows = [(f"SGD, learning rate {lr:g} (chosen on validation; the search took {search:.1f} s)", sgd_seconds,
             sgd["test_accuracy"], "")]
    for name, solver, mode in ((f"QUBO trust K={args.bits}, wsa (defaults)", "wsa", "trust"),
                               (f"QUBO trust K={args.bits}, rounding (no annealing)", "round", "trust"),
                               ("continuous MM (no QUBO)", "wsa", "continuous")):
        config = TrainConfig(bits=args.bits, mode=mode, seed=args.seed, solver=SolverConfig(solver))
        fit, seconds = timed(train_qubo_head, *data, config, progress=False)
        split = ", ".join(f"{k} {v:.1f} s" for k, v in fit["timings"].items() if k != "total")
        rows.append((name, seconds, fit["test_accuracy"], split))
    print(f"\n{f.label}, preset {f.preset}: {len(f.y_train)} training rows, d = {f.num_features}\n")
    print("| method | wall time (s) | time / SGD | test accuracy (%) | where the time went |")
    print("|---|---|---|---|---|")
    for name, seconds, accuracy, split in rows:
        print(f"| {name} | {seconds:.1f} | {seconds / rows[0][1]:.1f}x | {100 * accuracy:.2f} | {split} |")


if __name__ == "__main__":
    main()
