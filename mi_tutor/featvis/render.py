"""The render loop, DeepDream, and how much high-frequency energy an image carries.

Examples:
    >>> from mi_tutor.vision.architectures import PlainNet
    >>> from mi_tutor.featvis.objectives import channel
    >>> result = render(PlainNet(), channel("layer1", 0), steps=5, progress=False)
    >>> result.images.shape
    torch.Size([1, 3, 32, 32])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import os

import torch
from torch import nn
from tqdm.auto import tqdm

from ..hooks import get_module, run_with_cache
from ..validation import check_range, check_tensor
from .objectives import Objective
from .param import FourierImage, PixelImage, fft_frequencies
from .transforms import Transform, standard_transforms

__all__ = ["RenderResult", "render", "deepdream_step", "run_deepdream", "high_frequency_share", "radial_spectrum"]


def _quiet(progress: bool) -> bool:
    """True when the bar should be hidden (``progress=False`` or ``TQDM_DISABLE`` set, as lessons do)."""
    return not progress or os.environ.get("TQDM_DISABLE", "").lower() in ("1", "true", "yes")


@dataclass
class RenderResult:
    """What :func:`render` returns.

    Attributes:
        images: ``[batch, 3, H, W]`` final images in ``(0, 1)``, on the CPU.
        losses: Loss at every step.
    """

    images: torch.Tensor
    losses: list[float] = field(default_factory=list)


def render(model: nn.Module, objective: Objective, param: str | nn.Module = "fourier",
           transforms: Transform | None | str = "standard", steps: int = 256, lr: float = 0.05,
           batch: int = 1, size: int = 32, seed: int = 0, progress: bool = True) -> RenderResult:
    """Optimise an image to minimise ``objective`` (i.e. maximise the feature).

    Args:
        model: The network (eval mode; its parameters are not changed).
        objective: What to optimise (see :mod:`mi_tutor.featvis.objectives`).
        param: ``"pixel"``, ``"fourier"`` (1/f Fourier + colour decorrelation)
            or a parameterisation module whose ``forward()`` returns images.
        transforms: ``"standard"``, ``None`` (no robustness) or a transform.
        steps: Adam steps.
        lr: Adam learning rate.
        batch: Images optimised together (for diversity objectives).
        size: Image side.
        seed: Seeds the initialisation and the random transforms.
        progress: Show a tqdm progress bar.

    Returns:
        A :class:`RenderResult`.
    """
    for name in objective.layers:
        get_module(model, name)  # a bad layer name lists the valid ones
    device = next(model.parameters()).device
    model = model.eval()
    if isinstance(param, str):
        if param not in ("pixel", "fourier"):
            raise KeyError(f"`param`={param!r} is not valid. Valid values: 'pixel', 'fourier' or a module")
        param = (PixelImage if param == "pixel" else FourierImage)(batch, size, size, seed=seed)
    param = param.to(device)
    if transforms == "standard":
        transforms = standard_transforms(size)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(param.parameters(), lr=lr)
    needs = [p.requires_grad for p in model.parameters()]
    for p in model.parameters():
        p.requires_grad_(False)
    losses: list[float] = []
    try:
        for _ in tqdm(range(steps), disable=_quiet(progress), desc=f"render {objective.name}"):
            image = param()
            x = transforms(image, g) if transforms is not None else image
            loss = objective(run_with_cache(model, x, objective.layers, detach=False)[1])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    finally:
        for p, need in zip(model.parameters(), needs):
            p.requires_grad_(need)
    with torch.no_grad():
        return RenderResult(param().detach().cpu(), losses)


def deepdream_step(model: nn.Module, layer: str, image: torch.Tensor, lr: float = 0.02) -> torch.Tensor:
    """One DeepDream step: ascend the mean squared activation of ``layer``.

    The gradient is normalised by its mean absolute value, so ``lr`` is the
    average change of a pixel; the result is clipped to ``[0, 1]``.

    Args:
        model: The network.
        layer: Module name.
        image: ``[batch, 3, H, W]`` in ``[0, 1]``.
        lr: Step size.

    Returns:
        The new ``[batch, 3, H, W]`` image (detached).
    """
    get_module(model, layer)
    check_tensor("image", image, ("batch", 3, "H", "W"), floating=True)
    x = image.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        acts = run_with_cache(model, x, [layer], detach=False)[1][layer]
        (acts**2).mean().backward()
    grad = x.grad
    return (image + lr * grad / grad.abs().mean().clamp_min(1e-12)).clamp(0, 1).detach()


def run_deepdream(model: nn.Module, layer: str, image: torch.Tensor, steps: int = 20, lr: float = 0.02,
                  progress: bool = True) -> torch.Tensor:
    """Run :func:`deepdream_step` ``steps`` times from ``image``; returns the dreamt image."""
    for _ in tqdm(range(steps), disable=_quiet(progress), desc=f"deepdream {layer}"):
        image = deepdream_step(model, layer, image, lr)
    return image


def radial_spectrum(images: torch.Tensor, n_bins: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean power per radial-frequency bin (per-image means removed).

    Returns:
        ``(bin_centres [n_bins], power [n_bins])`` in cycles per pixel.
    """
    check_tensor("images", images, ("batch", "C", "H", "W"), floating=True)
    x = images - images.mean((-2, -1), keepdim=True)
    power = torch.fft.rfft2(x).abs().pow(2).mean((0, 1))
    freq = fft_frequencies(*images.shape[-2:]).to(power.device)
    edges = torch.linspace(0, float(freq.max()) + 1e-6, n_bins + 1)
    idx = (torch.bucketize(freq.flatten(), edges.to(power.device)) - 1).clamp(0, n_bins - 1)
    sums = torch.zeros(n_bins, device=power.device).index_add_(0, idx, power.flatten())
    counts = torch.bincount(idx, minlength=n_bins).clamp_min(1)
    return (edges[1:] + edges[:-1]) / 2, (sums / counts).cpu()


def high_frequency_share(images: torch.Tensor, cutoff: float = 0.25) -> torch.Tensor:
    """Share of each image's spectral energy above ``cutoff`` cycles per pixel.

    Each channel's mean is removed, the power ``|rfft2|^2`` is summed over the
    channels, and the energy at radial frequency ``> cutoff`` is divided by
    the total (the ``rfft2`` half-plane; both halves would give the same ratio
    up to the doubled columns, which we ignore as lucid does).

    Args:
        images: ``[batch, C, H, W]``.
        cutoff: In cycles per pixel (Nyquist is 0.5 along an axis).

    Returns:
        ``[batch]`` fractions in ``[0, 1]``.

    Examples:
        >>> checker = (torch.arange(8)[:, None] + torch.arange(8)[None]) % 2
        >>> high_frequency_share(checker.float().expand(1, 3, 8, 8)).item()
        1.0
    """
    check_tensor("images", images, ("batch", "C", "H", "W"), floating=True)
    check_range("cutoff", cutoff, 0.0, 0.75)
    x = images - images.mean((-2, -1), keepdim=True)
    power = torch.fft.rfft2(x).abs().pow(2).sum(1)  # [batch, H, W//2+1]
    high = fft_frequencies(*images.shape[-2:]).to(power.device) > cutoff
    return (power * high).flatten(1).sum(-1) / power.flatten(1).sum(-1).clamp_min(1e-12)
