"""D-Wave hardware: can a class's QUBO actually run on a quantum annealer?

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
and bit width; `embedded_sample` runs the embedded (chained) problem in software, with
simulated annealing as the physical sampler, so the effect of chains can be measured without a
QPU; `qpu_sampler` gives the real DWaveCliqueSampler when D-Wave credentials exist.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache

import dimod
import numpy as np

from .qubo import problem_size
from .schedules import bqm_beta_range

SYSTEMS: dict[str, dict] = {
    "Advantage_system4.1": dict(family="pegasus", size=16, tile=None, graph="Pegasus P16",
                                qubits=5627, couplers=40279),
    "Advantage2_system1.x": dict(family="zephyr", size=12, tile=4, graph="Zephyr Z12 (t=4)",
                                 qubits=4592, couplers=41779),
}
"""The two systems: graph family, size parameter (and Zephyr tile t), published working counts."""

DEFAULT_SYSTEM = "Advantage_system4.1"

QPU_DEFAULTS = dict(num_reads=100, annealing_time=20.0, chain_strength=None)
"""Keyword arguments for `qpu_sampler(...).sample(bqm, **QPU_DEFAULTS)`. annealing_time is in
microseconds. chain_strength=None means dwave-system's default: uniform torque compensation
(dwave.embedding.chain_strength.uniform_torque_compensation, prefactor 1.414, computed from the
RMS of the problem's couplings and its mean degree)."""

NO_TOKEN_MESSAGE = ("no D-Wave API token: set DWAVE_API_TOKEN or run 'dwave config create' "
                    "(see README, 'D-Wave hardware')")
NO_DWAVE_SYSTEM_MESSAGE = ("dwave-system is not installed: pip install qubocnn[qpu] "
                           "(or pip install dwave-system)")


class HardwareError(RuntimeError):
    """A QPU path is unavailable (no credentials, dwave-system missing, problem not embeddable)."""


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


def largest_embeddable_bits(num_features: int, system: str = DEFAULT_SYSTEM) -> int:
    """The largest K for which the dense QUBO over d = num_features (+ bias) embeds; 0 if none."""
    bits = max_clique_size(system) // (int(num_features) + 1)
    while bits > 0 and not clique_embedding(problem_size(num_features, bits)["variables"], system)["embeddable"]:
        bits -= 1  # only if busclique were not monotone in the clique size
    return int(bits)


@lru_cache(maxsize=None)
def _standardised_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    X, y = load_digits(return_X_y=True)
    X = X[:, X.std(axis=0) > 0]  # a few border pixels are always blank
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def representative_qubo(num_features: int, bits: int, seed: int = 0):
    """A class QUBO like the study's first box-mode QUBO at d = num_features: sklearn's digits
    projected onto num_features random Gaussian directions (correlated features of any size, as a
    frozen random CNN's are), class 0, W = 0, the default lam and box half-range of TrainConfig."""
    from . import surrogate
    from .qubo import ClassQubo, box_encoding
    from .train import TrainConfig

    pixels, labels = _standardised_digits()
    projection = np.random.default_rng(seed).normal(size=(pixels.shape[1], int(num_features)))
    X = surrogate.add_bias(pixels @ projection / np.sqrt(pixels.shape[1]))
    config = TrainConfig()
    W = np.zeros((X.shape[1], int(labels.max()) + 1))
    G = surrogate.gradient(X, labels, W, config.lam)
    return ClassQubo(surrogate.boehning_curvature(X, config.lam), G[:, 0], W[:, 0],
                     box_encoding(X.shape[1], bits, config.box_half_range))


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


# ---------------------------------------------------------------------------------------------
# The QPU itself (optional)
# ---------------------------------------------------------------------------------------------

def has_dwave_credentials() -> bool:
    """True if DWAVE_API_TOKEN is set or a dwave.conf (found the way dwave-cloud-client finds it)
    defines a token. Reads the environment and files only; never touches the network."""
    if os.environ.get("DWAVE_API_TOKEN"):
        return True
    try:
        from dwave.cloud.config import load_config
    except ImportError:
        return False
    try:
        return bool(load_config().get("token"))
    except Exception:  # unreadable / unparsable config file, unknown profile
        return False


def require_credentials() -> None:
    """Refuse, before any work or network call, when no D-Wave token is configured."""
    if not has_dwave_credentials():
        raise HardwareError(NO_TOKEN_MESSAGE)


def qpu_sampler(solver=None, qpu_factory=None):
    """dwave-system's DWaveCliqueSampler (clique-embeds each dense BQM; connects to Leap).

    Credentials are checked first, without importing anything that connects: raises
    HardwareError if there is no token, or if dwave-system is not installed. Sample with
    `qpu_sampler().sample(bqm, **QPU_DEFAULTS)` (num_reads, annealing_time, chain_strength).

    qpu_factory(**config) builds the structured sampler inside the clique sampler in place of
    dwave-system's DWaveSampler (config: the `solver` selection, if any); with one, e.g.
    dwave.system.testing.MockDWaveSampler, the whole clique path (embedding, scaling, chains,
    unembedding) runs offline and needs no credentials."""
    if qpu_factory is None:
        require_credentials()
    try:
        from dwave.system import DWaveCliqueSampler
    except ImportError as exc:
        raise HardwareError(NO_DWAVE_SYSTEM_MESSAGE) from exc
    config = {} if solver is None else {"solver": solver}
    if qpu_factory is None:
        return DWaveCliqueSampler(**config)

    class InjectedCliqueSampler(DWaveCliqueSampler):
        # DWaveCliqueSampler.__init__ does nothing but build its child QPU sampler from config
        def __init__(self, **config):
            self.child = qpu_factory(**config)

    return InjectedCliqueSampler(**config)


class QpuCallLog:
    """What a training run should keep of its QPU calls: `add` each returned sample set (from
    qpu_sampler, or anything that puts SAPI's timing and problem_id in info), `summary` for the
    result file. Sample sets without them (a classical stand-in) add only the call count."""

    def __init__(self):
        self.calls, self.problem_ids = 0, []
        self.access_time_us, self.programming_time_us = 0.0, 0.0
        self.chain_break_fractions: list[float] = []

    def add(self, sampleset: dimod.SampleSet) -> dict:
        """Record one call; returns its own record {problem_id, qpu_access_time_us,
        qpu_programming_time_us, chain_break_fraction (mean over reads, None without chains)}."""
        timing = sampleset.info.get("timing", {})
        fractions = (sampleset.record["chain_break_fraction"] if "chain_break_fraction" in sampleset.record.dtype.names
                     else None)
        record = dict(problem_id=sampleset.info.get("problem_id"),
                      qpu_access_time_us=float(timing.get("qpu_access_time", 0.0)),
                      qpu_programming_time_us=float(timing.get("qpu_programming_time", 0.0)),
                      chain_break_fraction=None if fractions is None else float(
                          np.average(fractions, weights=sampleset.record.num_occurrences)))
        self.calls += 1
        self.access_time_us += record["qpu_access_time_us"]
        self.programming_time_us += record["qpu_programming_time_us"]
        if record["problem_id"] is not None:
            self.problem_ids.append(record["problem_id"])
        if record["chain_break_fraction"] is not None:
            self.chain_break_fractions.append(record["chain_break_fraction"])
        return record

    def summary(self) -> dict:
        """{qpu_calls, qpu_access_time_s, qpu_programming_time_s, mean_chain_break_fraction,
        max_chain_break_fraction, problem_ids}, JSON-able."""
        fractions = self.chain_break_fractions
        return dict(qpu_calls=self.calls, qpu_access_time_s=self.access_time_us / 1e6,
                    qpu_programming_time_s=self.programming_time_us / 1e6,
                    mean_chain_break_fraction=float(np.mean(fractions)) if fractions else None,
                    max_chain_break_fraction=float(np.max(fractions)) if fractions else None,
                    problem_ids=list(self.problem_ids))


# ---------------------------------------------------------------------------------------------
# The embedded path in software
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _physical_sampler(system: str):
    from dwave.samplers import SimulatedAnnealingSampler

    g = hardware_graph(system)
    return dimod.StructureComposite(SimulatedAnnealingSampler(), list(g.nodes), list(g.edges))


def embedded_sample(bqm: dimod.BinaryQuadraticModel, system: str = DEFAULT_SYSTEM, num_reads: int = 10,
                    seed=None, chain_strength=None, num_sweeps: int = 1000):
    """Solve `bqm` the way a QPU would, with simulated annealing in place of the QPU.

    The logical BQM is clique-embedded (busclique, perfect-yield graph of `system`) with chains
    of strength `chain_strength` (None: uniform torque compensation, dwave-system's default),
    sampled by SA through a StructureComposite of the hardware graph (explicit beta_range from
    the embedded BQM), and unembedded by majority vote. Returns (sampleset, mean chain break
    fraction); the sampleset's energies are those of the logical `bqm`, it has a
    'chain_break_fraction' field per read, and info['embedding_context'] holds the chain
    strength, qubit count and chain lengths."""
    try:
        from dwave.embedding import embed_bqm, unembed_sampleset
        from dwave.embedding.chain_breaks import majority_vote
        from dwave.embedding.chain_strength import uniform_torque_compensation
    except ImportError as exc:
        raise HardwareError(NO_DWAVE_SYSTEM_MESSAGE) from exc

    variables = list(bqm.variables)
    chains = find_clique_embedding(len(variables), system) if variables else {}
    if variables and not chains:
        raise HardwareError(f"a dense problem of {len(variables)} variables does not embed on {system} "
                            f"(largest clique: {max_clique_size(system)})")
    embedding = {v: chains[i] for i, v in enumerate(variables)}
    if chain_strength is None:
        chain_strength = uniform_torque_compensation(bqm)
    target = embed_bqm(bqm, embedding, hardware_graph(system), chain_strength=chain_strength)
    response = _physical_sampler(system).sample(target, beta_range=bqm_beta_range(target), num_reads=num_reads,
                                                num_sweeps=num_sweeps, seed=seed)
    sampleset = unembed_sampleset(response, embedding, bqm, chain_break_method=majority_vote,
                                  chain_break_fraction=True)
    fraction = float(np.mean(sampleset.record.chain_break_fraction)) if len(sampleset) else 0.0
    lengths = [len(c) for c in embedding.values()]
    sampleset.info["embedding_context"] = dict(
        system=system, chain_strength=float(chain_strength), physical_qubits=int(sum(lengths)),
        max_chain=int(max(lengths, default=0)), mean_chain=float(np.mean(lengths)) if lengths else 0.0,
        mean_chain_break_fraction=fraction)
    return sampleset, fraction


# ---------------------------------------------------------------------------------------------
# QPU budget: D-Wave's timing model
# ---------------------------------------------------------------------------------------------
# D-Wave's "Operation and Timing" guide (https://docs.dwavesys.com/docs/latest/c_qpu_timing.html,
# section "Estimating the QPU Access Time") charges each QPU call
#     programming (typical_programming_time + programming_thermalization)
#     + num_reads x (annealing_time + readout time + qpu_delay_time_per_sample),
# the readout time growing with the number of qubits read: 10^interp(log10(qubits), q, t) for its
# 'pwl_log_log' model. The numbers below are the problem_timing_data of Advantage_system4.1 in
# August 2022, as dwave-cloud-client ships them (dwave.cloud.testing.mocks.qpu_problem_timing_data).
# The overhead Delta (qpu_access_overhead_time) is not charged as qpu_access_time, so it is left out.

ADVANTAGE41_PROGRAMMING_US = 14072.88 + 1000.0  # typical_programming_time + default_programming_thermalization
ADVANTAGE41_DELAY_US = 20.54  # qpu_delay_time_per_sample
ADVANTAGE41_READOUT_MODEL = (  # readout_time_model_parameters: log10 qubits, then log10 microseconds
    (0.0, 0.7699665876947938, 1.7242758696010096, 2.711975459489206, 3.1639057672764026, 3.750276915153992),
    (1.539131714800995, 1.8726623164229292, 2.125631787097315, 2.332672340068556, 2.371606651233025,
     2.3716219271760215))


def readout_time_per_read(num_qubits: int, model=ADVANTAGE41_READOUT_MODEL) -> float:
    """Microseconds to read one sample of `num_qubits` qubits, D-Wave's piecewise-linear log-log model."""
    if int(num_qubits) < 1:
        raise ValueError(f"need at least one qubit to read, got {num_qubits}")
    log_qubits, log_us = model
    return float(10.0 ** np.interp(np.log10(int(num_qubits)), log_qubits, log_us))


def qpu_access_time(num_calls: int, num_reads: int, annealing_time_us: float = QPU_DEFAULTS["annealing_time"],
                    programming_time_us: float = ADVANTAGE41_PROGRAMMING_US, readout_time_us: float | None = None,
                    delay_us: float = ADVANTAGE41_DELAY_US, num_qubits: int | None = None) -> float:
    """Estimated QPU access time, in microseconds, of `num_calls` calls of `num_reads` reads each.
    The readout time per read is `readout_time_us` or, when that is None, the Advantage 4.1 model's
    for `num_qubits` (the embedded problem's physical qubits)."""
    if int(num_calls) < 0 or int(num_reads) < 1:
        raise ValueError(f"need num_calls >= 0 and num_reads >= 1, got {num_calls}, {num_reads}")
    if min(annealing_time_us, programming_time_us, delay_us) < 0 or (readout_time_us or 0) < 0:
        raise ValueError("QPU times must be >= 0 microseconds")
    if readout_time_us is None:
        if num_qubits is None:
            raise ValueError("give readout_time_us or num_qubits (the embedded problem's qubits) for the readout model")
        readout_time_us = readout_time_per_read(num_qubits)
    per_call = programming_time_us + int(num_reads) * (annealing_time_us + readout_time_us + delay_us)
    return float(int(num_calls) * per_call)


def qpu_calls(num_classes: int, iterations: int, refinements: int = 0, calls_per_qubo: int = 1) -> int:
    """QPU calls of one training run: one per class QUBO, i.e. classes x iterations x
    (1 + refinements), times the calls each QUBO takes (blocks x sweeps over them when it is
    solved in clique-sized blocks, see qubocnn.blocks)."""
    counts = dict(num_classes=num_classes, iterations=iterations, calls_per_qubo=calls_per_qubo)
    if any(int(v) < 1 for v in counts.values()) or int(refinements) < 0:
        raise ValueError(f"need num_classes, iterations, calls_per_qubo >= 1 and refinements >= 0, got "
                         f"{counts}, refinements={refinements}")
    return int(num_classes) * int(iterations) * (1 + int(refinements)) * int(calls_per_qubo)


def qpu_budget(num_calls: int, variables_per_call: int, num_reads: int = QPU_DEFAULTS["num_reads"],
               annealing_time_us: float = QPU_DEFAULTS["annealing_time"], system: str = DEFAULT_SYSTEM) -> dict:
    """The estimated QPU time of `num_calls` calls, each a dense problem of `variables_per_call`
    variables clique-embedded on `system` (the readout time follows its physical qubits), as a
    JSON-able record for a run's result file."""
    embedding = clique_embedding(variables_per_call, system)
    if not embedding["embeddable"]:
        raise ValueError(f"a dense problem of {variables_per_call} variables does not embed on {system} "
                         f"(largest clique: {max_clique_size(system)}): use smaller blocks")
    readout = readout_time_per_read(embedding["physical_qubits"])
    per_call = qpu_access_time(1, num_reads, annealing_time_us, readout_time_us=readout)
    return dict(qpu_calls=int(num_calls), variables_per_call=int(variables_per_call),
                physical_qubits=embedding["physical_qubits"], num_reads=int(num_reads),
                annealing_time_us=float(annealing_time_us), programming_time_us=ADVANTAGE41_PROGRAMMING_US,
                readout_time_us=readout, delay_us=ADVANTAGE41_DELAY_US, per_call_us=per_call,
                qpu_access_time_s=per_call * int(num_calls) / 1e6, timing_model="Advantage_system4.1, 2022-08")
