"""D-Wave hardware analysis: sizes, clique embeddings, the credential gate, the embedded path.
No test touches the network."""

import itertools
import json
import sys

import dimod
import numpy as np
import pytest

from qubocnn import embedding, qpu
from qubocnn.schedules import bqm_beta_range
from qubocnn.qpu import HardwareError

P16, Z12 = "Advantage_system4.1", "Advantage2_system1.x"


def test_systems_table():
    assert embedding.SYSTEMS[P16]["family"] == "pegasus" and embedding.SYSTEMS[P16]["size"] == 16
    assert (embedding.SYSTEMS[P16]["qubits"], embedding.SYSTEMS[P16]["couplers"]) == (5627, 40279)
    assert embedding.SYSTEMS[Z12]["family"] == "zephyr" and (embedding.SYSTEMS[Z12]["size"], embedding.SYSTEMS[Z12]["tile"]) == (12, 4)
    assert (embedding.SYSTEMS[Z12]["qubits"], embedding.SYSTEMS[Z12]["couplers"]) == (4592, 41779)
    with pytest.raises(ValueError):
        embedding.raw_count_fits(1, 0, "Advantage_system9")


def test_problem_size():
    assert embedding.problem_size(196, 15) == dict(variables=2955, couplers=2955 * 2954 // 2)
    assert embedding.problem_size(16, 10) == dict(variables=170, couplers=170 * 169 // 2)


def test_raw_counts_paper_criterion():
    small, big = embedding.problem_size(16, 10), embedding.problem_size(196, 20)
    for system in embedding.SYSTEMS:
        assert embedding.raw_count_fits(small["variables"], small["couplers"], system)
        assert not embedding.raw_count_fits(big["variables"], big["couplers"], system)


def _assert_valid_clique_embedding(emb, graph):
    """Every chain is connected in the graph, chains are disjoint, every pair of chains touches."""
    owner = {}
    for v, chain in emb.items():
        assert chain, v
        for q in chain:
            assert q in graph and q not in owner, (v, q)
            owner[q] = v
        seen, stack = {chain[0]}, [chain[0]]
        while stack:
            for r in graph[stack.pop()]:
                if owner.get(r) == v and r not in seen:
                    seen.add(r)
                    stack.append(r)
        assert seen == set(chain), f"chain {v} is not connected"
    touching = {(owner[p], owner[q]) for p, q in graph.edges if p in owner and q in owner}
    touching |= {(b, a) for a, b in touching}
    for a, b in itertools.combinations(emb, 2):
        assert (a, b) in touching, f"chains {a} and {b} are not adjacent"


def test_clique_embedding_valid_and_limits():
    graph = embedding.hardware_graph(P16)
    emb = embedding.find_clique_embedding(170, P16)
    assert len(emb) == 170
    _assert_valid_clique_embedding(emb, graph)
    pytest.importorskip("dwave.embedding")
    import networkx as nx
    from dwave.embedding import verify_embedding
    assert verify_embedding(emb, nx.complete_graph(170), graph)

    info = embedding.clique_embedding(170, P16)
    assert info["embeddable"] and info["physical_qubits"] == sum(map(len, emb.values()))
    assert 1 < info["mean_chain"] <= info["max_chain"] <= 20
    assert embedding.clique_embedding(2955, P16) == dict(embeddable=False, physical_qubits=None,
                                                  max_chain=None, mean_chain=None)


def test_clique_embedding_zephyr_small():
    emb = embedding.find_clique_embedding(40, Z12)
    _assert_valid_clique_embedding(emb, embedding.hardware_graph(Z12))


def test_max_clique_size():
    m = embedding.max_clique_size(P16)
    assert 170 <= m <= 190
    assert embedding.clique_embedding(m, P16)["embeddable"] and not embedding.clique_embedding(m + 1, P16)["embeddable"]
    assert 170 <= embedding.max_clique_size(Z12) <= 200


def test_feasibility_table_rows_are_json():
    rows = embedding.feasibility_table({"clique": 16, "default": 196}, [10, 15])
    assert len(rows) == 2 * 2 * len(embedding.SYSTEMS)
    json.dumps(rows)
    by_key = {(r["preset"], r["bits"], r["system"]): r for r in rows}
    r = by_key["clique", 10, P16]
    assert r["variables"] == 170 and r["raw_count_fits"] and r["embeddable"] and r["max_chain"] >= 2
    r = by_key["default", 15, P16]
    assert r["variables"] == 2955 and not r["raw_count_fits"] and not r["embeddable"]
    assert r["physical_qubits"] is None and r["mean_chain"] is None
    # counts fit but the clique does not: the paper's criterion is not sufficient
    r = embedding.feasibility(16, 15)
    assert r["variables"] == 255
    assert all(s["raw_count_fits"] and not s["embeddable"] for s in r["systems"].values())


def test_qpu_sampler_without_token_raises(no_credentials):
    assert not qpu.has_dwave_credentials()
    with pytest.raises(HardwareError, match="DWAVE_API_TOKEN"):
        qpu.qpu_sampler()
    assert qpu.QPU_DEFAULTS == dict(num_reads=100, annealing_time=20.0, chain_strength=None)


def test_credentials_from_env_and_file(no_credentials, monkeypatch):
    monkeypatch.setenv("DWAVE_API_TOKEN", "DEV-not-a-real-token")
    assert qpu.has_dwave_credentials()
    monkeypatch.delenv("DWAVE_API_TOKEN")
    pytest.importorskip("dwave.cloud.config")
    conf = no_credentials / "with_token.conf"
    conf.write_text("[defaults]\ntoken = DEV-not-a-real-token\n")
    monkeypatch.setenv("DWAVE_CONFIG_FILE", str(conf))
    assert qpu.has_dwave_credentials()


def test_qpu_sampler_without_dwave_system(no_credentials, monkeypatch):
    monkeypatch.setenv("DWAVE_API_TOKEN", "DEV-not-a-real-token")
    monkeypatch.setitem(sys.modules, "dwave.system", None)  # import fails
    with pytest.raises(HardwareError, match=r"qubocnn\[qpu\]"):
        qpu.qpu_sampler()


def test_beta_range_ignores_roundoff():
    bqm = dimod.BQM({0: 1.0, 1: -2.0, 2: 1e-17}, {(0, 1): 0.5, (1, 2): 1e-18}, 0.0, "SPIN")
    hot, cold = bqm_beta_range(bqm)
    assert hot == pytest.approx(np.log(2) / 2.5)
    assert cold == pytest.approx(np.log(100) / 0.5)


def test_embedded_sample_matches_exact_ground_state():
    pytest.importorskip("dwave.embedding")
    rng = np.random.default_rng(3)
    n = 8
    Q = np.triu(rng.normal(size=(n, n)))
    bqm = dimod.BQM(Q, "BINARY")
    ground = dimod.ExactSolver().sample(bqm).first.energy
    strength = 2.0 * float(np.abs(Q).sum())  # far stronger than any torque on a chain
    sampleset, fraction = qpu.embedded_sample(bqm, P16, num_reads=10, seed=7, chain_strength=strength)
    assert set(sampleset.variables) == set(bqm.variables) and len(sampleset) == 10
    assert sampleset.first.energy == pytest.approx(ground)
    samples = dimod.as_samples(sampleset)
    np.testing.assert_allclose(sampleset.record.energy, bqm.energies(samples))
    assert 0.0 <= fraction <= 1.0
    assert np.all((sampleset.record.chain_break_fraction >= 0) & (sampleset.record.chain_break_fraction <= 1))
    ctx = sampleset.info["embedding_context"]
    assert ctx["chain_strength"] == strength and ctx["physical_qubits"] >= n


def test_embedded_sample_rejects_too_large():
    pytest.importorskip("dwave.embedding")
    bqm = dimod.BQM(np.triu(np.ones((200, 200))), "BINARY")
    with pytest.raises(HardwareError, match="does not embed"):
        qpu.embedded_sample(bqm, P16)
