"""qubocnn: train the classifier head of a frozen random CNN by layer-wise QUBOs and annealing."""

__version__ = "0.1.0"
__all__ = ["FrozenCNNFeatures", "QuboHeadClassifier"]


def __getattr__(name: str):
    # imported on first use: the command line and the workflow's jobs start without scikit-learn
    if name in __all__:
        from . import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'qubocnn' has no attribute {name!r}")
