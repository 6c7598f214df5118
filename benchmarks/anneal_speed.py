"""Speed and quality of qubocnn's weight-space annealer (wsa) against dwave-samplers' SA, with the
classical rounding solver (`round`: no annealing) beside them.

Run by hand (not a test):

    .venv/bin/python benchmarks/anneal_speed.py          # digits only (d=64), about 1.5 min on 2 cores
    QUBOCNN_DATA=/tmp/qdata .venv/bin/python benchmarks/anneal_speed.py --datasets digits mnist \
        --sa-max-variables 5000 --markdown /tmp/anneal_speed.md          # about 20 min: SA dominates
    QUBOCNN_DATA=/tmp/qdata .venv/bin/python benchmarks/anneal_speed.py --datasets cifar10_jpeg

(`/work/shared/data/install.sh /tmp/qdata` fills a data root.)

The QUBOs are the ones training builds: frozen-CNN features of a real data set (default preset),
the head moved a few continuous majorise-minimise steps from zero (W <- W - H^-1 G) to a realistic
point W_t, then class 0's surrogate encoded on a trust grid centred at W_t (half-range 0.5) and on
the paper's box grid (centre 0, half-range 2). Both annealers run the same single-flip Metropolis
chain over the same QUBO with the same geometric beta_range (`qubocnn.schedules.beta_range`) at equal
reads x sweeps; wsa with moves="integer" (a classical, non-quantum move set) is a third column, and
`round` (the continuous minimiser rounded to the grid, then steepest single-bit descent) a fourth.
Throughput: spin-flip attempts (reads x sweeps x n) per second per core; SA runs on one core, wsa
on min(reads, numba threads) cores.

Measured per row: wall time (dense SA: BQM build and sampling separately; wsa after a warm-up call,
so numba's compile is excluded and reported once), best and median energy over the reads
(recomputed in weight space for every solver), the relative gap of the best to the continuous
optimum E* = -1/2 g^T H^-1 g of the class surrogate, and peak memory (the process's resident set,
sampled every 2 ms by a thread during the call, minus the value before it; dwave's SA releases the
GIL while sampling and wsa's kernel does too).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

import numpy as np

from qubocnn import surrogate
from qubocnn.qubo import ClassQubo, box_encoding, to_bqm, trust_encoding
from qubocnn.schedules import beta_range
from qubocnn.solvers import RoundingSolver
from qubocnn.wsa import WeightSpaceAnnealer

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as fp:
        return int(fp.read().split()[1]) * PAGE


class PeakMemory:
    """Peak resident-set increase over a block, sampled by a background thread."""

    def __init__(self, interval=0.002):
        self.interval = interval

    def __enter__(self):
        self.base = rss_bytes()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def sample(self):
        self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc):
        self.sample()
        self._stop.set()
        self._thread.join()
        self.mib = (self.peak - self.base) / 2**20


def load_features(name: str, train_limit: int, seed: int):
    from qubocnn.data import load_dataset
    from qubocnn.features import make_feature_set

    dataset = load_dataset(name, limit_train=train_limit, limit_test=10)
    features = make_feature_set(dataset, "default", seed=seed, progress=False)
    return features


def class_problems(features, lam: float, mm_steps: int, cls: int, bits: int,
                   trust_half_range: float, box_half_range: float):
    X = surrogate.add_bias(features.x_train)
    y = features.y_train
    H = surrogate.boehning_curvature(X, lam)
    factor = surrogate.curvature_factor(H)
    W = np.zeros((X.shape[1], features.num_classes))
    for _ in range(mm_steps):
        W = W + surrogate.continuous_step(surrogate.gradient(X, y, W, lam), factor)
    G = surrogate.gradient(X, y, W, lam)
    g, w = G[:, cls], W[:, cls]
    return {
        "trust": ClassQubo(H, g, w, trust_encoding(w, bits, trust_half_range)),
        "box": ClassQubo(H, g, w, box_encoding(len(w), bits, box_half_range)),
    }


def continuous_optimum(problem: ClassQubo) -> float:
    g = problem.gradient
    return float(-0.5 * g @ np.linalg.solve(problem.curvature, g))


def energies_of(problem, sampleset):
    order = np.argsort(np.asarray(list(sampleset.variables)))
    return problem.energies(sampleset.record.sample[:, order])


def run_sa(problem, reads, sweeps, br, seed):
    from dwave.samplers import SimulatedAnnealingSampler

    with PeakMemory() as memory:
        t0 = time.perf_counter()
        bqm = to_bqm(problem)
        t1 = time.perf_counter()
        memory.sample()
        sampleset = SimulatedAnnealingSampler().sample(
            bqm, num_reads=reads, num_sweeps=sweeps, seed=seed, beta_range=br, beta_schedule_type="geometric")
        t2 = time.perf_counter()
        energies = energies_of(problem, sampleset)
        del bqm, sampleset
    return dict(build=t1 - t0, sample=t2 - t1, total=t2 - t0, energies=energies, mib=memory.mib)


def run_wsa(problem, reads, sweeps, br, moves, threads=None, seed=0):
    import numba

    before = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        with PeakMemory() as memory:
            t0 = time.perf_counter()
            sampleset = WeightSpaceAnnealer().sample_problem(
                problem, num_reads=reads, num_sweeps=sweeps, seed=seed, beta_range=br, moves=moves)
            t1 = time.perf_counter()
            energies = energies_of(problem, sampleset)
    finally:
        numba.set_num_threads(before)
    return dict(build=0.0, sample=t1 - t0, total=t1 - t0, energies=energies, mib=memory.mib)


def run_round(problem, seed=0):
    with PeakMemory() as memory:
        answer = RoundingSolver().solve(problem, seed)
    return dict(build=0.0, sample=answer.seconds, total=answer.seconds, energies=np.array([answer.energy]),
                mib=memory.mib)


def repeated(run, repeats, seed, *args, **kwargs):
    """Run with seeds seed, seed+1, ...: median times, per-repeat best and median energies, max memory."""
    runs = [run(*args, seed=seed + i, **kwargs) for i in range(repeats)]
    return dict(
        build=float(np.median([r["build"] for r in runs])),
        sample=float(np.median([r["sample"] for r in runs])),
        total=float(np.median([r["total"] for r in runs])),
        best=np.array([r["energies"].min() for r in runs]),
        median=np.array([np.median(r["energies"]) for r in runs]),
        mib=max(r["mib"] for r in runs),
    )


def warm_up():
    """Compile (or load from numba's on-disk cache) the wsa kernel; returns seconds."""
    rng = np.random.default_rng(0)
    X = surrogate.add_bias(rng.standard_normal((50, 3)))
    H = surrogate.boehning_curvature(X, 1e-3)
    problem = ClassQubo(H, rng.standard_normal(4), np.zeros(4), box_encoding(4, 3, 1.0))
    t0 = time.perf_counter()
    WeightSpaceAnnealer().sample_problem(problem, num_reads=2, num_sweeps=2, seed=0)
    return time.perf_counter() - t0


def fmt_e(x):
    return f"{x:.6g}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["digits"],
                        help="digits (d=64), mnist (d=196), cifar10_jpeg (d=256), ...; all but digits need "
                             "QUBOCNN_DATA (a data root)")
    parser.add_argument("--bits", nargs="+", type=int, default=[5, 10, 15, 20])
    parser.add_argument("--encodings", nargs="+", default=["trust", "box"], choices=["trust", "box"])
    parser.add_argument("--reads", type=int, default=10)
    parser.add_argument("--sweeps", type=int, default=1000)
    parser.add_argument("--moves", nargs="+", default=["flip", "integer"], choices=["flip", "integer"],
                        help="wsa move sets to run (integer: classical, non-quantum +-2^k moves)")
    parser.add_argument("--sa-max-variables", type=int, default=2000,
                        help="skip dwave-samplers SA above this many variables (its cost grows like n^2: "
                             "about 40 s at n=1940 and several minutes at n=3900 for 10 x 1000)")
    parser.add_argument("--single-thread", action="store_true",
                        help="also time wsa (flip) on one numba thread (SA is single-threaded)")
    parser.add_argument("--train-limit", type=int, default=10000, help="training rows used for the curvature")
    parser.add_argument("--mm-steps", type=int, default=3, help="continuous MM steps from zero to reach W_t")
    parser.add_argument("--lam", type=float, default=1e-3)
    parser.add_argument("--cls", type=int, default=0, help="the class whose QUBO is solved")
    parser.add_argument("--trust-half-range", type=float, default=0.5)
    parser.add_argument("--box-half-range", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per solver with seeds seed, seed+1, ...: times are medians, energies "
                             "the median over runs of each run's best / median over reads")
    parser.add_argument("--markdown", help="also write the tables to this file")
    args = parser.parse_args(argv)

    import numba

    print(f"# anneal_speed: {args.reads} reads x {args.sweeps} sweeps, numba threads {numba.get_num_threads()}, "
          f"cpus {os.cpu_count()}, python {sys.version.split()[0]}")
    compile_s = warm_up()
    print(f"wsa kernel compile/load (first call): {compile_s:.2f} s (excluded from the timings below)")

    rows = []
    for name in args.datasets:
        t0 = time.perf_counter()
        features = load_features(name, args.train_limit, args.seed)
        print(f"\n## {name}: {features.x_train.shape[0]} training rows, d = {features.num_features} kept features, "
              f"{features.num_classes} classes (features {time.perf_counter() - t0:.1f} s)", flush=True)
        for bits in args.bits:
            problems = class_problems(features, args.lam, args.mm_steps, args.cls, bits,
                                      args.trust_half_range, args.box_half_range)
            for mode in args.encodings:
                problem = problems[mode]
                n = problem.num_variables
                e_star = continuous_optimum(problem)
                br = beta_range(problem)
                row = dict(dataset=name, d=features.num_features, K=bits, mode=mode, n=n, e_star=e_star,
                           threads=numba.get_num_threads())
                if n <= args.sa_max_variables:
                    row["sa"] = repeated(run_sa, args.repeats, args.seed, problem, args.reads, args.sweeps, br)
                for moves in args.moves:
                    row[f"wsa_{moves}"] = repeated(run_wsa, args.repeats, args.seed, problem, args.reads,
                                                   args.sweeps, br, moves)
                row["round"] = repeated(run_round, args.repeats, args.seed, problem)
                if args.single_thread and "flip" in args.moves:
                    row["wsa_flip_1t"] = repeated(run_wsa, args.repeats, args.seed, problem, args.reads,
                                                  args.sweeps, br, "flip", threads=1)
                rows.append(row)
                print(line(row), flush=True)
    text = tables(rows, args, compile_s)
    print("\n" + text)
    if args.markdown:
        with open(args.markdown, "w") as fp:
            fp.write(text)


def rel(x, e_star):
    return x / abs(e_star)


def line(row):
    e_star = row["e_star"]
    parts = [f"{row['dataset']} K={row['K']} {row['mode']} n={row['n']} E*={fmt_e(e_star)}"]
    for key in ("sa", "wsa_flip", "wsa_flip_1t", "wsa_integer", "round"):
        if key in row:
            r = row[key]
            parts.append(f"{key}: {r['total']:.3f}s best {fmt_e(np.median(r['best']))} "
                         f"gap {rel(np.median(r['best']) - e_star, e_star):.3g}")
        elif key == "sa":
            parts.append("sa: skipped (n above --sa-max-variables)")
    return " | ".join(parts)


def tables(rows, args, compile_s):
    runs = "one run per solver" if args.repeats == 1 else f"medians over {args.repeats} runs (seeds)"
    out = [f"reads x sweeps = {args.reads} x {args.sweeps}, {runs}; wsa compile/load {compile_s:.2f} s excluded.",
           "gap = (E_best - E*)/|E*| (E* the continuous optimum of the class surrogate); "
           "dE = (wsa - SA)/|E*| of the best and of the median energy over reads (negative: wsa lower); "
           "MiB = peak RSS increase; SA build = dense BQM construction.", ""]
    cols = ["data", "d+1", "K", "grid", "n", "SA build s", "SA sample s", "wsa s", "SA/wsa sample", "SA/wsa total"]
    if args.single_thread:
        cols += ["wsa 1-thr s", "SA/wsa 1-thr"]
    cols += ["SA gap", "wsa gap", "dE best", "dE median", "SA MiB", "wsa MiB"]
    if "integer" in args.moves:
        cols += ["int s", "int gap"]
    cols += ["round s", "round gap", "SA flips/s/core", "wsa flips/s/core"]
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "---|" * len(cols))
    for row in rows:
        e_star = row["e_star"]
        w, s, w1, i = row.get("wsa_flip"), row.get("sa"), row.get("wsa_flip_1t"), row.get("wsa_integer")
        cells = [row["dataset"], str(row["n"] // row["K"]), str(row["K"]), row["mode"], str(row["n"])]
        cells += [f"{s['build']:.2f}", f"{s['sample']:.2f}"] if s else ["skipped", "skipped"]
        cells.append(f"{w['total']:.3f}" if w else "-")
        cells += [f"{s['sample'] / w['total']:.1f}x", f"{s['total'] / w['total']:.1f}x"] if (s and w) else ["-", "-"]
        if args.single_thread:
            cells.append(f"{w1['total']:.3f}" if w1 else "-")
            cells.append(f"{s['total'] / w1['total']:.1f}x" if (s and w1) else "-")
        cells.append(f"{rel(np.median(s['best']) - e_star, e_star):.3g}" if s else "-")
        cells.append(f"{rel(np.median(w['best']) - e_star, e_star):.3g}" if w else "-")
        if s and w:
            cells.append(f"{rel(np.median(w['best']) - np.median(s['best']), e_star):+.3g}")
            cells.append(f"{rel(np.median(w['median']) - np.median(s['median']), e_star):+.3g}")
        else:
            cells += ["-", "-"]
        cells.append(f"{s['mib']:.0f}" if s else "-")
        cells.append(f"{w['mib']:.1f}" if w else "-")
        if "integer" in args.moves:
            cells += [f"{i['total']:.3f}", f"{rel(np.median(i['best']) - e_star, e_star):.3g}"]
        r = row["round"]
        cells += [f"{r['total']:.4f}", f"{rel(np.median(r['best']) - e_star, e_star):.3g}"]
        attempts = args.reads * args.sweeps * row["n"]
        cells.append(f"{attempts / s['sample']:.3g}" if s else "-")
        cells.append(f"{attempts / (w['total'] * min(args.reads, row['threads'])):.3g}" if w else "-")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
