"""Command line: `qubocnn features | train | predict | baseline | export-qubo | hardware | ...`.

Every option can also come from a YAML file (`--config FILE`, keys named like the options with
underscores); options given on the command line win over the file, the file over the defaults.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields

import numpy as np
import yaml

from . import __version__, download, reproduce
from .solvers import SolverConfig
from .train import ACCEPT_RULES, TrainConfig

log = logging.getLogger("qubocnn")

SOURCE_DEFAULTS = dict(features=None, dataset=None, data_root=None, download=False, preset="default",
                       feature_seed=None, limit_train=None, limit_test=None, emnist_split="balanced", seed=0,
                       lam=1e-3, progress=True, config=None)
DEFAULTS = {
    "features": dict(SOURCE_DEFAULTS, out=None),
    # the training defaults are TrainConfig's and SolverConfig's (one source of truth)
    "train": dict(SOURCE_DEFAULTS, **{f.name: getattr(TrainConfig(), f.name) for f in fields(TrainConfig)
                                      if f.name != "solver"},
                  solver=SolverConfig().name, reads=SolverConfig().num_reads, sweeps=SolverConfig().num_sweeps,
                  solver_options={}, solver_option=None, qpu_noise=False, sigma_h=SolverConfig().sigma_h,
                  sigma_j=SolverConfig().sigma_J, block_size=None, out=None),
    # None: the defaults of baselines.fit_baseline (learning rates tuned on a validation split)
    "baseline": dict(SOURCE_DEFAULTS, method="sgd", epochs=None, lr=None, momentum=None, batch_size=None,
                     validation_fraction=None, out=None),
    "export-qubo": dict(SOURCE_DEFAULTS, bits=10, mode="box", half_range=2.0, target_class=0, run=None, iteration=1,
                        out=None),
    "hardware": dict(presets="default,clique", bits="5,10,15,20", out=None, config=None),
    "predict": dict(head=None, features=None, dataset=None, data_root=None, download=False, emnist_split="balanced",
                    limit_test=None, progress=True, out=None, config=None),
}


def _data_options(group) -> None:
    """Where a data set's files are, and how much of its test split to keep."""
    group.add_argument("--data-root", help="data root (default: $QUBOCNN_DATA or data/)")
    group.add_argument("--download", action="store_true", help="let torchvision download missing files")
    group.add_argument("--limit-test", type=int, help="keep the first N test examples")
    group.add_argument("--emnist-split", help="EMNIST split (default balanced)")


def _source_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("features (a cached feature file, or a data set to extract them from)")
    group.add_argument("--features", help="feature file written by `qubocnn features`")
    group.add_argument("--dataset", help="digits, mnist, fashion_mnist, kmnist, emnist, cifar10, cifar10_jpeg or a .npz")
    group.add_argument("--preset", help="frozen-CNN feature preset (default, clique)")
    group.add_argument("--feature-seed", type=int, help="seed of the random filters (default: --seed)")
    group.add_argument("--limit-train", type=int, help="keep the first N training examples")
    _data_options(group)
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument("--lam", type=float, help="L2 weight lambda (default 1e-3)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    parser.add_argument("--config", help="YAML file of option values")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qubocnn", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"qubocnn {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    sub = {}
    for name, text in [("features", "extract and cache frozen-CNN features"),
                       ("train", "train the head by per-class QUBOs"),
                       ("predict", "apply a saved head (RUN.head.npz) to a feature file or a data set's test images"),
                       ("baseline", "train a reference head (sgd, logreg, ridge)"),
                       ("export-qubo", "write one class's QUBO (the first iteration's, or any iteration of a run) "
                                       "for other solvers"),
                       ("hardware", "D-Wave feasibility table (raw counts and clique embeddings)")]:
        sub[name] = commands.add_parser(name, help=text, description=text, argument_default=argparse.SUPPRESS)
    for name in ("features", "train", "baseline", "export-qubo"):
        _source_options(sub[name])
    sub["features"].add_argument("--out", help="feature file to write (.npz)")

    train = sub["train"]
    train.add_argument("--bits", type=int, help="K, bits per parameter (1..32, default 10)")
    train.add_argument("--mode", help="box (the paper's fixed grid), trust (re-centred, adaptive) or continuous")
    train.add_argument("--solver", help="wsa (default), sa, neal, tabu, steepest, exact, qpu")
    train.add_argument("--reads", type=int, help="reads per QUBO (default 4)")
    train.add_argument("--solver-option", action="append", metavar="KEY=VALUE",
                       help="extra sampler argument, e.g. annealing_time=20 or chain_strength=2 (repeatable)")
    train.add_argument("--sweeps", type=int, help="sweeps per read (default 200)")
    train.add_argument("--qpu-noise", action="store_true",
                       help="sample under the QPU control-error model: the QPU's h/J range scaling plus Gaussian "
                            "errors (qpu_noise.ControlErrorComposite; solvers sa, neal, tabu, steepest, exact)")
    train.add_argument("--sigma-h", type=float, help="--qpu-noise: sigma of the errors on h, in the QPU's units "
                                                     f"(default {SolverConfig().sigma_h})")
    train.add_argument("--sigma-j", type=float, help="--qpu-noise: sigma of the errors on J, in the QPU's units "
                                                     f"(default {SolverConfig().sigma_J})")
    train.add_argument("--block-size", help="solve each class QUBO in blocks of at most N variables (an integer, or "
                                            "'clique': the largest clique that embeds on an Advantage)")
    train.add_argument("--iterations", type=int, help="majorise-minimise iterations (default 30)")
    train.add_argument("--jobs", type=int, help="threads solving the per-class QUBOs (default 1)")
    train.add_argument("--box-half-range", type=float, help="box mode: weights in [-R, R) (default 2)")
    train.add_argument("--trust-half-range", type=float, help="trust mode: initial half-range (default 1)")
    train.add_argument("--trust-max-half-range", type=float, help="trust mode: cap of the half-range (default 4)")
    train.add_argument("--warm-start", action="store_true", help="start every read from the current weights")
    train.add_argument("--refinements", type=int,
                       help="extra QUBOs per class and iteration, re-centred at the best answer with half the range "
                            "(default: 6 in trust mode, 0 in box mode)")
    train.add_argument("--accelerate", action=argparse.BooleanOptionalAction,
                       help="MFISTA momentum: build each iteration's QUBOs at an extrapolated point "
                            "(default: on for trust and continuous, off for box)")
    train.add_argument("--accept", help=f"{' or '.join(ACCEPT_RULES)}: take a class's answer only if it lowers its "
                                        "surrogate (default), or every answer (a literal reading of the paper's loop)")
    train.add_argument("--tol", type=float, help="stop once the training loss fell by less than this (relative) over "
                                                 "the last 3 iterations (default 0: run every iteration)")
    train.add_argument("--out", help="result JSON to write")

    baseline = sub["baseline"]
    baseline.add_argument("--method", help="sgd, logreg or ridge")
    baseline.add_argument("--epochs", type=int, help="sgd: epochs (default 20)")
    baseline.add_argument("--lr", help="sgd: comma-separated learning rates, chosen on a validation split "
                                       "(one value: no tuning; default 0.001,0.003,0.01,0.03,0.1,0.3,1)")
    baseline.add_argument("--momentum", type=float, help="sgd: momentum (default 0.9)")
    baseline.add_argument("--batch-size", type=int, help="sgd: minibatch size (default 128)")
    baseline.add_argument("--validation-fraction", type=float, help="sgd: share of the training set used to "
                                                                    "choose the learning rate (default 0.1)")
    baseline.add_argument("--out", help="result JSON to write")

    export = sub["export-qubo"]
    export.add_argument("--bits", type=int)
    export.add_argument("--mode", help="box or trust (both centred at W = 0 on the first iteration)")
    export.add_argument("--half-range", type=float)
    export.add_argument("--class", dest="target_class", type=int, help="class whose QUBO to write (default 0)")
    export.add_argument("--run", help="result JSON of a `qubocnn train` run in box or trust mode: replay it with its "
                                      "options and seed (its grid, not --bits, --mode, --half-range)")
    export.add_argument("--iteration", type=int, help="with --run: the iteration whose QUBO to write (default 1)")
    export.add_argument("--out", help=".coo, .json (dimod) or .npz (dense upper-triangular Q)")

    predict = sub["predict"]
    predict.add_argument("--head", help="head file that `qubocnn train --out RUN.json` wrote (RUN.head.npz)")
    predict.add_argument("--features", help="feature file of the head's features (its test split is scored)")
    predict.add_argument("--dataset", help="data set whose test images get the head's frozen CNN and standardisation")
    _data_options(predict)
    predict.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    predict.add_argument("--out", help="predictions JSON to write (test accuracy and one class per example)")
    predict.add_argument("--config", help="YAML file of option values")

    hardware = sub["hardware"]
    hardware.add_argument("--presets", help="comma-separated feature presets (default default,clique)")
    hardware.add_argument("--bits", help="comma-separated K values (default 5,10,15,20)")
    hardware.add_argument("--out", help="feasibility JSON to write")
    hardware.add_argument("--config", help="YAML file of option values")

    text = "tables and figures from result files (qubocnn.report)"
    report = commands.add_parser("report", help=text, description=text, argument_default=argparse.SUPPRESS)
    report.add_argument("action", choices=("collect", "tables", "figures", "readme"),
                        help="collect: one CSV row per run; tables: CSV, Markdown, LaTeX; figures: PNG, PDF; "
                             "readme: copy the Markdown tables of --tables-dir into README.md's table blocks")
    report.add_argument("--tables-dir", help="readme: the Markdown tables (default results/full/tables)")
    report.add_argument("--readme", help="readme: the file to update (default README.md)")
    report.add_argument("--results", nargs="+", help="result JSON files or directories (searched recursively)")
    report.add_argument("--hardware", help="`qubocnn hardware` JSON (default: a hardware.json under --results)")
    report.add_argument("--out-dir", help="tables: CSV and Markdown go here; figures: PNG and PDF go here")
    report.add_argument("--latex-dir", help="tables: LaTeX goes here (default: --out-dir)")
    report.add_argument("--formats", help="figures: comma-separated file formats (default png,pdf)")
    report.add_argument("--names", help="comma-separated subset of the tables or figures (default: all)")
    report.add_argument("--out", help="collect: the CSV to write")
    reproduce.add_parser(commands)
    download.add_parser(commands)
    return parser


def parse_options(argv=None) -> tuple[str, dict]:
    """Merge defaults < YAML config < command-line options; unknown config keys are refused."""
    args = vars(build_parser().parse_args(argv))
    command = args.pop("command")
    options = dict(DEFAULTS[command])
    if args.get("config"):
        with open(args["config"]) as stream:
            from_file = yaml.safe_load(stream) or {}
        unknown = sorted(set(from_file) - set(options))
        if unknown:
            raise ValueError(f"unknown option(s) in {args['config']}: {', '.join(unknown)} "
                             f"(valid for {command}: {', '.join(sorted(options))})")
        options.update(from_file)
    options.update(args)
    if "out" in options and not options["out"]:
        raise ValueError(f"missing --out: where should `qubocnn {command}` write its result?")
    return command, options


def load_features(options: dict):
    from .data import load_dataset
    from .features import FeatureSet, make_feature_set

    if options["features"]:
        return FeatureSet.load(options["features"])
    if not options["dataset"]:
        raise ValueError("give --features FILE or --dataset NAME")
    dataset = load_dataset(options["dataset"], root=options["data_root"], download=options["download"],
                           emnist_split=options["emnist_split"], limit_train=options["limit_train"],
                           limit_test=options["limit_test"])
    seed = options["seed"] if options["feature_seed"] is None else options["feature_seed"]
    return make_feature_set(dataset, options["preset"], seed, progress=options["progress"])


def run_features(options: dict) -> None:
    features = load_features(options)
    features.save(options["out"])
    log.info("wrote %s: %s, %d features, %d train / %d test", options["out"], features.label,
             features.num_features, len(features.y_train), len(features.y_test))


def train_config(options: dict) -> TrainConfig:
    """The TrainConfig of `train` options; refuses bad settings, unknown solver options and a missing QPU."""
    solver_options = dict(options["solver_options"])
    for item in options.get("solver_option") or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--solver-option takes KEY=VALUE, got {item!r}")
        solver_options[key] = yaml.safe_load(value)
    solver = SolverConfig(options["solver"], options["reads"], options["sweeps"], solver_options,
                          qpu_noise=options["qpu_noise"], sigma_h=options["sigma_h"], sigma_J=options["sigma_j"],
                          block_size=block_size_option(options["block_size"]))
    if solver.name == "qpu":
        from .qpu import require_credentials
        require_credentials()
    config = TrainConfig(bits=options["bits"], mode=options["mode"], iterations=options["iterations"],
                         lam=options["lam"], box_half_range=options["box_half_range"],
                         trust_half_range=options["trust_half_range"],
                         trust_max_half_range=options["trust_max_half_range"], warm_start=options["warm_start"],
                         refinements=options["refinements"], accelerate=options["accelerate"],
                         accept=options["accept"], tol=options["tol"], seed=options["seed"], jobs=options["jobs"],
                         solver=solver)
    if solver.block_size is not None:
        from .blocks import check_block_size
        from .embedding import DEFAULT_SYSTEM
        check_block_size(solver.block_size, config.bits, DEFAULT_SYSTEM)
    return config


def run_train(options: dict) -> None:
    from .heads import Head, head_path
    from .qubo import problem_size
    from .results import make_result, write_result
    from .solvers import make_solver
    from .train import train_qubo_head

    config = train_config(options)
    solver = config.solver
    # made once per run; refuses unknown solver options (and a missing QPU) before any work
    run_solver = make_solver(solver)
    features = load_features(options)
    targets_qpu = config.mode != "continuous" and (solver.name == "qpu" or solver.qpu_noise)
    calls = qpu_call_shape(features.num_features, config.bits, solver.block_size) if targets_qpu else None
    if targets_qpu:
        log_qpu_estimate(solver, config, features.num_classes, calls)
    fit = train_qubo_head(features.x_train, features.y_train, features.x_test, features.y_test,
                          features.num_classes, config, sampler=run_solver, progress=options["progress"])
    method = "continuous-mm" if config.mode == "continuous" else f"qubo-{config.mode}"
    result = make_result("qubo", method, features, fit, options, seed=config.seed, bits=config.bits,
                         mode=config.mode, solver=config.solver.name if config.mode != "continuous" else None,
                         accelerated=config.accelerated, refinements=config.num_refinements,
                         accept=config.accept, tol=config.tol, iterations_run=fit["iterations_run"],
                         qubo=problem_size(features.num_features, config.bits), head=head_path(options["out"]).name,
                         **(qpu_records(solver, run_solver, calls) if targets_qpu else {}))
    # one unit: the head first, the result that names it last; a failure leaves both as they were
    write_result(result, options["out"], also={head_path(options["out"]): Head.of_run(fit["W"], features).write})
    log.info("wrote %s: test accuracy %.4f, train loss %.4f", options["out"], fit["test_accuracy"], fit["train_loss"])


def run_predict(options: dict) -> None:
    from .data import load_dataset
    from .features import FeatureSet, extract_features
    from .heads import Head
    from .results import write_result

    if not options["head"]:
        raise ValueError("give --head FILE: `qubocnn train --out RUN.json` writes RUN.head.npz")
    head = Head.load(options["head"])
    if options["features"]:
        features = FeatureSet.load(options["features"])
        head.check_features(features)
        x_test, y_test = features.x_test, features.y_test
    elif options["dataset"]:
        dataset = load_dataset(options["dataset"], root=options["data_root"], download=options["download"],
                               emnist_split=options["emnist_split"], limit_test=options["limit_test"])
        if dataset.num_classes != head.num_classes:
            raise ValueError(f"{dataset.label} has {dataset.num_classes} classes, the head {head.num_classes}")
        raw = extract_features(dataset.x_test, head.preset, head.feature_seed, progress=options["progress"])
        x_test, y_test = head.standardise(raw), dataset.y_test
    else:
        raise ValueError("give --features FILE or --dataset NAME")
    predictions = head.predict(x_test)
    accuracy = float(np.mean(predictions == y_test))
    write_result({"schema": "qubocnn.predictions/1", "head": options["head"],
                  "source": options["features"] or options["dataset"], "test_accuracy": accuracy,
                  "predictions": predictions}, options["out"])
    log.info("wrote %s: test accuracy %.4f", options["out"], accuracy)


def block_size_option(value) -> int | None:
    """--block-size: None, a number of variables, or 'clique' (the largest clique on the default system)."""
    if value is None:
        return None
    if str(value) == "clique":
        from .embedding import DEFAULT_SYSTEM, max_clique_size
        return max_clique_size(DEFAULT_SYSTEM)
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"--block-size takes a number of variables or 'clique', got {value!r}") from None


def qpu_call_shape(num_features: int, bits: int, block_size: int | None) -> dict:
    """The QPU calls of one class QUBO: how many blocks, of how many variables at most. Refuses a
    call that does not embed as a clique (before any training)."""
    from .blocks import parameter_blocks
    from .embedding import DEFAULT_SYSTEM, clique_embedding, max_clique_size
    from .qubo import problem_size

    variables = problem_size(num_features, bits)["variables"]
    blocks = parameter_blocks(num_features + 1, bits, block_size or variables)
    per_call = max(len(block) for block in blocks) * bits
    if not clique_embedding(per_call, DEFAULT_SYSTEM)["embeddable"]:
        raise ValueError(f"a class QUBO of {per_call} variables (d={num_features}, K={bits}) does not embed on "
                         f"{DEFAULT_SYSTEM} (largest clique: {max_clique_size(DEFAULT_SYSTEM)}): "
                         f"use --block-size clique or fewer bits")
    return dict(num_blocks=len(blocks), variables_per_call=per_call)


def log_qpu_estimate(solver: SolverConfig, config: TrainConfig, num_classes: int, calls: dict) -> None:
    """Before the first call: the run's QPU calls and their QPU access time by D-Wave's timing model
    (every iteration run, every block solved once)."""
    from .qpu import QPU_DEFAULTS, qpu_budget, qpu_calls

    count = qpu_calls(num_classes, config.iterations, config.num_refinements, calls["num_blocks"])
    annealing_time = solver.options.get("annealing_time", QPU_DEFAULTS["annealing_time"])
    budget = qpu_budget(count, calls["variables_per_call"], solver.num_reads, annealing_time)
    log.info("QPU budget: %d calls of at most %d variables, %d reads each: about %.1f s of QPU access time "
             "(D-Wave's timing model, %s)", count, calls["variables_per_call"], solver.num_reads,
             budget["qpu_access_time_s"], budget["timing_model"])


def qpu_records(solver: SolverConfig, run_solver, calls: dict) -> dict:
    """What a QPU-targeted run records: the noise model, the blocks, the QPU budget of the calls it
    made (D-Wave's timing model at the run's reads) and, on a QPU, what the QPU reported."""
    from .qpu import QPU_DEFAULTS, qpu_budget
    from .qpu_noise import DEFAULT_H_RANGE, DEFAULT_J_RANGE

    records = {}
    log = run_solver.call_log
    if solver.qpu_noise:
        records["qpu_noise"] = dict(model="ControlErrorComposite", sigma_h=solver.sigma_h, sigma_J=solver.sigma_J,
                                    h_range=list(DEFAULT_H_RANGE), j_range=list(DEFAULT_J_RANGE),
                                    precision=log.precision_summary())
    if solver.block_size is not None:
        records["blocks"] = dict(block_size=solver.block_size, **calls)
    annealing_time = solver.options.get("annealing_time", QPU_DEFAULTS["annealing_time"])
    records["qpu_budget"] = qpu_budget(log.calls, calls["variables_per_call"], solver.num_reads, annealing_time)
    if solver.name == "qpu":
        records["qpu_reported"] = log.summary()
    return records


def run_baseline(options: dict) -> None:
    from .baselines import METHODS, fit_baseline
    from .results import make_result, write_result

    if options["method"] not in METHODS:
        raise ValueError(f"unknown baseline {options['method']!r}: choose one of {', '.join(METHODS)}")
    features = load_features(options)
    sgd_options = {}
    if options["method"] == "sgd":
        sgd_options = {k: options[k] for k in ("epochs", "momentum", "batch_size", "validation_fraction")
                       if options[k] is not None}
        if options["lr"] is not None:
            try:
                sgd_options["learning_rates"] = [float(lr) for lr in str(options["lr"]).split(",")]
            except ValueError:
                raise ValueError(f"--lr takes comma-separated numbers, got {options['lr']!r}") from None
    fit = fit_baseline(options["method"], features.x_train, features.y_train, features.x_test, features.y_test,
                       features.num_classes, options["lam"], seed=options["seed"], progress=options["progress"],
                       **sgd_options)
    extra = {"sgd": fit["sgd"]} if "sgd" in fit else {}
    write_result(make_result("baseline", options["method"], features, fit, options, seed=options["seed"], **extra),
                 options["out"])
    log.info("wrote %s: test accuracy %.4f", options["out"], fit["test_accuracy"])


def run_export_qubo(options: dict) -> None:
    from . import surrogate
    from .qubo import ClassQubo, box_encoding, export_qubo, trust_encoding

    if options["run"]:
        problem, metadata = _replayed_qubo(options)
    else:
        if options["iteration"] != 1:
            raise ValueError("--iteration needs --run RESULT.json: the run whose iteration to replay")
        if options["mode"] not in ("box", "trust"):
            raise ValueError(f"unknown mode {options['mode']!r}: choose box or trust")
        features = load_features(options)
        c = _checked_class(options, features)
        X = surrogate.add_bias(features.x_train)
        W = np.zeros((X.shape[1], features.num_classes))
        H = surrogate.boehning_curvature(X, options["lam"])
        G = surrogate.gradient(X, features.y_train, W, options["lam"])
        make_encoding = box_encoding if options["mode"] == "box" else (lambda n, k, r: trust_encoding(np.zeros(n), k, r))
        problem = ClassQubo(H, G[:, c], W[:, c], make_encoding(len(H), options["bits"], options["half_range"]))
        metadata = {"dataset": features.dataset, "class": c, "bits": options["bits"], "mode": options["mode"]}
    path = export_qubo(problem, options["out"], metadata=metadata)
    log.info("wrote %s: %d variables", path, problem.num_variables)


def _checked_class(options: dict, features) -> int:
    c = options["target_class"]
    if not 0 <= c < features.num_classes:
        raise ValueError(f"--class must be in 0..{features.num_classes - 1}, got {c}")
    return c


def _replayed_qubo(options: dict):
    """Class c's QUBO at iteration T of a recorded run, replayed with the run's options and seed;
    refused if the replay does not pass through the recorded run's iteration T."""
    import math

    import scipy.linalg

    from .results import read_result
    from .train import qubos_of_iteration

    result = read_result(options["run"])
    if result["kind"] != "qubo" or result.get("mode") not in ("box", "trust"):
        raise ValueError(f"{options['run']} is not a QUBO run in box or trust mode: it has no QUBOs to replay")
    run = {**DEFAULTS["train"], **result["config"]}
    if options["features"] or options["dataset"]:  # the command line names the features (e.g. the file moved)
        run.update(features=options["features"], dataset=options["dataset"])
    config = train_config(run)
    features = load_features(run)
    c, iteration = _checked_class(options, features), options["iteration"]
    qubos = qubos_of_iteration(features.x_train, features.y_train, features.num_classes, config, iteration,
                               progress=options["progress"])
    problem = qubos.problems[c]
    if iteration < len(result["history"]):
        recorded = result["history"][iteration]["continuous_optimum"][c]
        g, H = problem.gradient, problem.curvature
        replayed = -0.5 * g @ scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
        if not math.isclose(replayed, recorded, rel_tol=1e-9):
            raise ValueError(f"the replay differs from {options['run']} at iteration {iteration} (class {c}'s "
                             f"continuous optimum {replayed:.12g}, recorded {recorded:.12g}): other features or "
                             "another qubocnn version")
    return problem, {"dataset": features.dataset, "class": c, "bits": config.bits, "mode": config.mode,
                     "iteration": iteration, "half_range": problem.encoding.half_range, "run": options["run"]}


def run_hardware(options: dict) -> None:
    from .features import feature_dimension
    from .embedding import feasibility_table
    from .results import write_result

    image_shapes = {"8 px (digits)": (1, 8, 8), "28 px (MNIST-like)": (1, 28, 28), "32 px RGB (CIFAR-10)": (3, 32, 32)}
    dims = {f"{preset}, {label}": feature_dimension(preset, shape)
            for preset in options["presets"].split(",") for label, shape in image_shapes.items()}
    bits = [int(k) for k in str(options["bits"]).split(",")]
    write_result({"schema": "qubocnn.hardware/1", "rows": feasibility_table(dims, bits)}, options["out"])
    log.info("wrote %s", options["out"])


DEFAULTS["report"] = dict(action=None, results=None, hardware=None, out_dir=None, latex_dir=None, formats="png,pdf",
                          names=None, tables_dir="results/full/tables", readme="README.md")


def run_report(options: dict) -> None:
    from . import report
    from .outputs import write_text

    if options["action"] == "readme":
        from .report.readme import sync_readme

        names = sync_readme(options["readme"], options["tables_dir"])
        log.info("updated %s: %s", options["readme"], ", ".join(names) or "no table blocks")
        return
    if not options["results"]:
        raise ValueError("give --results: result JSON files or directories")
    results = report.load_results(options["results"])
    if not results:
        raise ValueError(f"no {report.RESULT_SCHEMA} files in {' '.join(options['results'])}")
    hardware = options["hardware"] or report.find_hardware(options["results"])
    hardware_rows = report.load_hardware(hardware) if hardware else None
    names = options["names"].split(",") if options["names"] else None
    if options["action"] == "collect":
        if not options.get("out"):
            raise ValueError("missing --out: where should `qubocnn report collect` write its CSV?")
        write_text(options["out"], report.collect_table(results).to_csv())
        log.info("wrote %s: %d runs", options["out"], len(results))
        return
    if not options["out_dir"]:
        raise ValueError(f"missing --out-dir: where should `qubocnn report {options['action']}` write?")
    if options["action"] == "tables":
        tables = report.make_tables(results, hardware_rows)
        unknown = sorted(set(names or ()) - set(report.TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) {', '.join(unknown)}: choose from {', '.join(report.TABLES)}")
        written = [path for name, table in tables.items() if names is None or name in names
                   for path in report.write_table(table, options["out_dir"], options["latex_dir"])]
    else:
        unknown = sorted(set(names or ()) - set(report.FIGURES))
        if unknown:
            raise ValueError(f"unknown figure(s) {', '.join(unknown)}: choose from {', '.join(report.FIGURES)}")
        written = report.write_figures(results, hardware_rows, options["out_dir"],
                                       formats=options["formats"].split(","), names=names)
    log.info("wrote %d files from %d runs%s: %s", len(written), len(results),
             f" and {hardware}" if hardware else " (no hardware file: no size table or figure)",
             " ".join(str(p) for p in written))


COMMANDS = {"features": run_features, "train": run_train, "predict": run_predict, "baseline": run_baseline,
            "export-qubo": run_export_qubo, "hardware": run_hardware, "report": run_report}
DEFAULTS["reproduce"], COMMANDS["reproduce"] = reproduce.DEFAULTS, reproduce.run
DEFAULTS["download"], COMMANDS["download"] = download.DEFAULTS, download.run


def main(argv=None) -> int:
    from .outputs import check_command_outputs
    from .qpu import HardwareError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        command, options = parse_options(argv)
        check_command_outputs(command, options)  # before any work: no output over an input, none unwritable
        COMMANDS[command](options)
    # anticipated: bad input (ValueError, DataError), files and the network (OSError: requests' and
    # dwave-cloud-client's errors are OSErrors), a missing QPU, a YAML file that does not parse
    except (ValueError, OSError, HardwareError, yaml.YAMLError) as error:
        print(f"qubocnn: error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qubocnn: interrupted (earlier outputs are intact)", file=sys.stderr)
        return 130
    return 0


def one_line(error: BaseException) -> str:
    """An error's message on one line (YAML's and some network errors span several)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
