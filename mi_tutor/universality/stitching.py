"""Model stitching (Lenc & Vedaldi 2015; Bansal, Nakkiran & Barak 2021).

Run net A up to layer ``i``, map its feature map into net B's layer ``j`` with a
trained **1x1 convolution**, and let B finish. Both nets stay frozen; only the
stitch learns. If the stitched net is nearly as accurate as B (and A), A's
layer ``i`` carries what B's later layers need, in a linearly readable form:
the two nets learned compatible representations.

Hooks do the wiring, so any pair of CNNs with hookable layers works: A's
forward stops at ``layer_a``; B's ``layer_b`` output is replaced by the stitch
of A's. Feature maps of different sizes are resized to B's (average pooling
down, nearest up).

Examples:
    >>> from mi_tutor.vision.architectures import PlainNet
    >>> s = StitchedNet(PlainNet(), PlainNet(), "layer1", "layer1")
    >>> s(torch.rand(2, 3, 32, 32)).shape
    torch.Size([2, 9])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..device import model_device, seed_everything
from ..hooks import get_module, hooks, run_with_cache
from ..validation import check_tensor

__all__ = ["StitchConfig", "StitchedNet", "train_stitch", "stitch_accuracy", "stitch_init_lstsq", "stitch_fit_lstsq",
           "layer_output_size"]


class _Stop(Exception):
    def __init__(self, act: torch.Tensor):
        self.act = act


def _resize(act: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(act.shape[-2:]) == tuple(size):
        return act
    if act.shape[-2] >= size[0]:
        return nn.functional.adaptive_avg_pool2d(act, size)
    return nn.functional.interpolate(act, size=size, mode="nearest")


def _out_shape(model: nn.Module, layer: str, x: torch.Tensor) -> tuple[int, ...]:
    _, cache = run_with_cache(model, x, [layer])
    return tuple(cache[layer].shape[1:])


class StitchedNet(nn.Module):
    """Net A up to ``layer_a`` -> 1x1 conv -> net B from after ``layer_b``.

    Args:
        net_a: The bottom net (frozen).
        net_b: The top net (frozen).
        layer_a: Module of A whose output is read, ``[batch, C_a, H_a, W_a]``.
        layer_b: Module of B whose output is replaced, ``[batch, C_b, H_b, W_b]``.
        image_size: Side of the square input images (to probe the layer shapes).

    Attributes:
        stitch: The trainable ``nn.Conv2d(C_a, C_b, 1)``.
    """

    def __init__(self, net_a: nn.Module, net_b: nn.Module, layer_a: str, layer_b: str, image_size: int = 32):
        super().__init__()
        get_module(net_a, layer_a)
        get_module(net_b, layer_b)
        self.net_a, self.net_b = net_a.eval(), net_b.eval()
        for p in list(net_a.parameters()) + list(net_b.parameters()):
            p.requires_grad_(False)
        self.layer_a, self.layer_b = layer_a, layer_b
        device = model_device(net_b)
        probe = torch.zeros(1, 3, image_size, image_size, device=device)
        with torch.no_grad():
            shape_a, shape_b = _out_shape(net_a, layer_a, probe), _out_shape(net_b, layer_b, probe)
        self.size_b = shape_b[1:]
        self.stitch = nn.Conv2d(shape_a[0], shape_b[0], 1).to(device)

    def train(self, mode: bool = True) -> "StitchedNet":
        """Only the stitch changes mode; A and B keep their eval-mode batch norm."""
        self.training = mode
        self.stitch.train(mode)
        return self

    def bottom(self, x: torch.Tensor) -> torch.Tensor:
        """A's ``layer_a`` activations ``[batch, C_a, H_a, W_a]`` for images ``x`` (A's forward stops there)."""
        def stop(act: torch.Tensor, hook) -> None:
            raise _Stop(act)

        try:
            with hooks(self.net_a, [(self.layer_a, stop)]):
                self.net_a(x)
        except _Stop as s:
            return s.act
        raise RuntimeError(f"layer {self.layer_a!r} of net A was never called")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[batch, 3, H, W]`` -> B's logits computed from A's stitched features."""
        mapped = self.stitch(_resize(self.bottom(x), self.size_b))

        with hooks(self.net_b, [(self.layer_b, lambda act, hook: mapped)]):
            return self.net_b(x)


@dataclass
class StitchConfig:
    """Training of the stitch: Adam on cross-entropy with fresh batches.

    Attributes:
        steps: Optimiser steps.
        batch_size: Images per step.
        lr: Adam learning rate.
        seed: Seeds the stitch's initialisation and the data stream.
        init_lstsq: Start from the least-squares map of A's features onto B's
            (on the first batch) instead of a random 1x1 conv.
    """

    steps: int = 150
    batch_size: int = 64
    lr: float = 3e-3
    seed: int = 0
    init_lstsq: bool = True


@torch.no_grad()
def _lstsq_fit(conv: nn.Conv2d, a: torch.Tensor, b: torch.Tensor) -> None:
    """Set the 1x1 ``conv`` to the least-squares map of ``a`` ``[n, C_a, h, w]`` onto ``b`` ``[n, C_b, h, w]``."""
    fa = torch.cat([a.permute(0, 2, 3, 1).flatten(0, 2), torch.ones(a.numel() // a.shape[1], 1, device=a.device)], 1)
    fb = b.permute(0, 2, 3, 1).flatten(0, 2)
    sol = torch.linalg.lstsq(fa.double().cpu(), fb.double().cpu()).solution.to(conv.weight.dtype).to(conv.weight.device)
    conv.weight.copy_(sol[:-1].T[:, :, None, None])
    conv.bias.copy_(sol[-1])


@torch.no_grad()
def _lstsq_init(net: StitchedNet, x: torch.Tensor) -> None:
    a = _resize(net.bottom(x), net.size_b)
    _, cache = run_with_cache(net.net_b, x, [net.layer_b])
    _lstsq_fit(net.stitch, a, cache[net.layer_b])


@torch.no_grad()
def layer_output_size(model: nn.Module, layer: str, x: torch.Tensor) -> tuple[int, int]:
    """``(height, width)`` of ``layer``'s output for images like ``x`` ``[n, 3, H, W]``."""
    _, cache = run_with_cache(model, x[:1], [layer])
    return tuple(cache[layer].shape[-2:])


@torch.no_grad()
def stitch_init_lstsq(net_a: nn.Module, net_b: nn.Module, layer_a: str, layer_b: str, x: torch.Tensor) -> nn.Conv2d:
    """A 1x1 conv from A's ``layer_a`` into B's ``layer_b``, fitted by least squares on images ``x``.

    A's map is average-pooled (or upsampled) to B's size first, as :class:`StitchedNet` does;
    apply the same resizing before the returned conv.

    Args:
        net_a: Bottom net.
        net_b: Top net.
        layer_a: Layer of A, output ``[n, C_a, h_a, w_a]``.
        layer_b: Layer of B, output ``[n, C_b, h_b, w_b]``.
        x: ``[n, 3, H, W]`` images (a few hundred are plenty).

    Returns:
        ``nn.Conv2d(C_a, C_b, 1)`` on ``x``'s device, minimising the squared error to B's activations.

    Examples:
        >>> _ = torch.manual_seed(0)  # a random net can have dead channels: seeded, the fit is exact
        >>> from mi_tutor.vision.architectures import PlainNet
        >>> net = PlainNet().eval()
        >>> conv = stitch_init_lstsq(net, net, "layer1", "layer1", torch.rand(4, 3, 32, 32))
        >>> torch.allclose(conv.weight[:, :, 0, 0], torch.eye(16), atol=1e-3)
        True
    """
    check_tensor("x", x, ("n", 3, "H", "W"), floating=True)
    _, ca = run_with_cache(net_a, x, [layer_a])
    _, cb = run_with_cache(net_b, x, [layer_b])
    return stitch_fit_lstsq(ca[layer_a], cb[layer_b])


@torch.no_grad()
def stitch_fit_lstsq(acts_a: torch.Tensor, acts_b: torch.Tensor) -> nn.Conv2d:
    """:func:`stitch_init_lstsq` from activations already recorded (each net run once for many stitches).

    Args:
        acts_a: A's layer on the fitting images, ``[n, C_a, h_a, w_a]``; resized to B's size first.
        acts_b: B's layer on the same images, ``[n, C_b, h_b, w_b]``.

    Returns:
        ``nn.Conv2d(C_a, C_b, 1)`` on ``acts_a``'s device, minimising the squared error to ``acts_b``.

    Examples:
        >>> a = torch.rand(4, 2, 8, 8)
        >>> conv = stitch_fit_lstsq(a, 3 * a[:, :1, ::2, ::2])
        >>> tuple(conv.weight.shape)
        (1, 2, 1, 1)
    """
    dims = check_tensor("acts_a", acts_a, ("n", "C_a", "h_a", "w_a"), floating=True)
    check_tensor("acts_b", acts_b, ("n", "C_b", "h_b", "w_b"), floating=True, dims=dims)
    a = _resize(acts_a, tuple(acts_b.shape[-2:]))
    conv = nn.Conv2d(a.shape[1], acts_b.shape[1], 1).to(acts_a.device)
    _lstsq_fit(conv, a, acts_b)
    return conv


def train_stitch(net_a: nn.Module, net_b: nn.Module, layer_a: str, layer_b: str,
                 make_batch: Callable[[int, int], tuple[torch.Tensor, torch.Tensor]],
                 cfg: StitchConfig | None = None, image_size: int | None = None) -> StitchedNet:
    """Train a 1x1-conv stitch from A's ``layer_a`` into B's ``layer_b`` on B's task.

    Args:
        net_a: Bottom net.
        net_b: Top net (its labels are the task).
        layer_a: Layer of A.
        layer_b: Layer of B.
        make_batch: ``(n, seed) -> (images [n, 3, H, W], labels [n])``.
        cfg: Training settings.
        image_size: Input side; read from a batch when ``None``.

    Returns:
        The trained :class:`StitchedNet` in eval mode.
    """
    cfg = cfg or StitchConfig()
    seed_everything(cfg.seed)
    x0, _ = make_batch(cfg.batch_size, cfg.seed * 7919 + 10**6)
    check_tensor("images from make_batch", x0, ("n", 3, "H", "W"), floating=True)
    net = StitchedNet(net_a, net_b, layer_a, layer_b, image_size or x0.shape[-1])
    device = net.stitch.weight.device
    if cfg.init_lstsq:
        _lstsq_init(net, x0.to(device))
    opt = torch.optim.Adam(net.stitch.parameters(), lr=cfg.lr)
    net.train()
    for step in range(cfg.steps):
        x, y = make_batch(cfg.batch_size, cfg.seed * 7919 + step)
        loss = nn.functional.cross_entropy(net(x.to(device)), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net.eval()


@torch.no_grad()
def stitch_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256) -> float:
    """Accuracy of any classifier (a stitched net, A or B) on ``images`` ``[n, 3, H, W]``."""
    dims = check_tensor("images", images, ("n", 3, "H", "W"), floating=True)
    check_tensor("labels", labels, ("n",), dims=dims)
    device = model_device(model)
    correct = 0
    for i in range(0, len(images), batch_size):
        out = model(images[i:i + batch_size].to(device))
        correct += int((out.argmax(-1).cpu() == labels[i:i + batch_size].cpu()).sum())
    return correct / len(images)
