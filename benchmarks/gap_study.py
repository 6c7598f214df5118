"""How close do annealed QUBO answers get to the continuous optimum, and what closes the gap?

Trains the head in trust mode with several solver settings side by side on the same frozen features
and prints, per variant and K, the median relative gap of the per-class answers to the continuous
optimum of their surrogate (over all classes and iterations), the acceptance rate, the final test
accuracy and the wall time, next to logistic regression and SGD on the same features. Single-flip
annealing variants and non-quantum move sets are kept in separate rows (column `moves`).

    python benchmarks/gap_study.py --dataset digits --bits 10 20 --seeds 0 1 2
    QUBOCNN_DATA=data python benchmarks/gap_study.py --dataset mnist --bits 20 --limit-train 20000
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qubocnn.anneal import SolverConfig
from qubocnn.baselines import fit_baseline
from qubocnn.data import load_dataset
from qubocnn.features import make_feature_set
from qubocnn.train import TrainConfig, train_qubo_head

VARIANTS = {
    # name: (TrainConfig overrides, SolverConfig overrides)
    "wsa 10x1000": ({}, {}),
    "wsa 10x1000 warm start": ({"warm_start": True}, {}),
    "wsa 10x4000": ({}, {"num_sweeps": 4000}),
    "wsa 10x1000 + 2 refinements": ({"refinements": 2}, {}),
    "wsa 10x1000 integer moves (not QPU)": ({}, {"options": {"moves": "integer"}}),
    "box K-bit grid, wsa 10x1000": ({"mode": "box"}, {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--bits", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--limit-train", type=int)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()

    rows = []
    for seed in args.seeds:
        features = make_feature_set(load_dataset(args.dataset, limit_train=args.limit_train), "default", seed,
                                    progress=False)
        f = features
        refs = {m: fit_baseline(m, f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, 1e-3, seed=seed,
                                progress=False)["test_accuracy"] for m in ("logreg", "sgd")}
        continuous = train_qubo_head(f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes,
                                     TrainConfig(mode="continuous", iterations=args.iterations), progress=False)
        rows.append(("continuous MM (no QUBO)", "-", "-", seed, float("nan"), float("nan"),
                     continuous["test_accuracy"], refs, continuous["timings"]["total"]))
        for bits in args.bits:
            for name in args.variants:
                train_overrides, solver_overrides = VARIANTS[name]
                solver = SolverConfig(**{"name": "wsa", "num_reads": 10, "num_sweeps": 1000, **solver_overrides})
                config = TrainConfig(**{"bits": bits, "mode": "trust", "iterations": args.iterations, "seed": seed,
                                        "solver": solver, **train_overrides})
                start = time.perf_counter()
                fit = train_qubo_head(f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, config, progress=False)
                history = fit["history"][1:]
                gaps = np.concatenate([r["relative_gap"] for r in history])
                accepted = np.concatenate([r["accepted"] for r in history])
                moves = solver.options.get("moves", "flip")
                rows.append((name, bits, moves, seed, float(np.median(gaps)), float(accepted.mean()),
                             fit["test_accuracy"], refs, time.perf_counter() - start))
                print(f"{name:40s} K={bits:2d} seed={seed} gap={rows[-1][4]:.4f} acc={fit['test_accuracy']:.4f} "
                      f"time={rows[-1][-1]:.1f}s", flush=True)

    print(f"\n{args.dataset}, trust mode unless named, {args.iterations} iterations, seeds {args.seeds}\n")
    print("| variant | K | moves | median relative gap | accepted | test acc (%) | - logreg (points) "
          "| - SGD (points) | time (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    keys = sorted({(r[0], r[1], r[2]) for r in rows}, key=lambda k: (str(k[1]), list(VARIANTS).index(k[0])
                                                                    if k[0] in VARIANTS else -1))
    for key in keys:
        group = [r for r in rows if (r[0], r[1], r[2]) == key]
        acc = np.array([r[6] for r in group]) * 100
        logreg = np.array([r[7]["logreg"] for r in group]) * 100
        sgd = np.array([r[7]["sgd"] for r in group]) * 100
        print(f"| {key[0]} | {key[1]} | {key[2]} | {np.median([r[4] for r in group]):.4f} | "
              f"{np.mean([r[5] for r in group]):.2f} | {acc.mean():.2f} | {np.mean(acc - logreg):+.2f} | "
              f"{np.mean(acc - sgd):+.2f} | {np.mean([r[8] for r in group]):.1f} |")


if __name__ == "__main__":
    main()
