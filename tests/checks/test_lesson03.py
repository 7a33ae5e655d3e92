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


def test_lesson03_contracts_and_non_square_images():
    """Gradient rules, inputs left unchanged, and code that works on square images only (issue 27)."""
    from mi_tutor.hooks import run_with_cache

    def forgets_enable_grad(model, layer, image, lr=0.02):     # fine when the caller has gradients on
        x = image.detach().clone().requires_grad_(True)
        _, cache = run_with_cache(model, x, [layer], detach=False)
        (cache[layer] ** 2).mean().backward()
        return (image + lr * x.grad / x.grad.abs().mean()).clamp(0, 1).detach()

    fails(c3.check_deepdream_step, forgets_enable_grad, r"torch.no_grad\(\)(.|\n)*torch.enable_grad\(\)")

    def ascends_in_place(model, layer, image, lr=0.02):
        image.requires_grad_(True)
        with torch.enable_grad():
            _, cache = run_with_cache(model, image, [layer], detach=False)
            (cache[layer] ** 2).mean().backward()
        with torch.no_grad():
            image += lr * image.grad / image.grad.abs().mean()
        return image.detach().clamp(0, 1)

    fails(c3.check_deepdream_step, ascends_in_place, "changed its argument `image` in place")
    fails(c3.check_channel_loss, lambda a, u: torch.tensor(-a[:, u].mean().item()), "no gradient")
    fails(c3.check_diversity_loss, lambda a: objectives.diversity_loss(a.detach()), "no gradient")
    fails(c3.check_jitter, lambda im, d, ox, oy: transforms.jitter(im, d, ox, oy).detach(), "no gradient")

    def square_jitter(images, d, ox, oy):                      # one side for both
        side = images.shape[-1]
        return images[..., oy:side - d + oy, ox:side - d + ox]

    fails(c3.check_jitter, square_jitter, "passes on square inputs but fails on this 8 x 9")

    def square_share(images, cutoff=0.25):
        x = images - images.mean((-2, -1), keepdim=True)
        power = torch.fft.rfft2(x).abs().pow(2).sum(1)
        side = images.shape[-1]
        f = torch.sqrt(torch.fft.rfftfreq(side)[None, :] ** 2 + torch.fft.fftfreq(side)[:, None] ** 2)
        return (power * (f > cutoff)).flatten(1).sum(-1) / power.flatten(1).sum(-1)

    fails(c3.check_high_frequency_share, square_share, "passes on square inputs but fails on this 16 x 24")
    fails(c3.check_high_frequency_share, lambda im, c=0.25: high_frequency_share(im, c).squeeze(), "squeeze",
          seed=8, batch=1, size=20, width=20)

    def square_scale(h, w):
        f = torch.sqrt(torch.fft.rfftfreq(w)[None, :] ** 2 + torch.fft.fftfreq(w)[:, None] ** 2)  # rows from w
        return 1.0 / f.clamp_min(1.0 / max(h, w))

    fails(c3.check_fft_scale, square_scale, "passes on square inputs but fails on this 6 x 8")
