"""K-bit encoding of one class's head column and the QUBO of its Boehning surrogate.

Each parameter j takes 2^K values on a uniform grid that contains a centre m_j:
    w_j = m_j + delta * (v_j - 2^(K-1)),   v_j = sum_k 2^k b_(j*K + k).
Two fixed grids of half-range R (GRIDS): `offset` (centre 0, delta = R / 2^(K-1): [-R, R) with 0 on
the grid, K = 1 is {-R, 0}) and `symmetric` (2^K levels evenly spaced over [-R, R], delta =
2R / (2^K - 1), centre delta / 2: K = 1 is {-R, +R}).
With the step e = w - w_t (w_t the current column, the anchor) this is e = s + delta * v with the
shift s = m - w_t - delta 2^(K-1), and the per-class surrogate g^T e + 1/2 e^T H e becomes
    E(b) = b^T Q b + offset,  Q upper-triangular, b^2 = b folded into the diagonal.
`ClassQubo` keeps the structured form (H, g, shift, delta, K); the dense matrix is built only on
demand (`dense_qubo`, `to_bqm`), because the structure-aware annealer never needs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import dimod
import numpy as np

from . import outputs
from .surrogate import class_surrogate

MAX_BITS = 32
DEFAULT_BOX_HALF_RANGE = 2.0  # box mode's grid holds weights in [-R, R)
GRIDS = ("offset", "symmetric")


def check_bits(bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_BITS:
        raise ValueError(f"bits per parameter must be an integer in 1..{MAX_BITS}, got {bits!r}")
    return int(bits)


def problem_size(num_features: int, bits: int) -> dict:
    """Variables and couplers of one class's dense QUBO: n = (d+1)K, n(n-1)/2 couplers."""
    if int(num_features) < 0 or int(bits) < 1:
        raise ValueError(f"need num_features >= 0 and bits >= 1, got {num_features}, {bits}")
    n = (int(num_features) + 1) * int(bits)
    return dict(variables=n, couplers=n * (n - 1) // 2)


def bit_weights(bits: int) -> np.ndarray:
    """(2^0, ..., 2^(K-1)) as floats."""
    return 2.0 ** np.arange(check_bits(bits))


def integers_to_bits(v: np.ndarray, bits: int) -> np.ndarray:
    """Bit vectors (int8, (..., m*K)) of integers v (..., m), bit k of v_j at index j*K + k."""
    v = np.asarray(v, dtype=np.int64)
    b = (v[..., None] >> np.arange(bits, dtype=np.int64)) & 1
    return b.reshape(v.shape[:-1] + (v.shape[-1] * bits,)).astype(np.int8)


@dataclass(frozen=True)
class Encoding:
    """The grid of one column: w = centre + delta * (v - 2^(K-1)), v in 0..2^K-1."""

    centre: np.ndarray
    delta: float
    bits: int
    grid: str = "offset"

    @property
    def num_params(self) -> int:
        return len(self.centre)

    @property
    def num_variables(self) -> int:
        return self.num_params * self.bits

    @property
    def half_range(self) -> float:
        """R: the grid spans [centre - R, centre + R) (offset) or [-R, R] (symmetric)."""
        if self.grid == "symmetric":
            return self.delta * (2.0**self.bits - 1) / 2.0
        return self.delta * 2.0 ** (self.bits - 1)

    def integers(self, b: np.ndarray) -> np.ndarray:
        """v_j of bit vectors b of shape (..., n), bit k of parameter j at index j*K + k."""
        b = np.asarray(b, dtype=float)
        return b.reshape(b.shape[:-1] + (self.num_params, self.bits)) @ bit_weights(self.bits)

    def decode(self, b: np.ndarray) -> np.ndarray:
        return self.decode_integers(self.integers(b))

    def decode_integers(self, v: np.ndarray) -> np.ndarray:
        """The weights of integers v (..., num_params): the same numbers as decode of their bits."""
        return self.centre + self.delta * (np.asarray(v, dtype=float) - 2.0 ** (self.bits - 1))

    def nearest_integers(self, w: np.ndarray) -> np.ndarray:
        """The grid point nearest to w, clipped to the box."""
        v = np.rint((np.asarray(w) - self.centre) / self.delta + 2.0 ** (self.bits - 1))
        return np.clip(v, 0, 2.0**self.bits - 1).astype(np.int64)

    def encode(self, w: np.ndarray) -> np.ndarray:
        """Bit vector (int8, length n) of the grid point nearest to w."""
        return integers_to_bits(self.nearest_integers(w), self.bits)

    def on_edge(self, b: np.ndarray) -> np.ndarray:
        """Which parameters sit on the first or last grid point (the answer may want to go further)."""
        return self.integers_on_edge(self.integers(b))

    def integers_on_edge(self, v: np.ndarray) -> np.ndarray:
        v = np.asarray(v)
        return (v == 0) | (v == 2**self.bits - 1)


def check_half_range(half_range: float, name: str = "half-range") -> float:
    """A grid's half-range must be a positive finite number (a negative one flips the grid)."""
    if not half_range > 0 or not np.isfinite(half_range):
        raise ValueError(f"{name} must be a positive number, got {half_range}")
    return float(half_range)


def box_encoding(num_params: int, bits: int, half_range: float, grid: str = "offset") -> Encoding:
    """The paper's literal grid: centred at zero, the same fixed range at every iteration; `grid`
    offset (0 on the grid) or symmetric (levels mirrored about 0, K = 1 is {-R, +R})."""
    bits = check_bits(bits)
    half_range = check_half_range(half_range)
    if grid == "symmetric":
        delta = 2.0 * half_range / (2.0**bits - 1)
        return Encoding(np.full(num_params, delta / 2.0), delta, bits, grid)
    if grid != "offset":
        raise ValueError(f"unknown grid {grid!r}: choose one of {', '.join(GRIDS)}")
    return Encoding(np.zeros(num_params), half_range / 2.0 ** (bits - 1), bits)


def trust_encoding(centre: np.ndarray, bits: int, half_range: float) -> Encoding:
    """A grid centred at the current weights, so keeping them is always feasible."""
    bits = check_bits(bits)
    return Encoding(np.asarray(centre, dtype=float).copy(), check_half_range(half_range) / 2.0 ** (bits - 1), bits)


@dataclass(frozen=True)
class ClassQubo:
    """The surrogate U_c(w) - L(W_t) = g^T e + 1/2 e^T H e over the grid of `encoding`."""

    curvature: np.ndarray
    gradient: np.ndarray
    anchor: np.ndarray
    encoding: Encoding

    @property
    def num_variables(self) -> int:
        return self.encoding.num_variables

    @property
    def bits(self) -> int:
        return self.encoding.bits

    @property
    def delta(self) -> float:
        return self.encoding.delta

    @property
    def shift(self) -> np.ndarray:
        """s in e = s + delta * v."""
        enc = self.encoding
        return enc.centre - self.anchor - enc.delta * 2.0 ** (enc.bits - 1)

    def step(self, b: np.ndarray) -> np.ndarray:
        return self.encoding.decode(b) - self.anchor

    def energies(self, b: np.ndarray) -> np.ndarray:
        """E(b) + offset, evaluated in weight space: equals the dense QUBO's energy."""
        return self.integer_energies(self.encoding.integers(b))

    def integer_energies(self, v: np.ndarray) -> np.ndarray:
        """The energies of integers v (..., num_params): the same numbers as energies of their bits."""
        return class_surrogate(self.encoding.decode_integers(v) - self.anchor, self.gradient, self.curvature)


def class_qubos(H: np.ndarray, G: np.ndarray, W: np.ndarray, encoding_of, classes=None) -> list[ClassQubo]:
    """The per-class QUBOs of the surrogate built at W (curvature H, gradient G, both from
    qubocnn.surrogate): class c's on the grid `encoding_of(c, W[:, c])`, for every class or `classes`.
    The one builder of class QUBOs: training, export and the hardware study all use it."""
    chosen = range(W.shape[1]) if classes is None else classes
    return [ClassQubo(H, G[:, c], W[:, c], encoding_of(c, W[:, c])) for c in chosen]


def first_class_qubos(X: np.ndarray, y: np.ndarray, num_classes: int, lam: float, encoding_of,
                      classes=None) -> list[ClassQubo]:
    """The class QUBOs of a training run's first iteration (W = 0); X includes the bias column."""
    from .surrogate import boehning_curvature, gradient

    W = np.zeros((X.shape[1], num_classes))
    return class_qubos(boehning_curvature(X, lam), gradient(X, y, W, lam), W, encoding_of, classes)


def dense_qubo(problem: ClassQubo) -> tuple[np.ndarray, float]:
    """Upper-triangular Q (linear terms on the diagonal) and offset with E(b) = b^T Q b + offset."""
    H, g, s, delta = problem.curvature, problem.gradient, problem.shift, problem.delta
    p = bit_weights(problem.bits)
    quadratic = delta**2 * np.kron(H, np.outer(p, p))
    linear = delta * np.kron(g + H @ s, p)
    Q = np.triu(quadratic, 1)
    Q[np.diag_indices_from(Q)] = 0.5 * np.diag(quadratic) + linear
    offset = float(g @ s + 0.5 * s @ H @ s)
    return Q, offset


def to_bqm(problem: ClassQubo) -> dimod.BinaryQuadraticModel:
    """The dense QUBO as a dimod BQM over variables 0..n-1 (building from an array is the fast route)."""
    Q, offset = dense_qubo(problem)
    return dimod.BinaryQuadraticModel(Q, "BINARY", offset=offset)


def export_qubo(problem: ClassQubo, path: str | Path, metadata: dict | None = None) -> Path:
    """Write the QUBO for other solvers: .coo (qbsolv-style 'i j value' lines, dimod's COO format),
    .json (dimod's serialisable BQM plus the offset and metadata) or .npz (dense upper Q, offset)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        Q, offset = dense_qubo(problem)
        text = None
    elif suffix == ".coo":
        # dimod's COO writer rounds to 6 decimals and its reader takes no exponents: write
        # fixed-point values with 17 decimals, which its reader (and qbsolv-style tools) parse.
        Q, offset = dense_qubo(problem)
        rows, cols = np.nonzero(Q)
        lines = [f"# vartype=BINARY\n# offset {offset:.17f}\n"]
        lines += [f"# {key} {value}\n" for key, value in (metadata or {}).items()]
        lines += [f"{i} {j} {v:.17f}\n" for i, j, v in zip(rows, cols, Q[rows, cols])]
        text = "".join(lines)
    elif suffix == ".json":
        text = json.dumps({"bqm": to_bqm(problem).to_serializable(), "metadata": metadata or {}})
    else:
        raise ValueError(f"unknown QUBO file type {suffix!r}: use .coo, .json or .npz")
    if text is not None:
        return outputs.write_text(path, text)
    return outputs.write_file(path, lambda stream: np.savez_compressed(
        stream, Q=Q, offset=offset, bits=problem.bits, delta=problem.delta, centre=problem.encoding.centre,
        metadata=json.dumps(metadata or {})))
