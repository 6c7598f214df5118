"""Result files: written atomically and readable by others (mode 0644, not the 0600 of a temporary file)."""

import stat

import numpy as np
import pytest

from qubocnn.results import REQUIRED, SCHEMA, read_result, write_result


def minimal_result():
    result = {key: None for key in REQUIRED}
    result.update(schema=SCHEMA, kind="baseline", method="ridge", dataset="digits", test_accuracy=np.float64(0.9),
                  train_accuracy=0.95, train_loss=0.2, history=[{"iteration": np.int64(0)}], config={},
                  versions={}, timings={"total": 1.0})
    return result


def test_result_file_is_world_readable_and_complete(tmp_path):
    path = write_result(minimal_result(), tmp_path / "runs" / "ridge.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["ridge.json"]  # no temporary file left behind
    assert read_result(path)["test_accuracy"] == pytest.approx(0.9)


def test_overwriting_a_private_file_leaves_a_readable_one(tmp_path):
    path = tmp_path / "ridge.json"
    path.write_text("{}")
    path.chmod(0o600)
    write_result(minimal_result(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 and read_result(path)["method"] == "ridge"
