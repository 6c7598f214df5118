"""Reading result files: run results (`qubocnn.result/1`, see qubocnn.results) and the D-Wave
feasibility file (`qubocnn.hardware/1`, written by `qubocnn hardware`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..results import SCHEMA as RESULT_SCHEMA
from ..results import read_result

HARDWARE_SCHEMA = "qubocnn.hardware/1"


def _schema_of(path: Path) -> str | None:
    try:
        with open(path) as stream:
            return json.load(stream).get("schema")
    except (OSError, ValueError, AttributeError):
        return None


def load_results(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[dict]:
    """Run results from files and directories (searched recursively for `*.json`; files of another
    schema, such as the hardware file, are skipped there). A file named explicitly must be a run
    result. Each record gets `path`."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    results = []
    for path in map(Path, paths):
        if path.is_dir():
            files = [f for f in sorted(path.rglob("*.json")) if _schema_of(f) == RESULT_SCHEMA]
        elif path.exists():
            files = [path]
        else:
            raise FileNotFoundError(f"no result file or directory {path}")
        for file in files:
            result = read_result(file)
            result["path"] = str(file)
            results.append(result)
    return results


def load_hardware(path: str | os.PathLike) -> list[dict]:
    """The rows of a `qubocnn hardware` file."""
    with open(path) as stream:
        data = json.load(stream)
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
