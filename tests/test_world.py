"""Curve world extras: concept masks, textures, synthetic stimuli, speed (complements test_curve_world.py)."""

from __future__ import annotations

import math
import time

import torch

from mi_tutor.vision.curves import TEXTURES, CurveWorldConfig, label_names, render_world
from mi_tutor.vision.stimuli import render_curves


def test_masks_have_image_size_and_cover_the_concepts():
    batch = render_world(64, seed=2)
    names = set(batch.masks)
    assert {"curve", "line", "shape", *TEXTURES, "red", "white", "curve_0", "curve_315"} <= names
    for mask in batch.masks.values():
        assert mask.shape == (64, 32, 32) and mask.dtype == torch.bool
    # every textured background pixel is not a stroke pixel, and textures partition the background
    background = torch.stack([batch.masks[t] for t in TEXTURES]).sum(0)
    assert background.max() <= 1
    assert not (batch.masks["curve"] & batch.masks["stripes"]).any()


def test_orientation_masks_follow_the_labels():
    batch = render_world(128, seed=5)
    for k, name in enumerate(label_names(batch.config)[:-1]):
        images = batch.masks[name].flatten(1).any(1)
        assert torch.equal(images, batch.has_curve & (batch.labels == k))


def test_texture_masks_match_texture_index():
    batch = render_world(64, seed=7)
    for t, name in enumerate(batch.config.textures):
        has = batch.masks[name].flatten(1).any(1)
        assert torch.equal(has, batch.texture == t)


def test_a_config_changes_the_world():
    cfg = CurveWorldConfig(size=48, textures=("plain",), p_no_curve=0.0, p_line=0.0, p_shape=0.0)
    batch = render_world(16, seed=0, config=cfg)
    assert batch.images.shape == (16, 3, 48, 48)
    assert batch.has_curve.all() and not batch.has_line.any()
    flat = batch.images.flatten(2)
    # plain background: most pixels equal the per-image mode
    assert (flat.std(-1) < 0.5).all()


def test_stimuli_arc_bulges_towards_its_orientation_and_line_is_straight():
    # an arc facing up (pi/2) has its midpoint at the centre and its ends below it
    img = render_curves(torch.tensor([math.pi / 2]), torch.tensor([3.0]))[0]
    stroke = (img.mean(0) - 0.4).abs() > 0.2
    rows = torch.nonzero(stroke)[:, 0].float()
    assert rows.mean() > 15.5, "the ends of an upward-bulging arc lie below the centre (rows grow downwards)"
    line = render_curves(torch.tensor([0.0]), torch.tensor([0.0]))[0]
    cols = torch.nonzero((line.mean(0) - 0.4).abs() > 0.2)[:, 1]
    assert cols.max() - cols.min() <= 3, "orientation 0 means a vertical line (its normal points right)"


def test_rendering_is_fast_enough_for_a_lesson():
    start = time.perf_counter()
    render_world(1000, seed=0)
    assert time.perf_counter() - start < 5.0
