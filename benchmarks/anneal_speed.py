"""Annealers side by side on the per-class QUBOs training builds: nanoseconds per spin-flip attempt
per core, and how close each gets to the continuous optimum.

Run by hand (not a test); optional solvers come with the `bench` extra (openjij,
simulated-bifurcation):

    OMP_NUM_THREADS=1 nice python benchmarks/anneal_speed.py                     # digits, K=20 trust
    OMP_NUM_THREADS=1 QUBOCNN_DATA=/work/data nice python benchmarks/anneal_speed.py \\
        --datasets digits mnist --markdown benchmarks/results/anneal_speed_digits_mnist.md

The QUBOs: frozen-CNN features of a data set (default preset), the head moved a few continuous
majorise-minimise steps from zero to a realistic point W_t, class 0's surrogate on a trust grid
centred at W_t (half-range 0.5) or on the paper's box grid (centre 0, half-range 2). Every solver
gets the same QUBO and the same geometric beta_range (`qubocnn.schedules.beta_range`); energies are
recomputed in weight space for all. Everything runs on one thread (numba, torch), one after another
in one process, so the ratios are side by side; times are CPU seconds of the process (robust on a
shared machine). simulated-bifurcation's own time limit counts wall time.

Rows per problem:
- wsa: qubocnn's weight-space annealer (moves="flip"), one call of repeats x reads reads, split into
  `--repeats` groups of `reads` (times per group; after a warm-up call, so numba's compile is excluded).
- wsa, previous kernel: tests/wsa_reference.py (whole-field update after every accepted flip, plain
  exp), one call of `reads` reads: the speed-up of the present kernel, same final integers.
- dwave-samplers SA, the same chain on the dense BQM, grouped as wsa: sampling alone and BQM build
  (once) plus sampling.
- OpenJij SA on its native dense model (from the dense QUBO matrix): the whole call, and the
  marginal cost per attempt (the call at `sweeps` minus the call at one sweep, which removes the
  model conversion inside `sample`).
- simulated-bifurcation at its defaults (128 agents, up to 10000 steps, early stopping) on CPU,
  except a time limit (`--sb-timeout`); then the time wsa needs to reach the energy it reached,
  doubling the sweeps from `sweeps` up to 64x (or the note that it did not within them).
- round: the continuous minimiser rounded to the grid, then steepest single-bit descent.

Verdict "wsa >= SA", at equal reads x sweeps, against the group-to-group noise: each group's best
energy (`--repeats` groups of `reads` reads per solver) is one sample; wsa fails if a one-sided
Mann-Whitney test finds its group bests higher than SA's (p < 0.01), or if a two-sample KS test on
the final energies of all reads tells the two chains apart (p < 1e-3), as in tests/test_wsa.py. The
note gives the difference of the median group bests beside their interquartile range, in |E*|.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

import numpy as np
from scipy.stats import ks_2samp, mannwhitneyu

from qubocnn import surrogate
from qubocnn.qubo import ClassQubo, box_encoding, dense_qubo, to_bqm, trust_encoding
from qubocnn.schedules import beta_range
from qubocnn.solvers import RoundingSolver
from qubocnn.wsa import WeightSpaceAnnealer, _anneal_kernel

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))
from wsa_reference import reference_kernel  # noqa: E402  (the previous kernel lives with the tests)


def load_features(name: str, train_limit: int, seed: int):
    from qubocnn.data import load_dataset
    from qubocnn.features import make_feature_set

    dataset = load_dataset(name, limit_train=train_limit, limit_test=10)
    return make_feature_set(dataset, "default", seed=seed, progress=False)


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


def timed(function, *args, **kwargs):
    """(result, CPU seconds of this process): every solver here runs on one thread, so on a shared
    machine its CPU time is what it would take alone (wall time also counts the waits for a core)."""
    start = time.process_time()
    result = function(*args, **kwargs)
    return result, time.process_time() - start


def ordered_samples(sampleset):
    order = np.argsort(np.asarray(list(sampleset.variables)))
    return sampleset.record.sample[:, order]


def run_wsa(problem, reads, sweeps, br, seed):
    sampleset, seconds = timed(WeightSpaceAnnealer().sample_problem, problem, num_reads=reads,
                               num_sweeps=sweeps, seed=seed, beta_range=br)
    return seconds, problem.energies(ordered_samples(sampleset))


def run_reference(problem, reads, sweeps, br, seed):
    hot, cold = br
    args = (np.ascontiguousarray(problem.curvature), problem.gradient, problem.shift, float(problem.delta),
            np.int64(problem.bits), np.geomspace(hot, cold, sweeps), np.full((reads, len(problem.gradient)), -1),
            np.uint64(seed), False)
    reference, seconds = timed(reference_kernel, *args)
    # the package's kernel on the same arguments, for the bit-identity check the table reports
    return seconds, np.array_equal(reference, _anneal_kernel(*args))


def run_sa(problem, reads, sweeps, br, seed):
    from dwave.samplers import SimulatedAnnealingSampler

    bqm, build = timed(to_bqm, problem)
    sampleset, sample = timed(SimulatedAnnealingSampler().sample, bqm, num_reads=reads, num_sweeps=sweeps,
                              seed=seed, beta_range=br, beta_schedule_type="geometric")
    return build, sample, problem.energies(ordered_samples(sampleset))


def run_openjij(problem, reads, sweeps, br, seed):
    import openjij

    Q, offset = dense_qubo(problem)
    n = problem.num_variables
    model, build = timed(openjij.BinaryQuadraticModel.from_numpy_matrix, Q, list(range(n)), offset, "BINARY")
    hot, cold = br

    def call(num_sweeps):
        return timed(openjij.SASampler().sample, model, num_reads=reads, num_sweeps=num_sweeps, beta_min=hot,
                     beta_max=cold, seed=seed, sparse=False)

    sampleset, seconds = call(sweeps)
    _, one_sweep = call(1)
    bits = np.array([[sample[v] for v in range(n)] for sample in sampleset.samples()])
    return build, seconds, seconds - one_sweep, problem.energies(bits)


def run_bifurcation(problem, timeout):
    import simulated_bifurcation
    import torch

    Q, offset = dense_qubo(problem)
    wall = time.perf_counter()
    (bits, _), seconds = timed(simulated_bifurcation.minimize, torch.tensor(Q), domain="binary", verbose=False,
                               timeout=timeout)
    return seconds, time.perf_counter() - wall, float(problem.energies(bits.numpy().astype(np.int8)[None])[0])


def wsa_time_to_reach(problem, target, reads, sweeps, br, seed, max_factor=64):
    """(seconds, sweeps) of the first wsa run (doubling sweeps) whose best energy is <= target, or None."""
    factor = 1
    while factor <= max_factor:
        seconds, energies = run_wsa(problem, reads, sweeps * factor, br, seed)
        if energies.min() <= target:
            return seconds, sweeps * factor
        factor *= 2
    return None


def warm_up():
    """Compile (or load from numba's on-disk cache) both kernels; returns seconds."""
    rng = np.random.default_rng(0)
    H = surrogate.boehning_curvature(surrogate.add_bias(rng.standard_normal((50, 3))), 1e-3)
    problem = ClassQubo(H, rng.standard_normal(4), np.zeros(4), box_encoding(4, 3, 1.0))
    start = time.perf_counter()
    run_wsa(problem, 2, 2, beta_range(problem), 0)
    run_reference(problem, 2, 2, beta_range(problem), 0)
    return time.perf_counter() - start


def benchmark(problem, args):
    """All rows for one problem: a list of (solver, seconds, ns per attempt, best energy, note) and the verdict."""
    n, reads, sweeps = problem.num_variables, args.reads, args.sweeps
    attempts = reads * sweeps * n
    br = beta_range(problem)
    rows = []

    # `repeats` groups of `reads` reads in one call (as in tests/test_wsa.py): time per group of reads
    wsa_seconds, wsa_energies = run_wsa(problem, reads * args.repeats, sweeps, br, args.seed)
    wsa_seconds /= args.repeats
    wsa_groups = wsa_energies.reshape(args.repeats, reads).min(axis=1)
    wsa_best = float(np.median(wsa_groups))
    rows.append(("wsa", wsa_seconds, wsa_seconds / attempts, wsa_best, f"per {reads} reads, {args.repeats} groups"))

    ref_seconds, identical = run_reference(problem, reads, sweeps, br, args.seed)
    rows.append(("wsa, previous kernel", ref_seconds, ref_seconds / attempts, None,
                 f"{ref_seconds / wsa_seconds:.1f}x the present kernel's time; final integers "
                 + ("identical" if identical else "DIFFER")))

    verdict = "-"
    if n <= args.sa_max_variables:
        build, sample, sa_energies = run_sa(problem, reads * args.repeats, sweeps, br, args.seed)
        sample /= args.repeats
        sa_groups = sa_energies.reshape(args.repeats, reads).min(axis=1)
        sa_best = float(np.median(sa_groups))
        rows.append(("dwave-samplers SA, sampling", sample, sample / attempts, sa_best,
                     f"{sample / wsa_seconds:.0f}x wsa's time"))
        rows.append(("dwave-samplers SA, BQM build + sampling", build + sample, (build + sample) / attempts, None,
                     f"{(build + sample) / wsa_seconds:.0f}x wsa's time"))
        e_star = continuous_optimum(problem)
        worse_p = mannwhitneyu(wsa_groups, sa_groups, alternative="greater").pvalue
        p_value = ks_2samp(wsa_energies, sa_energies).pvalue
        spread = np.subtract(*np.percentile(np.concatenate([wsa_groups, sa_groups]), [75, 25])) / abs(e_star)
        verdict = (f"{'pass' if worse_p >= 0.01 and p_value >= 1e-3 else 'FAIL'} (median group best wsa - SA = "
                   f"{(wsa_best - sa_best) / abs(e_star):+.3g} |E*|, group bests' IQR {spread:.3g} |E*|; "
                   f"wsa worse: Mann-Whitney p = {worse_p:.2g}; same chain: KS p = {p_value:.2g})")
    else:
        rows.append(("dwave-samplers SA", None, None, None, "skipped (n above --sa-max-variables)"))

    if "openjij" not in args.skip:
        build, seconds, marginal, energies = run_openjij(problem, reads, sweeps, br, args.seed)
        rows.append(("OpenJij SA, dense native model (whole call)", seconds, seconds / attempts,
                     float(energies.min()), f"{seconds / wsa_seconds:.0f}x wsa's time; model build {build:.2f} s"))
        rows.append(("OpenJij SA, marginal per attempt", None, marginal / (reads * (sweeps - 1) * n), None,
                     f"{marginal / (reads * (sweeps - 1)) / (wsa_seconds / (reads * sweeps)):.0f}x wsa's per attempt"))

    if "bifurcation" not in args.skip:
        seconds, wall, energy = run_bifurcation(problem, args.sb_timeout)
        reach = wsa_time_to_reach(problem, energy, reads, sweeps, br, args.seed)
        note = (f"wsa reaches this energy in {reach[0]:.3g} s ({reads} reads x {reach[1]} sweeps)" if reach else
                f"wsa does not reach it within {reads} reads x {64 * sweeps} sweeps")
        limit = f"; ran into its {args.sb_timeout:g} s (wall) limit" if wall >= args.sb_timeout else ""
        rows.append(("simulated-bifurcation, defaults", seconds, None, energy, note + limit))

    answer = RoundingSolver().solve(problem, args.seed)
    rows.append(("round (rounded continuous minimiser + descent)", answer.seconds, None, answer.energy, ""))
    return rows, verdict


def table(problem_rows, args, compile_s):
    out = [f"{args.reads} reads x {args.sweeps} sweeps, one thread for every solver, CPU seconds; gap = (E_best - E*)/|E*| "
           f"(E* the continuous optimum of the class surrogate); wsa compile/load {compile_s:.2f} s excluded.", "",
           "| problem | solver | seconds | ns per attempt per core | best gap | note |", "|---|---|---|---|---|---|"]
    for label, e_star, rows, verdict in problem_rows:
        for solver, seconds, per_attempt, best, note in rows:
            cells = [label, solver, "-" if seconds is None else f"{seconds:.3g}",
                     "-" if per_attempt is None else f"{per_attempt * 1e9:.3g}",
                     "-" if best is None else f"{(best - e_star) / abs(e_star):.3g}", note]
            out.append("| " + " | ".join(cells) + " |")
        out.append(f"| {label} | verdict wsa >= SA at equal reads x sweeps | | | | {verdict} |")
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["digits"],
                        help="digits (d=64), mnist (d=196), ...; all but digits need QUBOCNN_DATA (a data root)")
    parser.add_argument("--bits", nargs="+", type=int, default=[20])
    parser.add_argument("--encodings", nargs="+", default=["trust"], choices=["trust", "box"])
    parser.add_argument("--reads", type=int, default=4)
    parser.add_argument("--sweeps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=10,
                        help="groups of `reads` reads for wsa and SA (one call of repeats x reads reads each)")
    parser.add_argument("--sa-max-variables", type=int, default=4000,
                        help="skip dwave-samplers SA above this many variables (its cost grows like n^2)")
    parser.add_argument("--sb-timeout", type=float, default=60.0,
                        help="seconds simulated-bifurcation may run (its defaults take minutes at n >= 1000)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["openjij", "bifurcation"],
                        help="leave out solvers of the bench extra")
    parser.add_argument("--train-limit", type=int, default=10000, help="training rows used for the curvature")
    parser.add_argument("--mm-steps", type=int, default=3, help="continuous MM steps from zero to reach W_t")
    parser.add_argument("--lam", type=float, default=1e-3)
    parser.add_argument("--cls", type=int, default=0, help="the class whose QUBO is solved")
    parser.add_argument("--trust-half-range", type=float, default=0.5)
    parser.add_argument("--box-half-range", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", help="also write the table to this file (atomically)")
    args = parser.parse_args(argv)
    if args.reads < 1 or args.sweeps < 2 or args.repeats < 1:
        parser.error("--reads and --repeats must be >= 1 and --sweeps >= 2")

    import numba
    import torch

    numba.set_num_threads(1)
    torch.set_num_threads(1)
    print(f"# anneal_speed: {args.reads} reads x {args.sweeps} sweeps, one thread, cpus {os.cpu_count()}, "
          f"python {sys.version.split()[0]}", flush=True)
    compile_s = warm_up()
    problem_rows = []
    for name in args.datasets:
        features = load_features(name, args.train_limit, args.seed)
        for bits in args.bits:
            problems = class_problems(features, args.lam, args.mm_steps, args.cls, bits,
                                      args.trust_half_range, args.box_half_range)
            for mode in args.encodings:
                problem = problems[mode]
                label = f"{name} d+1={len(problem.gradient)} K={bits} {mode} n={problem.num_variables}"
                print(f"## {label}", flush=True)
                rows, verdict = benchmark(problem, args)
                problem_rows.append((label, continuous_optimum(problem), rows, verdict))
    text = table(problem_rows, args, compile_s)
    print("\n" + text)
    if args.markdown:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        command = " ".join(["python benchmarks/anneal_speed.py", *(argv if argv is not None else sys.argv[1:])])
        tmp = args.markdown + ".tmp"
        with open(tmp, "w") as fp:
            fp.write(f"<!-- {command}; {stamp}, {os.cpu_count()}-core machine shared with other jobs -->\n\n{text}")
        os.replace(tmp, args.markdown)


if __name__ == "__main__":
    main()
