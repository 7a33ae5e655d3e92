"""The curve world: seeded, labels consistent with what is drawn, masks for dissection."""

from __future__ import annotations

import math

import pytest
import torch

from mi_tutor.vision.curves import CurveWorldConfig, orientation_bin, render_world


def test_render_is_seeded_and_in_range():
    a, b = render_world(24, seed=3), render_world(24, seed=3)
    assert torch.equal(a.images, b.images) and not torch.equal(a.images, render_world(24, seed=4).images)
    assert a.images.shape == (24, 3, 32, 32) and 0 <= a.images.min() and a.images.max() <= 1


def test_labels_follow_the_arc():
    cfg = CurveWorldConfig()
    batch = render_world(400, seed=0)
    no_curve = ~batch.has_curve
    assert (batch.labels[no_curve] == cfg.n_orientations).all(), "images without an arc are labelled line"
    assert batch.has_line[no_curve].all(), "images without an arc always have a line"
    bins = orientation_bin(batch.orientation[batch.has_curve], cfg.n_orientations)
    assert torch.equal(bins, batch.labels[batch.has_curve])
    assert 0.1 < no_curve.float().mean() < 0.3  # p_no_curve = 0.2


def test_curve_masks_mark_exactly_the_images_with_arcs():
    batch = render_world(200, seed=1)
    drawn = batch.masks["curve"].flatten(1).any(1)
    assert torch.equal(drawn, batch.has_curve)
    assert torch.equal(batch.masks["line"].flatten(1).any(1), batch.has_line)


def test_orientation_bins_are_centred():
    angles = torch.tensor([0.0, math.pi / 4 - 0.01, math.pi / 4 + 0.01, 2 * math.pi - 0.1])
    assert orientation_bin(angles, 8).tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize("n", [0, -3])
def test_bad_n(n):
    with pytest.raises(ValueError):
        render_world(n)
