"""Reading result files: run results (`qubocnn.result/1`, see qubocnn.results) and the D-Wave
feasibility file (`qubocnn.hardware/1`, written by `qubocnn hardware`)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from ..results import SCHEMA as RESULT_SCHEMA
from ..results import read_json, read_result
from .runs import has_control_errors, method_key, setting_key

HARDWARE_SCHEMA = "qubocnn.hardware/1"
log = logging.getLogger("qubocnn.report")


def _schema_of(path: Path) -> str | None:
    try:
        with open(path) as stream:
            return json.load(stream).get("schema")
    except (OSError, ValueError, AttributeError):
        return None


def _skip_reason(path: Path, schema: str, kind: str) -> str | None:
    """Why a JSON file found in a results folder is not read as a `schema` file (a `kind`), or None."""
    try:
        data = read_json(path)
    except (OSError, ValueError) as error:
        return str(error)
    found = data.get("schema") if isinstance(data, dict) else None
    if found == schema:
        return None
    return f"{path} is a {found} file, not a {kind}" if found else f"{path} holds no qubocnn schema"


def schema_files(paths: str | os.PathLike | Iterable[str | os.PathLike], schema: str, kind: str) -> list[Path]:
    """The files among `paths`: a file as named, a directory searched recursively for `*.json` files
    of `schema` (the others are skipped, each with a warning); a missing path is refused."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(path.rglob("*.json")):
                reason = _skip_reason(file, schema, kind)
                if reason:
                    log.warning("skipped %s", reason)
                else:
                    files.append(file)
        elif path.exists():
            files.append(path)
        else:
            raise FileNotFoundError(f"no result file or directory {path}")
    return files


def run_identity(result: dict) -> tuple:
    """What makes a run one sample of a table cell: data set, feature preset, method (as the tables
    name it), K and seed; under the QPU noise model also whether it had errors and its setting
    (packing, chains: runs.setting_key). Two runs with one identity would be counted as two seeds."""
    identity = (result["dataset"], result.get("preset") or "default", method_key(result), result.get("bits"),
                result.get("seed"))
    if result.get("qpu_noise"):
        identity += (has_control_errors(result), setting_key(result))
    return identity


def load_results(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[dict]:
    """Run results from files and directories (searched recursively for `*.json`; files of another
    schema, such as the hardware file, and files that do not parse are skipped there, each with a
    warning). A file named explicitly must be a run result. Every run result must pass
    results.check_result, and no two may be the same run (`run_identity`): a copy of a run would
    count as a second seed. Each record gets `path`."""
    results, seen = [], {}
    for file in schema_files(paths, RESULT_SCHEMA, "run result"):
        result = read_result(file)
        identity = run_identity(result)
        if identity in seen:
            raise ValueError(f"{file} and {seen[identity]} are the same run (data set, preset, method, K, seed "
                             f"{', '.join(map(str, identity))}): a copy would count as a second seed; remove one")
        seen[identity] = file
        result["path"] = str(file)
        results.append(result)
    return results


def load_hardware(path: str | os.PathLike) -> list[dict]:
    """The rows of a `qubocnn hardware` file."""
    data = read_json(path)
    if not isinstance(data, dict) or data.get("schema") != HARDWARE_SCHEMA:
        raise ValueError(f"{path} is not a {HARDWARE_SCHEMA} file (write one with `qubocnn hardware`)")
    return data["rows"]


def find_hardware(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> Path | None:
    """`hardware.json` in (or under) the given directories, if there is one."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for path in map(Path, paths):
        if path.is_dir():
            for file in sorted(path.rglob("hardware.json")):
                if _schema_of(file) == HARDWARE_SCHEMA:
                    return file
    return None


SUMMARY_COLUMNS = ("dataset", "dataset_label", "method", "preset", "bits", "seed", "num_features", "num_classes",
                   "num_train", "num_test", "test_accuracy", "train_accuracy")


def load_run_summaries(path: str | os.PathLike) -> list[dict]:
    """The runs of a `qubocnn report collect` CSV (one row per run) as records the claims and the
    paper's values read: data set, preset, method key, K, seed, classes, accuracies and timings. The
    committed reference keeps this CSV, not every run's JSON, so the claims and values can be remade
    from it alone (tables of per-iteration records cannot)."""
    import csv

    def number(text, kind=float):
        return kind(text) if text not in ("", None) else None

    def method_fields(key):  # the method key back into the fields results.method_key reads
        parts = key.split("-")
        method, flags = ("-".join(parts[:2]), parts[2:]) if key.startswith("qubo-") else (key, [])
        return {"method": method, "solver": "round" if "round" in flags else None,
                "accept": "always" if "always" in flags else "improving", "qpu_noise": "noise" in flags}

    if not Path(path).is_file():
        raise FileNotFoundError(f"no collect CSV {path}: write one with `qubocnn report collect`")
    runs = []
    with open(path, newline="") as stream:
        reader = csv.DictReader(stream)
        missing = sorted(set(SUMMARY_COLUMNS) - set(reader.fieldnames or ()))
        if missing:
            raise ValueError(f"{path} is not a `qubocnn report collect` CSV (no column {', '.join(missing)})")
        for row in reader:
            runs.append({
                "dataset": row["dataset"], "dataset_label": row["dataset_label"], **method_fields(row["method"]),
                "preset": row["preset"] or "default", "bits": number(row["bits"], int),
                "seed": number(row["seed"], int), "num_features": number(row["num_features"], int),
                "num_classes": number(row["num_classes"], int), "num_train": number(row["num_train"], int),
                "num_test": number(row["num_test"], int),
                "test_accuracy": float(row["test_accuracy"]), "train_accuracy": float(row["train_accuracy"]),
                "timings": {key[len("time_"):]: float(value) for key, value in row.items()
                            if key.startswith("time_") and value not in ("", None)},
                "path": row.get("path"),
            })
    return runs
