"""qubocnn: train the classifier head of a frozen random CNN by layer-wise QUBOs and annealing."""

__version__ = "0.1.0"
