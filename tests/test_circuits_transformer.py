"""``mi_tutor.circuits_transformer``: scores, loss, factored matrices, composition, attribution,
detector, plots.

Lesson 8's checks are tested in tests/checks/test_lesson08.py."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mi_tutor import circuits_transformer as circuits
from mi_tutor.circuits_transformer import FactoredMatrix
from mi_tutor.circuits_transformer import plots
from mi_tutor.transformer import HookedTransformer, TransformerConfig, attention_pattern, repeated_random_tokens
from mi_tutor.validation import ShapeError


def perfect_pattern(seq_len: int, offset: int, batch: int = 2) -> torch.Tensor:
    """Every query q >= -offset attends to q + offset; earlier queries attend to BOS."""
    n = 1 + 2 * seq_len
    p = torch.zeros(batch, 1, n, n)
    for q in range(n):
        p[:, 0, q, q + offset if q + offset >= 0 else 0] = 1
    return p


# ------------------------------------------------------------------ scores
def test_scores_on_hand_made_patterns():
    L = 4
    ind, dup, prev = perfect_pattern(L, 1 - L), perfect_pattern(L, -L), perfect_pattern(L, -1)
    assert circuits.induction_score(ind, L).item() == 1 and circuits.duplicate_token_score(ind, L).item() == 0
    assert circuits.duplicate_token_score(dup, L).item() == 1 and circuits.induction_score(dup, L).item() == 0
    assert circuits.previous_token_score(prev).item() == 1
    uniform = torch.ones(1, 2, 9, 9).tril()
    uniform = uniform / uniform.sum(-1, keepdim=True)
    want = sum(1 / q for q in range(2, 10)) / 8  # query q (1-based count q+1 keys) puts 1/(q+1) on q-1
    assert torch.allclose(circuits.previous_token_score(uniform), torch.full((2,), want))


def test_token_masks_and_pattern_score():
    t = torch.tensor([[0, 5, 6, 7, 5, 6, 7]])
    m = circuits.token_masks(t)
    assert m["induction"][0, 4].nonzero().flatten().tolist() == [2]
    assert m["duplicate_token"][0, 5].nonzero().flatten().tolist() == [2]
    assert m["previous_token"][0, 3].nonzero().flatten().tolist() == [2]
    L = 3
    tokens = repeated_random_tokens(2, L, 1000, seed=0)  # no accidental repeats with 999 tokens
    p = perfect_pattern(L, 1 - L)
    assert torch.allclose(circuits.pattern_score(p, circuits.token_masks(tokens)["induction"]), torch.ones(1))


def test_scores_reject_bad_shapes():
    with pytest.raises(ShapeError, match="pattern"):
        circuits.previous_token_score(torch.rand(3, 4, 4))
    with pytest.raises(ShapeError, match="seq_len=5"):
        circuits.induction_score(torch.rand(1, 2, 9, 9), 5)


# ------------------------------------------------------------------ loss
def test_per_token_loss_and_icl():
    logits, tokens = torch.randn(3, 6, 9), torch.randint(0, 9, (3, 6))
    want = F.cross_entropy(logits[:, :-1].reshape(-1, 9), tokens[:, 1:].reshape(-1), reduction="none").view(3, 5)
    assert torch.allclose(circuits.per_token_loss(logits, tokens), want, atol=1e-6)
    loss = torch.tensor([[4.0, 3.0, 1.0], [2.0, 1.0, 0.0]])
    assert circuits.in_context_learning_score(loss, 0, -1).item() == pytest.approx(2.5)
    with pytest.raises(ShapeError, match="late"):
        circuits.in_context_learning_score(loss, 0, 3)
    with pytest.raises(ShapeError, match="tokens"):
        circuits.per_token_loss(logits, tokens[:, :-1])


# ------------------------------------------------------------------ factored matrices
def test_factored_matrix_matches_dense():
    g = torch.Generator().manual_seed(0)
    A, B = torch.randn(3, 7, 2, generator=g, dtype=torch.float64), torch.randn(3, 2, 7, generator=g, dtype=torch.float64)
    M, dense = FactoredMatrix(A, B), A @ B
    assert M.shape == (3, 7, 7) and M.rank == 2
    U, S, Vh = M.svd()
    assert torch.allclose(U @ torch.diag_embed(S) @ Vh, dense)
    assert torch.allclose(M.norm(), torch.linalg.matrix_norm(dense))
    assert torch.allclose(M.S, torch.linalg.svdvals(dense)[:, :2])
    eig = torch.linalg.eigvals(dense)
    top = eig[eig.abs() > 1e-8].abs().sort().values
    assert torch.allclose(M[1].eigenvalues.abs().sort().values, torch.linalg.eigvals(dense[1])[
        torch.linalg.eigvals(dense[1]).abs() > 1e-8].abs().sort().values)
    assert len(top) == 6
    E = torch.randn(5, 7, dtype=torch.float64, generator=g)
    assert torch.allclose((E @ M[0] @ E.T).AB, E @ dense[0] @ E.T)
    assert torch.allclose((M[0] @ M[1]).AB, dense[0] @ dense[1])
    assert torch.allclose(M.T.AB, dense.transpose(-1, -2))
    with pytest.raises(ShapeError, match="must equal"):
        FactoredMatrix(torch.randn(4, 3), torch.randn(2, 4))


# ------------------------------------------------------------------ composition and copying
def test_composition_score_by_hand():
    n = 9
    eye = torch.eye(n)
    assert circuits.composition_score(eye, eye).item() == pytest.approx(1 / math.sqrt(n))
    P = torch.zeros(n, n)
    P[0, 0] = 1
    Q = torch.zeros(n, n)
    Q[1, 1] = 1
    assert circuits.composition_score(P, Q).item() == 0  # orthogonal subspaces never compose
    assert circuits.composition_score(P, P).item() == pytest.approx(1)
    batch = circuits.composition_score(torch.randn(4, n, n), torch.randn(4, n, n))
    assert batch.shape == (4,) and (batch > 0).all() and (batch < 1).all()


def test_composition_scores_match_loop():
    model = HookedTransformer(TransformerConfig(n_layers=2, d_model=16, n_heads=3, d_head=4, init_range=0.3))
    W_QK = model.W_Q @ model.W_K.transpose(-1, -2)
    W_OV = model.W_V @ model.W_O
    k = circuits.composition_scores(model, "k")
    for a in range(3):
        for b in range(3):
            AB = W_OV[0, a] @ W_QK[1, b].T
            want = AB.norm() / (W_OV[0, a].norm() * W_QK[1, b].norm())
            assert k[a, b].item() == pytest.approx(want.item(), rel=1e-4)
    with pytest.raises(KeyError, match="kind"):
        circuits.composition_scores(model, "x")
    base = circuits.random_composition_baseline(16, 4, n_samples=100).item()
    assert 0 < base < 1
    assert base == pytest.approx(circuits.random_composition_baseline(16, 4, n_samples=100, seed=1).item(), rel=0.15)


def test_copying_score_and_full_ov():
    n = 8
    assert circuits.copying_score(torch.eye(n)).item() == pytest.approx(1)
    assert circuits.copying_score(-torch.eye(n)).item() == pytest.approx(-1)
    rotation = torch.tensor([[0.0, -1.0], [1.0, 0.0]])  # eigenvalues +-i: no copying
    assert circuits.copying_score(rotation).item() == pytest.approx(0, abs=1e-6)
    model = HookedTransformer(TransformerConfig(n_layers=2, d_vocab=10, d_model=16, n_heads=2, d_head=4))
    dense = model.W_E @ model.W_V[1, 0] @ model.W_O[1, 0] @ model.W_U
    full = circuits.full_ov_circuit(model, 1, 0)
    assert torch.allclose(full.AB, dense, atol=1e-6)
    assert circuits.copying_score(full).item() == pytest.approx(circuits.copying_score(dense).item(), abs=1e-3)
    qk = circuits.full_qk_circuit(model, 0, 1).AB
    assert torch.allclose(qk, model.W_E @ model.W_Q[0, 1] @ model.W_K[0, 1].T @ model.W_E.T, atol=1e-6)


# ------------------------------------------------------------------ attribution
@pytest.mark.parametrize("kw", [dict(), dict(normalization_type="LN", attn_only=False, d_mlp=12)])
def test_dla_components_add_up_to_logits(kw):
    model = HookedTransformer(TransformerConfig(n_layers=2, d_model=16, n_heads=2, d_head=4, d_vocab=11, n_ctx=8,
                                                init_range=0.3, **kw))
    for name, p in model.named_parameters():  # non-zero biases and LN weights
        if name.split(".")[-1].startswith("b") or name.endswith(".w") or name.endswith(".b"):
            torch.nn.init.normal_(p, std=0.3)
    t = torch.randint(0, 11, (3, 8))
    logits = model(t).detach()
    dla, labels = circuits.direct_logit_attribution(model, t)
    assert dla.shape == (3, 7, len(labels)) and labels[:2] == ["embed", "pos_embed"] and "L1H1" in labels
    want = logits[:, :-1].gather(-1, t[:, 1:, None])[..., 0] - model.b_U.detach()[t[:, 1:]]
    assert torch.allclose(dla.sum(-1), want, atol=1e-4)


def test_logit_attribution_by_hand():
    comps = torch.zeros(2, 1, 3, 2)
    comps[0, 0, 0] = torch.tensor([1.0, 0.0])
    comps[1, 0, 1] = torch.tensor([0.0, 2.0])
    W_U = torch.tensor([[1.0, 0.0, 3.0], [0.0, 1.0, 5.0]])
    tokens = torch.tensor([[0, 2, 1]])
    out = circuits.logit_attribution(comps, W_U, tokens)
    assert out.tolist() == [[[3.0, 0.0], [0.0, 2.0]]]
    with pytest.raises(ShapeError, match="W_U"):
        circuits.logit_attribution(comps, W_U.T, tokens)


# ------------------------------------------------------------------ detector and plots
def test_detector_on_zoo_model():
    from mi_tutor import zoo

    labels = circuits.detect_heads(zoo.load("attn_only_2l", device="cpu"))
    kinds = {(h.layer, h.kind) for h in labels}
    assert (0, "previous_token") in kinds and (1, "induction") in kinds
    assert all(h.score > 0.4 for h in labels) and labels == sorted(labels, key=lambda h: -h.score)
    with pytest.raises(ValueError, match="threshold"):
        circuits.detect_heads(zoo.load("attn_only_1l", device="cpu"), threshold=2)


def test_plots_return_their_data():
    import matplotlib

    matplotlib.use("Agg")
    s = torch.rand(2, 3)
    _, d = plots.plot_head_scores({"a": s, "b": s})
    assert torch.equal(d["a"], s)
    _, d = plots.plot_attention_patterns(torch.rand(3, 5, 5))
    assert d.shape == (3, 5, 5)
    loss = torch.rand(4, 6)
    _, d = plots.plot_per_token_loss({"m": loss}, split=3)
    assert torch.allclose(d["m"], loss.mean(0))
    _, d = plots.plot_phase_change([0, 1, 2], {"x": [0.1, 0.5, 0.9]})
    assert d["x"].tolist() == pytest.approx([0.1, 0.5, 0.9])
    with pytest.raises(ValueError, match="3 steps"):
        plots.plot_phase_change([0, 1, 2], {"x": [0.1]})
    _, d = plots.plot_ov_circuit(torch.eye(4))
    assert torch.equal(d, torch.eye(4))
    _, d = plots.plot_composition_scores({"k": s}, 0.1)
    assert d["baseline"].item() == pytest.approx(0.1)
    matplotlib.pyplot.close("all")
