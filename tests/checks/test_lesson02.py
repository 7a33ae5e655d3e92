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


def _concept_layer(seed=0, n=12, units=4, size=8):
    """A small layer whose unit 1 fires on a square concept (and a little noise elsewhere)."""
    g = torch.Generator().manual_seed(seed)
    mask = torch.zeros(n, 2 * size, 2 * size, dtype=torch.bool)
    for i in range(n):
        y, x = torch.randint(0, size, (2,), generator=g).tolist()
        side = 2 + 2 * (i % 4)                               # squares of several sizes
        mask[i, y:y + side, x:x + side] = True
    acts = torch.rand(n, units, size, size, generator=g)
    acts[:, 1] += 3 * torch.nn.functional.avg_pool2d(mask[:, None].float(), 2)[:, 0]
    return acts, {"square": mask, "other": torch.roll(mask, 5, dims=-1)}


def _mean_of_image_ious(acts, masks, thresholds):
    """A plausible wrong dissection_iou: the mean over images of per-image IoUs."""
    up = torch.nn.functional.interpolate(acts, size=masks.shape[-2:], mode="bilinear", align_corners=False)
    on = (up > thresholds[None, :, None, None]).float()
    lab = masks.float()
    inter = torch.einsum("nuhw,nchw->nuc", on, lab)
    union = on.sum((2, 3))[:, :, None] + lab.sum((2, 3))[:, None, :] - inter
    return (inter / (union + 1e-10)).mean(0)


def test_lesson02_dissection_counts_result_compares_with_the_reference():
    """Given the layer and the masks, the counts check recomputes the dissection: the reference passes, IoUs
    from thresholds at the lowest quantile or from a mean of per-image IoUs fail (they passed a recount)."""
    acts, masks = _concept_layer()
    right = dissection.dissect(acts, masks, quantile=0.05)
    c2.check_dissection_counts_result(right, right.counts(), acts=acts, masks=masks, quantile=0.05)
    lowest = dissection.dissect(acts, masks, quantile=0.05,
                                thresholds_fn=lambda a, q: dissection.quantile_thresholds(a, 1 - q))
    per_image = dissection.dissect(acts, masks, quantile=0.05, iou_fn=_mean_of_image_ious)
    for wrong in (lowest, per_image):
        c2.check_dissection_counts_result(wrong, wrong.counts())                  # the recount alone passes
        with pytest.raises(CheckFailure, match="Exercises 2.4 and 2.5"):
            c2.check_dissection_counts_result(wrong, wrong.counts(), acts=acts, masks=masks, quantile=0.05)


def test_lesson02_story_drivers_use_the_students_functions():
    """The story's numbers come from the student's functions (issue 27 part 4): the drivers the lesson calls
    with them give the reference numbers for the reference functions and other numbers for wrong ones."""
    acts, masks = _concept_layer(seed=1)
    direction = directions.concept_direction(acts, masks["square"])
    assert torch.equal(directions.concept_direction(acts, masks["square"], probe_fn=probes.mass_mean_probe),
                       direction)
    backwards = lambda a, y: (lambda d, b: (-d, -b))(*probes.mass_mean_probe(a, y))  # noqa: E731
    assert torch.allclose(directions.concept_direction(acts, masks["square"], probe_fn=backwards), -direction)

    compare = lambda **kw: directions.compare_direction_to_neurons(  # noqa: E731
        acts, direction, masks, "square", k=2, quantile=0.1, **kw)
    ref = compare()
    mine = compare(activation_fn=directions.direction_activation, thresholds_fn=dissection.quantile_thresholds,
                   iou_fn=dissection.dissection_iou)
    assert (mine.direction_iou, mine.best_any_iou) == (ref.direction_iou, ref.best_any_iou)
    assert compare(iou_fn=_mean_of_image_ious).direction_iou != pytest.approx(ref.direction_iou, abs=1e-3)
    flipped = compare(activation_fn=lambda a, d: -directions.direction_activation(a, d))
    assert flipped.direction_iou < ref.direction_iou - 0.1

    texture = dissection.dissect(acts, masks, quantile=0.3)
    lowest = dissection.dissect(acts, masks, quantile=0.3,
                                thresholds_fn=lambda a, q: dissection.quantile_thresholds(a, 1 - q))
    assert not torch.allclose(lowest.iou, texture.iou, atol=1e-3)

    vectors = acts.amax((-2, -1))
    reference_atlas = atlas.activation_atlas(vectors, n_cells=3)
    assert torch.equal(atlas.activation_atlas(vectors, n_cells=3, average_fn=atlas.grid_average).cells,
                       reference_atlas.cells)
    summed = lambda c, v, k: (lambda cells, counts: (cells * counts[..., None], counts))(  # noqa: E731
        *atlas.grid_average(c, v, k))
    assert not torch.allclose(atlas.activation_atlas(vectors, n_cells=3, average_fn=summed).cells,
                              reference_atlas.cells)
