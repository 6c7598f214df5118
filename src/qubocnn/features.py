"""The frozen random CNN (Extreme Learning Machine style) that turns images into features.

Seeded convolution filters, ReLU, adaptive max-pooling, flatten; nothing here is trained. The
features are standardised with training-set statistics and constant (dead) columns are dropped,
so the Gram matrix of docs/method.md has no eigenvalue that only the ridge term lifts off zero.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from typing import TYPE_CHECKING

from . import outputs
from .data import Dataset, check_splits
from .surrogate import check_features

if TYPE_CHECKING:
    import torch

logger = logging.getLogger("qubocnn.features")

FEATURE_FILE_FORMAT = "qubocnn.features/1"
# Fewer images than this extract in about a second: a progress bar would only be noise.
PROGRESS_MIN_IMAGES = 5000


@dataclass(frozen=True)
class FeaturePreset:
    """filters x kernel x kernel 'same' convolution, then max-pooling to pool x pool cells.

    pool is one pooled side for every image size, or a mapping image side -> pooled side.
    """

    name: str
    filters: int
    kernel: int
    pool: int | Mapping[int, int]

    def pooled_side(self, image_side: int) -> int:
        if isinstance(self.pool, int):
            return self.pool
        if image_side not in self.pool:
            sides = ", ".join(str(side) for side in sorted(self.pool))
            raise ValueError(
                f"feature preset {self.name!r} has no pooled size for {image_side} px images "
                f"(it knows {sides} px): use preset 'clique' or add the size to PRESETS"
            )
        return self.pool[image_side]


PRESETS = {
    # 4x4 max-pool windows on 28 and 32 px images (d = 196 and 256), 2x2 on the 8 px digits (d = 64).
    "default": FeaturePreset("default", filters=4, kernel=3, pool={8: 4, 28: 7, 32: 8}),
    # d = 16 for every image size: (16 + 1) * 10 = 170 binary variables at K = 10, small enough to
    # minor-embed the dense QUBO as a clique on a D-Wave Advantage QPU (about 180 at most).
    "clique": FeaturePreset("clique", filters=1, kernel=3, pool=4),
}


def get_preset(preset_name: str) -> FeaturePreset:
    if preset_name not in PRESETS:
        raise ValueError(f"unknown feature preset {preset_name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[preset_name]


def square_side(image_shape: tuple[int, ...]) -> int:
    if len(image_shape) != 3 or image_shape[1] != image_shape[2]:
        raise ValueError(f"the frozen CNN takes square (C, H, W) images, got shape {tuple(image_shape)}")
    return int(image_shape[1])


def feature_dimension(preset_name: str, image_shape: tuple[int, int, int]) -> int:
    """d = filters * pooled_side^2 for images of shape (C, H, W) (before dead columns are dropped)."""
    preset = get_preset(preset_name)
    return preset.filters * preset.pooled_side(square_side(image_shape)) ** 2


def frozen_cnn(preset_name: str, in_channels: int, image_side: int, seed: int) -> torch.nn.Module:
    """conv -> ReLU -> adaptive max-pool -> flatten, with He-normal filters and no bias.

    The filters come from numpy's seeded generator, not torch's, so a seed gives the same network
    under every torch version. No bias: a random one would only move each filter's ReLU threshold
    by an arbitrary amount; without it the features scale with image contrast, and a blank region
    maps to exactly 0, so cells that never see ink are exactly constant and standardise() drops them.
    """
    import torch  # only feature extraction needs torch: training from cached features starts without it

    preset = get_preset(preset_name)
    shape = (preset.filters, in_channels, preset.kernel, preset.kernel)
    fan_in = in_channels * preset.kernel**2
    weights = np.random.default_rng(seed).standard_normal(shape) * np.sqrt(2.0 / fan_in)
    conv = torch.nn.Conv2d(in_channels, preset.filters, preset.kernel, padding="same", bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(weights))
    network = torch.nn.Sequential(
        conv,
        torch.nn.ReLU(),
        torch.nn.AdaptiveMaxPool2d(preset.pooled_side(image_side)),
        torch.nn.Flatten(),
    )
    return network.requires_grad_(False).eval()


def extract_features(
    images: np.ndarray, preset_name: str, seed: int, batch_size: int = 2048, progress: bool = True
) -> np.ndarray:
    """Features (N, d) float64 of float32 images (N, C, H, W); the same for the same seed."""
    import torch

    if images.ndim != 4:
        raise ValueError(f"images must be an (N, C, H, W) array, got shape {images.shape}")
    count, channels = images.shape[:2]
    network = frozen_cnn(preset_name, channels, square_side(images.shape[1:]), seed)
    features = np.empty((count, feature_dimension(preset_name, images.shape[1:])), dtype=np.float64)
    started = time.perf_counter()
    batches = range(0, count, batch_size)
    show = progress and count >= PROGRESS_MIN_IMAGES
    with torch.inference_mode():
        for start in tqdm(batches, desc=f"features ({preset_name})", unit="batch", disable=not show):
            batch = np.ascontiguousarray(images[start : start + batch_size], dtype=np.float32)
            features[start : start + batch_size] = network(torch.from_numpy(batch)).numpy()
    logger.info(
        "extracted %d x %d features (preset %s, seed %d) in %.2f s",
        count, features.shape[1], preset_name, seed, time.perf_counter() - started,
    )
    return features


@dataclass(frozen=True)
class Standardisation:
    """Training-set statistics: the columns kept (not constant on the training set), their mean and std."""

    kept: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, train: np.ndarray) -> Standardisation:
        mean, std = train.mean(axis=0), train.std(axis=0)
        kept = std > 1e-8 * max(1.0, float(std.max(initial=0.0)))
        if not kept.any():
            raise ValueError("every feature is constant on the training set: check the input images")
        return cls(kept, mean[kept], std[kept])

    def apply(self, features: np.ndarray) -> np.ndarray:
        return (features[:, self.kept] - self.mean) / self.scale


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray, Standardisation]:
    """Scale both splits with the training mean and std; drop columns constant on the training set.

    Returns (train_std, test_std, statistics); statistics.kept is the boolean mask of the columns retained.
    """
    check_features(train, test)
    statistics = Standardisation.fit(train)
    return statistics.apply(train), statistics.apply(test), statistics


@dataclass
class FeatureSet:
    """Standardised features of one data set under one frozen CNN, with labels and provenance."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    dataset: str
    label: str
    preset: str
    seed: int
    kept: np.ndarray
    # the training mean and std of the kept raw columns: what new images' features need (feature
    # files written before they were recorded lack them)
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    @property
    def num_features(self) -> int:
        return self.x_train.shape[1]

    def check(self, source: str | os.PathLike = "the features") -> FeatureSet:
        """Refuse features no head can be trained and scored on (data.check_splits)."""
        check_splits(self.x_train.shape[1:], self.x_test.shape[1:], self.y_train, self.y_test, source, "features")
        return self

    def write(self, stream) -> None:
        """The feature file's bytes (a compressed .npz: arrays plus a JSON metadata string)."""
        metadata = {
            "format": FEATURE_FILE_FORMAT,
            "num_classes": self.num_classes,
            "dataset": self.dataset,
            "label": self.label,
            "preset": self.preset,
            "seed": self.seed,
        }
        np.savez_compressed(
            stream,
            x_train=self.x_train,
            y_train=self.y_train,
            x_test=self.x_test,
            y_test=self.y_test,
            kept=self.kept,
            **({} if self.mean is None else {"mean": self.mean, "scale": self.scale}),
            metadata=np.array(json.dumps(metadata)),
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically (outputs.write_file): a run killed while saving leaves the earlier file."""
        return outputs.write_file(path, self.write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FeatureSet:
        features = load_archive(path, FEATURE_FILE_FORMAT, "feature file",
                                "write it with `qubocnn features --dataset NAME --out FILE`",
                                lambda arrays, metadata: cls(**arrays, **metadata))
        return features.check(path)


def load_archive(path: str | os.PathLike, file_format: str, what: str, remedy: str, build):
    """build(arrays, metadata) of a qubocnn .npz file (arrays plus a JSON metadata string naming
    `file_format`); a missing file, or a file of another kind, is one error naming the remedy."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} not found: {remedy}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        metadata = json.loads(str(arrays.pop("metadata")))
        if metadata.pop("format") != file_format:
            raise KeyError("format")
        return build(arrays, metadata)
    # EOFError: a 0-byte or truncated file
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a qubocnn {what}: {remedy}") from error


def make_feature_set(
    dataset: Dataset, preset_name: str = "default", seed: int = 0, progress: bool = True
) -> FeatureSet:
    """Extract and standardise the frozen-CNN features of both splits of a data set."""
    feature_dimension(preset_name, dataset.x_train.shape[1:])  # fail on a bad preset before any work
    if seed < 0:
        raise ValueError(f"the feature seed must be >= 0 (numpy takes no negative seed), got {seed}")
    train = extract_features(dataset.x_train, preset_name, seed, progress=progress)
    test = extract_features(dataset.x_test, preset_name, seed, progress=progress)
    x_train, x_test, statistics = standardise(train, test)
    features = FeatureSet(
        x_train=x_train,
        y_train=dataset.y_train,
        x_test=x_test,
        y_test=dataset.y_test,
        num_classes=dataset.num_classes,
        dataset=dataset.name,
        label=dataset.label,
        preset=preset_name,
        seed=seed,
        kept=statistics.kept,
        mean=statistics.mean,
        scale=statistics.scale,
    )
    return features.check(dataset.name)
