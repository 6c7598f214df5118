"""Loaders against small files written in torchvision's exact on-disk layouts (no download)."""

import hashlib
import pickle
import struct

import numpy as np
import pytest
import torchvision.datasets

from qubocnn.data import DATASETS, DataError, data_root, load_dataset

# An upright, asymmetric 28x28 "image": a bar down the left edge and one across the top.
UPRIGHT = np.zeros((28, 28), dtype=np.uint8)
UPRIGHT[:, 0] = 255
UPRIGHT[0, :10] = 128


def write_idx(path, array):
    """The big-endian idx format of MNIST: magic 0x0000 08 <ndim> (08 = uint8), then each dim."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + array.tobytes())


def mnist_like_images(count, seed):
    images = np.random.default_rng(seed).integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    images[0] = UPRIGHT
    return images


@pytest.mark.parametrize(
    "name, folder, label",
    [
        ("mnist", "MNIST", "MNIST"),
        ("fashion_mnist", "FashionMNIST", "Fashion-MNIST"),
        ("kmnist", "KMNIST", "KMNIST"),
    ],
)
def test_mnist_layout(tmp_path, name, folder, label):
    raw = tmp_path / folder / "raw"
    train_images, test_images = mnist_like_images(12, 0), mnist_like_images(5, 1)
    train_labels, test_labels = np.arange(12) % 10, np.array([9, 8, 7, 6, 5])
    write_idx(raw / "train-images-idx3-ubyte", train_images)
    write_idx(raw / "train-labels-idx1-ubyte", train_labels)
    write_idx(raw / "t10k-images-idx3-ubyte", test_images)
    write_idx(raw / "t10k-labels-idx1-ubyte", test_labels)

    data = load_dataset(name, root=tmp_path)

    assert (data.name, data.label, data.num_classes) == (name, label, 10)
    assert data.x_train.shape == (12, 1, 28, 28) and data.x_test.shape == (5, 1, 28, 28)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    np.testing.assert_allclose(data.x_train[:, 0], train_images / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_allclose(data.x_test[0, 0], UPRIGHT / 255.0, rtol=0, atol=1e-7)  # not transposed
    np.testing.assert_array_equal(data.y_train, train_labels)
    np.testing.assert_array_equal(data.y_test, test_labels)


def write_emnist(root, split, train_labels, test_labels):
    raw = root / "EMNIST" / "raw"
    for part, labels in (("train", train_labels), ("test", test_labels)):
        images = np.zeros((len(labels), 28, 28), dtype=np.uint8)
        images[0] = UPRIGHT.T  # EMNIST's files hold every image transposed
        write_idx(raw / f"emnist-{split}-{part}-images-idx3-ubyte", images)
        write_idx(raw / f"emnist-{split}-{part}-labels-idx1-ubyte", np.asarray(labels))


def test_emnist_balanced_layout_reads_upright(tmp_path):
    write_emnist(tmp_path, "balanced", [0, 46, 10, 3], [5, 46])

    data = load_dataset("emnist", root=tmp_path)

    assert data.label == "EMNIST (balanced)" and data.num_classes == 47
    assert data.x_train.shape == (4, 1, 28, 28)
    np.testing.assert_array_equal(data.x_train[0, 0] * 255, UPRIGHT)
    np.testing.assert_array_equal(data.x_test[0, 0] * 255, UPRIGHT)
    np.testing.assert_array_equal(data.y_train, [0, 46, 10, 3])  # already 0..46: kept as they are
    np.testing.assert_array_equal(data.y_test, [5, 46])


def test_emnist_letters_labels_shift_to_zero(tmp_path):
    write_emnist(tmp_path, "letters", [1, 26, 2], [26, 1])

    data = load_dataset("emnist", root=tmp_path, emnist_split="letters")

    assert data.label == "EMNIST (letters)" and data.num_classes == 26
    np.testing.assert_array_equal(data.y_train, [0, 25, 1])
    np.testing.assert_array_equal(data.y_test, [25, 0])


def test_cifar10_layout(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        rows = rng.integers(0, 256, size=(2, 3 * 32 * 32), dtype=np.uint8)  # R plane, G plane, B plane
        batches[name] = {"data": rows, "labels": [int(rng.integers(10)), 9]}
        (folder / name).write_bytes(pickle.dumps(batches[name]))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [f"class{i}" for i in range(10)]}))

    # torchvision verifies each file against the MD5 of the official archive. Point those checksums
    # at the files written here, so the same integrity check runs (and passes) on them.
    def md5(name):
        return hashlib.md5((folder / name).read_bytes()).hexdigest()

    cifar = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cifar, "train_list", [[name, md5(name)] for name, _ in cifar.train_list])
    monkeypatch.setattr(cifar, "test_list", [[name, md5(name)] for name, _ in cifar.test_list])
    monkeypatch.setattr(cifar, "meta", {**cifar.meta, "md5": md5("batches.meta")})

    data = load_dataset("cifar10", root=tmp_path)

    assert (data.label, data.num_classes) == ("CIFAR-10", 10)
    assert data.x_train.shape == (10, 3, 32, 32) and data.x_test.shape == (2, 3, 32, 32)
    first_row = batches["data_batch_1"]["data"][0]
    np.testing.assert_array_equal(data.x_train[0] * 255, first_row.reshape(3, 32, 32))
    np.testing.assert_array_equal(data.y_test, batches["test_batch"]["labels"])
    (folder / "test_batch").write_bytes(b"corrupted")
    with pytest.raises(DataError, match="CIFAR-10 not found"):
        load_dataset("cifar10", root=tmp_path)


def test_cifar10_jpeg_npz(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 9])
    arrays = {"x_train": images, "y_train": labels, "x_test": images[:2], "y_test": labels[:2]}
    np.savez(tmp_path / "cifar10_jpeg.npz", **arrays)

    data = load_dataset("cifar10_jpeg", root=tmp_path)

    assert data.label == "CIFAR-10 (JPEG copy)"
    assert data.x_train.shape == (6, 3, 32, 32)
    np.testing.assert_array_equal(data.x_train * 255, images.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(data.y_train, labels)  # the official class numbers, 0..9
    assert data.num_classes == 10


def test_generic_npz_remaps_letter_labels(tmp_path):
    path = tmp_path / "letters_small.npz"
    rng = np.random.default_rng(0)
    train_labels, test_labels = np.array([1, 2, 3, 26, 2]), np.array([26, 3])
    images = {"x_train": rng.random((5, 10, 10)), "x_test": rng.random((2, 10, 10))}
    np.savez(path, y_train=train_labels, y_test=test_labels, **images)

    data = load_dataset(str(path))

    assert data.label == "letters_small" and data.num_classes == 4
    assert data.x_train.shape == (5, 1, 10, 10) and data.x_train.dtype == np.float32
    np.testing.assert_array_equal(data.y_train, [0, 1, 2, 3, 1])
    np.testing.assert_array_equal(data.y_test, [3, 2])


def test_generic_npz_errors(tmp_path):
    path = tmp_path / "partial.npz"
    np.savez(path, x_train=np.zeros((2, 4, 4)), y_train=np.zeros(2, dtype=int))
    with pytest.raises(DataError, match="lacks x_test, y_test"):
        load_dataset(str(path))
    path = tmp_path / "wide.npz"
    np.savez(path, x_train=np.full((2, 4, 4), 7.0), y_train=[0, 1], x_test=np.zeros((1, 4, 4)), y_test=[0])
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        load_dataset(str(path))
    with pytest.raises(DataError, match="not found"):
        load_dataset(str(tmp_path / "absent.npz"))


def test_digits_split():
    data = load_dataset("digits")
    assert data.x_train.shape == (1347, 1, 8, 8) and data.x_test.shape == (450, 1, 8, 8)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert data.num_classes == 10 and data.label == "sklearn digits"
    assert np.bincount(data.y_test, minlength=10).min() >= 43  # stratified: 43..46 of each digit
    np.testing.assert_array_equal(load_dataset("digits").y_test, data.y_test)  # a fixed split


def test_limits_keep_the_first_examples():
    full = load_dataset("digits")
    small = load_dataset("digits", limit_train=100, limit_test=7)
    assert small.x_train.shape[0] == 100 and small.x_test.shape[0] == 7
    np.testing.assert_array_equal(small.x_train, full.x_train[:100])
    np.testing.assert_array_equal(small.y_test, full.y_test[:7])
    assert small.num_classes == 10


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(DataError, match="unknown dataset 'foo'") as raised:
        load_dataset("foo")
    assert all(name in str(raised.value) for name in DATASETS)


def test_missing_mnist_says_where_and_what_to_run(tmp_path):
    with pytest.raises(DataError) as raised:
        load_dataset("mnist", root=tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "install.sh" in message and "--download" in message
    assert isinstance(raised.value.__cause__, RuntimeError)


def test_failed_download_is_one_line(tmp_path, monkeypatch):
    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried a mirror:\n<urlopen error>")

    monkeypatch.setattr(torchvision.datasets.KMNIST, "download", offline)
    with pytest.raises(DataError, match="KMNIST download failed") as raised:
        load_dataset("kmnist", root=tmp_path, download=True)
    assert "\n" not in str(raised.value) and str(tmp_path) in str(raised.value)


def test_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("QUBOCNN_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert data_root("elsewhere").name == "elsewhere"
    monkeypatch.delenv("QUBOCNN_DATA")
    assert str(data_root()) == "data"
