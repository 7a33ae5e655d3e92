"""Image parameterisations: pixels, Fourier with 1/f scaling, colour decorrelation.

A parameterisation holds the optimised tensor and turns it into an RGB image in
``(0, 1)``. Gradient ascent in plain pixels favours high frequencies (every
pixel is an independent knob); in a Fourier basis scaled by ``1/f`` every
frequency gets equal energy at initialisation and steps are whitened, which
is a strong preconditioner towards natural-looking images.

Examples:
    >>> p = FourierImage(1, 32, 32, seed=0)
    >>> img = p()
    >>> img.shape, bool((img > 0).all() and (img < 1).all())
    (torch.Size([1, 3, 32, 32]), True)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..validation import check_tensor

__all__ = ["COLOR_CORRELATION", "fft_frequencies", "fft_scale", "spectrum_to_image", "decorrelate_colors",
           "PixelImage", "FourierImage"]

# Square root of the colour correlation of natural images (lucid's ImageNet
# estimate), columns normalised so the largest has norm 1.
_SVD_SQRT = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
COLOR_CORRELATION = _SVD_SQRT / _SVD_SQRT.norm(dim=0).max()


def fft_frequencies(h: int, w: int) -> torch.Tensor:
    """Radial frequency (cycles per pixel) of each entry of an ``rfft2`` spectrum -> ``[h, w // 2 + 1]``."""
    fy = torch.fft.fftfreq(h)[:, None]
    fx = torch.fft.rfftfreq(w)[None, :]
    return torch.sqrt(fx**2 + fy**2)


def fft_scale(h: int, w: int, decay_power: float = 1.0) -> torch.Tensor:
    """``1 / max(f, 1 / max(h, w)) ** decay_power`` for each ``rfft2`` entry -> ``[h, w // 2 + 1]``.

    Examples:
        >>> fft_scale(4, 4)[0, 0].item()
        4.0
    """
    freq = fft_frequencies(h, w)
    return 1.0 / freq.clamp_min(1.0 / max(h, w)) ** decay_power


def spectrum_to_image(spectrum: torch.Tensor, h: int, w: int, decay_power: float = 1.0,
                      scale: torch.Tensor | None = None) -> torch.Tensor:
    """Scale a real ``[..., h, w//2+1, 2]`` spectrum by :func:`fft_scale` and invert it.

    Args:
        spectrum: ``[..., h, w // 2 + 1, 2]`` real and imaginary parts.
        h: Image height.
        w: Image width.
        decay_power: Exponent of the ``1/f`` scale.
        scale: ``[h, w // 2 + 1]`` scale to use instead of ``fft_scale(h, w, decay_power)``.

    Returns:
        ``[..., h, w]`` (``irfft2`` with ``norm="ortho"``, divided by 4 as lucid does).
    """
    check_tensor("spectrum", spectrum, ("...", h, w // 2 + 1, 2), floating=True)
    if scale is None:
        scale = fft_scale(h, w, decay_power)
    check_tensor("scale", scale, (h, w // 2 + 1), floating=True)
    scale = scale.to(spectrum.device)
    complex_spec = torch.view_as_complex(spectrum.contiguous()) * scale
    return torch.fft.irfft2(complex_spec, s=(h, w), norm="ortho") / 4.0


def decorrelate_colors(x: torch.Tensor) -> torch.Tensor:
    """Map decorrelated channels to RGB: ``rgb[c] = sum_k C[c, k] x[k]`` at every pixel.

    Args:
        x: ``[batch, 3, H, W]``.

    Returns:
        ``[batch, 3, H, W]``.
    """
    check_tensor("x", x, ("batch", 3, "H", "W"), floating=True)
    return torch.einsum("ck,bkhw->bchw", COLOR_CORRELATION.to(x), x)


class PixelImage(nn.Module):
    """Raw pixels through a sigmoid: the naive parameterisation.

    Args:
        batch: Number of images.
        h: Image height.
        w: Image width.
        sd: Standard deviation of the initial logits.
        seed: Seed of the initialisation.
    """

    def __init__(self, batch: int, h: int, w: int, sd: float = 0.5, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.pixels = nn.Parameter(sd * torch.randn(batch, 3, h, w, generator=g))

    def forward(self) -> torch.Tensor:
        """The ``[batch, 3, h, w]`` image in ``(0, 1)``."""
        return torch.sigmoid(self.pixels)


class FourierImage(nn.Module):
    """A ``1/f``-scaled Fourier spectrum, optionally colour-decorrelated, through a sigmoid.

    Args:
        batch: Number of images.
        h: Image height.
        w: Image width.
        sd: Standard deviation of the initial spectrum. Lucid uses 0.01 on
            224-pixel images; on 32-pixel images that starts from an almost
            flat grey on which every ReLU of a deep unit's receptive field is
            off (zero gradient), so the default here is 0.2.
        decorrelate: Apply :func:`decorrelate_colors` before the sigmoid.
        seed: Seed of the initialisation.
        scale_fn: ``scale_fn(h, w) -> [h, w // 2 + 1]``, the ``1/f`` scale of the
            spectrum (default :func:`fft_scale`; lesson 3 passes the student's own).

    Examples:
        >>> FourierImage(1, 8, 6, scale_fn=lambda h, w: torch.ones(h, w // 2 + 1))().shape
        torch.Size([1, 3, 8, 6])
    """

    def __init__(self, batch: int, h: int, w: int, sd: float = 0.2, decorrelate: bool = True, seed: int = 0,
                 scale_fn: Callable[[int, int], torch.Tensor] = fft_scale):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.h, self.w, self.decorrelate = h, w, decorrelate
        self.spectrum = nn.Parameter(sd * torch.randn(batch, 3, h, w // 2 + 1, 2, generator=g))
        scale = scale_fn(h, w)
        check_tensor("scale_fn(h, w)", scale, (h, w // 2 + 1), floating=True)
        self.register_buffer("scale", scale.detach().clone(), persistent=False)

    def forward(self) -> torch.Tensor:
        """The ``[batch, 3, h, w]`` image in ``(0, 1)``."""
        x = spectrum_to_image(self.spectrum, self.h, self.w, scale=self.scale)
        if self.decorrelate:
            x = decorrelate_colors(x)
        return torch.sigmoid(x)
