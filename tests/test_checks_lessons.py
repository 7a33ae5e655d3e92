"""Every lesson's checks, in one place: the reference passes, and each plausible mistake fails with
words that name it (the message a student reads).

One section per lesson. Each mistake is a class of student error (wrong axis, off-by-one, side
effect on the caller's tensors, a stub called from another exercise, ...), and each test matches
the part of the message that tells the student what to fix.
"""

from __future__ import annotations

import pytest
import torch

from mi_tutor import circuits_transformer as circuits
from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson01 as c1
from mi_tutor.checks import lesson08 as c8
from mi_tutor.patching import ablation_effect, channel_logit_drops, zero_channels
from mi_tutor.hooks import list_layers, run_with_cache, run_with_hooks
from mi_tutor.transformer import attention_pattern


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)


# ================================================================== lesson 1: hooks
def capture_ok(model, x, names):
    return dict(run_with_cache(model, x, names)[1])


def capture_leaky(model, x, names):
    store = {}
    for n in names:
        dict(model.named_modules())[n].register_forward_hook(lambda m, i, o, n=n: store.__setitem__(n, o.detach()))
    model(x)
    return store


def test_lesson01_capture(capsys):
    c1.check_capture_activations(capture_ok)
    assert "\u2713" in capsys.readouterr().out
    with pytest.raises(CheckFailure, match="still attached"):
        c1.check_capture_activations(capture_leaky)
    with pytest.raises(CheckFailure, match="forget a `return`"):
        c1.check_capture_activations(lambda m, x, n: None)


def test_lesson01_layer_table():
    c1.check_layer_table(lambda m, x: [(r.name, r.n_params, r.output_shape) for r in list_layers(m, x)])
    with pytest.raises(CheckFailure, match="weights and biases"):  # forgot the biases
        c1.check_layer_table(lambda m, x: [
            (r.name, sum(p.numel() for n, p in m.get_submodule(r.name).named_parameters() if "bias" not in n),
             r.output_shape) for r in list_layers(m, x)])
    with pytest.raises(CheckFailure, match="rows but the network has"):
        c1.check_layer_table(lambda m, x: [(r.name, r.n_params, r.output_shape) for r in list_layers(m, x)][1:])


def test_lesson01_zero_channel_hook():
    c1.check_zero_channel_hook(lambda c: zero_channels(c))

    def wrong_axis(c):
        def hook(a, h):
            a = a.clone()
            a[:, :, c] = 0
            return a
        return hook

    with pytest.raises(CheckFailure, match="wrong values"):
        c1.check_zero_channel_hook(wrong_axis)
    with pytest.raises(CheckFailure, match="return a function"):
        c1.check_zero_channel_hook(lambda c: 0)


def test_lesson01_accuracy_after_ablation():
    c1.check_accuracy_after_ablation(
        lambda model, images, labels, layer, channel:
        ablation_effect(model, images, labels, layer, channel)["accuracy_ablated"])
    with pytest.raises(CheckFailure, match="should leave accuracy"):
        c1.check_accuracy_after_ablation(lambda model, images, labels, layer, channel: 1.0)
    with pytest.raises(CheckFailure, match="is the hook attached"):
        c1.check_accuracy_after_ablation(
            lambda model, images, labels, layer, channel: (model(images).argmax(-1) == labels).float().mean().item())


def test_lesson01_channel_importance():
    c1.check_channel_importance(channel_logit_drops)

    def accuracy_based(model, images, labels, layer):  # a plausible but different measure
        n = run_with_cache(model, images, [layer])[1][layer].shape[1]
        return torch.tensor([ablation_effect(model, images, labels, layer, c)["accuracy_drop"] for c in range(n)])

    with pytest.raises(CheckFailure, match="logit"):
        c1.check_channel_importance(accuracy_based)
    with pytest.raises(CheckFailure, match="not implemented"):
        c1.check_channel_importance(lambda *a: (_ for _ in ()).throw(NotImplementedError()))


def test_lesson01_importance_figure_data():
    c1.check_importance_figure(torch.tensor([0.1, 3.0, 0.0, 0.2]), 4)
    with pytest.raises(CheckFailure, match="shape"):
        c1.check_importance_figure(torch.zeros(3), 4)
    with pytest.raises(CheckFailure, match="barely more than the median"):
        c1.check_importance_figure(torch.ones(4), 4)

def test_lesson01_new_classes_of_mistake():
    def not_detached(model, x, names):
        store = {}
        handles = [dict(model.named_modules())[n].register_forward_hook(
            lambda m, i, o, n=n: store.__setitem__(n, o)) for n in names]
        model(x)
        for h in handles:
            h.remove()
        return store

    def no_finally(model, x, names):
        handles = [dict(model.named_modules())[n].register_forward_hook(lambda m, i, o: None) for n in names]
        out = capture_ok(model, x, names)
        model(x)                                       # raises on the bad input, before the clean-up
        for h in handles:
            h.remove()
        return out

    def late_binding(model, x, names):
        store, handles = {}, []
        for n in names:
            def hook(m, i, o):
                store[n] = o.detach()
            handles.append(dict(model.named_modules())[n].register_forward_hook(hook))
        with torch.no_grad():
            model(x)
        for h in handles:
            h.remove()
        return store

    with pytest.raises(CheckFailure, match="autograd graph"):
        c1.check_capture_activations(not_detached)
    c1.check_capture_activations(no_finally)                         # the visible test cannot tell ...
    with pytest.raises(CheckFailure, match="even if the forward pass fails"):
        c1.check_capture_activations(no_finally, failing=True)        # ... the hidden one can
    with pytest.raises(CheckFailure, match="bind the current name|should have exactly"):
        c1.check_capture_activations(late_binding)

    def definition_order(model, x):
        rows = [(n, sum(p.numel() for p in m.parameters()), None) for n, m in model.named_modules()
                if n and not list(m.children())]
        shapes = {r.name: r.output_shape for r in list_layers(model, x)}
        return [(n, k, shapes[n]) for n, k, _ in rows]
    c1.check_layer_table(definition_order)                            # same order in the course's nets ...
    with pytest.raises(CheckFailure, match="need not be the order they were defined in"):
        c1.check_layer_table(definition_order, out_of_order=True)

    def in_place(c):
        def hook(a, h):
            a[:, c] = 0.0
            return a
        return hook

    def wrong_spatial_axis(c):
        def hook(a, h):
            a = a.clone()
            a[:, :, :, c] = 0.0
            return a
        return hook

    with pytest.raises(CheckFailure, match="in place"):
        c1.check_zero_channel_hook(in_place)
    with pytest.raises(CheckFailure, match="wrong values"):
        c1.check_zero_channel_hook(wrong_spatial_axis, channels=9, height=3, width=7)


def test_lesson01_points_land_once():
    """A wrong Exercise 1.3 does not cost Exercise 1.4 or 1.5: their checks run with the reference hook."""
    def wrong_zero_channel_hook(c):                 # the student's wrong 1.3, a global of their notebook
        def hook(a, h):
            return a
        return hook

    def accuracy_after_ablation(model, images, labels, layer, channel):
        with torch.no_grad():
            logits = run_with_hooks(model, images, [(layer, zero_channel_hook(channel))])
        return (logits.argmax(-1) == labels).float().mean().item()

    def importance(model, images, labels, layer):
        with torch.no_grad():
            clean = model(images).gather(1, labels[:, None])[:, 0]
            n = run_with_cache(model, images[:1], [layer])[1][layer].shape[1]
            return torch.stack([(clean - run_with_hooks(model, images, [(layer, zero_channel_hook(k))])
                                 .gather(1, labels[:, None])[:, 0]).mean() for k in range(n)])

    globals()["zero_channel_hook"] = wrong_zero_channel_hook
    try:
        with pytest.raises(CheckFailure):
            c1.check_zero_channel_hook(wrong_zero_channel_hook)
        c1.check_accuracy_after_ablation(accuracy_after_ablation)
        c1.check_channel_importance(importance, batch=1, layers=("layer1",))
        assert globals()["zero_channel_hook"] is wrong_zero_channel_hook   # the student's own is put back
    finally:
        del globals()["zero_channel_hook"]


def test_lesson01_crash_names_the_students_line():
    def channel_importance(model, images, labels, layer):
        return torch.zeros(3)[labels]                  # the student's bug: an index out of range

    with pytest.raises(CheckFailure, match=r"raised IndexError(.|\n)*Your code failed at line \d+ of .*\(in channel_importance\)"):
        c1.check_channel_importance(channel_importance)
    with pytest.raises(CheckFailure, match="Exercise 1.5"):
        c1.check_scale_sweep(torch.tensor([2.0, 1.0, 1.0]), [0.0, 1.0, 2.0])


# ================================================================== lesson 8: induction heads
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
    fails(c8.check_attention_pattern, scales_q_in_place, "changed its input `q` in place")


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

    fails(c8.check_per_token_loss, off_by_one, "predict tokens")
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
    c8.check_head_scores(good, none)
    with pytest.raises(CheckFailure, match="Exercise 8.3"):
        c8.check_head_scores(good, {"previous_token": torch.zeros(1, 2), "induction": torch.ones(1, 2)})
    with pytest.raises(CheckFailure, match="Exercise 8.2"):
        c8.check_head_scores({**good, "previous_token": torch.zeros(2, 2)}, none)
    with pytest.raises(CheckFailure, match="Exercise 8.4"):
        c8.check_repeated_loss(torch.full((10,), 4.0), 5)
    with pytest.raises(CheckFailure, match="together"):
        c8.check_phase_change([0, 1, 2, 3, 4], [0.0, 0.8, 0.8, 0.8, 0.8], [0.0, 0.0, 0.0, 0.0, 3.0])
    with pytest.raises(CheckFailure, match="baseline"):
        c8.check_composition(torch.full((2, 2), 0.1), 0.1, 0, 1)
    c8.check_ov_circuit(torch.eye(5) * 3 + 0.1, torch.tensor([0.9, 0.2]), 0)
    with pytest.raises(CheckFailure, match="Exercise 8.6"):
        c8.check_ov_circuit(torch.eye(5).flip(0), torch.tensor([0.9, 0.2]), 0)
    with pytest.raises(CheckFailure, match="Exercise 8.7"):
        c8.check_ov_circuit(torch.eye(5), torch.tensor([-0.9, 0.2]), 0)
    c8.check_head_ablation(torch.tensor([0.9, 0.9, 4.0]), 0.87, 2)
    with pytest.raises(CheckFailure, match="Exercise 8.10"):
        c8.check_head_ablation(torch.tensor([0.9, 0.9, 0.9]), 0.87, 2)
    with pytest.raises(CheckFailure, match="one head only"):
        c8.check_head_ablation(torch.tensor([4.0, 4.0, 4.0]), 0.87, 2)


# ================================================================== lessons 5-6: result checks send the student back
# (their exercise checks are tested with the libraries: tests/test_circuits_vision.py, test_superposition.py,
# test_dictionary.py; here: the messages of the locked cells that read the student's own numbers)
from mi_tutor.checks import lesson05 as c5  # noqa: E402
from mi_tutor.checks import lesson06 as c6  # noqa: E402


def test_lesson05_result_checks_send_the_student_back():
    with pytest.raises(CheckFailure, match="Exercise 5.5"):
        c5.check_sticky_dimensionality(torch.linspace(2.0, 0.1, 10), torch.logspace(0, -2, 10))
    with pytest.raises(CheckFailure, match="Exercise 5.6"):
        c5.check_phase_diagram(torch.full((5, 5), -1), torch.logspace(-1, 1, 5), torch.logspace(-2, 0, 5))
    with pytest.raises(CheckFailure, match="Exercise 5.7"):
        c5.check_polysemantic_counts(torch.tensor([0, 0, 0]), torch.tensor([1.0, 0.1, 0.01]))


def test_lesson06_result_checks_send_the_student_back():
    c6.check_toy_recovery(torch.tensor(0.95))
    with pytest.raises(CheckFailure, match="Exercise 6.5"):
        c6.check_toy_recovery(torch.tensor(0.2))
    with pytest.raises(CheckFailure, match="Exercise 6.7"):
        c6.check_monosemanticity(torch.full((64,), 0.5), torch.full((64,), 0.5))
