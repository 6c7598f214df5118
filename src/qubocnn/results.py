"""One JSON file per run: the schema every table and figure is made from (README, "Result files")."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

SCHEMA = "qubocnn.result/1"
REQUIRED = ("schema", "kind", "method", "dataset", "test_accuracy", "train_accuracy", "train_loss", "history",
            "config", "versions", "timings")
RESULT_MODE = 0o644
PACKAGES = ("qubocnn", "numpy", "scipy", "torch", "torchvision", "dimod", "dwave-samplers", "scikit-learn", "numba")


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def method_name(mode: str) -> str:
    """The `method` a training run records: `continuous-mm` or `qubo-MODE`."""
    return "continuous-mm" if mode == "continuous" else f"qubo-{mode}"


def method_key(run: dict) -> str:
    """The method key every table and figure groups runs by: a baseline (`sgd`, `logreg`, `ridge`),
    `continuous-mm`, or `qubo-MODE` with `-round` when the classical rounding solver replaced
    annealing, `-always` when every answer was taken (the literal reading of the paper's loop) and
    `-noise` when it trained under the QPU control-error model."""
    method = run["method"]
    if not method.startswith("qubo-"):
        return method
    if run.get("solver") == "round":
        method += "-round"
    if run.get("accept", "improving") == "always":
        method += "-always"
    if run.get("qpu_noise"):
        method += "-noise"
    return method


def make_result(kind: str, method: str, features, fit: dict, config: dict, **extra) -> dict:
    """Assemble a result record from a fit (train.train_qubo_head or baselines.fit_baseline)."""
    return {
        "schema": SCHEMA,
        "kind": kind,
        "method": method,
        "dataset": features.dataset,
        "dataset_label": features.label,
        "preset": features.preset,
        "feature_seed": int(features.seed),
        "num_features": int(features.num_features),
        "num_classes": int(features.num_classes),
        "num_train": int(len(features.y_train)),
        "num_test": int(len(features.y_test)),
        **extra,
        "test_accuracy": fit["test_accuracy"],
        "train_accuracy": fit["train_accuracy"],
        "train_loss": fit["train_loss"],
        "history": fit["history"],
        "config": config,
        "versions": versions(),
        "timings": fit["timings"],
    }


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to a result file")


def write_result(result: dict, path: str | os.PathLike) -> Path:
    """Write atomically (temporary file, then rename): a failed run never leaves half a file or
    destroys an earlier result."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as stream:
        json.dump(result, stream, indent=1, default=_plain)
    # the temporary file is created 0600; a result is meant to be read by others (shared clusters)
    os.chmod(stream.name, RESULT_MODE)
    os.replace(stream.name, path)
    return path


def read_result(path: str | os.PathLike) -> dict:
    path = Path(path)
    with open(path) as stream:
        result = json.load(stream)
    missing = [key for key in REQUIRED if key not in result]
    if result.get("schema") != SCHEMA or missing:
        raise ValueError(f"{path} is not a {SCHEMA} result file (missing: {', '.join(missing) or 'schema'})")
    return result
