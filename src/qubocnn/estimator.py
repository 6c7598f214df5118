"""scikit-learn estimators: the QUBO-trained head (`QuboHeadClassifier`) and the frozen CNN that
feeds it images (`FrozenCNNFeatures`).

`QuboHeadClassifier` is `runspec.fit_head` (the training of `qubocnn train`) behind scikit-learn's interface: raw features are
standardised with the training-set statistics exactly as `features.make_feature_set` does
(`features.Standardisation`: constant columns dropped), class labels of any kind are mapped to
0..C-1 through `classes_`, and the parameters are the fields of `train.TrainConfig` and
`solvers.SolverConfig` with their defaults. So the same features and settings give the head the
command line `qubocnn train` gives, bit for bit:

    Pipeline([("cnn", FrozenCNNFeatures(preset="default", seed=0)),
              ("head", QuboHeadClassifier(bits=10, solver="wsa"))]).fit(images, labels)
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import surrogate
from .features import Standardisation, extract_features, feature_dimension
from .runspec import fit_head, make_run_solver
from .solvers import SolverConfig, block_size_value
from .train import TrainConfig

# Estimator parameters that are TrainConfig and SolverConfig fields; `solver` is the estimator's own
# (a name or a sampler) and `sample_kwargs` its options.
TRAIN_FIELDS = tuple(field.name for field in fields(TrainConfig) if field.name != "solver")
SOLVER_FIELDS = tuple(field.name for field in fields(SolverConfig) if field.name not in ("name", "options"))


class QuboHeadClassifier(ClassifierMixin, BaseEstimator):
    """A linear softmax head trained by per-class QUBOs (`train.train_qubo_head`).

    Parameters: the fields of `train.TrainConfig` (bits, mode, iterations, lam, ..., seed, jobs);
    `solver`, a solver name (`solvers.SOLVERS`), a dimod sampler or a `solvers.Solver`; the other
    fields of `solvers.SolverConfig` (num_reads, num_sweeps, the QPU noise model qpu_noise, sigma_h
    and sigma_J, block_size, and the packing and chains of qubocnn.packing: pack, qpu_chains,
    chain_strength, chain_prefactor, as `qubocnn train` takes them); `sample_kwargs`, the options of a named
    solver (`SolverConfig.options`) or the keyword arguments of a sampler's `sample` call, which a
    sampler gets as given (e.g. num_reads=10, annealing_time=20); `progress`, a progress bar.

    Learned: `classes_`; `kept_`, `mean_`, `scale_` (the training columns kept and their mean and
    std); `W_`, the head over the kept standardised columns with the bias as its last row;
    `history_` (one record per iteration, `train_qubo_head`'s); `n_iter_`; `qpu_records_`, what a
    run that stands for a QPU records (its noise model, blocks and QPU budget; {} otherwise)."""

    def __init__(self, bits=TrainConfig.bits, mode=TrainConfig.mode, iterations=TrainConfig.iterations,
                 lam=TrainConfig.lam, box_half_range=TrainConfig.box_half_range,
                 trust_half_range=TrainConfig.trust_half_range, trust_max_half_range=TrainConfig.trust_max_half_range,
                 warm_start=TrainConfig.warm_start, refinements=TrainConfig.refinements,
                 accelerate=TrainConfig.accelerate, accept=TrainConfig.accept, tol=TrainConfig.tol,
                 seed=TrainConfig.seed, jobs=TrainConfig.jobs, solver=SolverConfig.name,
                 num_reads=SolverConfig.num_reads, num_sweeps=SolverConfig.num_sweeps, qpu_noise=SolverConfig.qpu_noise,
                 sigma_h=SolverConfig.sigma_h, sigma_J=SolverConfig.sigma_J, block_size=SolverConfig.block_size,
                 pack=SolverConfig.pack, qpu_chains=SolverConfig.qpu_chains, chain_strength=SolverConfig.chain_strength,
                 chain_prefactor=SolverConfig.chain_prefactor, sample_kwargs=None, progress=False):
        self.bits, self.mode, self.iterations, self.lam = bits, mode, iterations, lam
        self.box_half_range, self.trust_half_range = box_half_range, trust_half_range
        self.trust_max_half_range, self.warm_start, self.refinements = trust_max_half_range, warm_start, refinements
        self.accelerate, self.accept, self.tol, self.seed, self.jobs = accelerate, accept, tol, seed, jobs
        self.solver, self.num_reads, self.num_sweeps = solver, num_reads, num_sweeps
        self.qpu_noise, self.sigma_h, self.sigma_J, self.block_size = qpu_noise, sigma_h, sigma_J, block_size
        self.pack, self.qpu_chains, self.chain_strength, self.chain_prefactor = pack, qpu_chains, chain_strength, chain_prefactor
        self.sample_kwargs, self.progress = sample_kwargs, progress

    def _config_and_solver(self):
        """The run's TrainConfig and its solver, made once (runspec.make_run_solver): bad settings,
        unknown options and blocks that do not embed are refused before any work."""
        options = dict(self.sample_kwargs or {})
        named = isinstance(self.solver, str)
        solver_config = SolverConfig(**({"name": self.solver, "options": options} if named else {}),
                                     **{name: getattr(self, name) for name in SOLVER_FIELDS if name != "block_size"},
                                     block_size=block_size_value(self.block_size))
        config = TrainConfig(**{name: getattr(self, name) for name in TRAIN_FIELDS}, solver=solver_config)
        solver = make_run_solver(config, None if named else self.solver, None if named else options)
        return config, solver

    def fit(self, X, y):
        config, solver = self._config_and_solver()
        # two samples at least: a single sample has no spread to standardise by
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"a classifier needs 2 classes at least, got 1 class ({self.classes_[0]!r})")
        statistics = Standardisation.fit(X)
        self.kept_, self.mean_, self.scale_ = statistics.kept, statistics.mean, statistics.scale
        fit, self.qpu_records_ = fit_head(config, solver, statistics.apply(X), labels, len(self.classes_),
                                          progress=self.progress)
        self.W_, self.history_, self.n_iter_ = fit["W"], fit["history"], fit["iterations_run"]
        return self

    def _scores(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        standardised = Standardisation(self.kept_, self.mean_, self.scale_).apply(X)
        return surrogate.add_bias(standardised) @ self.W_

    def predict_proba(self, X) -> np.ndarray:
        return softmax(self._scores(X), axis=1)

    def predict(self, X) -> np.ndarray:
        scores = self._scores(X)  # first: it refuses an unfitted estimator
        return self.classes_[np.argmax(scores, axis=1)]


class FrozenCNNFeatures(TransformerMixin, BaseEstimator):
    """Images (N, C, H, W) -> the frozen random CNN's raw features (`features.extract_features`).
    Nothing is learned: fit checks that the preset takes the images' size."""

    def __init__(self, preset="default", seed=0, batch_size=2048, progress=False):
        self.preset, self.seed, self.batch_size, self.progress = preset, seed, batch_size, progress

    def fit(self, X, y=None):
        if np.ndim(X) != 4:
            raise ValueError(f"FrozenCNNFeatures takes images of shape (N, C, H, W), got shape {np.shape(X)}")
        feature_dimension(self.preset, np.shape(X)[1:])  # refuses an unknown preset or image size
        self.image_shape_ = tuple(np.shape(X)[1:])
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self)
        if tuple(np.shape(X)[1:]) != self.image_shape_:
            raise ValueError(f"fitted on images of shape {self.image_shape_}, got {tuple(np.shape(X)[1:])}")
        return extract_features(np.asarray(X), self.preset, self.seed, self.batch_size, self.progress)
