"""A trained head saved next to its result file, with what it takes to apply it to new images.

`qubocnn train --out RUN.json` also writes RUN.head.npz (`head_path`) and names it in the result
(key `head`): the head W ((d+1) x C over the kept standardised features, bias last), the frozen
CNN's preset and seed, the kept columns and their training mean and std. `qubocnn predict` reloads
it: on a feature file of the same features it recomputes the recorded test accuracy exactly; on a
data set it extracts the test images' features with the head's preset and seed and standardises
them with the head's statistics, the arithmetic of `features.make_feature_set`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import outputs, surrogate
from .features import FeatureSet, Standardisation, load_archive
from .outputs import head_path

HEAD_FILE_FORMAT = "qubocnn.head/1"
__all__ = ["HEAD_FILE_FORMAT", "Head", "head_path"]


@dataclass
class Head:
    W: np.ndarray
    kept: np.ndarray
    # None when the run read a feature file written before qubocnn recorded the statistics
    mean: np.ndarray | None
    scale: np.ndarray | None
    dataset: str
    preset: str
    feature_seed: int

    @classmethod
    def of_run(cls, W: np.ndarray, features: FeatureSet) -> Head:
        return cls(W, features.kept, features.mean, features.scale, features.dataset, features.preset,
                   int(features.seed))

    @property
    def num_classes(self) -> int:
        return self.W.shape[1]

    def write(self, stream) -> None:
        """The head file's bytes to an open binary stream (an outputs.Writer)."""
        metadata = {"format": HEAD_FILE_FORMAT, "dataset": self.dataset, "preset": self.preset,
                    "feature_seed": self.feature_seed}
        statistics = {} if self.mean is None else {"mean": self.mean, "scale": self.scale}
        np.savez_compressed(stream, W=self.W, kept=self.kept, **statistics, metadata=np.array(json.dumps(metadata)))

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically, mode 0644 like the result file it sits next to (outputs.write_file);
        `qubocnn train` writes it with its result as one unit (results.write_result(also=...))."""
        return outputs.write_file(path, self.write)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Head:
        return load_archive(path, HEAD_FILE_FORMAT, "head file", "`qubocnn train --out RUN.json` writes RUN.head.npz",
                            lambda arrays, metadata: cls(arrays.pop("W"), arrays.pop("kept"), arrays.pop("mean", None),
                                                         arrays.pop("scale", None), **metadata))

    def check_features(self, features: FeatureSet) -> None:
        """Refuse features other than the head's (another preset, seed, data set or kept columns)."""
        mine = (self.dataset, self.preset, self.feature_seed, self.num_classes)
        theirs = (features.dataset, features.preset, int(features.seed), features.num_classes)
        if mine != theirs or not np.array_equal(self.kept, features.kept):
            raise ValueError(f"the head was trained on {self.dataset} features (preset {self.preset}, seed "
                             f"{self.feature_seed}, {self.num_classes} classes, {int(self.kept.sum())} columns), "
                             f"not on these ({features.dataset}, preset {features.preset}, seed {features.seed}, "
                             f"{features.num_classes} classes, {int(features.kept.sum())} columns)")

    def standardise(self, raw_features: np.ndarray) -> np.ndarray:
        """Raw frozen-CNN features -> the standardised columns the head takes."""
        if raw_features.shape[1] != len(self.kept):
            raise ValueError(f"the head takes {len(self.kept)} raw features (preset {self.preset}), got "
                             f"{raw_features.shape[1]}: images of another size?")
        if self.mean is None:
            raise ValueError("this head has no standardisation statistics (its run read a feature file written "
                             "before they were recorded): predict from a feature file (--features)")
        return Standardisation(self.kept, self.mean, self.scale).apply(raw_features)

    def predict(self, standardised: np.ndarray) -> np.ndarray:
        """Class indices 0..C-1."""
        return np.argmax(surrogate.add_bias(standardised) @ self.W, axis=1)


def predict(path: str | os.PathLike, source, progress: bool = False) -> tuple[np.ndarray, float]:
    """The class of every test example of `source` (a runspec.SourceSpec: a feature file of the
    head's features, or a data set whose test images get the head's CNN and standardisation) by the
    head file `path`, and the test accuracy."""
    from .data import load_dataset
    from .features import extract_features

    if not path:
        raise ValueError("give --head FILE: `qubocnn train --out RUN.json` writes RUN.head.npz")
    head = Head.load(path)
    if source.features:
        features = FeatureSet.load(source.features)
        head.check_features(features)
        x_test, y_test = features.x_test, features.y_test
    elif source.dataset:
        dataset = load_dataset(source.dataset, root=source.data_root, download=source.download,
                               emnist_split=source.emnist_split, limit_test=source.limit_test)
        if dataset.num_classes != head.num_classes:
            raise ValueError(f"{dataset.label} has {dataset.num_classes} classes, the head {head.num_classes}")
        raw = extract_features(dataset.x_test, head.preset, head.feature_seed, progress=progress)
        x_test, y_test = head.standardise(raw), dataset.y_test
    else:
        raise ValueError("give --features FILE or --dataset NAME")
    predictions = head.predict(x_test)
    return predictions, float(np.mean(predictions == y_test))
