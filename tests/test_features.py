"""Lesson 2 library: dataset examples, probes, dissection, directions, atlas; bad input."""

from __future__ import annotations

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from mi_tutor import features as F  # noqa: E402
from mi_tutor.features import plots  # noqa: E402
from mi_tutor.validation import ShapeError  # noqa: E402


def test_top_activating_uses_the_spatial_max():
    acts = torch.zeros(3, 2, 4, 4)
    acts[0, 1] = 1.0          # large mean, small max
    acts[2, 1, 0, 0] = 5.0    # small mean, large max
    values, index = F.top_activating(acts, 1, k=2)
    assert index.tolist() == [2, 0] and values.tolist() == [5.0, 1.0]


def test_top_activating_bad_unit_says_the_range():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.top_activating(torch.rand(3, 2, 4, 4), 5)


def test_activation_stats_by_hand():
    acts = torch.tensor([[[[0.0, 2.0]], [[0.0, 0.0]]], [[[4.0, 0.0]], [[0.0, 0.0]]]])  # [2, 2, 1, 2]
    stats = F.activation_stats(acts)
    assert stats.mean.tolist() == [1.5, 0.0] and stats.max.tolist() == [4.0, 0.0]
    assert stats.frac_active.tolist() == [1.0, 0.0] and stats.dead.tolist() == [False, True]


def test_mass_mean_probe_by_hand():
    acts = torch.tensor([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]])
    labels = torch.tensor([0, 0, 1, 1])
    d, b = F.mass_mean_probe(acts, labels)
    assert d.tolist() == [4.0, 0.0] and b.item() == -8.0
    assert F.mass_mean_predict(acts, d, b).tolist() == [False, False, True, True]


def test_linear_probe_learns_a_separable_problem_and_ignores_scale():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 4, generator=g) * torch.tensor([100.0, 0.01, 1.0, 1.0])
    y = (x[:, 1] > 0).long() + 2 * (x[:, 2] > 0).long()
    probe = F.train_linear_probe(x, y, n_classes=4)
    assert F.probe_accuracy(probe, x, y) > 0.95
    assert probe.direction(0).shape == (4,)


def test_quantile_thresholds_match_torch_quantile():
    acts = torch.randn(5, 3, 7, 6, generator=torch.Generator().manual_seed(1))
    want = torch.quantile(acts.transpose(0, 1).flatten(1), 0.995, dim=1)
    assert torch.allclose(F.quantile_thresholds(acts, 0.005), want, atol=1e-6)


def test_dissection_of_a_planted_unit():
    """A unit equal to a concept's mask (plus noise) gets IoU near 1 with it and is labelled with it."""
    g = torch.Generator().manual_seed(0)
    masks = {"a": torch.rand(40, 16, 16, generator=g) > 0.995, "b": torch.rand(40, 16, 16, generator=g) > 0.5}
    acts = torch.randn(40, 3, 16, 16, generator=g) * 0.01
    acts[:, 1] += masks["a"].float()
    result = F.dissect(acts, masks, quantile=masks["a"].float().mean().item())
    assert result.label[1] == "a" and result.best_iou[1] > 0.9
    assert result.counts()["a"] >= 1 and 1 in result.detectors()["a"]


def test_dissection_iou_by_hand():
    acts = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])              # one unit, on at (0, 0)
    masks = torch.tensor([[[[True, True], [False, False]]]])         # concept on the top row
    iou = F.dissection_iou(acts, masks, torch.tensor([0.5]))
    assert iou.item() == pytest.approx(0.5)                         # |1| / |2|


def test_dissect_rejects_a_mask_of_the_wrong_size():
    acts = torch.rand(4, 2, 8, 8)
    with pytest.raises(ShapeError, match=r"masks\['b'\].*\(3, 16, 16\).*\(4, 16, 16\)"):
        F.dissect(acts, {"a": torch.zeros(4, 16, 16, dtype=torch.bool), "b": torch.zeros(3, 16, 16, dtype=torch.bool)})
    with pytest.raises(ShapeError, match="expected"):
        F.dissect(acts, {"a": torch.zeros(4, 16, 16, dtype=torch.bool), "b": torch.zeros(4, 12, 12, dtype=torch.bool)})


def test_direction_activation_and_concept_direction():
    acts = torch.zeros(2, 3, 2, 2)
    acts[:, 0] = 3.0
    out = F.direction_activation(acts, torch.tensor([2.0, 0.0, 0.0]))
    assert torch.allclose(out, torch.full((2, 2, 2), 3.0))
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[:, :2, :2] = True
    acts = torch.zeros(2, 3, 2, 2)
    acts[:, 2, 0, 0] = 1.0
    d = F.concept_direction(acts, mask)
    assert d.argmax().item() == 2


def test_direction_beats_neurons_on_a_distributed_concept():
    """A concept carried by the sum of two units is segmented better by their mixture."""
    g = torch.Generator().manual_seed(0)
    mask = torch.rand(60, 8, 8, generator=g) > 0.9
    half = torch.rand(60, 8, 8, generator=g) > 0.5
    acts = 0.3 * torch.rand(60, 4, 8, 8, generator=g)
    acts[:, 0] += (mask & half).float()
    acts[:, 1] += (mask & ~half).float()
    d = F.concept_direction(acts, mask)
    c = F.compare_direction_to_neurons(acts, d, {"c": mask}, "c", k=2, quantile=mask.float().mean().item())
    assert c.direction_iou > c.best_neuron_iou + 0.2 and c.best_any_iou == c.best_neuron_iou


def test_grid_average_by_hand():
    coords = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.1, 0.1]])
    values = torch.tensor([[1.0], [2.0], [3.0], [4.0], [3.0]])
    cells, counts = F.grid_average(coords, values, 2)
    assert counts.tolist() == [[2, 1], [1, 1]]          # row = y, column = x
    assert cells[0, 0].item() == 2.0 and cells[1, 0].item() == 3.0 and cells[0, 1].item() == 2.0


def test_atlas_and_pca_layout():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, generator=g) * torch.tensor([10.0, 3.0, 0.1, 0.1, 0.1])
    layout = F.pca_layout(x)
    assert abs(torch.corrcoef(torch.stack([layout[:, 0], x[:, 0]]))[0, 1]) > 0.99
    atlas = F.activation_atlas(x, n_cells=4)
    assert int(atlas.counts.sum()) == 200 and ((atlas.example >= 0) == (atlas.counts > 0)).all()


def test_probe_layers_and_plots_return_their_data():
    accs = {"input": 0.2, "layer1": 0.3, "layer2": 0.8}
    _, data = plots.plot_probe_accuracy(accs, chance=0.2)
    assert data["accuracy"] == [0.2, 0.3, 0.8]
    acts = torch.rand(20, 3, 4, 4)
    result = F.dissect(acts, {"a": torch.rand(20, 8, 8) > 0.5})
    _, counts = plots.plot_dissection_counts(result)
    assert counts == result.counts()
    _, d = plots.plot_direction_comparison(0.2, [1, 2], [0.1, 0.05], "a")
    assert d["neurons"] == {1: 0.1, 2: 0.05}


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_features_follow_cuda_inputs():
    acts = torch.rand(10, 4, 8, 8, device="cuda")
    assert F.direction_activation(acts, torch.rand(4, device="cuda")).device.type == "cuda"
    masks = torch.rand(10, 2, 16, 16, device="cuda") > 0.5
    assert F.dissection_iou(acts, masks, F.quantile_thresholds(acts)).shape == (4, 2)
    probe = F.train_linear_probe(acts.flatten(1), torch.randint(2, (10,), device="cuda"), steps=5)
    assert probe.weight.device.type == "cuda"


def test_label_units_type_counts_and_majority_share():
    iou = torch.tensor([[0.10, 0.00, 0.0], [0.00, 0.50, 0.0], [0.20, 0.00, 0.0], [0.01, 0.02, 0.03]])
    d = F.label_units(iou, ["part:a", "colour:b", "object:c"], torch.zeros(4))
    assert d.label == ["part:a", "colour:b", "part:a", "object:c"]
    assert F.type_counts(d) == {"part": 2, "colour": 1}          # unit 3 is below the 0.04 detector threshold
    assert F.concept_type("blur") == "blur"
    with pytest.raises(ShapeError):
        F.label_units(iou, ["part:a", "colour:b"], torch.zeros(4))
    assert F.majority_share(torch.tensor([2, 2, 1, 2]), torch.tensor([0, 1, 2])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="empty"):
        F.majority_share(torch.tensor([0, 1]), torch.tensor([], dtype=torch.long))


def test_dissect_equals_label_units_of_dissection_iou():
    g = torch.Generator().manual_seed(2)
    acts = torch.rand(6, 3, 4, 4, generator=g)
    masks = {"part:x": torch.rand(6, 8, 8, generator=g) > 0.7, "object:y": torch.rand(6, 8, 8, generator=g) > 0.9}
    stacked, names = F.stack_masks(masks)
    thr = F.quantile_thresholds(acts, 0.1)
    by_hand = F.label_units(F.dissection_iou(acts, stacked, thr), names, thr)
    result = F.dissect(acts, masks, quantile=0.1)
    assert torch.equal(result.iou, by_hand.iou) and result.label == by_hand.label


def test_cell_purity():
    coords = torch.tensor([[0.0, 0.0], [0.1, 0.1], [1.0, 1.0], [0.9, 0.9]])
    mixed = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 1]), 2).float()
    cells, counts = F.grid_average(coords, mixed, 2)
    assert F.cell_purity(cells, counts) == pytest.approx(3 / 4)   # the first cell holds one of each
    with pytest.raises(ValueError, match="no points"):
        F.cell_purity(cells, torch.zeros_like(counts))


def test_part_mask_and_concept_type_figures_return_their_data():
    from mi_tutor.vision.objects import render_objects
    batch = render_objects(3, seed=0)
    _, data = plots.plot_part_masks(batch.images, batch.part_masks, [0, 2])
    assert data["label_map"].shape == (2, 64, 64)
    for j, i in enumerate([0, 2]):
        assert set(data["parts"][j]) == {p for p, m in batch.part_masks.items() if m[i].any()}
    _, data = plots.plot_concept_types({"l1": {"colour": 3}, "l2": {"part": 2, "colour": 1}}, {"l1": 8, "l2": 16})
    assert data["counts"] == {"colour": [3, 1], "part": [0, 2]}
