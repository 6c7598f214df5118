"""What each subcommand of the command line does, given its parsed option values (qubocnn.cli
parses them): `train` runs a `runspec.RunSpec`, `export-qubo --run` replays one (qubocnn.replay),
the others call the library module of their concern."""

from __future__ import annotations

import logging

from . import download, options, reproduce
from .runspec import RunSpec, SourceSpec
from .train import TrainConfig

log = logging.getLogger("qubocnn")


def run_features(values: dict) -> None:
    features = options.instance(SourceSpec, values).load(values["seed"], values["progress"])
    features.save(values["out"])
    log.info("wrote %s: %s, %d features, %d train / %d test", values["out"], features.label,
             features.num_features, len(features.y_train), len(features.y_test))


def run_train(values: dict) -> None:
    from .runspec import run

    result = run(RunSpec.from_options(values), progress=values["progress"])
    result.save(values["out"])
    log.info("wrote %s: test accuracy %.4f, train loss %.4f", values["out"], result.record["test_accuracy"],
             result.record["train_loss"])


def run_predict(values: dict) -> None:
    from .heads import predict
    from .results import write_result

    predictions, accuracy = predict(values["head"], options.instance(SourceSpec, values), values["progress"])
    write_result({"schema": "qubocnn.predictions/1", "head": values["head"],
                  "source": values["features"] or values["dataset"], "test_accuracy": accuracy,
                  "predictions": predictions}, values["out"])
    log.info("wrote %s: test accuracy %.4f", values["out"], accuracy)


def run_baseline(values: dict) -> None:
    from .baselines import METHODS, fit_baseline
    from .results import make_result, write_result

    if values["method"] not in METHODS:
        raise ValueError(f"unknown baseline {values['method']!r}: choose one of {', '.join(METHODS)}")
    features = options.instance(SourceSpec, values).load(values["seed"], values["progress"])
    sgd = {}
    if values["method"] == "sgd":
        sgd = {k: values[k] for k in ("epochs", "momentum", "batch_size", "validation_fraction")
               if values[k] is not None}
        if values["lr"] is not None:
            try:
                sgd["learning_rates"] = [float(lr) for lr in str(values["lr"]).split(",")]
            except ValueError:
                raise ValueError(f"--lr takes comma-separated numbers, got {values['lr']!r}") from None
    fit = fit_baseline(values["method"], features.x_train, features.y_train, features.x_test, features.y_test,
                       features.num_classes, values["lam"], seed=values["seed"], progress=values["progress"], **sgd)
    extra = {"sgd": fit["sgd"]} if "sgd" in fit else {}
    write_result(make_result("baseline", values["method"], features, fit, values, seed=values["seed"], **extra),
                 values["out"])
    log.info("wrote %s: test accuracy %.4f", values["out"], fit["test_accuracy"])


def run_export_qubo(values: dict) -> None:
    from .qubo import check_half_range, export_qubo
    from .replay import checked_class, replayed_qubo

    if values["run"]:
        # the command line may name the run's features (e.g. the file moved)
        moved = {k: values[k] for k in ("features", "dataset")} if values["features"] or values["dataset"] else None
        problem, metadata = replayed_qubo(values["run"], values["iteration"], values["target_class"], moved,
                                          values["replay_on_qpu"], values["progress"])
    else:
        from .train import first_class_qubo

        if values["iteration"] != 1:
            raise ValueError("--iteration needs --run RESULT.json: the run whose iteration to replay")
        check_half_range(values["half_range"], "half-range")
        features = options.instance(SourceSpec, values).load(values["seed"], values["progress"])
        c = checked_class(values["target_class"], features.num_classes)
        config = TrainConfig(bits=values["bits"], mode=values["mode"], lam=values["lam"],
                             box_half_range=values["half_range"], trust_half_range=values["half_range"])
        problem = first_class_qubo(features.x_train, features.y_train, features.num_classes, c, config)
        metadata = {"dataset": features.dataset, "class": c, "bits": values["bits"], "mode": values["mode"]}
    path = export_qubo(problem, values["out"], metadata=metadata)
    log.info("wrote %s: %d variables", path, problem.num_variables)


def run_hardware(values: dict) -> None:
    from .embedding import feasibility_table
    from .features import feature_dimension
    from .results import write_result

    image_shapes = {"8 px (digits)": (1, 8, 8), "28 px (MNIST-like)": (1, 28, 28), "32 px RGB (CIFAR-10)": (3, 32, 32)}
    dims = {f"{preset}, {label}": feature_dimension(preset, shape)
            for preset in values["presets"].split(",") for label, shape in image_shapes.items()}
    bits = [int(k) for k in str(values["bits"]).split(",")]
    write_result({"schema": "qubocnn.hardware/1", "rows": feasibility_table(dims, bits)}, values["out"])
    log.info("wrote %s", values["out"])


def run_lowbit(values: dict) -> None:
    from .lowbit import LowBitConfig, run_lowbit as experiment
    from .results import write_result
    from .solvers import SolverConfig

    config = options.instance(LowBitConfig, values)
    annealing = options.instance(SolverConfig, values)
    features = options.instance(SourceSpec, values).load(values["seed"], values["progress"])
    record = experiment(features, config, annealing, values["progress"])
    write_result(record, values["out"])
    log.info("wrote %s: %s K=%d %s, certified optima %s", values["out"], features.label, config.bits, config.grid,
             "proved" if record["all_proved"] else "NOT all proved")


def run_lowbit_report(values: dict) -> None:
    from .report.lowbit import load_lowbit, write_low_bit

    if not values["results"] or not values["out_dir"] or not values["figures_dir"]:
        raise ValueError("give --results (lowbit JSON files or folders), --out-dir and --figures-dir")
    written = write_low_bit(load_lowbit(values["results"]), values["out_dir"], values["figures_dir"],
                            values["formats"].split(","))
    log.info("wrote %s", " ".join(map(str, written)))


def run_report(values: dict) -> None:
    from .report.command import run  # the report package loads plotting: only when asked
    run(values)


COMMANDS = {"features": run_features, "train": run_train, "predict": run_predict, "baseline": run_baseline,
            "export-qubo": run_export_qubo, "hardware": run_hardware, "report": run_report,
            "reproduce": reproduce.run, "download": download.run, "sources": download.run_sources,
            "lowbit": run_lowbit, "lowbit-report": run_lowbit_report}
