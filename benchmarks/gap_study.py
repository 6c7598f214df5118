"""How close do annealed QUBO answers get to the continuous optimum, and what closes the gap?

Trains the head with the package's defaults (trust mode, MFISTA momentum, per-class half-ranges,
6 refinements, wsa 4 reads x 200 sweeps, 30 iterations) and with one of them changed at a time, side
by side on the same frozen features, and prints per variant and K the median relative gap of the
per-class answers to the continuous optimum of their surrogate (over classes, iterations and seeds),
the acceptance rate, the test accuracy against logistic regression and SGD on the same features
(seed by seed), and the wall time. Single-flip annealing and the non-quantum move set are kept in
separate rows (column `moves`).

    python benchmarks/gap_study.py --dataset digits --bits 10 20 --seeds 0 1 2
    QUBOCNN_DATA=data python benchmarks/gap_study.py --dataset mnist --bits 20 --variants default "no momentum"
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qubocnn.solvers import SolverConfig
from qubocnn.baselines import fit_baseline
from qubocnn.data import load_dataset
from qubocnn.features import make_feature_set
from qubocnn.train import TrainConfig, train_qubo_head

VARIANTS = {
    # name: (TrainConfig overrides, SolverConfig overrides)
    "continuous MM (no QUBO)": ({"mode": "continuous"}, {}),
    "continuous MM, no momentum (no QUBO)": ({"mode": "continuous", "accelerate": False}, {}),
    "default": ({}, {}),
    "no momentum": ({"accelerate": False}, {}),
    "no refinements": ({"refinements": 0}, {}),
    "2 refinements": ({"refinements": 2}, {}),
    "2 reads": ({}, {"num_reads": 2}),
    "100 sweeps": ({}, {"num_sweeps": 100}),
    "warm start": ({"warm_start": True}, {}),
    "integer moves, no refinements (not QPU)": ({"refinements": 0}, {"options": {"moves": "integer"}}),
    "box grid (the paper's method)": ({"mode": "box"}, {}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--bits", type=int, nargs="+", default=[10, 20])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--limit-train", type=int)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()

    rows = []  # (variant, K, moves, seed, gaps, acceptance, accuracy, references, seconds)
    for seed in args.seeds:
        f = make_feature_set(load_dataset(args.dataset, limit_train=args.limit_train), "default", seed, progress=False)
        refs = {m: fit_baseline(m, f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, 1e-3, seed=seed,
                                progress=False)["test_accuracy"] for m in ("logreg", "sgd")}
        for bits in args.bits:
            for name in args.variants:
                train_overrides, solver_overrides = VARIANTS[name]
                continuous = train_overrides.get("mode") == "continuous"
                if continuous and bits != args.bits[0]:
                    continue  # no QUBO: the same for every K
                solver = SolverConfig(**{"name": "wsa", **solver_overrides})
                config = TrainConfig(**{"bits": bits, "seed": seed, "solver": solver, **train_overrides})
                start = time.perf_counter()
                fit = train_qubo_head(f.x_train, f.y_train, f.x_test, f.y_test, f.num_classes, config, progress=False)
                history = fit["history"][1:]
                gaps = [g for r in history for g in r.get("relative_gap", [])]
                accepted = [a for r in history for a in r.get("accepted", [])]
                rows.append((name, "-" if continuous else bits, "-" if continuous else solver.options.get("moves", "flip"), seed,
                             gaps,
                             float(np.mean(accepted)) if accepted else float("nan"),
                             fit["test_accuracy"], refs, time.perf_counter() - start))
                print(f"{name:42s} K={bits:2d} seed={seed} gap={np.median(gaps) if gaps else np.nan:.4f} acc={fit['test_accuracy']:.4f} "
                      f"time={rows[-1][-1]:.1f}s", flush=True)

    print(f"\n{args.dataset}, {TrainConfig().iterations} iterations, seeds {args.seeds}; gap: median over "
          "classes, iterations and seeds; accuracy differences: seed by seed, mean\n")
    print("| variant | K | moves | median relative gap | accepted | test acc (%) | - logreg (points) "
          "| - SGD (points) | time per run (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key in dict.fromkeys((r[0], r[1], r[2]) for r in rows):
        group = [r for r in rows if (r[0], r[1], r[2]) == key]
        acc = np.array([r[6] for r in group]) * 100
        logreg = np.array([r[7]["logreg"] for r in group]) * 100
        sgd = np.array([r[7]["sgd"] for r in group]) * 100
        gaps = [g for r in group for g in r[4]]
        print(f"| {key[0]} | {key[1]} | {key[2]} | {np.median(gaps) if gaps else np.nan:.4f} | "
              f"{np.mean([r[5] for r in group]):.2f} | {acc.mean():.2f} | {np.mean(acc - logreg):+.2f} | "
              f"{np.mean(acc - sgd):+.2f} | {np.mean([r[8] for r in group]):.1f} |")


if __name__ == "__main__":
    main()
