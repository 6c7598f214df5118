"""Data sets torchvision can download: whether one is installed, whether its source answers, and an
atomic download (`qubocnn download`, one workflow job per data set).

torchvision writes straight into the data root, so an interrupted or concurrent download leaves half
a data set there. Here torchvision downloads into a staging folder inside the data root, and its
folders are then renamed into place (a whole folder at once when it is new; file by file, the file
that marks the data set as present last, when part of it is already there).
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from .data import DEFAULT_EMNIST_SPLIT, LABELS, TORCHVISION_CLASSES, DataError, data_root, expected_files

# torchvision's own sources (a test checks them against torchvision's classes); hard-coded because
# the workflow asks at start-up, where importing torchvision would cost seconds on every call.
SOURCES = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
    "fashion_mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
    "kmnist": ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"],
    "emnist": ["https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"],
    "cifar10": ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"],
}
DOWNLOADABLE = tuple(SOURCES)
PROBE_SECONDS = 5.0
DOWNLOAD_SOCKET_SECONDS = 60.0  # a stalled connection fails the job instead of hanging it


def marker(name: str, root: str | Path, emnist_split: str = DEFAULT_EMNIST_SPLIT) -> Path:
    """The file whose presence means a data set is installed under root (its test images)."""
    root = Path(root)
    if name == "cifar10":
        return root / "cifar-10-batches-py" / "test_batch"
    if name == "emnist":
        return root / "EMNIST" / "raw" / f"emnist-{emnist_split}-test-images-idx3-ubyte"
    if name in TORCHVISION_CLASSES:
        return root / TORCHVISION_CLASSES[name] / "raw" / "t10k-images-idx3-ubyte"
    if name == "digits":
        raise ValueError("digits ships with scikit-learn: it has no files to look for")
    return root / f"{name}.npz"  # cifar10_jpeg, and any other name: DATA_ROOT/NAME.npz


def present(name: str, root: str | Path, emnist_split: str = DEFAULT_EMNIST_SPLIT) -> bool:
    return name == "digits" or marker(name, root, emnist_split).exists()


def _answers(url: str) -> str | None:
    """None when the server answers (any HTTP status), else why not."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=PROBE_SECONDS):
            return None
    except urllib.error.HTTPError:
        return None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"{urlsplit(url).hostname}: {reason}"


def unreachable(names) -> dict[str, str]:
    """{data set: why its source cannot be reached} for those of `names` none of whose sources
    answers within PROBE_SECONDS (all probed at once: offline this takes well under a second)."""
    names = [n for n in names if n in SOURCES]
    urls = sorted({url for name in names for url in SOURCES[name]})
    if not urls:
        return {}
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        status = dict(zip(urls, pool.map(_answers, urls)))
    return {name: "; ".join(status[url] for url in SOURCES[name]) for name in names
            if all(status[url] is not None for url in SOURCES[name])}


def _move_into(staged: Path, target: Path, last: Path) -> None:
    """Put staged (a file or folder) at target; `last` (the marker) is moved after everything else."""
    if not target.exists() or staged.is_file():
        staged.replace(target)  # one atomic step: a file, or a whole new folder
        return
    files = sorted((p for p in staged.rglob("*") if p.is_file()), key=lambda p: target / p.relative_to(staged) == last)
    for path in files:
        destination = target / path.relative_to(staged)
        destination.parent.mkdir(parents=True, exist_ok=True)
        path.replace(destination)


def download(name: str, root: str | Path | None = None, emnist_split: str = DEFAULT_EMNIST_SPLIT) -> Path:
    """Download a torchvision data set into root (default: $QUBOCNN_DATA or data/) atomically;
    returns its marker file. Raises DataError (one line) when the download fails."""
    if name not in SOURCES:
        raise DataError(f"{name} cannot be downloaded: only {', '.join(DOWNLOADABLE)} can")
    root = data_root(root)
    done = marker(name, root, emnist_split)
    if done.exists():
        return done
    import torchvision.datasets as tvd

    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".download-{name}-", dir=root))
    kwargs = {"root": str(staging), "download": True}
    if name == "emnist":
        kwargs["split"] = emnist_split
    cls = getattr(tvd, TORCHVISION_CLASSES[name])
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_SOCKET_SECONDS)
    try:
        cls(train=True, **kwargs)
        cls(train=False, **kwargs)  # both splits: torchvision checks the files it fetched
        for staged in staging.iterdir():
            _move_into(staged, root / staged.name, done)
    except (OSError, RuntimeError, ValueError, zipfile.BadZipFile, tarfile.TarError) as error:
        cause = (str(error).strip().splitlines() or [""])[0]
        label = LABELS[name].format(split=emnist_split)
        raise DataError(f"{label}: download failed ({type(error).__name__}: {cause}); copy its files under {root} "
                        f"(expected {expected_files(name, root, emnist_split)}), or run again with internet") from error
    finally:
        socket.setdefaulttimeout(previous)
        shutil.rmtree(staging, ignore_errors=True)
    if not done.exists():
        raise DataError(f"{name}: torchvision downloaded no {done.relative_to(root)} (EMNIST split {emnist_split}?)")
    return done


def run_sources(options: dict) -> None:
    """`qubocnn sources`: {data set: why its source cannot be reached} of --datasets, as JSON."""
    names = [n for n in str(options["datasets"] or "").split(",") if n]
    if not names or set(names) - set(SOURCES):
        raise ValueError(f"--datasets takes comma-separated names of {', '.join(DOWNLOADABLE)}, got {options['datasets']!r}")
    from .outputs import write_text

    found = unreachable(names)
    write_text(options["out"], json.dumps({"schema": "qubocnn.sources/1", "asked": names, "unreachable": found},
                                          indent=1) + "\n")
    print(f"sources answer for {', '.join(n for n in names if n not in found) or 'none'} of {', '.join(names)}",
          file=sys.stderr)


def run(options: dict) -> None:
    if not options["dataset"]:
        raise ValueError(f"give --dataset: one of {', '.join(DOWNLOADABLE)}")
    path = download(options["dataset"], options["data_root"], options["emnist_split"])
    print(f"{options['dataset']}: present under {data_root(options['data_root'])} ({path})", file=sys.stderr)
