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


def test_lesson03_hf_reduction_result_compares_the_shares_with_the_images():
    """Given the images, the locked cell re-measures the shares: the reference passes; shares that keep each
    channel's mean (the zero frequency swamps the total) still fall from naive to smooth, passed the ratio
    test alone, and now fail (issue 27)."""
    g = torch.Generator().manual_seed(0)
    images = {"naive": torch.rand(4, 3, 16, 16, generator=g),
              "smooth": torch.nn.functional.interpolate(torch.rand(4, 3, 4, 4, generator=g), size=(16, 16),
                                                        mode="bilinear", align_corners=False)}
    right = {k: high_frequency_share(v) for k, v in images.items()}
    c3.check_hf_reduction_result(right, "naive", "smooth", max_ratio=0.6, images=images)

    def keeps_the_mean(x, cutoff=0.25):
        power = torch.fft.rfft2(x).abs().pow(2).sum(1)
        h, w = x.shape[-2:]
        freq = torch.sqrt(torch.fft.rfftfreq(w)[None, :] ** 2 + torch.fft.fftfreq(h)[:, None] ** 2)
        return (power * (freq > cutoff)).flatten(1).sum(-1) / power.flatten(1).sum(-1)

    wrong = {k: keeps_the_mean(v) for k, v in images.items()}
    c3.check_hf_reduction_result(wrong, "naive", "smooth", max_ratio=0.6)            # the ratio alone passes
    with pytest.raises(CheckFailure, match="Exercise 3.2"):
        c3.check_hf_reduction_result(wrong, "naive", "smooth", max_ratio=0.6, images=images)


def test_lesson03_story_renders_use_the_students_functions():
    """The renders' objective and Fourier scale are the student's (issue 27 part 4): the reference functions
    give the reference numbers, a wrong one other numbers."""
    from mi_tutor.featvis.plots import plot_visualizations

    acts = {"layer3": torch.rand(2, 5, 4, 4, generator=torch.Generator().manual_seed(1), requires_grad=True)}
    ref = objectives.channels("layer3", [1, 3])(acts)
    mine = objectives.channels("layer3", [1, 3], loss_fn=objectives.channel_loss)(acts)
    assert torch.allclose(mine, ref)
    (g_ref,) = torch.autograd.grad(ref, acts["layer3"])
    (g_mine,) = torch.autograd.grad(mine, acts["layer3"])
    assert torch.equal(g_mine, g_ref)                      # the same gradient, so the same render
    summed = lambda a, u: -a[:, u].sum()  # noqa: E731     # a sum, not a mean: 16 times the loss
    assert not torch.allclose(objectives.channels("layer3", [1, 3], loss_fn=summed)(acts), ref)

    reference = param.FourierImage(1, 8, 8, seed=0)()
    assert torch.equal(param.FourierImage(1, 8, 8, seed=0, scale_fn=param.fft_scale)(), reference)
    unclamped = lambda h, w: 1.0 / param.fft_frequencies(h, w).clamp_min(1e-3)  # noqa: E731  # a huge DC term
    assert not torch.allclose(param.FourierImage(1, 8, 8, seed=0, scale_fn=unclamped)(), reference, atol=1e-3)
    with pytest.raises(Exception, match="scale_fn"):
        param.FourierImage(1, 8, 6, scale_fn=lambda h, w: torch.ones(w // 2 + 1, h))

    images = {"a": torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))}
    _, shares = plot_visualizations(images, share_fn=lambda x: torch.zeros(len(x)))
    assert shares["a"].tolist() == [0.0, 0.0]
    assert plot_visualizations(images)[1]["a"].tolist() == high_frequency_share(images["a"]).tolist()
    import matplotlib.pyplot as plt

    plt.close("all")
