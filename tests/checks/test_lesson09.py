"""Lesson 9's checks accept the reference and reject plausible mistakes with a message that names them."""

from __future__ import annotations

import pytest

from mi_tutor import patching as P


def test_lesson09_checks_accept_the_reference_and_reject_mistakes():
    from mi_tutor.checks import lesson09 as checks
    from mi_tutor.checks.core import CheckFailure

    checks.check_logit_diff(lambda logits, io, s: P.logit_diff(logits, io, s, reduce=False))
    with pytest.raises(CheckFailure, match="logit_diff"):
        checks.check_logit_diff(lambda logits, io, s: P.logit_diff(logits, s, io, reduce=False))  # S minus IO
    checks.check_normalized_metric(P.normalized_metric)
    with pytest.raises(CheckFailure, match="expected"):
        checks.check_normalized_metric(lambda ld, c, k: (ld - c) / (k - c))  # the -1..0 scale turned around
    checks.check_patch_residual_sweep(lambda m, c, k, f: P.patch_residual(m, c, k, f))
    with pytest.raises(CheckFailure, match="noising"):
        checks.check_patch_residual_sweep(lambda m, c, k, f: P.patch_residual(m, c, k, f, direction="noise"))
    checks.check_patch_head_sweep(lambda m, c, k, f: P.patch_heads(m, c, k, f, per_position=True))
    with pytest.raises(CheckFailure):
        checks.check_patch_head_sweep(lambda m, c, k, f: P.patch_heads(m, c, k, f, per_position=True, direction="noise"))
    checks.check_path_patch(lambda m, c, k, f, s, r, w, p: float(P.path_patch(m, k, c, f, (0, s), [P.Receiver(1, r, w, p)])))
    with pytest.raises(CheckFailure, match="straight from the CLEAN run"):
        checks.check_path_patch(lambda m, c, k, f, s, r, w, p: float(f(P.patch(m, k, c, f"blocks.1.attn.hook_{w}", p, [r]))))
    checks.check_circuit_faithfulness(lambda m, t, r, c, f: P.faithfulness(m, t, c, r, f).faithfulness)
    with pytest.raises(CheckFailure):  # zero instead of mean knockout
        checks.check_circuit_faithfulness(lambda m, t, r, c, f: P.faithfulness(m, t, c, r * 0, f).faithfulness)
    checks.check_scrub_score(lambda m, t, r, k, f: P.causal_scrub(m, t, r, f, k).score)
    with pytest.raises(CheckFailure):
        checks.check_scrub_score(lambda m, t, r, k, f: P.causal_scrub(m, t, r, f, k).f_scrubbed)
    checks.check_ablation_table_result({"L0H0": {"zero": 9.0, "mean": 1.0, "resample": 0.0}}, 15.0)
    with pytest.raises(CheckFailure):
        checks.check_ablation_table_result({"L0H0": {"zero": 9.0, "mean": 8.8, "resample": 0.0}}, 15.0)


# --- issue 27: contracts and named mistakes ------------------------------------------------------

def _fails(check, fn, match, **kwargs):
    from mi_tutor.checks.core import CheckFailure

    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)


def test_lesson09_contract_mistakes_are_caught():
    import torch

    from mi_tutor.checks import lesson09 as checks

    def metric_in_place(ld, clean, corrupt):                 # "shift, then scale" on the caller's tensor
        ld -= corrupt
        return ld / (clean - corrupt)

    _fails(checks.check_normalized_metric, metric_in_place, r"changed its argument `ld` in place \(`ld -= corrupt`\)")
    _fails(checks.check_normalized_metric, lambda ld, c, k: float((ld - k) / (c - k)),
           "should return a Tensor but returned a float")
    _fails(checks.check_logit_diff, lambda logits, io, s: P.logit_diff(logits, io, s, reduce=False).tolist(),
           "should return a Tensor but returned a list")
    # the metric straight out of the three runs: a 0-d tensor where the text asks for a float
    _fails(checks.check_path_patch, lambda m, c, k, f, s, r, w, p: P.path_patch(m, k, c, f, (0, s), [P.Receiver(1, r, w, p)]),
           r"should return a float but returned a torch.Tensor. Use `.item\(\)`")
    _fails(checks.check_scrub_score, lambda m, t, r, k, f: torch.tensor(P.causal_scrub(m, t, r, f, k).score),
           "should return a float")

    def ablates_the_weights(model, tokens, layer, head, kind, reference):    # zeroes W_O's head "to ablate it"
        with torch.no_grad():
            model.blocks[layer].attn.W_O[head] = 0.0
        return P.ablate(model, tokens, f"blocks.{layer}.attn.hook_z", kind, reference)

    _fails(checks.check_ablate_head, ablates_the_weights, "changed the parameters of its module argument in place")


def test_lesson09_named_mistakes():
    import torch

    from mi_tutor.checks import lesson09 as checks

    def at_first(logits, io, s):
        rows = torch.arange(logits.shape[0])
        return logits[rows, 0, io] - logits[rows, 0, s]

    _fails(checks.check_logit_diff, lambda logits, io, s: P.logit_diff(logits, s, io, reduce=False),
           r"(?s)wrong values.*wrong sign: the logit difference is IO minus S")
    _fails(checks.check_logit_diff, at_first, r"(?s)wrong values.*FIRST position")
    _fails(checks.check_logit_diff, lambda logits, io, s: logits[:, -1, io] - logits[:, -1, s],
           r"(?s)shape \(4, 4\).*\[batch, batch\]")
    _fails(checks.check_logit_diff, lambda logits, io, s: P.logit_diff(logits, io, s), r"(?s)shape \(\).*mean over")

    _fails(checks.check_normalized_metric, lambda ld, c, k: (ld - c) / (c - k), r"(?s)returned -0.75000.*expected 0.25000.*ARENA")
    _fails(checks.check_normalized_metric, lambda ld, c, k: (ld - c) / (k - c), "ends are swapped")
    _fails(checks.check_normalized_metric, lambda ld, c, k: ((ld - k) / (c - k)).clamp(0, 1), "Do not clamp")
    _fails(checks.check_normalized_metric,                                  # ends ordered by size
           lambda ld, c, k: (ld - min(c, k)) / abs(c - k), "clean value is the smaller one", clean_below=True)
    checks.check_normalized_metric(P.normalized_metric, clean_below=True)

    def mean_over_positions(model, tokens, layer, head, kind, reference):
        name = f"blocks.{layer}.attn.hook_z"
        _, cache = model.run_with_cache(reference, names_filter=name)
        values = {"zero": torch.zeros(1), "mean": cache[name].mean((0, 1), keepdim=True), "resample": cache[name]}[kind]
        with torch.no_grad():
            return model.run_with_hooks(tokens, fwd_hooks=[(name, P.replace_hook(values, heads=[head]))])

    _fails(checks.check_ablate_head, mean_over_positions, r"(?s)wrong values.*averaged over the positions too")
    _fails(checks.check_ablate_head, lambda m, t, layer, head, kind, ref: P.ablate(
        m, t, f"blocks.{layer}.attn.hook_z", kind, ref), r"(?s)wrong values.*every head of layer", kinds=("mean",))

    _fails(checks.check_patch_residual_sweep, lambda m, c, k, f: P.patch_residual(m, c, k, f).T, r"(?s)shape.*\[pos, n_layers\]")

    def whole_resid(m, c, k, f):                      # forgot [:, p]: the whole residual stream each time
        out = P.patch_residual(m, c, k, f)
        with torch.no_grad():
            return torch.full_like(out, float(f(m(c))))

    _fails(checks.check_patch_residual_sweep, whole_resid, "every position")
    _fails(checks.check_patch_head_sweep, lambda m, c, k, f: P.patch_heads(m, c, k, f), r"(?s)shape.*every position at once")

    def every_head_at_p(m, c, k, f):
        out = torch.zeros(m.cfg.n_layers, m.cfg.n_heads, c.shape[1])
        for L in range(m.cfg.n_layers):
            for p in range(c.shape[1]):
                out[L, :, p] = float(f(P.patch(m, k, c, f"blocks.{L}.attn.hook_z", [p])))
        return out

    _fails(checks.check_patch_head_sweep, every_head_at_p, r"(?s)wrong values.*every head of the layer at position p")

    def noising(m, c, k, f, s, r, w, p):
        return float(P.path_patch(m, c, k, f, (0, s), [P.Receiver(1, r, w, p)]))

    def every_receiver(m, c, k, f, s, r, w, p):
        return float(P.path_patch(m, k, c, f, (0, s), [P.Receiver(1, h, w, p) for h in range(m.cfg.n_heads)]))

    _fails(checks.check_path_patch, noising, r"(?s)returned .*expected .*noising")
    _fails(checks.check_path_patch, every_receiver, "every head of layer 1")

    def faith(fn):
        return lambda m, t, r, c, f: fn(P.faithfulness(m, t, c, r, f))

    _fails(checks.check_circuit_faithfulness, faith(lambda sc: sc.f_model / sc.f_circuit), "upside down")
    _fails(checks.check_circuit_faithfulness, faith(lambda sc: sc.f_circuit), r"You returned F\(C\)")
    _fails(checks.check_circuit_faithfulness, faith(lambda sc: sc.f_empty / sc.f_model), "knocked out every head")
    zeros = {f"blocks.{L}.attn.hook_z": torch.zeros(1) for L in range(2)}
    _fails(checks.check_circuit_faithfulness, lambda m, t, r, c, f: P.knockout_metric(m, t, c, r, f, means=zeros)
           / P.faithfulness(m, t, c, r, f).f_model, "zero-ablated")

    def scrub(fn):
        return lambda m, t, r, k, f: fn(P.causal_scrub(m, t, r, f, k))

    _fails(checks.check_scrub_score, scrub(lambda x: x.f_scrubbed), "You returned F_scrubbed")
    _fails(checks.check_scrub_score, scrub(lambda x: x.f_scrubbed / x.f_model), "subtract the all-resampled")
    _fails(checks.check_scrub_score, scrub(lambda x: 1 - x.score), "fraction LOST")


def test_lesson09_result_checks_test_the_claim():
    """Issue 27 part 5: each story check tests its claim; the wrong-but-plausible numbers below passed the old ones."""
    from mi_tutor.checks import lesson09 as checks
    from mi_tutor.checks.core import CheckFailure

    measured = {"ioi_2l1h": {"clean_ld": 3.7, "corrupt_ld": -5.4, "abc_ld": 0.19},
                "ioi_2l2h": {"clean_ld": 15.32, "corrupt_ld": -15.34, "abc_ld": -5.05}}
    checks.check_task_numbers_result(measured)
    with pytest.raises(CheckFailure, match=r"\[batch, batch\] table"):     # logit_diff as a table, averaged: the signs
        checks.check_task_numbers_result({"ioi_2l2h": {"clean_ld": 0.25, "corrupt_ld": -0.89}})   # were right
    with pytest.raises(CheckFailure, match="reverse"):
        checks.check_task_numbers_result({"m": {"clean_ld": 3.7, "corrupt_ld": -0.2}})

    checks.check_paths_result({"k": 0.099, "v": 0.263, "q": 0.002})
    with pytest.raises(CheckFailure, match=r"k 0.60 \(the lesson measures 0.10\)"):   # receiver's input straight
        checks.check_paths_result({"k": 0.596, "v": 0.278, "q": 0.002})              # from the clean run

    checks.check_faithfulness_curve_result([1, 2, 3, 4, 5], [-0.27, 2.29, 2.31, 1.22, 1.03], [0.47] * 4 + [0.43])
    with pytest.raises(CheckFailure, match="within 0.15 of 1"):                # F(C) itself, not F(C) / F(M)
        checks.check_faithfulness_curve_result([1, 2, 3, 4, 5], [-1.0, 8.5, 8.5, 4.5, 3.81], [1.74] * 4 + [1.6])

    checks.check_scrub_result({"correct": 1.07, "wrong": -0.57})
    with pytest.raises(CheckFailure, match="within 0.25 of 1"):                # F_scrubbed, not the fraction recovered
        checks.check_scrub_result({"correct": 4.02, "wrong": -3.56})
    with pytest.raises(CheckFailure, match="less than nothing"):
        checks.check_scrub_result({"correct": 1.07, "wrong": 0.6})
