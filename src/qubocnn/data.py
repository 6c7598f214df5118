"""Benchmark images as numpy arrays: float32 (N, C, H, W) in [0, 1] and int64 labels 0..C-1.

Sources (docs/method.md, "Data"): sklearn's digits; torchvision's own loaders and folder layout for
MNIST, Fashion-MNIST, KMNIST, EMNIST and CIFAR-10; the offline JPEG copy of CIFAR-10
(`<root>/cifar10_jpeg.npz`, uint8 images and int64 labels under the keys below); and any .npz file holding
x_train, y_train, x_test, y_test.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TORCHVISION_CLASSES = {
    "mnist": "MNIST",
    "fashion_mnist": "FashionMNIST",
    "kmnist": "KMNIST",
    "emnist": "EMNIST",
    "cifar10": "CIFAR10",
}
# in the order of the paper's tables
DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10", "cifar10_jpeg", "emnist", "kmnist")
LABELS = {
    "digits": "sklearn digits",
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "kmnist": "KMNIST",
    "emnist": "EMNIST ({split})",
    "cifar10": "CIFAR-10",
    "cifar10_jpeg": "CIFAR-10 (JPEG copy)",
}
EMNIST_SPLITS = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
DEFAULT_EMNIST_SPLIT = "balanced"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
# What ../shared/data/install.sh puts into a data root; the other sets need a machine with internet.
INSTALLABLE = ("mnist", "fashion_mnist", "cifar10_jpeg")


class DataError(ValueError):
    """A data set cannot be found or read; the message says what to do."""


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    label: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.x_train.shape[1:])


def data_root(root: str | os.PathLike | None = None) -> Path:
    """root if given, else $QUBOCNN_DATA, else ./data."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get("QUBOCNN_DATA", "data"))


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    download: bool = False,
    emnist_split: str = DEFAULT_EMNIST_SPLIT,
    limit_train: int | None = None,
    limit_test: int | None = None,
) -> Dataset:
    """Load a benchmark by name (one of DATASETS) or from an .npz path.

    limit_train / limit_test keep only the first n examples of each split (smoke runs, tests);
    labels are mapped to 0..C-1 on the full data first, so a limit never renumbers classes.
    """
    root = data_root(root)
    if name == "digits":
        x_train, y_train, x_test, y_test = digits_arrays()
        label, num_classes = LABELS["digits"], 10
    elif name in TORCHVISION_CLASSES:
        x_train, y_train, x_test, y_test, num_classes = torchvision_arrays(name, root, download, emnist_split)
        label = LABELS[name].format(split=emnist_split)
    elif name == "cifar10_jpeg":
        x_train, y_train, x_test, y_test = npz_arrays(root / "cifar10_jpeg.npz", name)
        label, num_classes = LABELS[name], 10  # the official class order, airplane .. truck
        check_labels(y_train, y_test, num_classes, label, root)
    elif str(name).endswith(".npz"):
        x_train, y_train, x_test, y_test = npz_arrays(Path(name), name)
        y_train, y_test, num_classes = dense_labels(y_train, y_test)
        label = Path(name).stem
    else:
        choices = ", ".join(DATASETS)
        raise DataError(f"unknown dataset {name!r}: choose one of {choices} or a path to an .npz file")
    x_train, y_train = keep_first(x_train, y_train, limit_train, "limit_train")
    x_test, y_test = keep_first(x_test, y_test, limit_test, "limit_test")
    dataset = Dataset(
        name=str(name),
        label=label,
        x_train=as_nchw_unit(x_train, name),
        y_train=np.asarray(y_train, dtype=np.int64),
        x_test=as_nchw_unit(x_test, name),
        y_test=np.asarray(y_test, dtype=np.int64),
        num_classes=int(num_classes),
    )
    check_splits(dataset.x_train.shape[1:], dataset.x_test.shape[1:], dataset.y_train, dataset.y_test, name, "images")
    return dataset


def check_splits(train_shape: tuple, test_shape: tuple, y_train: np.ndarray, y_test: np.ndarray,
                 source, what: str) -> None:
    """Refuse splits no head can be trained and scored on: fewer than 2 training examples or
    classes (a single class trains to accuracy 1.0 at loss 0), an empty test split (its accuracy
    is NaN) or train and test examples of different shapes."""
    if len(y_train) < 2:
        raise DataError(f"{source}: {len(y_train)} training example(s): training needs at least 2, of 2 classes")
    classes = np.unique(y_train)
    if len(classes) < 2:
        raise DataError(f"{source}: every training example is of class {classes[0]}: a classifier needs at "
                        "least 2 classes (a larger --limit-train?)")
    if len(y_test) == 0:
        raise DataError(f"{source}: the test split is empty: its accuracy would be undefined")
    if tuple(train_shape) != tuple(test_shape):
        raise DataError(f"{source}: training {what} have shape {tuple(train_shape)} per example, test {what} "
                        f"{tuple(test_shape)}: both splits must share one shape")


def keep_first(images: np.ndarray, labels: np.ndarray, limit: int | None, what: str):
    if limit is None:
        return images, labels
    if limit < 1:
        raise DataError(f"{what} must be a positive number of examples, got {limit}")
    return images[:limit], labels[:limit]


def digits_arrays():
    """sklearn's 8x8 digits (values 0..16) with a fixed stratified 75/25 split.

    The split uses its own random_state, so every training seed sees the same test set.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    return x_train, y_train, x_test, y_test


def torchvision_arrays(name: str, root: Path, download: bool, emnist_split: str):
    """Train and test arrays of a torchvision data set, read from its .data/.targets directly."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, TORCHVISION_CLASSES[name])
    kwargs = {"root": str(root), "download": download}
    if name == "emnist":
        if emnist_split not in EMNIST_SPLITS:
            choices = ", ".join(EMNIST_SPLITS)
            raise DataError(f"unknown EMNIST split {emnist_split!r}: choose one of {choices}")
        kwargs["split"] = emnist_split
    try:
        train, test = cls(train=True, **kwargs), cls(train=False, **kwargs)
    except (RuntimeError, OSError) as error:  # "Dataset not found", or a failed download (URLError)
        raise DataError(missing_message(name, root, emnist_split, download, error)) from error

    x_train, x_test = np.asarray(train.data), np.asarray(test.data)
    if name == "emnist":
        # EMNIST's idx files store every image transposed; flip back so characters read upright.
        x_train, x_test = x_train.transpose(0, 2, 1), x_test.transpose(0, 2, 1)
    # EMNIST 'letters' numbers its classes 1..26; torchvision lists a placeholder "N/A" as class 0.
    unused = 1 if train.classes[0] == "N/A" else 0
    num_classes = len(train.classes) - unused
    y_train = np.asarray(train.targets, dtype=np.int64) - unused
    y_test = np.asarray(test.targets, dtype=np.int64) - unused
    check_labels(y_train, y_test, num_classes, LABELS[name].format(split=emnist_split), root)
    return x_train, y_train, x_test, y_test, num_classes


def check_labels(y_train: np.ndarray, y_test: np.ndarray, num_classes: int, label: str, root: Path) -> None:
    for labels in (y_train, y_test):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            span = f"0..{num_classes - 1}"
            raise DataError(f"{label} labels under {root} lie outside {span}: re-install the data set")


def expected_files(name: str, root: Path, emnist_split: str) -> str:
    if name == "emnist":
        pattern = f"emnist-{emnist_split}-{{train,test}}-{{images-idx3,labels-idx1}}-ubyte"
        return str(root / "EMNIST" / "raw" / pattern)
    if name == "cifar10":
        return str(root / "cifar-10-batches-py" / "{data_batch_1..5,test_batch,batches.meta}")
    if name == "cifar10_jpeg":
        return str(root / "cifar10_jpeg.npz")
    return str(root / TORCHVISION_CLASSES[name] / "raw" / "{train,t10k}-{images-idx3,labels-idx1}-ubyte")


def missing_message(name: str, root: Path, emnist_split: str, download: bool, error: Exception | None) -> str:
    """One line: what is missing where, how to get it, and the first line of the original error."""
    label = LABELS[name].format(split=emnist_split)
    if name in INSTALLABLE:
        remedy = f"run ../shared/data/install.sh {root}, or pass --download on a machine with internet"
    else:
        remedy = "pass --download on a machine with internet, or copy the files there in torchvision's layout"
    if name == "cifar10":
        remedy += " (the offline approximation loads as 'cifar10_jpeg')"
    tried = "download failed" if download else "not found"
    expected = expected_files(name, root, emnist_split)
    message = f"{label} {tried} under {root} (expected {expected}): {remedy}"
    if error is None:
        return message
    cause = (str(error).strip().splitlines() or [""])[0]
    return f"{message} [{type(error).__name__}: {cause}]"


def npz_arrays(path: Path, name: str):
    """x_train, y_train, x_test, y_test from an .npz file."""
    keys = ", ".join(NPZ_KEYS)
    if not path.is_file():
        if name == "cifar10_jpeg":
            raise DataError(missing_message(name, path.parent, "", False, None))
        raise DataError(f"data file {path} not found: give the path to an .npz with keys {keys}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            found = {key: archive[key] for key in NPZ_KEYS if key in archive.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:  # EOFError: a 0-byte file
        raise DataError(f"{path} is not a readable .npz of numeric arrays ({error}): re-create it") from error
    missing = [key for key in NPZ_KEYS if key not in found]
    if missing:
        raise DataError(f"{path} lacks {', '.join(missing)}: an .npz data set needs keys {keys}")
    arrays = [found[key] for key in NPZ_KEYS]
    for split, (images, labels) in (("train", arrays[:2]), ("test", arrays[2:])):
        if len(images) != len(labels):
            counts = f"x_{split} has {len(images)} images but y_{split} has {len(labels)} labels"
            raise DataError(f"{path}: {counts}: give every image one label")
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{path}: y_{split} must hold integer class labels, got {labels.dtype}")
    return arrays


def dense_labels(y_train: np.ndarray, y_test: np.ndarray):
    """Map raw integer labels onto 0..C-1 (identity when they already are); returns C too."""
    classes = np.unique(np.concatenate([y_train, y_test]))
    return np.searchsorted(classes, y_train), np.searchsorted(classes, y_test), len(classes)


def channel_layout(shape: tuple[int, ...]) -> str:
    """'NHW', 'NHWC' or 'NCHW' of an image array's shape: the layout whose two spatial axes are
    equal (the frozen CNN takes square images) and whose channel axis is not; refused otherwise."""
    if len(shape) == 3 and shape[1] == shape[2]:
        return "NHW"
    if len(shape) == 4 and shape[1] == shape[2] != shape[3]:
        return "NHWC"
    if len(shape) == 4 and shape[2] == shape[3] != shape[1]:
        return "NCHW"
    raise DataError(f"images of shape {tuple(shape)}: expected square images as (N, H, W), channels-last "
                    "(N, H, W, C) or channels-first (N, C, H, W), with H = W and C != H")


def as_nchw_unit(images: np.ndarray, name: str) -> np.ndarray:
    """(N, H, W), (N, H, W, C) or (N, C, H, W), uint8 0..255 or float in [0, 1] -> float32
    (N, C, H, W) in [0, 1]."""
    images = np.asarray(images)
    try:
        layout = channel_layout(images.shape)
    except DataError as error:
        raise DataError(f"{name}: {error}") from None
    if layout == "NHW":
        images = images[:, None]
    elif layout == "NHWC":
        images = images.transpose(0, 3, 1, 2)
    is_bytes = images.dtype == np.uint8
    images = np.array(images, dtype=np.float32, order="C")  # a copy: safe to scale in place
    if is_bytes:
        images /= 255
        return images
    if images.size and not (np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1):
        raise DataError(f"{name}: float images must lie in [0, 1]: store uint8 0..255 or rescale them")
    return images
