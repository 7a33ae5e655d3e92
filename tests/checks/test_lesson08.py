"""Lesson 8's checks: the reference passes, and each plausible mistake fails with words that name it
(the message a student reads)."""

from __future__ import annotations

import pytest
import torch

from mi_tutor import circuits_transformer as circuits
from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson08 as c8
from mi_tutor.transformer import attention_pattern


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)


def _hook_scores(model, tokens, seq_len, score_fn):
    scores = torch.zeros(model.cfg.n_layers, model.cfg.n_heads, device=tokens.device)

    def hook(pattern, hook):
        scores[hook.layer()] = score_fn(pattern, seq_len)
    with torch.no_grad():
        model.run_with_hooks(tokens, fwd_hooks=[(lambda n: n.endswith("hook_pattern"), hook)])
    return scores


def _ablated(model, tokens, layer, head, index=lambda head: (slice(None), slice(None), head)):
    def hook(z, h):
        z = z.clone()
        z[index(head)] = 0.0
        return z
    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", hook)])


def test_lesson08_references_pass(capsys):
    c8.check_attention_pattern(attention_pattern)
    c8.check_previous_token_score(circuits.previous_token_score)
    c8.check_induction_score(circuits.induction_score)
    c8.check_per_token_loss(circuits.per_token_loss, scale=200.0)
    c8.check_induction_scores_with_hooks(_hook_scores, score="duplicate")
    c8.check_full_ov_circuit(circuits.full_ov_circuit)
    c8.check_copying_score(circuits.copying_score, anti=True)
    c8.check_composition_score(circuits.composition_score, batch=(2, 3))
    c8.check_logit_attribution(circuits.logit_attribution)
    c8.check_run_with_head_ablated(_ablated, n_layers=3, heads=((2, 0), (1, 2)))
    assert capsys.readouterr().out.count("\u2713") == 10


def test_lesson08_attention_pattern_mistakes():
    def mask_with_zero(q, k):
        s = torch.einsum("bqhd,bkhd->bhqk", q, k) / q.shape[-1] ** 0.5
        return s.masked_fill(torch.ones_like(s, dtype=torch.bool).triu(1), 0.0).softmax(-1)

    def scales_q_in_place(q, k):
        q /= q.shape[-1] ** 0.5
        return attention_pattern(q * q.shape[-1] ** 0.5, k)

    fails(c8.check_attention_pattern, mask_with_zero, "causal mask")
    fails(c8.check_attention_pattern, lambda q, k: attention_pattern(q, k).transpose(-1, -2), "softmax over the key axis")
    fails(c8.check_attention_pattern, lambda q, k: (torch.einsum("bqhd,bkhd->bhqk", q, k) / 2).softmax(-1),
          "key after its query")                                                           # no mask at all
    fails(c8.check_attention_pattern, scales_q_in_place, "changed its argument `q` in place")


def test_lesson08_score_mistakes():
    fails(c8.check_previous_token_score,
          lambda p: p.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1), "shape")              # kept the batch axis
    fails(c8.check_previous_token_score, lambda p: p.diagonal(dim1=-2, dim2=-1).mean((0, -1)), "wrong values")
    fails(c8.check_induction_score, circuits.duplicate_token_score, "duplicate-token")
    fails(c8.check_induction_score,                                                         # hard-coded seq_len
          lambda p, n: circuits.induction_score(p, 5), "wrong values|shape", seq_len=9)


def test_lesson08_per_token_loss_mistakes():
    def off_by_one(logits, tokens):
        return -logits[:, 1:].log_softmax(-1).gather(-1, tokens[:, :-1, None])[..., 0]

    def softmax_then_log(logits, tokens):
        return -logits[:, :-1].softmax(-1).log().gather(-1, tokens[:, 1:, None])[..., 0]

    fails(c8.check_per_token_loss, off_by_one, r"(?s)wrong values.*position p \+ 1 against token p")
    fails(c8.check_per_token_loss, lambda lg, t: -circuits.per_token_loss(lg, t), "negative")
    circuits_ok = c8.check_per_token_loss(softmax_then_log)          # fine at small scale ...
    assert circuits_ok is None
    fails(c8.check_per_token_loss, softmax_then_log, "log-softmax", scale=200.0)   # ... not with large logits


def test_lesson08_hook_scores_mistakes():
    def ignores_score_fn(model, tokens, seq_len, score_fn):
        return _hook_scores(model, tokens, seq_len, circuits.induction_score)

    def leaky(model, tokens, seq_len, score_fn):
        model.add_hook("hook_embed", lambda a, h: None)
        return _hook_scores(model, tokens, seq_len, score_fn)

    def reversed_layers(model, tokens, seq_len, score_fn):
        return _hook_scores(model, tokens, seq_len, score_fn).flip(0)

    c8.check_induction_scores_with_hooks(ignores_score_fn)             # the visible test cannot tell ...
    fails(c8.check_induction_scores_with_hooks, ignores_score_fn, "call the `score_fn`", score="duplicate")  # hidden can
    fails(c8.check_induction_scores_with_hooks, leaky, "still attached")
    fails(c8.check_induction_scores_with_hooks, reversed_layers, "one row per layer")


def test_lesson08_stub_called_from_the_exercise_is_named():
    def induction_score_stub(pattern, seq_len):
        raise NotImplementedError()

    def uses_stub(model, tokens, seq_len, score_fn):
        return _hook_scores(model, tokens, seq_len, induction_score_stub)

    fails(c8.check_induction_scores_with_hooks, uses_stub, "calls `induction_score_stub`, which is still a stub")


def test_lesson08_weights_mistakes():
    fails(c8.check_full_ov_circuit,
          lambda m, layer, head: m.W_E @ m.W_V[layer, head] @ m.W_O[layer, head] @ m.W_E.T, "shape|wrong values")
    fails(c8.check_copying_score, lambda m: torch.trace(m) / m.abs().sum(), "wrong values")
    fails(c8.check_copying_score, lambda m: torch.linalg.eigvals(m).sum() / torch.linalg.eigvals(m).abs().sum(),
          "complex")
    fails(c8.check_composition_score,
          lambda A, B: torch.linalg.matrix_norm(A @ B) / torch.linalg.matrix_norm(A), "wrong values")
    fails(c8.check_composition_score, lambda A, B: (A @ B).norm() / (A.norm() * B.norm()), "shape|wrong values",
          batch=(2, 3))
    fails(c8.check_logit_attribution,
          lambda comp, W_U, t: torch.einsum("cbpd,bpd->bpc", comp[:, :, 1:], W_U.T[t[:, 1:]]), "next")


def test_lesson08_ablation_mistakes():
    fails(c8.check_run_with_head_ablated,
          lambda m, t, layer, head: _ablated(m, t, layer, head, index=lambda h: (slice(None), h)), "position")
    fails(c8.check_run_with_head_ablated, lambda m, t, layer, head: _ablated(m, t, 0, head), "not of layer",
          n_layers=3, heads=((2, 0),))
    fails(c8.check_run_with_head_ablated, lambda m, t, layer, head: m(t), "changed nothing")

    def ablate_every_layer(model, tokens, layer, head):
        def hook(z, h):
            z = z.clone()
            z[:, :, head] = 0.0
            return z
        with torch.no_grad():
            return model.run_with_hooks(tokens, fwd_hooks=[(lambda n: n.endswith("hook_z"), hook)])
    fails(c8.check_run_with_head_ablated, ablate_every_layer, "one head's output in one layer")


def test_lesson08_result_checks_send_the_student_back():
    good = {"previous_token": torch.tensor([[0.9, 0.1], [0.0, 0.0]]), "induction": torch.tensor([[0.0, 0.0], [0.1, 0.7]])}
    none = {"previous_token": torch.zeros(1, 2), "induction": torch.zeros(1, 2)}
    c8.check_head_scores_result(good, none)
    with pytest.raises(CheckFailure, match="Exercise 8.3"):
        c8.check_head_scores_result(good, {"previous_token": torch.zeros(1, 2), "induction": torch.ones(1, 2)})
    with pytest.raises(CheckFailure, match="Exercise 8.2"):
        c8.check_head_scores_result({**good, "previous_token": torch.zeros(2, 2)}, none)
    with pytest.raises(CheckFailure, match="Exercise 8.4"):
        c8.check_repeated_loss_result(torch.full((10,), 4.0), 5)
    with pytest.raises(CheckFailure, match="together"):
        c8.check_phase_change_result([0, 1, 2, 3, 4], [0.0, 0.8, 0.8, 0.8, 0.8], [0.0, 0.0, 0.0, 0.0, 3.0])
    with pytest.raises(CheckFailure, match="baseline"):
        c8.check_composition_result(torch.full((2, 2), 0.1), 0.1, 0, 1)
    c8.check_ov_circuit_result(torch.eye(5) * 3 + 0.1, torch.tensor([0.99, 0.2]), 0)
    with pytest.raises(CheckFailure, match="Exercise 8.6"):
        c8.check_ov_circuit_result(torch.eye(5).flip(0), torch.tensor([0.99, 0.2]), 0)
    with pytest.raises(CheckFailure, match="Exercise 8.7"):
        c8.check_ov_circuit_result(torch.eye(5), torch.tensor([-0.9, 0.2]), 0)
    c8.check_head_ablation_result(torch.tensor([0.9, 0.9, 4.0]), 0.87, 2)
    with pytest.raises(CheckFailure, match="Exercise 8.10"):
        c8.check_head_ablation_result(torch.tensor([0.9, 0.9, 0.9]), 0.87, 2)
    with pytest.raises(CheckFailure, match="one head only"):
        c8.check_head_ablation_result(torch.tensor([4.0, 4.0, 4.0]), 0.87, 2)




# --- issue 27: contracts and named mistakes ------------------------------------------------------

def test_lesson08_contract_mistakes_are_caught():
    def loss_without_graph(logits, tokens):           # "the lesson runs everything under no_grad"
        with torch.no_grad():
            return circuits.per_token_loss(logits, tokens)

    def centres_logits_in_place(logits, tokens):      # a log-softmax by hand, on the caller's logits
        logits -= logits.max(-1, keepdim=True).values
        return circuits.per_token_loss(logits, tokens)

    def score_as_float(matrix):
        return float(circuits.copying_score(matrix))

    def rows_as_list(pattern):
        return circuits.previous_token_score(pattern).tolist()

    fails(c8.check_per_token_loss, loss_without_graph, r"no gradient: was it computed under `torch.no_grad\(\)`")
    fails(c8.check_per_token_loss, lambda lg, t: circuits.per_token_loss(lg, t).detach(), "no gradient")
    fails(c8.check_per_token_loss, centres_logits_in_place,
          r"changed its argument `logits` in place \(`logits -= logits.max\(-1, keepdim=True\).values`\)")
    c8.check_copying_score(score_as_float)                            # the text allows a float
    fails(c8.check_previous_token_score, rows_as_list, "should return a Tensor but returned a list")

    def edits_the_model(model, layer, head):
        with torch.no_grad():
            model.blocks[layer].attn.W_V[head] *= 2               # "scale the values" on the caller's model
        return circuits.full_ov_circuit(model, layer, head)

    fails(c8.check_full_ov_circuit, edits_the_model, "changed the parameters of its module argument in place")
    fails(c8.check_full_ov_circuit, lambda m, layer, head: None, "return` statement")


def test_lesson08_named_mistakes():
    def unscaled(q, k):
        s = torch.einsum("bqhd,bkhd->bhqk", q, k)
        return s.masked_fill(torch.ones_like(s, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)

    def over_d_head(q, k):
        return unscaled(q / q.shape[-1], k)

    fails(c8.check_attention_pattern, unscaled, r"(?s)wrong values.*UNscaled.*sqrt\(d_head\)")
    fails(c8.check_attention_pattern, over_d_head, r"(?s)wrong values.*divided the scores by d_head = 4")

    fails(c8.check_previous_token_score, lambda p: p.diagonal(dim1=-2, dim2=-1).mean((0, -1)), r"(?s)wrong values.*ITSELF")
    fails(c8.check_previous_token_score,                     # divides by every position, q = 0 included
          lambda p: p.diagonal(offset=-1, dim1=-2, dim2=-1).sum(-1).mean(0) / p.shape[-1], "query 0 has no previous")
    fails(c8.check_previous_token_score,
          lambda p: p.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1), r"(?s)shape.*keeps the batch axis")
    fails(c8.check_induction_score,                          # the whole diagonal, the first copy's queries too
          lambda p, n: p.diagonal(offset=1 - n, dim1=-2, dim2=-1).mean((0, -1)), "including queries of the first copy")

    def no_shift(logits, tokens):
        return -logits.log_softmax(-1).gather(-1, tokens[..., None])[..., 0]

    fails(c8.check_per_token_loss, no_shift, r"(?s)shape.*own token.*NEXT token")
    fails(c8.check_per_token_loss, lambda lg, t: -circuits.per_token_loss(lg, t), r"(?s)wrong values.*negative.*MINUS")

    def transposed(m, layer, head):
        return (m.W_E @ m.W_V[layer, head] @ m.W_O[layer, head] @ m.W_U).T

    def qk_circuit(m, layer, head):
        return m.W_E @ m.W_Q[layer, head] @ m.W_K[layer, head].T @ m.W_E.T

    def head_layer_swapped(m, layer, head):
        return m.W_E @ m.W_V[head, layer] @ m.W_O[head, layer] @ m.W_U

    fails(c8.check_full_ov_circuit, transposed, "transpose of the full OV circuit")
    fails(c8.check_full_ov_circuit, qk_circuit, "QK circuit")
    c8.check_full_ov_circuit(head_layer_swapped, heads=((0, 0), (1, 1)))      # the visible heads cannot tell ...
    fails(c8.check_full_ov_circuit, head_layer_swapped, "layer first", n_layers=3, heads=((2, 0), (0, 2)))  # hidden can

    fails(c8.check_composition_score, lambda A, B: (A @ B).norm() / (A.norm() * B.norm()), "over every axis")
    fails(c8.check_composition_score,
          lambda A, B: torch.linalg.matrix_norm(A @ B) / torch.linalg.matrix_norm(A), "divided by \\|W_A\\| only")

    def own_token(comp, W_U, t):
        return torch.einsum("cbpd,bpd->bpc", comp[:, :, :-1], W_U.T[t[:, :-1]])

    def component_first(comp, W_U, t):
        return torch.einsum("cbpd,bpd->cbp", comp[:, :, :-1], W_U.T[t[:, 1:]])

    fails(c8.check_logit_attribution, own_token, r"(?s)wrong values.*own token")
    fails(c8.check_logit_attribution,
          lambda comp, W_U, t: torch.einsum("cbpd,bpd->bpc", comp[:, :, 1:], W_U.T[t[:, 1:]]), "dropped the FIRST")
    fails(c8.check_logit_attribution, component_first, r"(?s)shape.*component axis last")


def test_lesson08_result_checks_test_the_claim():
    """Issue 27 part 5: the loss curve's first copy is at chance, and the induction head's copying score is near 1."""
    import math

    curve = torch.cat([torch.full((30,), 4.19), torch.full((30,), 0.87)])        # what the lesson measures
    c8.check_repeated_loss_result(curve, 30)
    with pytest.raises(CheckFailure, match="not log2"):                            # torch.log2 in per_token_loss:
        c8.check_repeated_loss_result(curve / math.log(2), 30)                     # the ratio alone still held
    assert float(curve[30:].mean() / math.log(2)) < 0.5 * float(curve[:30].mean() / math.log(2))
    ov = torch.eye(5) * 3 + 0.1
    c8.check_ov_circuit_result(ov, torch.tensor([0.99, 1.0]), 0)
    with pytest.raises(CheckFailure, match="not close to 1"):                      # passed the old `> 0.5`
        c8.check_ov_circuit_result(ov, torch.tensor([0.7, 1.0]), 0)
