"""Transformation robustness: random pad, jitter, scale and rotate, applied every step.

An image that excites a unit only at one exact pixel alignment is an
adversarial pattern, not a feature. Random small transformations at every
optimisation step (Olah et al. 2017) keep only what survives them. The
pieces compose with :func:`compose`; the random ones take a ``torch.Generator``
so a render is reproducible.

Examples:
    >>> t = standard_transforms(size=32)
    >>> t(torch.rand(2, 3, 32, 32), torch.Generator().manual_seed(0)).shape
    torch.Size([2, 3, 32, 32])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from ..validation import check_tensor

__all__ = ["jitter", "pad", "random_jitter", "random_scale", "random_rotate", "resize", "compose",
           "standard_transforms"]

Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def jitter(images: torch.Tensor, d: int, ox: int, oy: int) -> torch.Tensor:
    """Crop a ``d``-pixel-smaller window at offset ``(ox, oy)`` (``0 <= ox, oy <= d``).

    Args:
        images: ``[batch, C, H, W]``.
        d: Jitter amplitude in pixels.
        ox: Column offset of the window.
        oy: Row offset of the window.

    Returns:
        ``[batch, C, H - d, W - d]``.

    Examples:
        >>> jitter(torch.arange(16.).reshape(1, 1, 4, 4), 1, 1, 0)[0, 0, 0].tolist()
        [1.0, 2.0, 3.0]
    """
    check_tensor("images", images, ("batch", "C", "H", "W"))
    if not (0 <= ox <= d and 0 <= oy <= d):
        raise ValueError(f"offsets must lie in [0, {d}] but are ox={ox}, oy={oy}")
    h, w = images.shape[-2:]
    return images[..., oy:h - d + oy, ox:w - d + ox]


def pad(width: int, value: float = 0.5) -> Transform:
    """Pad every side with ``width`` pixels of a constant grey."""
    return lambda x, g: F.pad(x, (width,) * 4, mode="constant", value=value)


def random_jitter(d: int) -> Transform:
    """Random crop ``d`` pixels smaller (see :func:`jitter`)."""
    def apply(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        ox, oy = torch.randint(0, d + 1, (2,), generator=g).tolist()
        return jitter(x, d, ox, oy)
    return apply


def random_scale(scales: Sequence[float]) -> Transform:
    """Resize by a factor drawn from ``scales`` (bilinear)."""
    def apply(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        s = scales[int(torch.randint(len(scales), (1,), generator=g))]
        h, w = x.shape[-2:]
        return F.interpolate(x, size=(max(1, round(h * s)), max(1, round(w * s))), mode="bilinear",
                             align_corners=False)
    return apply


def random_rotate(degrees: Sequence[float]) -> Transform:
    """Rotate by an angle (degrees) drawn from ``degrees`` with torchvision's ``rotate``."""
    from torchvision.transforms import InterpolationMode  # here: importing torchvision costs ~3 s of CPU
    from torchvision.transforms import functional as TF

    def apply(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        angle = float(degrees[int(torch.randint(len(degrees), (1,), generator=g))])
        return TF.rotate(x, angle, interpolation=InterpolationMode.BILINEAR, fill=0.5)
    return apply


def resize(size: int) -> Transform:
    """Resize back to ``size x size`` (bilinear), so the network sees its input size."""
    return lambda x, g: F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def compose(transforms: Sequence[Transform]) -> Transform:
    """Apply ``transforms`` in order with the same generator."""
    def apply(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        for t in transforms:
            x = t(x, g)
        return x
    return apply


def standard_transforms(size: int = 32) -> Transform:
    """Lucid's standard list, scaled down to small images, ending at ``size x size``.

    pad 4 -> jitter 4 -> scale 0.9..1.1 -> rotate -10..10 degrees -> jitter 2 -> resize.
    """
    return compose([
        pad(4), random_jitter(4),
        random_scale([1 + (i - 5) / 50 for i in range(11)]),
        random_rotate(list(range(-10, 11)) + 5 * [0]),
        random_jitter(2), resize(size),
    ])
