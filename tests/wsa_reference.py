"""The weight-space annealer's kernel before deferred field updates, kept as the reference the
present kernel (`qubocnn.wsa`) must reproduce integer for integer.

It updates the whole field f = g + H e after every accepted flip (O(d) per acceptance); the present
kernel updates only f_j while parameter j's bits are proposed and the rest once per parameter. The
two differ in where the field is updated and in how a Metropolis test is decided (plain exp here,
Taylor bounds first there); the start and the random numbers are shared with the package."""

import numpy as np
from numba import njit

from qubocnn.wsa import _U63, _splitmix64, _start_read, _sweep_temperature, _uniform, _xorshift64star


@njit(cache=True)
def reference_kernel(H, g, s, delta, K, betas, initial_v, seed, integer_moves):
    """Same arguments and result as `qubocnn.wsa._anneal_kernel`, one read after another."""
    num_reads, m = initial_v.shape
    out = np.empty((num_reads, m), dtype=np.int64)
    vmax = (np.int64(1) << K) - 1
    seed_mix = _splitmix64(seed)
    for r in range(num_reads):
        state, v, f = _start_read(H, g, s, delta, initial_v, r, seed_mix, K)
        for t in range(betas.shape[0]):
            beta, threshold = _sweep_temperature(H, g, s, delta, v, f, betas, t)
            for j in range(m):
                for k in range(K):
                    step = np.int64(1) << k
                    if integer_moves:
                        state, x = _xorshift64star(state)
                        dv = step if (x >> _U63) == 1 else -step
                        if not 0 <= v[j] + dv <= vmax:
                            continue
                    else:
                        dv = -step if (v[j] >> k) & 1 else step
                    de = delta * np.float64(dv)
                    dE = de * (f[j] + 0.5 * H[j, j] * de)
                    if dE >= threshold:
                        continue
                    if dE > 0.0:
                        state, u = _uniform(state)
                        if np.exp(-beta * dE) <= u:
                            continue
                    v[j] += dv
                    for i in range(m):
                        f[i] += de * H[j, i]
        out[r] = v
    return out
