"""Parallel annealing: several class QUBOs in one QPU call.

A QPU call costs its programming time (about 15 ms) once and then a fraction of a millisecond per
read, so a training run's QPU time is set by its number of calls. A clique of the problems a run
sends (a class QUBO, or one block of it) takes a small part of an Advantage's graph, so several
fit side by side on disjoint qubits and anneal in one call: parallel quantum annealing (Pelofske,
Hahn and Djidjev, "Parallel quantum annealing", Sci. Rep. 12, 4499, 2022). The problems share
the call's one h/J range: the QPU scales their sum by one factor, the one the largest
coefficient of any of them allows, so a problem with smaller coefficients than its neighbours
uses less of the range than alone (`range_share`, recorded per call).

`ParallelEmbeddingComposite` (a dimod composite: it wraps a child sampler and changes one
thing, that it takes several BQMs per call) embeds each BQM on its own clique
(embedding.disjoint_clique_embeddings), chains of strength `chain_strength` (default
dwave-system's uniform torque compensation, per problem), samples their sum in one child call and
unembeds each by majority vote with its chain-break fraction. Without chains
(`chains=False`) it sends the disjoint union of the logical BQMs instead: the control-error model
on logical problems, with the call's one scaling. `solver_factory.PackedSolver` solves the class QUBOs of
a training round through it, `pack` of them per call.
"""

from __future__ import annotations

import dimod
import numpy as np

from .embedding import (DEFAULT_SYSTEM, check_chain_strength, disjoint_clique_embeddings, disjoint_cliques_on,
                        hardware_graph)
from .qpu_noise import ControlErrorComposite, hardware_scale
from .schedules import bqm_beta_range


def _sizes_own_schedule(child) -> bool:
    """Whether `child` is a control-error model that sizes its child's schedule on the perturbed
    problem. Without errors it passes the problem on as it is, so it gets the packed problem's
    schedule: the limit of its own rule as the errors vanish, so noise and no noise anneal alike."""
    return isinstance(child, ControlErrorComposite) and bool(child.sigma_h or child.sigma_J or child.h_step
                                                              or child.j_step)


def disjoint_union(parts, vartype) -> dimod.BinaryQuadraticModel:
    """The sum of BQMs over disjoint variables, built from their numpy vectors: the same model, with
    the variables in the same order, as adding them one by one with `update` (which goes through
    every coupler in Python: 18 % of a hardware-study run)."""
    labels, linear, rows, columns, biases, offset = [], [], [], [], [], 0.0
    for part in parts:
        part = part.change_vartype(vartype, inplace=False) if part.vartype is not vartype else part
        order = list(part.variables)
        part_linear, (part_rows, part_columns, part_biases), part_offset = part.to_numpy_vectors(order)
        rows.append(np.asarray(part_rows, np.int64) + len(labels))
        columns.append(np.asarray(part_columns, np.int64) + len(labels))
        labels += order
        linear.append(part_linear)
        biases.append(part_biases)
        offset += part_offset
    if len(set(labels)) != len(labels):
        raise ValueError("the packed problems must be over disjoint variables")
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        np.concatenate(linear), (np.concatenate(rows), np.concatenate(columns), np.concatenate(biases)), offset,
        vartype, variable_order=labels)


class ParallelEmbeddingComposite(dimod.ComposedSampler):
    """Sample several BQMs in one call of `child`, each on its own clique of the QPU graph.

    Args:
        child: the sampler of the packed problem: a structured QPU sampler (DWaveSampler,
            MockDWaveSampler), or any sampler standing in for one (ControlErrorComposite).
        chains: embed each BQM on a clique of `graph` (True), or send the disjoint union of the
            logical BQMs (False; the variables of problem i are labelled (i, v)).
        system: the system whose perfect-yield graph the cliques are found on, when `graph` is
            None and the child has no graph of its own (`to_networkx_graph`).
        chain_strength: None (uniform torque compensation of each problem's Ising form, with
            `chain_prefactor`) or a positive number, in the units of the problem's Ising form.

    `sample_many(bqms, **parameters)` returns (one sample set per BQM, the call's sample set);
    `sample(bqm)` is one BQM alone. The call's info holds `packing`: problems, qubits, the call's
    scale and each problem's own (qpu_noise.hardware_scale) and `range_share` (call scale over
    own scale, at most 1), chain strengths and the mean chain-break fraction.
    """

    def __init__(self, child: dimod.Sampler, chains: bool = True, system: str = DEFAULT_SYSTEM, graph=None,
                 chain_strength: float | None = None, chain_prefactor: float = 1.414):
        self._children = [child]
        self.chains = bool(chains)
        self.system = system
        if graph is None and hasattr(child, "to_networkx_graph"):
            graph = child.to_networkx_graph()
        self.graph = graph
        self.chain_strength = check_chain_strength(chain_strength)
        self.chain_prefactor = float(chain_prefactor)
        self._embeddings: dict[tuple[int, int], list[dict]] = {}

    @property
    def children(self) -> list:
        return self._children

    @property
    def parameters(self) -> dict:
        return dict(self.child.parameters)

    @property
    def properties(self) -> dict:
        return dict(child_properties=self.child.properties.copy(), chains=self.chains)

    def fitting(self, variables: int, count: int) -> list[dict]:
        """Up to `count` clique embeddings of `variables` variables on disjoint qubits (cached)."""
        key = (int(variables), int(count))
        if key not in self._embeddings:
            if self.graph is None:
                self._embeddings[key] = disjoint_clique_embeddings(variables, count, self.system)
            else:
                self._embeddings[key] = [{i: list(c) for i, c in enumerate(chains)}
                                         for chains in disjoint_cliques_on(self.graph, variables, count)]
        return self._embeddings[key]

    def embeddings(self, variables: int, count: int) -> list[dict]:
        """`count` clique embeddings of `variables` variables on disjoint qubits; refuses, before
        any call, a packing that does not fit."""
        found = self.fitting(variables, count)
        if len(found) < count:
            raise ValueError(f"{count} problems of {variables} variables do not fit on disjoint cliques of the "
                             f"QPU graph (at most {len(found)} do): use --pack {len(found)} or less, or smaller "
                             "blocks")
        return found

    def _embed(self, bqms):
        """The packed problem, one part per BQM, each part's variable map and chain strength."""
        from dwave.embedding import embed_bqm
        from dwave.embedding.chain_strength import uniform_torque_compensation

        cliques = self.embeddings(max(len(bqm.variables) for bqm in bqms), len(bqms))
        if not self.chains:
            parts = [bqm.relabel_variables({v: (i, v) for v in bqm.variables}, inplace=False)
                     for i, bqm in enumerate(bqms)]
            return parts, [{v: [(i, v)] for v in bqm.variables} for i, bqm in enumerate(bqms)], [None] * len(bqms)
        target = self.graph if self.graph is not None else hardware_graph(self.system)
        parts, maps, strengths = [], [], []
        for bqm, clique in zip(bqms, cliques):
            chains = {v: clique[i] for i, v in enumerate(bqm.variables)}
            strength = self.chain_strength
            if strength is None:
                strength = uniform_torque_compensation(bqm.spin, prefactor=self.chain_prefactor)
            parts.append(embed_bqm(bqm, chains, target, chain_strength=strength))
            maps.append(chains)
            strengths.append(float(strength))
        return parts, maps, strengths

    def sample_many(self, bqms, **parameters):
        from dwave.embedding import unembed_sampleset
        from dwave.embedding.chain_breaks import majority_vote

        bqms = list(bqms)
        if not bqms:
            raise ValueError("sample_many needs at least one BQM")
        parts, maps, strengths = self._embed(bqms)
        packed = disjoint_union(parts, bqms[0].vartype)
        if "beta_range" in self.child.parameters and "beta_range" not in parameters and not _sizes_own_schedule(self.child):
            parameters["beta_range"] = bqm_beta_range(packed)
        response = self.child.sample(packed, **parameters)
        samplesets = []
        for bqm, chains in zip(bqms, maps):
            if self.chains:
                samplesets.append(unembed_sampleset(response, chains, bqm, chain_break_method=majority_vote,
                                                    chain_break_fraction=True))
            else:
                columns = [response.variables.index(chains[v][0]) for v in bqm.variables]
                samplesets.append(dimod.SampleSet.from_samples_bqm(
                    (response.record.sample[:, columns], list(bqm.variables)), bqm,
                    num_occurrences=response.record.num_occurrences))
        call_scale = hardware_scale(packed)
        own = [hardware_scale(part) for part in parts]
        fractions = [float(np.mean(s.record.chain_break_fraction)) for s in samplesets] if self.chains else []
        info = dict(response.info, packing=dict(
            problems=len(bqms), qubits=int(packed.num_variables), scale=call_scale, problem_scales=own,
            range_share=[call_scale / s for s in own], chain_strengths=strengths,
            chain_break_fraction=float(np.mean(fractions)) if fractions else None))
        for position, sampleset in enumerate(samplesets):
            sampleset.info.update(packed_position=position, packed_problems=len(bqms))
        call = dimod.SampleSet(response.record, response.variables, info, response.vartype)
        return samplesets, call

    def sample(self, bqm: dimod.BinaryQuadraticModel, **parameters) -> dimod.SampleSet:
        return self.sample_many([bqm], **parameters)[0][0]
