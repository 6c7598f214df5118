"""Estimated QPU access time of one training run against its settings, side by side: D-Wave's timing
model (qubocnn.qpu.QpuPlan, Advantage 4.1 timing data) as the objective for choosing block size,
packing, refinements and reads on the QPU path. No annealing is run: the plan is exact arithmetic on
the call count and the packed problems' qubits (busclique finds the disjoint cliques, ~1 s each).

Rows: the unpacked hardware setting of the earlier study (one class QUBO per call), then packed
settings. Columns: blocks per class QUBO, problems per call, calls, per-call time, and the run's
QPU seconds at each number of reads; the ratio is to the first row at the same reads.

    python benchmarks/qpu_time.py --num-features 55 --classes 10        # digits, default preset
    python benchmarks/qpu_time.py --num-features 64 --classes 10        # MNIST, default preset
"""

from __future__ import annotations

import argparse

from qubocnn.qpu import QpuPlan

# (label, block size in variables (None: the whole QUBO), pack (0: as many as fit), refinements)
SETTINGS = [
    ("unpacked, whole QUBO, 6 refinements", None, 1, 6),
    ("packed, clique blocks, 6 refinements", 180, 0, 6),
    ("packed, blocks of 48, 6 refinements", 48, 0, 6),
    ("packed, clique blocks, 1 refinement", 180, 0, 1),
    ("packed, blocks of 48, 1 refinement", 48, 0, 1),
    ("packed, blocks of 40, 1 refinement", 40, 0, 1),
    ("packed, blocks of 48, 0 refinements", 48, 0, 0),
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-features", type=int, required=True, help="d of the features (bias excluded)")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--bits", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--reads", default="4,100,1000", help="comma-separated reads per call")
    args = parser.parse_args(argv)
    reads = [int(r) for r in args.reads.split(",")]

    header = ["setting", "blocks", "problems per call", "calls", "qubits per call",
              *(f"{r} reads: s (×)" for r in reads)]
    print(f"d = {args.num_features}, {args.classes} classes, K = {args.bits}, {args.iterations} iterations, trust mode; "
          "QPU access time by D-Wave's timing model (Advantage_system4.1, 2022-08)\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    first = None
    for label, block_size, pack, refinements in SETTINGS:
        plans = [QpuPlan.of_training(args.num_features, args.classes, args.bits, args.iterations, refinements, r,
                                     block_size=block_size, pack=pack) for r in reads]
        seconds = [p.budget()["qpu_access_time_s"] for p in plans]
        first = first or seconds
        plan = plans[0]
        cells = [f"{s:.3g} ({s / f:.2f})" for s, f in zip(seconds, first)]
        print(f"| {label} | {plan.num_blocks} | {plan.problems_per_call} | {plan.num_calls} | "
              f"{plan.budget()['physical_qubits']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
