"""Safe outputs: every file is written atomically, files that belong together as one unit, and no
output may overwrite an input or land where it cannot be written.

A file is written to a temporary name in its target folder (same file system, so the rename is
atomic), given mode 0644 (results, heads and feature files are meant to be read by others on a
shared cluster; a temporary file is created 0600) and renamed onto its name. A group (a head and
the result that names it) is written to temporaries first, then renamed in the order given, the
last one being the file that records the others: a failure before the renames leaves every
earlier file as it was, and no temporary file is left behind on any failure.
`check_outputs` runs before any work: an output that resolves to an input, names a directory or
lies in a folder that cannot be written is refused with one line.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

OUTPUT_MODE = 0o644
TEMPORARY_SUFFIX = ".tmp"
# option keys holding the paths a command reads, and the (file, folder) paths it writes
INPUT_KEYS = ("features", "dataset", "head", "run", "config", "results", "hardware", "reference", "tables_dir")
OUTPUT_FILE_KEYS = ("out",)
OUTPUT_FOLDER_KEYS = ("out_dir", "latex_dir", "figures_dir")

Writer = Callable[[object], None]  # writes a file's bytes to an open binary stream


class OutputError(ValueError):
    """An output path that must not or cannot be written; the message names it and why."""


def head_path(result_path: str | os.PathLike) -> Path:
    """RUN.head.npz, the head file written with the result file RUN.json."""
    result_path = Path(result_path)
    return result_path.with_name(result_path.stem + ".head.npz")


def _temporary_copy(path: Path, write: Writer) -> Path:
    """`write` into a new temporary file next to `path`, mode OUTPUT_MODE; removed if writing fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX,
                                     delete=False) as stream:
        temporary = Path(stream.name)
        try:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        except BaseException:
            stream.close()
            temporary.unlink(missing_ok=True)
            raise
    os.chmod(temporary, OUTPUT_MODE)
    return temporary


def write_files(parts: Sequence[tuple[str | os.PathLike, Writer]]) -> list[Path]:
    """Write (path, writer) pairs as one unit: all to temporaries, then renamed in the given order
    (put the file that names the others last). Returns the paths written."""
    temporaries: list[tuple[Path, Path]] = []
    try:
        for path, write in parts:
            path = Path(path)
            temporaries.append((_temporary_copy(path, write), path))
        for temporary, path in temporaries:
            os.replace(temporary, path)
    finally:
        for temporary, _ in temporaries:
            temporary.unlink(missing_ok=True)  # only those not renamed are still there
    return [path for _, path in temporaries]


def write_file(path: str | os.PathLike, write: Writer) -> Path:
    """Write one file atomically: `write(stream)` into a temporary file, then rename."""
    return write_files([(path, write)])[0]


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_file(path, lambda stream: stream.write(text.encode()))


def _as_paths(value) -> list[Path]:
    if value is None or value is False or value == "":
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [Path(str(v)) for v in values]


def _same(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _writable_folder(folder: Path) -> str | None:
    """Why `folder` (or the folder it would be created in) cannot take new files, or None."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def check_outputs(files: Iterable[str | os.PathLike], folders: Iterable[str | os.PathLike] = (),
                  inputs: Iterable[str | os.PathLike] = ()) -> None:
    """Refuse, before any work, an output file that resolves to an input or names a directory, and
    any output file or folder that cannot be written. (An output folder may be an input folder:
    tables written next to the results they come from destroy nothing.)"""
    inputs = [Path(p) for p in inputs if Path(p).exists()]
    for path, is_file in [(Path(p), True) for p in files] + [(Path(p), False) for p in folders]:
        clash = next((source for source in inputs if is_file and _same(path, source)), None)
        if clash is not None:
            raise OutputError(f"output {path} is the input {clash}: writing it would destroy the input; "
                              "choose another output path")
        if is_file and path.is_dir():
            raise OutputError(f"output {path} is a directory: give a file name")
        if is_file and path.exists() and not path.is_file():  # a device or a pipe: a rename would replace it
            raise OutputError(f"output {path} is not a regular file: give a file name")
        problem = _writable_folder(path.parent if is_file else path)
        if problem:
            raise OutputError(f"cannot write {path}: {problem}")


def check_command_outputs(command: str, options: dict) -> None:
    """check_outputs for a parsed command line: its output options against its input options (a
    `train` run also writes RUN.head.npz next to RUN.json)."""
    files = [p for key in OUTPUT_FILE_KEYS for p in _as_paths(options.get(key))]
    if command == "train":
        files += [head_path(p) for p in files]
    folders = [p for key in OUTPUT_FOLDER_KEYS for p in _as_paths(options.get(key))]
    inputs = [p for key in INPUT_KEYS for p in _as_paths(options.get(key))]
    check_outputs(files, folders, inputs)
