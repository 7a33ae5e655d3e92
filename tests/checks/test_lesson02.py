"""Lesson 2's checks: the reference passes, and each plausible mistake fails with words that name it."""

from __future__ import annotations

import pytest
import torch

from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson02 as c2
from mi_tutor.features import atlas, directions, dissection, examples, probes


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)


def _folded_probe(acts, labels, n_classes, fold=True):
    """The exercise's probe: logistic regression on standardised features, folded back onto raw ones."""
    mean, std = acts.mean(0), acts.std(0).clamp_min(1e-6)
    x = (acts - mean) / std
    weight = torch.zeros(n_classes, acts.shape[1], requires_grad=True)
    bias = torch.zeros(n_classes, requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=0.1)
    for _ in range(200):
        loss = torch.nn.functional.cross_entropy(x @ weight.T + bias, labels) + 1e-3 * (weight ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    if not fold:
        return weight.detach(), bias.detach()
    w = weight.detach() / std
    return w, bias.detach() - w @ mean


def test_lesson02_references_pass(capsys):
    c2.check_top_k_examples(examples.top_activating)
    c2.check_mass_mean_probe(probes.mass_mean_probe)
    c2.check_train_probe(_folded_probe)
    c2.check_quantile_thresholds(dissection.quantile_thresholds)
    c2.check_dissection_iou(dissection.dissection_iou)
    c2.check_direction_activation(directions.direction_activation)
    c2.check_grid_average(atlas.grid_average)
    assert capsys.readouterr().out.count("\u2713") == 7


def test_lesson02_mistakes():
    fails(c2.check_top_k_examples, lambda a, u, k: a.flatten(2).mean(-1)[:, u].topk(k), "mean")
    fails(c2.check_mass_mean_probe, lambda a, y: (lambda d, b: (-d, -b))(*probes.mass_mean_probe(a, y)),
          "wrong way")
    fails(c2.check_mass_mean_probe, lambda a, y: (probes.mass_mean_probe(a, y)[0], torch.tensor(0.0)),
          "half-way")

    fails(c2.check_train_probe, lambda a, y, k: _folded_probe(a, y, k, fold=False), "raw activations")
    fails(c2.check_quantile_thresholds, lambda a, q: dissection.quantile_thresholds(a, 1 - q), "lowest")
    fails(c2.check_quantile_thresholds,
          lambda a, q: torch.quantile(a.flatten(2), 1 - q, dim=2).mean(0), "flatten images and positions")

    def nearest(acts, masks, thresholds):
        up = torch.nn.functional.interpolate(acts, size=masks.shape[-2:], mode="nearest")
        on = (up > thresholds[None, :, None, None]).float()
        inter = torch.einsum("nuhw,nchw->uc", on, masks.float())
        return inter / (on.sum((0, 2, 3))[:, None] + masks.float().sum((0, 2, 3))[None] - inter)
    fails(c2.check_dissection_iou, nearest, "bilinear")

    def per_image(acts, masks, thresholds):
        up = torch.nn.functional.interpolate(acts, size=masks.shape[-2:], mode="bilinear", align_corners=False)
        on = (up > thresholds[None, :, None, None]).float()
        inter = torch.einsum("nuhw,nchw->nuc", on, masks.float())
        union = on.sum((2, 3))[:, :, None] + masks.float().sum((2, 3))[:, None] - inter
        return (inter / union.clamp_min(1e-10)).mean(0)
    fails(c2.check_dissection_iou, per_image, "averaged per-image IoUs")
    fails(c2.check_direction_activation, lambda a, d: torch.einsum("nchw,c->nhw", a, d), "normalise")

    def normalise_in_place(a, d):
        d /= d.norm()
        return torch.einsum("nchw,c->nhw", a, d)
    fails(c2.check_direction_activation, normalise_in_place, r"changed its argument `d` in place \(`d /= d.norm\(\)`\).*work on a copy \(`d = d / d.norm\(\)`\)")
    fails(c2.check_grid_average, lambda c, v, n: tuple(t.transpose(0, 1) for t in atlas.grid_average(c, v, n)),
          "transposed")


def test_lesson02_result_checks_send_the_student_back():
    c2.check_probe_depth_result({"input": 0.2, "layer1": 0.5, "layer3": 0.9}, 0.2)
    with pytest.raises(CheckFailure, match="Exercise 2.3"):
        c2.check_probe_depth_result({"input": 0.2, "layer1": 0.21, "layer3": 0.22}, 0.2)


def test_lesson02_story_checks_pass_the_pattern_and_reject_its_absence():
    c2.check_top_k_hierarchy_result({"colour": {"l1": 0.8, "l4": 0.3}, "kind": {"l1": 0.3, "l4": 1.0}})
    with pytest.raises(CheckFailure, match="Exercise 2.1"):
        c2.check_top_k_hierarchy_result({"colour": {"l1": 0.4, "l4": 0.3}, "kind": {"l1": 0.3, "l4": 1.0}})
    kind = {"input": 0.13, "layer1": 0.16, "layer2": 0.5, "layer4": 0.98}
    c2.check_probe_hierarchy_result(kind, {"input": 0.87, "layer1": 0.7, "layer2": 0.33, "layer4": 0.22}, 0.15)
    with pytest.raises(CheckFailure, match="colour"):
        c2.check_probe_hierarchy_result(kind, {"input": 0.2, "layer1": 0.2, "layer2": 0.2, "layer4": 0.2}, 0.15)
    good = {"layers": ["l1", "l2", "l3", "l4"],
            "counts": {"colour": [7, 0, 0, 0], "part": [0, 2, 31, 11], "object": [0, 1, 9, 53]}}
    c2.check_dissection_hierarchy_result(good)
    with pytest.raises(CheckFailure, match="No detectors"):
        c2.check_dissection_hierarchy_result({"layers": good["layers"], "counts": {"part": [0, 1, 1, 0]}})
    with pytest.raises(CheckFailure, match="peak"):
        c2.check_dissection_hierarchy_result({"layers": good["layers"],
                                             "counts": {"colour": [7, 0, 0, 0], "part": [0, 0, 1, 20], "object": [0, 1, 9, 53]}})
    c2.check_atlas_purity_result({"layer1": 0.3, "layer4": 0.9})
    with pytest.raises(CheckFailure, match="Exercise 2.7"):
        c2.check_atlas_purity_result({"layer1": 0.3, "layer4": 0.35})


def test_lesson02_non_square_and_negative_maps():
    """Square-only code and clamped activations pass the square, rectified visible cases: the hidden probes catch them."""
    c2.check_top_k_examples(lambda a, u, k: examples.top_activating(a, u, k), seed=11, n=12, channels=3, k=3,
                            height=3, width=7, signed=True)
    c2.check_dissection_iou(dissection.dissection_iou, seed=8, n=5, channels=3, concepts=2, size=(12, 16),
                            act_size=(6, 8))

    def clamped(acts, unit, k):                        # a ReLU'd view of the maps: fine after a ReLU, not before
        return acts[:, unit].clamp_min(0).flatten(1).amax(-1).topk(k)

    def square_top_k(acts, unit, k):
        n, _, h, _ = acts.shape
        return acts[:, unit].reshape(n, h * h).amax(-1).topk(k)

    c2.check_top_k_examples(clamped)                   # the visible case cannot tell
    fails(c2.check_top_k_examples, clamped, "do not clamp the activations at 0", seed=11, signed=True)
    fails(c2.check_top_k_examples, square_top_k, "passes on square inputs but fails on this 3 x 7", height=3, width=7)

    def square_iou(acts, masks, thresholds):           # upsamples to a square of the masks' width
        side = masks.shape[-1]
        up = torch.nn.functional.interpolate(acts, size=(side, side), mode="bilinear", align_corners=False)
        on = (up > thresholds[None, :, None, None]).float()
        inter = torch.einsum("nuhw,nchw->uc", on, masks.float())
        return inter / (on.sum((0, 2, 3))[:, None] + masks.float().sum((0, 2, 3))[None] - inter + 1e-10)

    c2.check_dissection_iou(square_iou)
    fails(c2.check_dissection_iou, square_iou, "passes on square inputs but fails on this 12 x 16",
          size=(12, 16), act_size=(6, 8))


def test_lesson02_contracts():
    def probe_as_list(acts, labels):                   # [direction, bias]: a list, not the tuple asked for
        return list(probes.mass_mean_probe(acts, labels))

    fails(c2.check_mass_mean_probe, probe_as_list, "should return a tuple")

    def standardises_in_place(acts, labels, n_classes):
        acts -= acts.mean(0)
        return _folded_probe(acts, labels, n_classes)

    fails(c2.check_train_probe, standardises_in_place, r"changed its argument `acts` in place \(`acts -= acts.mean\(0\)`\)")
