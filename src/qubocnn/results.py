"""One JSON file per run: the schema every table and figure is made from (docs/result-files.md)."""

from __future__ import annotations

import json
import math
import os
import platform
from importlib import metadata
from pathlib import Path

import numpy as np

from . import outputs

SCHEMA = "qubocnn.result/1"
REQUIRED = ("schema", "kind", "method", "dataset", "test_accuracy", "train_accuracy", "train_loss", "history",
            "config", "versions", "timings")
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


def _unwritable(value, where: str) -> str | None:
    """Where in `value` a number JSON cannot hold (NaN, inf) or an object it cannot write sits, or None."""
    if isinstance(value, dict):
        return next((found for key, item in value.items() if (found := _unwritable(item, f"{where}.{key}"))), None)
    if isinstance(value, (list, tuple)):
        return next((found for i, item in enumerate(value) if (found := _unwritable(item, f"{where}[{i}]"))), None)
    if isinstance(value, np.ndarray):
        return _unwritable(value.tolist(), where)
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return f"{where} is {value}"
    if value is not None and not isinstance(value, (str, bool, int, float, np.generic)):
        return f"{where} is a {type(value).__name__}"
    return None


def json_text(record: dict, path: str | os.PathLike) -> str:
    """The JSON of a record, refused (naming the field) if it holds a value JSON cannot hold: a
    NaN written by Python's json module is not valid JSON, and no reader would take the file."""
    problem = _unwritable(record, "result")
    if problem:
        raise ValueError(f"cannot write {path}: {problem}, which JSON cannot hold")
    return json.dumps(record, indent=1, default=_plain, allow_nan=False)


def write_result(result: dict, path: str | os.PathLike, also: dict | None = None) -> Path:
    """Write a JSON record atomically (temporary file in the target folder, then rename, mode 0644).
    `also` maps further paths to writers (outputs.Writer), e.g. the head file the result names:
    they are written with it as one unit, the result last, so a failure leaves every file as it was."""
    text = json_text(result, path)
    parts = [*(also or {}).items(), (path, lambda stream: stream.write(text.encode()))]
    return outputs.write_files(parts)[-1]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# what every field of a result file must hold: a test, and the words for it
FIELD_CHECKS = {
    "schema": (lambda v: v == SCHEMA, f"'{SCHEMA}'"),
    "kind": (lambda v: isinstance(v, str), "a string"),
    "method": (lambda v: isinstance(v, str), "a string"),
    "dataset": (lambda v: isinstance(v, str), "a string"),
    "test_accuracy": (lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "train_accuracy": (lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "train_loss": (_is_number, "a finite number"),
    "history": (lambda v: isinstance(v, list) and all(isinstance(item, dict) for item in v), "a list of records"),
    "config": (lambda v: isinstance(v, dict), "a mapping"),
    "versions": (lambda v: isinstance(v, dict), "a mapping"),
    "timings": (lambda v: isinstance(v, dict), "a mapping"),
}
OPTIONAL_CHECKS = {
    **{key: (lambda v: v is None or _is_integer(v), "an integer")
       for key in ("feature_seed", "num_features", "num_classes", "num_train", "num_test", "seed", "bits")},
    **{key: (lambda v: v is None or isinstance(v, str), "a string") for key in ("preset", "mode", "solver")},
}


def check_result(result, path: str | os.PathLike) -> dict:
    """The one schema check of a run result (report, reproduce, export-qubo): refuses a file that
    is not a mapping, lacks a required field or holds a field of the wrong kind, naming the file
    and the field."""
    if not isinstance(result, dict):
        raise ValueError(f"{path} is not a {SCHEMA} result file: it holds a {type(result).__name__}, not a mapping")
    missing = [key for key in REQUIRED if key not in result]
    if missing:
        raise ValueError(f"{path} is not a {SCHEMA} result file: missing {', '.join(missing)}")
    for key, (valid, words) in [*FIELD_CHECKS.items(), *OPTIONAL_CHECKS.items()]:
        if key in result and not valid(result[key]):
            raise ValueError(f"{path}: {key} must be {words}, got {result[key]!r}")
    return result


def read_json(path: str | os.PathLike):
    """A JSON file's contents; a file that is not valid JSON is one error naming it."""
    try:
        with open(path) as stream:
            return json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error})") from None


def read_result(path: str | os.PathLike) -> dict:
    return check_result(read_json(path), Path(path))
