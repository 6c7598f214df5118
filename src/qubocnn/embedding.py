"""D-Wave problem sizes: can a class's QUBO be embedded on a quantum annealer, and how precisely?

Each training iteration solves, per class, a QUBO over n = (d+1)K binary variables (d features
plus the bias, K bits per parameter). Its quadratic part is delta^2/2 * P^T H P with H built from
the dense feature Gram matrix, so *every* pair of variables is coupled: the problem graph is the
complete graph K_n with n(n-1)/2 couplers.

The paper's feasibility criterion compares n with the number of working qubits and n(n-1)/2 with
the number of working couplers of an Advantage system (`raw_count_fits`). That is necessary but
far from sufficient. A QPU's qubits are not all-to-all connected (Pegasus: degree 15, Zephyr:
degree 20), so a logical variable must be represented by a *chain* of physical qubits held
together by strong ferromagnetic couplings, and every pair of chains must share at least one
physical coupler: the problem must be minor-embedded, and a dense problem must be embedded as a
clique. Consequences:

- the largest complete graph that embeds is small: on perfect-yield graphs
  `minorminer.busclique` (what dwave-system's DWaveCliqueSampler uses) finds cliques of at most
  180 variables on Pegasus P16 (chains of 17 qubits) and 184 on Zephyr Z12 (chains of 13 qubits)
  (`max_clique_size`); real systems have a few missing qubits and couplers, so the usable size
  on a given QPU is at most that (DWaveCliqueSampler.largest_clique_size says exactly);
- a clique of n variables uses roughly n times the chain length in qubits, and most of the
  graph's couplers go into chains, not into the problem's interactions;
- chains can break (their qubits disagree); answers are then repaired by majority vote, and the
  chain strength competes with the problem's own coefficients for the QPU's limited range
  of biases, which lowers the effective precision of a K-bit encoding.

So a problem "fits the counts" of an Advantage (e.g. 170 variables and 14365 couplers) only
runs if it embeds as a clique, and the paper's 15-bit problems over d = 64 .. 256 features
(975 .. 3855 variables) do not embed at all: with the dense formulation only (d+1)K <= ~180
is runnable, e.g. d = 16 features at K = 10 bits. `feasibility_table` computes this per preset
and bit width, with the precision a QPU leaves of a representative QUBO (qpu_noise). The QPU
itself (credentials, sampler, call log, timing model, the embedded path in software) is in
qubocnn.qpu.
"""

from __future__ import annotations

import json
import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import outputs
from .qubo import DEFAULT_BOX_HALF_RANGE, problem_size
from .surrogate import DEFAULT_LAM

SYSTEMS: dict[str, dict] = {
    "Advantage_system4.1": dict(family="pegasus", size=16, tile=None, graph="Pegasus P16",
                                qubits=5627, couplers=40279),
    "Advantage2_system1.x": dict(family="zephyr", size=12, tile=4, graph="Zephyr Z12 (t=4)",
                                 qubits=4592, couplers=41779),
}
"""The two systems: graph family, size parameter (and Zephyr tile t), published working counts."""

DEFAULT_SYSTEM = "Advantage_system4.1"

def _system(system: str) -> dict:
    try:
        return SYSTEMS[system]
    except KeyError:
        raise ValueError(f"unknown system {system!r}: choose one of {sorted(SYSTEMS)}") from None


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------

def raw_count_fits(variables: int, couplers: int, system: str = DEFAULT_SYSTEM) -> bool:
    """The paper's criterion: no more variables than working qubits and no more couplings than
    working couplers. Necessary, not sufficient (see the module docstring)."""
    spec = _system(system)
    return int(variables) <= spec["qubits"] and int(couplers) <= spec["couplers"]


# ---------------------------------------------------------------------------------------------
# Clique embedding on the perfect-yield graphs
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def hardware_graph(system: str = DEFAULT_SYSTEM):
    """The perfect-yield networkx graph of `system` (built once per process; do not mutate)."""
    spec = _system(system)
    with warnings.catch_warnings():  # dwave-networkx announces its move to dwave-graphs
        warnings.simplefilter("ignore", DeprecationWarning)
        import dwave_networkx as dnx
        if spec["family"] == "pegasus":
            return dnx.pegasus_graph(spec["size"])
        return dnx.zephyr_graph(spec["size"], spec["tile"])


@lru_cache(maxsize=None)
def _clique_chains(variables: int, system: str) -> tuple[tuple[int, ...], ...]:
    from minorminer import busclique

    emb = busclique.find_clique_embedding(variables, hardware_graph(system))
    if not emb:
        return ()
    return tuple(tuple(int(q) for q in emb[i]) for i in range(variables))


def find_clique_embedding(variables: int, system: str = DEFAULT_SYSTEM) -> dict[int, list[int]]:
    """busclique's clique embedding {variable index: chain of qubits}, or {} if none exists.
    Results are cached per (variables, system); busclique also caches on disk."""
    variables = int(variables)
    if variables < 1:
        raise ValueError(f"need at least one variable, got {variables}")
    _system(system)
    return {i: list(chain) for i, chain in enumerate(_clique_chains(variables, system))}


def clique_embedding(variables: int, system: str = DEFAULT_SYSTEM) -> dict:
    """Whether a dense problem of `variables` variables embeds as a clique on the perfect-yield
    graph of `system`, and the chains' cost: physical_qubits, max_chain, mean_chain (None when
    not embeddable)."""
    emb = find_clique_embedding(variables, system)
    if not emb:
        return dict(embeddable=False, physical_qubits=None, max_chain=None, mean_chain=None)
    lengths = [len(c) for c in emb.values()]
    return dict(embeddable=True, physical_qubits=int(sum(lengths)), max_chain=int(max(lengths)),
                mean_chain=float(np.mean(lengths)))


def check_chain_strength(value) -> float | None:
    """None (uniform torque compensation) or a positive chain strength; refuses anything else."""
    if value is None:
        return None
    value = float(value)
    if not value > 0.0:  # also refuses NaN
        raise ValueError(f"chain strength must be positive (or unset: uniform torque compensation), got {value}")
    return value


def disjoint_cliques_on(graph, variables: int, count: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    """Up to `count` clique embeddings on disjoint qubits of `graph` (a Pegasus or Zephyr networkx
    graph, e.g. a QPU's working graph), as chains of qubits per variable index."""
    from minorminer import busclique

    remaining, found = graph.copy(), []
    while len(found) < count:
        emb = busclique.find_clique_embedding(variables, remaining)
        if not emb:
            break
        chains = tuple(tuple(int(q) for q in emb[i]) for i in range(variables))
        remaining.remove_nodes_from([q for chain in chains for q in chain])
        found.append(chains)
    return tuple(found)


def cache_folder() -> Path:
    """Where computed embeddings are kept between processes: $QUBOCNN_CACHE, else the user cache
    folder (inside the virtual environment when one is active, as busclique's own cache)."""
    import homebase

    return Path(os.environ.get("QUBOCNN_CACHE") or homebase.user_cache_dir("qubocnn", "qubocnn"))


def _cached_cliques(path: Path, variables: int, count: int, system: str):
    """The disjoint cliques stored at `path`, or None (then they are searched again) when the file is
    missing or does not hold 1 to `count` embeddings of `variables` non-empty chains each, all on
    distinct qubits of `system`'s graph."""
    try:
        found = tuple(tuple(tuple(int(q) for q in chain) for chain in emb) for emb in json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    qubits = [q for emb in found for chain in emb for q in chain]
    nodes = hardware_graph(system).nodes
    if (not 0 < len(found) <= count or any(len(emb) != variables or not all(emb) for emb in found)
            or len(set(qubits)) != len(qubits) or not all(q in nodes for q in qubits)):
        return None
    return found


@lru_cache(maxsize=None)
def _disjoint_cliques(variables: int, count: int, system: str) -> tuple[tuple[tuple[int, ...], ...], ...]:
    # busclique on a graph with qubits removed has no cache of its own and takes seconds per clique:
    # the result on the perfect-yield graph is kept on disk, so that every run of a study (one process
    # each) does not search again
    path = cache_folder() / "disjoint_cliques" / f"{system}-{variables}x{count}.json"
    found = _cached_cliques(path, variables, count, system)
    if found is None:
        found = disjoint_cliques_on(hardware_graph(system), variables, count)
        try:
            outputs.write_text(path, json.dumps(found))
        except OSError:  # a cache that cannot be written: search again next time
            pass
    return found


def disjoint_clique_embeddings(variables: int, count: int, system: str = DEFAULT_SYSTEM) -> list[dict[int, list[int]]]:
    """Up to `count` clique embeddings of `variables` variables on disjoint qubits of the
    perfect-yield graph of `system`, for parallel annealing (several problems in one QPU call):
    busclique's clique embedding, then busclique again on the graph without the qubits used so far
    (busclique embeds on Pegasus and Zephyr graphs with missing qubits). Greedy, so the count is a
    lower bound on what fits; fewer than `count` come back when no more fit. Cached per arguments."""
    variables, count = int(variables), int(count)
    if variables < 1 or count < 1:
        raise ValueError(f"need at least one variable and one problem, got {variables}, {count}")
    _system(system)
    return [{i: list(chain) for i, chain in enumerate(chains)}
            for chains in _disjoint_cliques(variables, count, system)]


def check_packing(variables: int, count: int, system: str = DEFAULT_SYSTEM) -> int:
    """Refuse, before any QPU call, `count` problems per call that do not fit on disjoint cliques."""
    fitted = len(disjoint_clique_embeddings(variables, count, system))
    if fitted < count:
        raise ValueError(f"{count} problems of {variables} variables do not fit on disjoint cliques of {system} "
                         f"(at most {fitted} do): use --pack {fitted} or less, or smaller blocks")
    return int(count)


@lru_cache(maxsize=None)
def max_clique_size(system: str = DEFAULT_SYSTEM) -> int:
    """The largest clique busclique embeds on the perfect-yield graph, by bisection (cached)."""
    lo, hi = 0, hardware_graph(system).number_of_nodes() + 1  # lo embeds (trivially), hi cannot
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _clique_chains(mid, system):
            lo = mid
        else:
            hi = mid
    return lo


@lru_cache(maxsize=None)
def _standardised_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    X, y = load_digits(return_X_y=True)
    X = X[:, X.std(axis=0) > 0]  # a few border pixels are always blank
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def representative_qubo(num_features: int, bits: int, seed: int = 0):
    """A class QUBO like the study's first box-mode QUBO at d = num_features: sklearn's digits
    projected onto num_features random Gaussian directions (correlated features of any size, as a
    frozen random CNN's are), class 0, W = 0, the default lam and box half-range of training."""
    from . import surrogate
    from .qubo import box_encoding, first_class_qubos

    pixels, labels = _standardised_digits()
    projection = np.random.default_rng(seed).normal(size=(pixels.shape[1], int(num_features)))
    X = surrogate.add_bias(pixels @ projection / np.sqrt(pixels.shape[1]))
    return first_class_qubos(X, labels, int(labels.max()) + 1, DEFAULT_LAM,
                             lambda _, w: box_encoding(len(w), bits, DEFAULT_BOX_HALF_RANGE), [0])[0]


def feasibility(num_features: int, bits: int) -> dict:
    """Size of the dense QUBO, the precision a QPU leaves of it and, per system, the paper's
    count check and the real clique check: {num_features, bits, variables, couplers, precision:
    qpu_noise.precision_report of `representative_qubo`, systems: {name: {raw_count_fits,
    embeddable, physical_qubits, max_chain, mean_chain}}}."""
    from .qpu_noise import precision_report

    size = problem_size(num_features, bits)
    systems = {}
    for name in SYSTEMS:
        systems[name] = dict(raw_count_fits=raw_count_fits(size["variables"], size["couplers"], name),
                             **clique_embedding(size["variables"], name))
    return dict(num_features=int(num_features), bits=int(bits), **size,
                precision=precision_report(representative_qubo(num_features, bits)), systems=systems)


def feasibility_table(feature_dims: dict[str, int], bits_list) -> list[dict]:
    """One JSON-able row per (preset label, d, K, system): preset, num_features, bits, system,
    graph, variables, couplers, raw_count_fits, embeddable, physical_qubits, max_chain,
    mean_chain, and the representative QUBO's precision under the default control errors:
    qpu_h_bits, qpu_J_bits (dynamic ranges after scaling), qpu_h_below_sigma, qpu_J_below_sigma
    (fractions of fields and couplers below the errors' sigma)."""
    rows = []
    for label, d in feature_dims.items():
        for bits in bits_list:
            f = feasibility(d, bits)
            precision = {f"qpu_{key}": f["precision"][key]
                         for key in ("h_bits", "J_bits", "h_below_sigma", "J_below_sigma")}
            for name, res in f["systems"].items():
                rows.append(dict(preset=str(label), num_features=f["num_features"], bits=f["bits"],
                                 system=name, graph=SYSTEMS[name]["graph"],
                                 variables=f["variables"], couplers=f["couplers"], **res, **precision))
    return rows
