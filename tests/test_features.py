"""The frozen random CNN, feature standardisation and feature files."""

import numpy as np
import pytest
import torch

from qubocnn.data import load_dataset
from qubocnn.features import (
    PRESETS,
    FeatureSet,
    extract_features,
    feature_dimension,
    frozen_cnn,
    make_feature_set,
    standardise,
)


def random_images(count, channels, side, seed=0):
    return np.random.default_rng(seed).random((count, channels, side, side), dtype=np.float32)


@pytest.mark.parametrize(
    "preset, side, dimension",
    [
        ("default", 8, 64),
        ("default", 28, 196),
        ("default", 32, 256),
        ("clique", 8, 16),
        ("clique", 28, 16),
        ("clique", 32, 16),
    ],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_dimensions(preset, side, dimension, channels):
    assert feature_dimension(preset, (channels, side, side)) == dimension
    features = extract_features(random_images(3, channels, side), preset, seed=0, progress=False)
    assert features.shape == (3, dimension) and features.dtype == np.float64


def test_clique_preset_fits_a_qpu_clique_at_ten_bits():
    assert (feature_dimension("clique", (1, 28, 28)) + 1) * 10 == 170


def test_unknown_preset_and_size_are_refused():
    with pytest.raises(ValueError, match="choose one of default, clique"):
        feature_dimension("big", (1, 28, 28))
    with pytest.raises(ValueError, match="16 px"):
        feature_dimension("default", (1, 16, 16))
    assert set(PRESETS) == {"default", "clique"}


def test_network_is_frozen_and_drawn_from_numpy():
    network = frozen_cnn("default", in_channels=3, image_side=32, seed=5)
    assert not network.training
    assert all(not parameter.requires_grad for parameter in network.parameters())
    conv = network[0]
    assert conv.bias is None
    expected = np.random.default_rng(5).standard_normal((4, 3, 3, 3)) * np.sqrt(2.0 / 27)
    np.testing.assert_array_equal(conv.weight.numpy(), expected.astype(np.float32))


def test_same_seed_same_features_other_seed_other_features():
    images = random_images(40, 1, 28)
    first = extract_features(images, "default", seed=3, progress=False)
    again = extract_features(images, "default", seed=3, progress=False)
    other = extract_features(images, "default", seed=4, progress=False)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)
    batched = extract_features(images, "default", seed=3, batch_size=7, progress=False)
    np.testing.assert_allclose(batched, first, rtol=1e-6, atol=1e-7)


def test_features_are_the_pooled_relu_of_the_convolution():
    images = random_images(2, 1, 8)
    weights = frozen_cnn("default", 1, 8, seed=1)[0].weight
    response = torch.relu(torch.nn.functional.conv2d(torch.from_numpy(images), weights, padding=1))
    pooled = response.reshape(2, 4, 4, 2, 4, 2).amax(dim=(3, 5)).reshape(2, -1)  # 2x2 windows
    np.testing.assert_allclose(extract_features(images, "default", seed=1, progress=False), pooled.numpy())


def test_standardise_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, size=(500, 3))
    test = rng.normal(5.0, 2.0, size=(200, 3))
    train_std, test_std, statistics = standardise(train, test)
    assert statistics.kept.all()
    np.testing.assert_allclose(train_std.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(train_std.std(axis=0), 1, atol=1e-12)
    np.testing.assert_allclose(test_std, (test - train.mean(axis=0)) / train.std(axis=0))
    assert np.all(test_std.mean(axis=0) > 0.5)  # the shifted test set is not re-centred


def test_standardise_drops_constant_columns():
    rng = np.random.default_rng(0)
    train = np.column_stack([rng.random(50), np.full(50, 4.0), rng.random(50)])
    test = np.column_stack([rng.random(5), rng.random(5), rng.random(5)])  # varies on test: still dropped
    train_std, test_std, statistics = standardise(train, test)
    np.testing.assert_array_equal(statistics.kept, [True, False, True])
    assert train_std.shape == (50, 2) and test_std.shape == (5, 2)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_standardise_refuses_non_finite_values(bad):
    train, test = np.ones((4, 2)), np.ones((3, 2))
    test[1, 0] = bad
    with pytest.raises(ValueError, match=r"NaN or inf values \(1 of them\)"):
        standardise(train, test)


def small_feature_set():
    rng = np.random.default_rng(0)
    return FeatureSet(
        x_train=rng.normal(size=(6, 3)), y_train=np.array([0, 1, 2, 0, 1, 2]),
        x_test=rng.normal(size=(2, 3)), y_test=np.array([2, 0]), num_classes=3, dataset="mnist",
        label="MNIST", preset="default", seed=7, kept=np.array([True, False, True, True]),
        mean=rng.normal(size=3), scale=rng.random(3) + 1,
    )


def test_feature_set_round_trip(tmp_path):
    original = small_feature_set()
    path = original.save(tmp_path / "sub" / "mnist.features")
    assert path == tmp_path / "sub" / "mnist.features" and path.is_file()
    loaded = FeatureSet.load(path)
    for name in ("x_train", "y_train", "x_test", "y_test", "kept", "mean", "scale"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(original, name))
        assert getattr(loaded, name).dtype == getattr(original, name).dtype
    metadata = (loaded.num_classes, loaded.dataset, loaded.label, loaded.preset, loaded.seed)
    assert metadata == (3, "mnist", "MNIST", "default", 7)
    assert loaded.num_features == 3


def test_feature_set_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="qubocnn features --dataset"):
        FeatureSet.load(tmp_path / "absent.npz")
    np.savez(tmp_path / "other.npz", x_train=np.zeros(3))
    with pytest.raises(ValueError, match="not a qubocnn feature file"):
        FeatureSet.load(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a qubocnn feature file"):
        FeatureSet.load(tmp_path / "text.npz")


def test_make_feature_set_on_digits():
    digits = load_dataset("digits")
    features = make_feature_set(digits, "default", seed=0, progress=False)
    assert features.kept.shape == (64,)
    # Pooled cells in the digits' blank margins never respond: they are dropped (55 of 64 remain at seed 0).
    assert features.num_features == features.kept.sum() < 64
    assert features.x_train.shape == (1347, features.num_features) and features.x_test.shape[0] == 450
    np.testing.assert_allclose(features.x_train.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_array_equal(features.y_test, digits.y_test)
    assert (features.dataset, features.label, features.preset, features.num_classes) == (
        "digits", "sklearn digits", "default", 10)
