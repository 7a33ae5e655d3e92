"""The basic shape world and the zoo model lesson 1 relies on."""

from __future__ import annotations

import pytest
import torch

from mi_tutor import zoo
from mi_tutor.vision import COLOURS, SHAPE_KINDS, WorldConfig, render_shapes
from mi_tutor.vision.train import classifier_accuracy


def test_render_is_seeded_and_consistent():
    a, b = render_shapes(32, seed=4), render_shapes(32, seed=4)
    assert torch.equal(a.images, b.images) and not torch.equal(a.images, render_shapes(32, seed=5).images)
    assert a.images.shape == (32, 3, 32, 32) and 0 <= a.images.min() and a.images.max() <= 1
    for k, kind in enumerate(SHAPE_KINDS):
        has = a.masks[kind].flatten(1).any(1)
        assert torch.equal(has, a.labels == k), f"the {kind} mask is set exactly on images of {kind}s"
    union = torch.stack([a.masks[k] for k in SHAPE_KINDS]).any(0)
    assert torch.equal(union, ~a.masks["background"])


def test_shape_pixels_have_the_shape_colour():
    batch = render_shapes(16, seed=0, config=WorldConfig(noise=0.0))
    inside = ~batch.masks["background"]
    for i in range(16):
        pixels = batch.images[i][:, inside[i]]
        colour = batch.config.colours[batch.colour[i]]
        assert batch.masks[colour][i].sum() == inside[i].sum()
        assert (pixels.mean(1) - torch.tensor(COLOURS[colour])).abs().max() < 0.15


def test_bad_arguments():
    with pytest.raises(ValueError, match="`n`"):
        render_shapes(0)


def test_zoo_lists_and_rejects_unknown_names():
    assert "convnet_shapes_s0" in zoo.available()
    with pytest.raises(KeyError, match="Did you mean 'convnet_shapes_s0'"):
        zoo.load("convnet_shape_s0")


def test_convnet_shapes_is_accurate_on_fresh_images():
    """Lesson 1's narrative needs a model that really solves its task."""
    model = zoo.load("convnet_shapes_s0", device="cpu")
    batch = render_shapes(1000, seed=2024)
    assert classifier_accuracy(model, batch.images, batch.labels) > 0.95
