"""Lesson 12's checks: the reference passes, mistakes fail with a message that names them, and the
result checks send the student back to the exercise to fix."""

from __future__ import annotations

import pytest
import torch

from mi_tutor import hooks, symbiote as S
from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson12 as c12


def _fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)


def _read_ok(host, images, layers):
    pooled = hooks.collect(host, images, layers, pool="mean")
    return torch.cat([pooled[k] for k in layers], -1)


def _sel_ok(host, layer, data, concept, gates):
    s = S.selectivity(host, layer, data, concept, gates)
    return s.target_drop, s.other_drop


def _cmp_ok(importance, iou, k, planted):
    a = S.agreement(importance, iou, k, planted)
    return {"spearman": a.spearman, "precision_at_k": a.precision_at_k, "planted_rank": a.planted_rank}


def test_lesson12_references_pass(capsys):
    c12.check_read_pooled(_read_ok)
    c12.check_gate_hook(S.gate_hook, per_image=True)
    c12.check_l0_penalty(S.l0_penalty)
    c12.check_selectivity(_sel_ok, per_image=True)
    c12.check_compare_with_dissection(_cmp_ok)
    c12.check_auroc(S.auroc, ties=True)
    c12.check_tcav_score(S.tcav_score)
    assert capsys.readouterr().out.count("\u2713") == 7


def test_lesson12_mistakes():
    import math

    from mi_tutor import hooks as H

    _fails(c12.check_read_pooled, lambda h, x, l: torch.cat(
        [H.run_with_cache(h, x, l)[1][k].flatten(2).amax(-1) for k in l], -1), "spatial maximum")

    def gate_inplace(gates):
        def hook(act, ctx):
            act *= (gates if gates.dim() == 2 else gates[None])[:, :, None, None]
            return act
        return hook
    _fails(c12.check_gate_hook, gate_inplace, "in place")
    _fails(c12.check_gate_hook, lambda g: (lambda act, ctx: act * g[:, :, None, None].detach()), "gradient",
           per_image=True)
    _fails(c12.check_l0_penalty, lambda la: torch.sigmoid(la).sum(-1).mean(), "stretch")
    _fails(c12.check_l0_penalty, lambda la: torch.tensor(float((la > 0).sum())), "l0_penalty")
    _fails(c12.check_selectivity, lambda *a: _sel_ok(*a)[::-1], "first value")
    _fails(c12.check_compare_with_dissection, lambda i, io, k, p: {
        **_cmp_ok(i, io, k, p), "spearman": float(torch.corrcoef(torch.stack([i, io]))[0, 1])}, "RANK correlation")
    _fails(c12.check_compare_with_dissection, lambda i, io, k, p: {
        **_cmp_ok(i, io, k, p), "planted_rank": int((i.argsort() == p).nonzero()[0, 0])}, "DECREASING")
    _fails(c12.check_auroc, lambda s, y: float((s[y.bool()][:, None] > s[~y.bool()][None]).double().mean()),
           "one half", ties=True)
    _fails(c12.check_tcav_score, lambda h, l, x, c, v: 1 - S.tcav_score(h, l, x, c, v), "sign slip")
    del math


def test_lesson12_result_checks_send_the_student_back():
    with pytest.raises(CheckFailure, match="compare_with_dissection"):
        c12.check_gates_vs_iou_result({"planted_rank": 3, "spearman": 0.1, "precision_at_k": 0.0},
                               torch.tensor([0.9, 0.1, 0.0]), torch.tensor([0.3, 0.05, 0.01]), 1, 0)
    with pytest.raises(CheckFailure, match="selectivity"):
        c12.check_selectivity_bars_result({"symbiote": (0.1, 0.2), "random": (0.0, 0.0)})
    with pytest.raises(CheckFailure, match="within"):
        c12.check_auroc_bars_result({"symbiote": 0.6, "probe": 0.95, "random host": 0.55})


def test_lesson12_tcav_must_compute_its_gradient_whatever_the_caller_set():
    """Issue 27: a TCAV score without torch.enable_grad() passed when the check did not disable gradients."""
    def tcav_without_enable_grad(host, layer, images, class_idx, cav):
        store = {}

        def hook(act, hook):
            store["act"] = act.detach().requires_grad_(True)
            return store["act"]

        logits = hooks.run_with_hooks(host, images, [(layer, hook)])
        grad, = torch.autograd.grad(logits[:, class_idx].sum(), store["act"])
        return float((torch.einsum("nchw,c->n", grad, cav) > 0).float().mean())

    tcav_without_enable_grad(c12._small_host(0), "layer2", c12._images(1, 3), 1, torch.ones(
        S.layer_width(c12._small_host(0), "layer2", c12._images(1, 3))))     # fine when gradients are on
    _fails(c12.check_tcav_score, tcav_without_enable_grad, r"(?s)switched gradients off.*torch.enable_grad\(\)")


def test_lesson12_selectivity_must_leave_the_data_alone():
    """Issue 27: `data` is a dataclass; an in-place edit of its tensors is seen like one of a tensor argument."""
    def normalises_the_images(host, layer, data, concept, gates):
        data.images -= data.images.mean()          # "centre the images first", on the caller's data
        return _sel_ok(host, layer, data, concept, gates)
    _fails(c12.check_selectivity, normalises_the_images, r"changed its argument `data` in place")


def test_lesson12_named_mistakes_after_the_numbers():
    """Issue 27, part 3: the mistakes the texts invite are named after the numbers that differ."""
    def run_order(host, images, layers):  # hooks that append as they fire: the order the host ran them in
        seen = []

        def grab(act, ctx):
            seen.append(act.flatten(2).mean(-1).detach())
            return act
        hooks.run_with_hooks(host, images, [(name, grab) for name in layers])
        return torch.cat(seen, -1)
    c12.check_read_pooled(run_order)                                          # layers given in the host's order
    _fails(c12.check_read_pooled, run_order, r"(?s)wrong values.*order the host ran them",
           layers=(("layer3", "layer1"),))

    from mi_tutor.symbiote.gates import BETA, GAMMA, ZETA
    import math

    def stretched(log_alpha):
        return torch.sigmoid(log_alpha - BETA * math.log(-GAMMA / ZETA))
    _fails(c12.check_l0_penalty, lambda la: torch.sigmoid(la).sum(-1).mean(), r"(?s)wrong values.*stretch")
    _fails(c12.check_l0_penalty, lambda la: stretched(la).mean(-1).mean(), r"(?s)wrong values.*averaged over the channels")
    _fails(c12.check_l0_penalty, lambda la: stretched(la).sum(), r"(?s)wrong values.*summed over the images too")
    _fails(c12.check_selectivity, lambda *a: tuple(-v for v in _sel_ok(*a)), r"(?s)expected.*wrong sign")


def test_lesson12_ranking_control_check_tests_the_claim():
    """Planted host: one channel stands out; unplanted control: it does not. An empty control (the random host's
    symbiote closes nothing), a control that singles out a channel too, or a flat planted ranking fail."""
    import torch

    from mi_tutor.checks import lesson12 as C
    from mi_tutor.checks.core import CheckFailure

    planted = torch.tensor([0.63, 0.36, 0.35, 0.1, 0.0])
    control = torch.tensor([0.40, 0.40, 0.39, 0.38, 0.37])
    C.check_ranking_control_result(planted, control)
    with pytest.raises(CheckFailure, match="closes no channel"):
        C.check_ranking_control_result(planted, torch.zeros(5))
    with pytest.raises(CheckFailure, match="control singles out"):
        C.check_ranking_control_result(planted, planted)
    with pytest.raises(CheckFailure, match="stands out"):
        C.check_ranking_control_result(control, control)
