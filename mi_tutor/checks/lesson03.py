"""Checks for lesson 3, "Feature visualization"."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from ..featvis import objectives, param, transforms
from ..featvis.render import deepdream_step as ref_deepdream_step
from ..featvis.render import high_frequency_share as ref_high_frequency_share
from ..vision.architectures import PlainNet, TinyNetConfig
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, expect, expect_close, passed, with_square_hint

__all__ = [
    "CONTRACTS",
    "check_channel_loss",
    "check_diversity_loss",
    "check_jitter",
    "check_fft_scale",
    "check_high_frequency_share",
    "check_deepdream_step",
    "check_hf_reduction_result",
    "check_vis_agreement_result",
    "check_orientation_reading_result",
    "check_object_visualization_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every call.
# Every exercise leaves its inputs as they were. The render loop minimises the losses and differentiates
# through the crop, so their gradient must reach the activations (the image); a DeepDream step computes its
# gradient whatever the caller set (it is called under torch.no_grad() here) and returns detached pixels.
LOSS = Contract(returns=torch.Tensor, gradient="flows")
DIFFERENTIABLE = Contract(returns=torch.Tensor, gradient="flows")
TENSOR = Contract(returns=torch.Tensor)
DEEPDREAM = Contract(returns=torch.Tensor, gradient="none", under_no_grad=True)
CONTRACTS = {"channel_loss": LOSS, "high_frequency_share": TENSOR, "jitter": DIFFERENTIABLE, "fft_scale": TENSOR,
             "diversity_loss": LOSS, "deepdream_step": DEEPDREAM}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _with_gradient(name: str, student_fn: Callable, reference_fn: Callable, cases, compare: Callable,
                   describe: Callable = lambda case: "") -> None:
    """Like ``compare_functions``, with the first tensor argument a leaf the result's gradient must reach."""
    for case in cases:
        given = {k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in case.items()}
        first = next(v for v in given.values() if isinstance(v, torch.Tensor))
        first.requires_grad_(True)
        context = describe(case) or "with " + ", ".join(
            f"{k} of shape {tuple(v.shape)}" if isinstance(v, torch.Tensor) else f"{k}={v!r}" for k, v in case.items())
        want = reference_fn(*(v.detach().clone() if isinstance(v, torch.Tensor) else v for v in case.values()))
        check_contract(name, student_fn, CONTRACTS[name], *given.values(), context=context, grad_to=[first],
                       compare=lambda got: compare(got, want, context))


def check_channel_loss(student_fn: Callable, seed: int = 0, batch: int = 2, channels: int = 5) -> None:
    """``channel_loss(acts, unit)`` -> scalar ``-mean(acts[:, unit])``."""
    g = _gen(seed)
    acts = torch.randn(batch, channels, 4, 3, generator=g)
    cases = [{"acts": acts, "unit": 0}, {"acts": acts, "unit": channels - 1}]

    def compare(got, want, ctx):
        if isinstance(got, torch.Tensor) and got.numel() == 1 and torch.allclose(got.reshape(()), -want, atol=1e-5):
            raise CheckFailure("Your loss has the wrong sign: the render loop *minimises* the loss, so return "
                               "minus the mean activation.")
        expect_close("channel_loss(...)", got.reshape(()) if isinstance(got, torch.Tensor) and got.numel() == 1
                     else got, want, context=ctx,
                     hint="average channel `unit` over the batch and both spatial axes, then negate.")

    _with_gradient("channel_loss", student_fn, objectives.channel_loss, cases, compare)
    passed("channel_loss is minus the mean activation of the channel")


def check_diversity_loss(student_fn: Callable, seed: int = 0, batch: int = 3, channels: int = 4) -> None:
    """``diversity_loss(acts)`` -> ``sum_{i != j} cos(G_i, G_j) / batch``."""
    g = _gen(seed)
    cases = [{"acts": torch.relu(torch.randn(batch, channels, 5, 5, generator=g))},
             {"acts": torch.relu(torch.randn(2, channels + 2, 3, 3, generator=g))}]
    _with_gradient("diversity_loss", student_fn, objectives.diversity_loss, cases,
                   lambda got, want, ctx: expect_close(
                          "diversity_loss(...)", got.reshape(()) if isinstance(got, torch.Tensor) and got.numel() == 1
                          else got, want, context=ctx, rtol=1e-4, atol=1e-5,
                          hint="Gram matrix of image i: A_i @ A_i.T with A_i the [channels, h*w] map; flatten and "
                               "normalise each, sum the cosine similarities over pairs i != j (both orders), "
                               "divide by the batch size."))
    passed("diversity_loss matches the reference")


def check_jitter(student_fn: Callable, seed: int = 0, size: int = 8, d: int = 3, width: int | None = None) -> None:
    """``jitter(images, d, ox, oy)`` -> the ``[.., H-d, W-d]`` window at column ``ox``, row ``oy``.

    Args:
        size, width: The images' height and width (``width`` defaults to ``size + 1``: not square).
    """
    width = size + 1 if width is None else width
    with_square_hint(_check_jitter, student_fn, (size, width), {"width": size}, seed=seed, size=size, d=d,
                     width=width)


def _check_jitter(student_fn: Callable, seed: int, size: int, d: int, width: int) -> None:
    images = torch.rand(2, 3, size, width, generator=_gen(seed))
    cases = [{"images": images, "d": d, "ox": ox, "oy": oy} for ox, oy in ((0, 0), (d, 1), (1, d))]

    def compare(got, want, ctx):
        swapped = transforms.jitter(images, d, cases[1]["oy"], cases[1]["ox"])
        hint = "`ox` moves the window along the columns (last axis), `oy` along the rows."
        if isinstance(got, torch.Tensor) and got.shape == want.shape and torch.equal(got, swapped) \
                and not torch.equal(got, want):
            hint = "you swapped the offsets: " + hint
        expect_close("jitter(...)", got, want, context=ctx, hint=hint)

    _with_gradient("jitter", student_fn, transforms.jitter, cases, compare)
    passed(f"jitter crops the right {size - d}x{width - d} window")


def check_fft_scale(student_fn: Callable, h: int = 6, w: int = 8) -> None:
    """``fft_scale(h, w)`` -> ``[h, w // 2 + 1]`` ``1 / max(f, 1 / max(h, w))``."""
    with_square_hint(_check_fft_scale, student_fn, (h, w), {"w": h}, h=h, w=w)


def _check_fft_scale(student_fn: Callable, h: int, w: int) -> None:
    cases = [{"h": h, "w": w}, {"h": w + 1, "w": h + 1}]

    def compare(got, want, ctx):
        hint = ("frequencies along the rows come from `torch.fft.fftfreq(h)`, along the (half) columns from "
                "`torch.fft.rfftfreq(w)`; f = sqrt(fx^2 + fy^2); clamp f below at 1 / max(h, w) before inverting.")
        expect_close("fft_scale(...)", got, want, context=ctx, hint=hint)

    compare_functions("fft_scale", student_fn, param.fft_scale, cases, compare=compare, contract=TENSOR)
    passed("fft_scale gives every rfft2 entry its 1/f weight")


def check_high_frequency_share(student_fn: Callable, seed: int = 0, batch: int = 3, size: int = 16,
                               width: int | None = None) -> None:
    """``high_frequency_share(images, cutoff)`` -> ``[batch]`` energy share above ``cutoff``.

    Args:
        size, width: The images' height and width (``width`` defaults to ``size + 8``: not square).
    """
    width = size + 8 if width is None else width
    with_square_hint(_check_high_frequency_share, student_fn, (size, width), {"width": size}, seed=seed,
                     batch=batch, size=size, width=width)


def _check_high_frequency_share(student_fn: Callable, seed: int, batch: int, size: int, width: int) -> None:
    g = _gen(seed)
    smooth = torch.nn.functional.interpolate(torch.rand(batch, 3, 4, 4, generator=g), size=(size, width),
                                             mode="bilinear", align_corners=False)
    noisy = torch.rand(batch, 3, size, width, generator=g)
    cases = [{"images": smooth, "cutoff": 0.25}, {"images": noisy, "cutoff": 0.25},
             {"images": noisy + 5.0, "cutoff": 0.1}]
    def compare(got, want, ctx):
        if isinstance(got, torch.Tensor) and got.dim() == 0 and want.shape == (1,):
            raise CheckFailure(f"`high_frequency_share` returned a 0-d tensor for a batch of one {ctx}: keep the batch "
                               "axis (shape [1]); a `squeeze()` drops it.")
        expect_close("high_frequency_share(...)", got, want, context=ctx, rtol=1e-3, atol=1e-4,
                     hint="remove each channel's mean first (else the constant term dominates), sum "
                          "|rfft2|^2 over channels, and divide the energy at radial frequency > cutoff by "
                          "the total, per image.")

    compare_functions("high_frequency_share", student_fn, ref_high_frequency_share, cases, contract=TENSOR,
                      compare=compare)
    passed("high_frequency_share matches the reference on smooth and noisy images")


def check_deepdream_step(student_fn: Callable, seed: int = 0, batch: int = 2, lr: float = 0.05) -> None:
    """``deepdream_step(model, layer, image, lr)`` -> the image after one normalised ascent step."""
    torch.manual_seed(seed)
    model = PlainNet(TinyNetConfig(channels=(4, 6, 8))).eval()
    image = torch.rand(batch, 3, 16, 16, generator=_gen(seed))
    cases = [{"model": model, "layer": "layer2", "image": image, "lr": lr},
             {"model": model, "layer": "layer1", "image": torch.rand(1, 3, 12, 20, generator=_gen(seed + 1)),
              "lr": 2 * lr}]

    def compare(got, want, ctx):
        expect(isinstance(got, torch.Tensor) and not got.requires_grad,
               "Return a detached tensor (`.detach()`): the image is data, not part of a graph.")
        expect_close("deepdream_step(...)", got, want, context=ctx, rtol=1e-4, atol=1e-5,
                     hint="gradient of mean(acts ** 2) with respect to the image, divided by its mean absolute "
                          "value, times lr, *added* to the image, then clamped to [0, 1].")

    def describe(case):
        h, w = case["image"].shape[-2:]
        return (f"on layer {case['layer']!r}, {len(case['image'])} image(s) of {h}x{w}, lr {case['lr']}, "
                "called under torch.no_grad()")

    compare_functions("deepdream_step", student_fn, ref_deepdream_step, cases, compare=compare,
                      describe=describe, contract=DEEPDREAM)
    passed("deepdream_step matches the reference")


def check_hf_reduction_result(shares: Mapping[str, torch.Tensor], naive: str, regularised: str,
                              max_ratio: float = 0.8, images: Mapping[str, torch.Tensor] | None = None) -> None:
    """The regularised renders carry a smaller high-frequency share than the naive ones.

    Args:
        shares: Label -> ``[n]`` high-frequency shares (from the student's ``high_frequency_share``).
        naive: The label of the naive renders.
        regularised: The label of the regularised ones.
        max_ratio: The largest allowed ratio of the two mean shares.
        images: Label -> the ``[n, 3, H, W]`` images the shares were measured on; given, every label's shares
            are compared with the reference's on the same images, so wrong shares fail even where their
            ratio happens to fall.
    """
    for label, imgs in (images or {}).items():
        want = ref_high_frequency_share(imgs.detach().float().cpu())
        got = torch.as_tensor(shares[label]).detach().float().cpu() if label in shares else None
        expect(got is not None and got.shape == want.shape and torch.allclose(got, want, atol=1e-4),
               f"The high-frequency shares of the {label!r} images are "
               f"{[round(float(v), 3) for v in got[:4]] if got is not None else None}...; measured again here they "
               f"are {[round(float(v), 3) for v in want[:4]]}.... They come from your `high_frequency_share`: go "
               "back to Exercise 3.2 (remove each channel's mean, sum |rfft2|^2 over channels, fy from "
               "fftfreq(H) on the rows and fx from rfftfreq(W) on the columns).")
    a, b = float(shares[naive].mean()), float(shares[regularised].mean())
    expect(b < max_ratio * a, f"High-frequency share: {naive} {a:.3f}, {regularised} {b:.3f} (ratio {b / a:.2f}); "
                              f"expected a ratio below {max_ratio}. The shares come from your "
                              "`high_frequency_share`: go back to Exercise 3.2 if they look wrong.")
    passed(f"high-frequency share falls from {a:.3f} ({naive}) to {b:.3f} ({regularised}): ratio {b / a:.2f}")


def check_vis_agreement_result(agreement: torch.Tensor, min_match: float = 0.5) -> None:
    """The agreement matrix is diagonal-dominant: visualizations resemble their own unit's examples."""
    n = agreement.shape[0]
    match = (agreement.argmax(1) == torch.arange(n)).float().mean().item()
    diag = agreement.diagonal().mean().item()
    off = (agreement.sum() - agreement.diagonal().sum()).item() / (n * n - n)
    expect(diag > off, f"Visualizations resemble other units' examples ({off:.3f}) as much as their own ({diag:.3f}).")
    expect(match >= min_match, f"Only {match:.0%} of the visualizations are closest to their own unit's examples.")
    passed(f"{match:.0%} of visualizations are closest to their own unit's dataset examples "
           f"(mean cosine {diag:.2f} on the diagonal vs {off:.2f} off it)")


def check_orientation_reading_result(errors_deg: torch.Tensor, max_median: float = 60.0) -> None:
    """The curve family reads the visualizations near the units' preferred orientations.

    Args:
        errors_deg: ``[units]`` signed reading errors in degrees (wrapped into ``[-180, 180)``).
        max_median: Largest allowed median ``|error|`` (a random reading has a median of 90).
    """
    errors = torch.as_tensor(errors_deg, dtype=torch.float32).abs()
    expect(errors.numel() > 0 and bool((errors <= 180.0001).all()),
           f"Expected one reading error per unit in degrees within [-180, 180], got {errors_deg}.")
    median = errors.median().item()
    expect(median < max_median,
           f"The family reads the visualizations {median:.0f}° from the units' preferred orientations (median), "
           f"not below {max_median:.0f}° (chance is 90°): the visualizations do not carry their units' "
           "orientation. Were they rendered with the neuron objective on the pre-ReLU layer?")
    passed(f"median reading error {median:.0f}° (chance 90°); {int((errors < 45).sum())} of {errors.numel()} "
           "units within 45°")


def check_object_visualization_result(report: Mapping[str, Mapping[str, object]]) -> None:
    """Each object unit's visualization is a superstimulus that the network takes for its object.

    Args:
        report: ``kind -> {"predicted": kind the classifier names, "nearest": kind whose mean layer
            vector is closest, "ratio": the unit's response to its visualization / to its best scene}``.
    """
    expect(len(report) > 0, "The report is empty: give one entry per object unit.")
    for kind, r in report.items():
        expect(r["predicted"] == kind, f"The classifier calls the {kind} unit's visualization "
                                       f"'{r['predicted']}', not '{kind}'.")
        expect(r["nearest"] == kind, f"The {kind} unit's visualization is closest to '{r['nearest']}' scenes, "
                                     f"not to '{kind}' scenes.")
        expect(float(r["ratio"]) > 1.0, f"The {kind} unit fires only {float(r['ratio']):.2f}x on its visualization "
                                        "compared with its best scene: the render did not converge.")
    passed("every object unit's visualization drives it past its best scene and reads as its object: "
           + ", ".join(f"{k} x{float(r['ratio']):.1f}" for k, r in report.items()))
