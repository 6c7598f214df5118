"""The D-Wave QPU: credentials, the clique sampler, what a run keeps of its calls, the embedded
path in software, and the QPU time of a run from D-Wave's timing model.

`qpu_sampler` gives dwave-system's DWaveCliqueSampler when D-Wave credentials exist (or runs its
whole path offline on an injected structured sampler, e.g. MockDWaveSampler); `QpuCallLog` keeps
each call's timing, chain-break fraction and problem id; `embedded_sample` runs the embedded
(chained) problem in software, with simulated annealing as the physical sampler, so the effect of
chains can be measured without a QPU; `qpu_calls`, `qpu_access_time` and `qpu_budget` estimate a
training run's QPU time. Which problems embed at all is qubocnn.embedding's concern.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache

import dimod
import numpy as np

from .embedding import (DEFAULT_SYSTEM, check_packing, clique_embedding, disjoint_clique_embeddings,
                        find_clique_embedding, hardware_graph, max_clique_size)
from .schedules import bqm_beta_range

QPU_DEFAULTS = dict(num_reads=100, annealing_time=20.0, chain_strength=None)
"""Keyword arguments for `qpu_sampler(...).sample(bqm, **QPU_DEFAULTS)`. annealing_time is in
microseconds. chain_strength=None means dwave-system's default: uniform torque compensation
(dwave.embedding.chain_strength.uniform_torque_compensation, prefactor 1.414, computed from the
RMS of the problem's couplings and its mean degree)."""

NO_TOKEN_MESSAGE = ("no D-Wave API token: set DWAVE_API_TOKEN or run 'dwave config create' "
                    "(see docs/hardware-reference.md)")
NO_DWAVE_SYSTEM_MESSAGE = ("dwave-system is not installed: pip install qubocnn[qpu] "
                           "(or pip install dwave-system)")


class HardwareError(RuntimeError):
    """A QPU path is unavailable (no credentials, dwave-system missing, problem not embeddable)."""


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
    result file. Sample sets without them (a classical stand-in) add only the call count, and the
    control-error model's precision report of each call when it gives one (`precision_summary`)."""

    def __init__(self):
        self.calls, self.problem_ids = 0, []
        self.access_time_us, self.programming_time_us = 0.0, 0.0
        self.chain_break_fractions: list[float] = []
        self.precisions: list[dict] = []
        self.range_shares: list[float] = []  # of each packed problem: the call's scale over its own
        self.chain_strengths: list[float] = []
        self._lock = threading.Lock()  # classes are solved in parallel threads (--jobs)

    def add(self, sampleset: dimod.SampleSet) -> dict:
        """Record one call; returns its own record {problem_id, qpu_access_time_us,
        qpu_programming_time_us, chain_break_fraction (mean over reads, None without chains)}."""
        timing = sampleset.info.get("timing", {})
        fractions = (sampleset.record["chain_break_fraction"] if "chain_break_fraction" in sampleset.record.dtype.names
                     else None)
        packing = sampleset.info.get("packing", {})  # a packed call (qubocnn.packing) reports its problems'
        record = dict(problem_id=sampleset.info.get("problem_id"),
                      qpu_access_time_us=float(timing.get("qpu_access_time", 0.0)),
                      qpu_programming_time_us=float(timing.get("qpu_programming_time", 0.0)),
                      chain_break_fraction=packing.get("chain_break_fraction") if fractions is None else float(
                          np.average(fractions, weights=sampleset.record.num_occurrences)))
        with self._lock:
            self.calls += 1
            self.access_time_us += record["qpu_access_time_us"]
            self.programming_time_us += record["qpu_programming_time_us"]
            if record["problem_id"] is not None:
                self.problem_ids.append(record["problem_id"])
            if record["chain_break_fraction"] is not None:
                self.chain_break_fractions.append(record["chain_break_fraction"])
            if "precision" in sampleset.info:  # the control-error model's report of the requested problem
                self.precisions.append(sampleset.info["precision"])
            self.range_shares += packing.get("range_share", [])
            self.chain_strengths += [s for s in packing.get("chain_strengths", []) if s is not None]
        return record

    def summary(self) -> dict:
        """{qpu_calls, qpu_access_time_s, qpu_programming_time_s, mean_chain_break_fraction,
        max_chain_break_fraction, problem_ids}, JSON-able."""
        fractions = self.chain_break_fractions
        return dict(qpu_calls=self.calls, qpu_access_time_s=self.access_time_us / 1e6,
                    qpu_programming_time_s=self.programming_time_us / 1e6,
                    mean_chain_break_fraction=float(np.mean(fractions)) if fractions else None,
                    max_chain_break_fraction=float(np.max(fractions)) if fractions else None,
                    mean_chain_strength=float(np.mean(self.chain_strengths)) if self.chain_strengths else None,
                    problem_ids=list(self.problem_ids))

    def precision_summary(self) -> dict | None:
        """Mean over the calls of each precision_report field (None when no call carried one):
        how much of the problems the QPU was asked to solve its control errors leave."""
        if not self.precisions:
            return None
        summary = {key: float(np.mean([p[key] for p in self.precisions]))
                   for key in ("h_bits", "J_bits", "h_below_sigma", "J_below_sigma")}
        if self.range_shares:  # packed calls: the share of the h/J range each problem got under the one scaling
            summary.update(range_share_mean=float(np.mean(self.range_shares)),
                           range_share_min=float(np.min(self.range_shares)))
        return summary


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


def qpu_calls(num_classes: int, iterations: int, refinements: int = 0, calls_per_qubo: int = 1,
              problems_per_call: int = 1) -> int:
    """QPU calls of one training run: one per class QUBO, i.e. classes x iterations x
    (1 + refinements), times the calls each QUBO takes (blocks x sweeps over them when it is
    solved in clique-sized blocks, see qubocnn.blocks); with `problems_per_call` class QUBOs packed
    into one call (qubocnn.packing), ceil(classes / problems_per_call) in place of classes."""
    counts = dict(num_classes=num_classes, iterations=iterations, calls_per_qubo=calls_per_qubo,
                  problems_per_call=problems_per_call)
    if any(int(v) < 1 for v in counts.values()) or int(refinements) < 0:
        raise ValueError(f"need num_classes, iterations, calls_per_qubo >= 1 and refinements >= 0, got "
                         f"{counts}, refinements={refinements}")
    per_round = -(-int(num_classes) // int(problems_per_call))
    return per_round * int(iterations) * (1 + int(refinements)) * int(calls_per_qubo)


def qpu_budget(num_calls: int, variables_per_call: int, num_reads: int = QPU_DEFAULTS["num_reads"],
               annealing_time_us: float = QPU_DEFAULTS["annealing_time"], system: str = DEFAULT_SYSTEM,
               problems_per_call: int = 1) -> dict:
    """The estimated QPU time of `num_calls` calls, each `problems_per_call` dense problems of
    `variables_per_call` variables clique-embedded side by side on `system` (the readout time
    follows their physical qubits), as a JSON-able record for a run's result file."""
    embedding = clique_embedding(variables_per_call, system)
    if not embedding["embeddable"]:
        raise ValueError(f"a dense problem of {variables_per_call} variables does not embed on {system} "
                         f"(largest clique: {max_clique_size(system)}): use smaller blocks")
    qubits = embedding["physical_qubits"]
    if int(problems_per_call) > 1:
        cliques = disjoint_clique_embeddings(variables_per_call, problems_per_call, system)
        qubits = sum(len(chain) for clique in cliques for chain in clique.values())
    readout = readout_time_per_read(qubits)
    per_call = qpu_access_time(1, num_reads, annealing_time_us, readout_time_us=readout)
    return dict(qpu_calls=int(num_calls), variables_per_call=int(variables_per_call),
                physical_qubits=qubits, problems_per_call=int(problems_per_call), num_reads=int(num_reads),
                annealing_time_us=float(annealing_time_us), programming_time_us=ADVANTAGE41_PROGRAMMING_US,
                readout_time_us=readout, delay_us=ADVANTAGE41_DELAY_US, per_call_us=per_call,
                qpu_access_time_s=per_call * int(num_calls) / 1e6, timing_model="Advantage_system4.1, 2022-08")


@dataclass(frozen=True)
class QpuPlan:
    """The QPU calls of a training run, planned before the first: every class QUBO of every
    iteration and round is one call, or one per block when it is solved in blocks of at most
    `block_size` variables (qubocnn.blocks). Refuses, before any training, a call that does not
    embed as a clique on the default system."""

    num_calls: int
    num_blocks: int
    variables_per_call: int
    num_reads: int
    annealing_time_us: float
    block_size: int | None = None
    problems_per_call: int = 1

    @classmethod
    def of_training(cls, num_features: int, num_classes: int, bits: int, iterations: int, refinements: int,
                    num_reads: int, annealing_time_us: float = QPU_DEFAULTS["annealing_time"],
                    block_size: int | None = None, pack: int = 1) -> QpuPlan:
        """`pack` class QUBOs per call (0: as many of the classes as fit on disjoint cliques);
        refuses, before any call, a packing that does not fit."""
        from .blocks import parameter_blocks

        variables = (num_features + 1) * bits
        blocks = parameter_blocks(num_features + 1, bits, block_size or variables)
        per_call = max(len(block) for block in blocks) * bits
        if not clique_embedding(per_call, DEFAULT_SYSTEM)["embeddable"]:
            raise ValueError(f"a class QUBO of {per_call} variables (d={num_features}, K={bits}) does not embed on "
                             f"{DEFAULT_SYSTEM} (largest clique: {max_clique_size(DEFAULT_SYSTEM)}): "
                             f"use --block-size clique or fewer bits")
        packed = (check_packing(per_call, pack) if pack else
                  max(1, len(disjoint_clique_embeddings(per_call, num_classes))))
        packed = min(packed, int(num_classes))
        return cls(qpu_calls(num_classes, iterations, refinements, len(blocks), packed), len(blocks), per_call,
                   int(num_reads), float(annealing_time_us), block_size, packed)

    def budget(self, num_calls: int | None = None) -> dict:
        """qpu_budget of the planned calls, or of `num_calls` (the calls a run made)."""
        return qpu_budget(self.num_calls if num_calls is None else num_calls, self.variables_per_call,
                          self.num_reads, self.annealing_time_us, problems_per_call=self.problems_per_call)

    def describe(self) -> str:
        """The plan in one line, for the log before the first call."""
        packed = f" ({self.problems_per_call} problems per call)" if self.problems_per_call > 1 else ""
        return (f"QPU budget: {self.num_calls} calls of at most {self.variables_per_call} variables{packed}, "
                f"{self.num_reads} reads each: about {self.budget()['qpu_access_time_s']:.1f} s of QPU access "
                f"time (D-Wave's timing model, {self.budget()['timing_model']})")

    def blocks_record(self) -> dict:
        return dict(block_size=self.block_size, num_blocks=self.num_blocks, variables_per_call=self.variables_per_call)
