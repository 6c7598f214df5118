"""QUBO training (trust mode, wsa) against SGD on the same frozen features: wall time and accuracy.

Both run in this process, side by side, on one feature set; prints a table with the time ratio.

    python benchmarks/train_speed.py --dataset digits
    QUBOCNN_DATA=data python benchmarks/train_speed.py --dataset mnist --reads 4 --sweeps 400 --refinements 1
"""

from __future__ import annotations

import argparse
import time

from qubocnn.anneal import SolverConfig
from qubocnn.baselines import fit_baseline
from qubocnn.data import load_dataset
from qubocnn.features import make_feature_set
from qubocnn.train import TrainConfig, train_qubo_head


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--bits", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--reads", type=int, default=4)
    parser.add_argument("--sweeps", type=int, default=400)
    parser.add_argument("--refinements", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    f = make_feature_set(load_dataset(args.dataset), "default", args.seed, progress=False)
    rows = []
    start = time.perf_counter()
    sgd = fit_baseline("sgd", f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, 1e-3, seed=args.seed,
                       progress=False, epochs=args.epochs)
    rows.append((f"SGD, {args.epochs} epochs", time.perf_counter() - start, sgd["test_accuracy"]))
    config = TrainConfig(bits=args.bits, mode="trust", iterations=args.iterations, seed=args.seed,
                         refinements=args.refinements,
                         solver=SolverConfig("wsa", num_reads=args.reads, num_sweeps=args.sweeps))
    start = time.perf_counter()
    qubo = train_qubo_head(f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, config, progress=False)
    rows.append((f"QUBO trust K={args.bits}, wsa {args.reads}x{args.sweeps}, {args.refinements} refinement(s), "
                 f"{args.iterations} iterations", time.perf_counter() - start, qubo["test_accuracy"]))
    print(f"\n{f.label}: {len(f.y_train)} training rows, d = {f.num_features}\n")
    print("| method | wall time (s) | time / SGD | test accuracy (%) |")
    print("|---|---|---|---|")
    for name, seconds, accuracy in rows:
        print(f"| {name} | {seconds:.1f} | {seconds / rows[0][1]:.1f}x | {100 * accuracy:.2f} |")
    print("\nQUBO time split: " + ", ".join(f"{k} {v:.1f} s" for k, v in qubo["timings"].items()))


if __name__ == "__main__":
    main()
