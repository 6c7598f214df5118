"""The certified solver's Schnorr-Euchner enumeration as it was in pure Python, kept as the
reference the numba form (`qubocnn.exact.enumerate_box`) must reproduce: the same integers, value,
proof and node count (the low-bit study records the node counts)."""

import numpy as np
import scipy.linalg


def reference_enumeration(A: np.ndarray, c: np.ndarray, top: int, start: np.ndarray, max_nodes: int):
    """Schnorr-Euchner enumeration of min (v - c)^T A (v - c) over integers v in 0..top, from the
    incumbent `start`. Returns (v, value, proved, nodes)."""
    n = len(c)
    R = scipy.linalg.cholesky(A, lower=False).tolist()
    centre = [float(x) for x in c]
    start = np.asarray(start, dtype=np.int64)
    best, best_v = float((start - c) @ A @ (start - c)), start.tolist()
    v, levels = [0] * n, range(top + 1)
    partial = [0.0] * (n + 1)  # partial[i]: the cost of levels i..n-1 as fixed now
    candidates, position = [None] * n, [0] * n

    def costs(i: int) -> list:
        """Level i's values by their term's cost, given v_i+1..v_n-1."""
        row = R[i]
        z = centre[i] - sum(row[j] * (v[j] - centre[j]) for j in range(i + 1, n)) / row[i]
        return sorted(((row[i] * (x - z)) ** 2, x) for x in levels)

    i, nodes = n - 1, 0
    candidates[i] = costs(i)
    while i < n:
        nodes += 1
        if nodes > max_nodes:
            return np.array(best_v), best, False, nodes
        if position[i] == len(candidates[i]):
            i += 1  # level exhausted: back up
            continue
        cost, x = candidates[i][position[i]]
        total = partial[i + 1] + cost
        if total >= best:
            position[i] = len(candidates[i])  # sorted by cost: the level's other values cost more
            continue
        position[i] += 1
        v[i] = x
        if i == 0:
            best, best_v = total, list(v)
        else:
            partial[i], i = total, i - 1
            candidates[i], position[i] = costs(i), 0
    return np.array(best_v), best, True, nodes
