"""Lesson 3's checks: the reference passes, and each plausible mistake fails with words that name it."""

from __future__ import annotations

import pytest
import torch

from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson03 as c3
from mi_tutor.featvis import objectives, param, transforms
from mi_tutor.featvis.render import deepdream_step, high_frequency_share


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)


def test_lesson03_references_pass(capsys):
    c3.check_channel_loss(objectives.channel_loss)
    c3.check_diversity_loss(objectives.diversity_loss)
    c3.check_jitter(transforms.jitter)
    c3.check_fft_scale(param.fft_scale)
    c3.check_high_frequency_share(high_frequency_share)
    c3.check_deepdream_step(deepdream_step)
    assert capsys.readouterr().out.count("\u2713") == 6


def test_lesson03_mistakes():
    fails(c3.check_channel_loss, lambda a, u: a[:, u].mean(), "wrong sign")
    fails(c3.check_jitter, lambda im, d, ox, oy: transforms.jitter(im, d, oy, ox), "swapped the offsets")
    fails(c3.check_fft_scale, lambda h, w: param.fft_scale(w, h).T[: h, : w // 2 + 1], "shape|fftfreq")

    def keeps_mean(images, cutoff=0.25):
        spec = torch.fft.rfft2(images).abs().pow(2).sum(1)
        fy, fx = torch.fft.fftfreq(images.shape[-2]), torch.fft.rfftfreq(images.shape[-1])
        f = (fy[:, None] ** 2 + fx[None] ** 2).sqrt()
        return (spec * (f > cutoff)).sum((-2, -1)) / spec.sum((-2, -1))
    fails(c3.check_high_frequency_share, keeps_mean, "mean first")
    fails(c3.check_deepdream_step, lambda m, layer, im, lr: deepdream_step(m, layer, im, lr).requires_grad_(),
          "detached")
    fails(c3.check_deepdream_step, lambda m, layer, im, lr: deepdream_step(m, layer, im, -lr), "added")


def test_lesson03_story_checks():
    c3.check_orientation_reading_result(torch.tensor([10.0, -30.0, 150.0, 20.0]))
    fails(lambda f, **kw: c3.check_orientation_reading_result(torch.tensor([100.0, -90.0, 80.0, 20.0])), None,
          "chance is 90")
    good = {"car": {"predicted": "car", "nearest": "car", "ratio": 2.0}}
    c3.check_object_visualization_result(good)
    fails(lambda f: c3.check_object_visualization_result({"car": {**good["car"], "predicted": "cart"}}), None, "calls")
    fails(lambda f: c3.check_object_visualization_result({"car": {**good["car"], "nearest": "head"}}), None, "closest")
    fails(lambda f: c3.check_object_visualization_result({"car": {**good["car"], "ratio": 0.5}}), None, "converge")
