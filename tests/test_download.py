"""Downloads: the sources match torchvision's, a data set lands in the data root whole or not at
all, and a source that does not answer is reported quickly. No test reaches the internet: sources
are local servers or closed ports, and torchvision's classes are replaced by fakes."""

import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qubocnn import download
from qubocnn.cli import main
from qubocnn.data import DataError


def test_sources_are_torchvisions():
    import torchvision.datasets as tvd

    assert download.SOURCES["mnist"] == tvd.MNIST.mirrors
    assert download.SOURCES["fashion_mnist"] == tvd.FashionMNIST.mirrors
    assert download.SOURCES["kmnist"] == tvd.KMNIST.mirrors
    assert download.SOURCES["emnist"] == [tvd.EMNIST.url]
    assert download.SOURCES["cifar10"] == [tvd.CIFAR10.url]


FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def fake_mnist(fail_after=None):
    """Stands in for torchvision.datasets.MNIST(download=True): writes the raw files, or fails
    after writing `fail_after` of them (a broken connection)."""

    class FakeMNIST:
        def __init__(self, root, train, download):
            raw = Path(root) / "MNIST" / "raw"
            raw.mkdir(parents=True, exist_ok=True)
            for i, name in enumerate(FILES):
                if fail_after is not None and i == fail_after:
                    raise RuntimeError("Error downloading t10k-images-idx3-ubyte.gz:\nTried mirrors")
                (raw / name).write_text(name)

    return FakeMNIST


def test_download_puts_the_whole_data_set_in_place(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd, "MNIST", fake_mnist())
    marker = download.download("mnist", tmp_path)
    assert marker == tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte" and download.present("mnist", tmp_path)
    assert sorted(p.name for p in marker.parent.iterdir()) == sorted(FILES)
    assert [p.name for p in tmp_path.iterdir()] == ["MNIST"]  # no staging folder left


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd, "MNIST", fake_mnist(fail_after=2))
    with pytest.raises(DataError, match="MNIST: download failed .*RuntimeError: Error downloading"):
        download.download("mnist", tmp_path)
    assert list(tmp_path.iterdir()) == [] and not download.present("mnist", tmp_path)
    assert main(["download", "--dataset", "mnist", "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qubocnn: error: MNIST: download failed") and len(err.splitlines()) == 1


def test_download_completes_a_partial_folder_marker_last(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_text("old")
    moved = []
    original = download.Path.replace
    monkeypatch.setattr(download.Path, "replace", lambda self, target: moved.append(target.name) or original(self, target))
    monkeypatch.setattr(tvd, "MNIST", fake_mnist())
    download.download("mnist", tmp_path)
    assert sorted(p.name for p in raw.iterdir()) == sorted(FILES) and moved[-1] == "t10k-images-idx3-ubyte"


def test_only_torchvision_sets_download(tmp_path, capsys):
    assert main(["download", "--dataset", "cifar10_jpeg", "--data-root", str(tmp_path)]) == 2
    assert "cifar10_jpeg cannot be downloaded" in capsys.readouterr().err


@contextmanager
def answering_server(requests=None):
    """A local server answering every HEAD request (`requests`, a list: each request's path is added)."""

    class Answer(BaseHTTPRequestHandler):
        def do_HEAD(self):
            if requests is not None:
                requests.append(self.path)
            self.send_response(404)  # any answer means the source is reachable
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()


def test_unreachable_sources_are_found_quickly(monkeypatch):
    with answering_server() as url:
        closed = url.rsplit(":", 1)[0] + ":9/"  # discard port: nothing listens
        monkeypatch.setattr(download, "SOURCES", {"mnist": [closed, url], "kmnist": [closed], "emnist": [url]})
        start = time.monotonic()
        found = download.unreachable(["mnist", "kmnist", "emnist", "digits"])
    assert time.monotonic() - start < download.PROBE_SECONDS
    assert list(found) == ["kmnist"] and "127.0.0.1" in found["kmnist"]  # mnist: one mirror answers


# ---------------------------------------------------------------------------------------------
# The workflow: one download job per data set whose source answers; the others are left out
# ---------------------------------------------------------------------------------------------

def workflow_dry_run(tmp_path, proxy, requests=()):
    """`snakemake -n` on an empty data root, every request going through `proxy` (the machine's
    only way out: a local server stands for the internet, a closed port for no internet). The
    Snakefile never asks a source while it is parsed: a first dry run knows only that the study's
    `sources` job must ask; that job runs, and a second dry run lists the jobs its answer makes.
    In a scratch working directory, on the run study's runs (target runs.csv); `requests`: those
    the proxy received."""
    import os
    import subprocess
    import sys

    from test_workflow import ROOT, dry_run_jobs

    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy", "https_proxy")}
    env.update(QUBOCNN_DATA=str(tmp_path / "data"), http_proxy=proxy, https_proxy=proxy)
    snakemake = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
                 "--configfile", str(ROOT / "config" / "config.yaml")]

    def run(*args):
        done = subprocess.run([*snakemake, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    unasked = dry_run_jobs(run("-n", "results/run/tables/runs.csv").stdout)
    assert set(unasked) == {"sources", "collect_run"}, unasked  # no run is known before the answer
    assert not requests  # and the dry run asked nothing
    asked = run("--cores", "1", "results/run/sources.json")
    answered = run("-n", "results/run/tables/runs.csv")
    return dry_run_jobs(answered.stdout), asked.stderr + answered.stderr


def test_offline_study_runs_on_what_it_has(tmp_path):
    with answering_server() as url:
        closed = url.rsplit(":", 1)[0] + ":9/"
    jobs, err = workflow_dry_run(tmp_path, closed)
    assert not [rule for rule in jobs if rule.startswith("download_")]
    assert {out[0].split("/")[3] for _, out in jobs["qubo"]} == {"digits", "digits+clique"}
    for name in ("mnist", "fashion_mnist", "kmnist", "emnist", "cifar10"):
        assert f"leaving out {name}: no files under {tmp_path / 'data'}, and its source cannot be reached" in err
    assert "leaving out cifar10_jpeg: no" in err and "it cannot be downloaded" in err


def test_online_one_download_job_per_data_set_before_its_features(tmp_path):
    # through this plain HTTP proxy only the http:// sources answer (MNIST's second mirror,
    # Fashion-MNIST, KMNIST); the https:// ones (EMNIST, CIFAR-10) fail like an unreachable host
    requests = []
    with answering_server(requests) as proxy:
        jobs, err = workflow_dry_run(tmp_path, proxy, requests)
    assert "http://codh.rois.ac.jp/kmnist/dataset/kmnist/" in requests  # asked by the `sources` job
    fetched = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "kmnist": "KMNIST"}
    assert sorted(rule for rule in jobs if rule.startswith("download_")) == sorted(f"download_{n}" for n in fetched)
    for name, folder in fetched.items():
        (_, outputs), = jobs[f"download_{name}"]
        marker = str(tmp_path / "data" / folder / "raw" / "t10k-images-idx3-ubyte")
        assert outputs == [marker]
        features = [inputs for inputs, out in jobs["features"] if f"/features/{name}-" in out[0]]
        assert len(features) == 6 and all(inputs == [marker] for inputs in features)  # 3 seeds x 2 presets
    assert "leaving out emnist" in err and "leaving out cifar10:" in err and "leaving out mnist" not in err


def test_end_of_run_says_what_ran_what_was_left_out_and_how_to_get_it(tmp_path):
    """A real (small) run in a scratch working directory: its end lists the data sets."""
    import os
    import subprocess
    import sys

    from test_workflow import ROOT

    env = dict(os.environ, QUBOCNN_DATA=str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cifar10_jpeg.npz").write_bytes(b"")  # present: it runs, whatever its content
    run = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory",
                          str(tmp_path), "--configfile", str(ROOT / "config" / "config.yaml"), "--cores", "1",
                          "results/run/hardware.json", "--config", "download=False"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    end = [line for line in run.stderr.splitlines() if line.startswith("qubocnn: ")]
    assert end[0] == "qubocnn: run study ran on: digits, cifar10_jpeg"
    assert f"qubocnn: left out kmnist: no files under {tmp_path / 'data'} (download: false)" in end
    assert any(line.startswith("qubocnn: to add mnist, fashion_mnist, cifar10, emnist, kmnist: ") for line in end)
    assert end[-1] == "qubocnn: outputs: results/run/ (tables, figures, notebooks)"
    assert (tmp_path / "results" / "run" / "hardware.json").exists()
