"""Figures are byte-identical when their numbers are: no creation date, no software version."""

import pytest

from qubocnn import report


@pytest.fixture
def figure():
    plt = report.figures._pyplot()
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.5, 0.25, 0.125], label="loss")
    ax.legend()
    yield fig
    plt.close(fig)


def test_same_figure_twice_gives_identical_bytes(figure, tmp_path, monkeypatch):
    # matplotlib dates a PDF from SOURCE_DATE_EPOCH when it is set, else from the clock: two
    # different epochs stand for two runs at different times
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    first = report.save_figure(figure, tmp_path / "a", "curve")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    second = report.save_figure(figure, tmp_path / "b", "curve")
    assert [p.suffix for p in first] == [".png", ".pdf"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name
    pdf = first[1].read_bytes()
    assert b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    assert b"Software" not in first[0].read_bytes() and b"tIME" not in first[0].read_bytes()
