"""Reading the weights of a curve circuit.

* :func:`conv_weights` - the kernels between two conv layers for chosen
  channel pairs (``[n_out, n_in, k, k]``).
* :func:`expanded_weights` - the effective kernel from the input of a path of
  layers (or whole stages and residual blocks) to output units, by
  differentiating the path with its non-linearities removed (ReLU as identity,
  max-pool as average pool). Where the path is linear (a 1x1 bottleneck, a
  residual skip) this is exact. The one implementation of the package:
  :func:`~mi_tutor.circuits_vision.stages.stage_entry` reads a whole stage through it.
* :func:`tangent_alignment` - how much of a unit's positive input weight lies
  along its preferred curve *and* comes from lower units whose orientation
  matches the curve's tangent there.
* :func:`equivariance_score` - whether the weights between two families depend
  only on the difference of the units' orientations (rotate both, same weight).

Kernel geometry: kernel row ``r``, column ``c`` of a ``k x k`` kernel reads the
input at offset ``(c - (k-1)/2, -(r - (k-1)/2)) * step`` (``x`` right, ``y``
up; PyTorch convs are cross-correlations, so no flip).

Examples:
    >>> conv = nn.Conv2d(2, 3, 5)
    >>> conv_weights(nn.Sequential(conv), "0", [0, 2], [1]).shape
    torch.Size([2, 1, 5, 5])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..hooks import get_module
from ..validation import check_tensor
from ..vision.stimuli import arc_distance

__all__ = [
    "conv_weights",
    "expanded_weights",
    "kernel_offsets",
    "arc_normal_field",
    "tangent_alignment",
    "shuffled_tangent_alignment",
    "equivariance_score",
]


def conv_weights(model: nn.Module, layer: str, out_channels: Sequence[int] | None = None,
                 in_channels: Sequence[int] | None = None) -> torch.Tensor:
    """Kernels of the conv module ``layer`` for the chosen output and input channels.

    Args:
        model: The network.
        layer: Name of an ``nn.Conv2d`` (e.g. ``"layer2.1"``).
        out_channels: Rows to keep (default all).
        in_channels: Columns to keep (default all).

    Returns:
        ``[n_out, n_in, k, k]`` (detached, on the model's device).
    """
    conv = get_module(model, layer)
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"Layer {layer!r} is a {type(conv).__name__}, not an nn.Conv2d: pick the conv itself "
                        "(e.g. 'layer2.1', not 'layer2')")
    w = conv.weight.detach()
    if out_channels is not None:
        w = w[list(out_channels)]
    if in_channels is not None:
        w = w[:, list(in_channels)]
    return w


_NONLINEAR = (nn.ReLU, nn.LeakyReLU, nn.GELU, nn.SiLU)


def _linearised(module: nn.Module, name: str, linearize: bool) -> nn.Module:
    """An eval-mode copy of the container ``module`` whose nonlinearities are linear (``linearize``).

    ReLUs become identities and max-pools average pools; batch norm in eval mode is affine already.
    Without ``linearize`` a container holding a nonlinearity raises.
    """
    import copy

    copied = copy.deepcopy(module).eval()
    for parent in copied.modules():
        for child_name, child in list(parent.named_children()):
            if isinstance(child, (*_NONLINEAR, nn.MaxPool2d)):
                if not linearize:
                    raise ValueError(f"Module {name!r} holds a {type(child).__name__} ({child_name!r}), which is not "
                                     "linear. Expanded weights need a linear path; pass linearize=True to treat "
                                     "ReLU as the identity and max-pool as average pool.")
                setattr(parent, child_name, nn.Identity() if isinstance(child, _NONLINEAR) else
                        nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
    return copied


def _linear_step(module: nn.Module, name: str, x: torch.Tensor, linearize: bool) -> torch.Tensor:
    if next(module.children(), None) is not None:      # a container (a stage, a residual block): run it whole
        return _linearised(module, name, linearize).to(x.device)(x)
    if isinstance(module, nn.Conv2d):
        return F.conv2d(x, module.weight, None, module.stride, module.padding, module.dilation, module.groups)
    if isinstance(module, nn.BatchNorm2d):
        scale = module.weight / torch.sqrt(module.running_var + module.eps) if module.affine else \
            1 / torch.sqrt(module.running_var + module.eps)
        return x * scale[None, :, None, None]
    if isinstance(module, nn.AvgPool2d):
        return module(x)
    if isinstance(module, (nn.Identity, nn.Dropout, nn.Dropout2d)):
        return x
    if linearize and isinstance(module, nn.MaxPool2d):
        return F.avg_pool2d(x, module.kernel_size, module.stride, module.padding)
    if linearize and isinstance(module, _NONLINEAR):
        return x
    raise ValueError(f"Module {name!r} ({type(module).__name__}) is not linear. Expanded weights need a linear "
                     "path; pass linearize=True to treat ReLU as the identity and max-pool as average pool.")


def _first_conv(module: nn.Module) -> nn.Conv2d | None:
    return next((m for m in module.modules() if isinstance(m, nn.Conv2d)), None)


def expanded_weights(model: nn.Module, path: Sequence[str], out_channel: int | Sequence[int],
                     in_channels: int | None = None, size: int = 32, linearize: bool = False) -> torch.Tensor:
    """Effective kernel from the input of ``path[0]`` to output channel(s) of ``path[-1]``.

    The "expanded weights" of the Circuits papers. The path's modules are
    applied in order (biases do not change a gradient); the gradient of the
    output unit at the centre of the map with respect to the input is the
    expanded weight. For
    two convs in a row it equals the full convolution of their kernels summed
    over the middle channels. A module of the path may be a container (a whole
    stage, a residual block): it runs as one piece, so a skip connection
    counts (with ``linearize``, its ReLUs as identities).

    Args:
        model: The network.
        path: Module names in forward order, e.g. ``["layer2.1", "layer2.2", "layer3.0", "layer3.1"]``.
        out_channel: Channel of the last module's output, or a list of channels.
        in_channels: Channels of the first module's input (default: those of its first conv).
        size: Side of the input map to differentiate on (large enough for the receptive field).
        linearize: Allow ReLU (as identity) and max-pool (as average pool).

    Returns:
        ``[in_channels, size, size]`` for one channel, ``[n_out, in_channels, size, size]`` for a list;
        the receptive field sits around the centre.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Conv2d(2, 1, 3))
        >>> expanded_weights(net, ["0", "1"], 0, size=9).shape
        torch.Size([1, 9, 9])
        >>> expanded_weights(nn.Sequential(net), ["0"], [0, 0], size=9).shape
        torch.Size([2, 1, 9, 9])
    """
    if not path:
        raise ValueError("`path` must name at least one module")
    modules = [get_module(model, name) for name in path]
    if in_channels is None:
        first = modules[0] if isinstance(modules[0], nn.Conv2d) else _first_conv(modules[0])
        if first is None:
            raise ValueError(f"Pass `in_channels`: the path starts with {type(modules[0]).__name__}, not a conv")
        in_channels = first.in_channels
    p = next(model.parameters())
    x = torch.zeros(1, in_channels, size, size, device=p.device, dtype=p.dtype, requires_grad=True)
    h = x
    for name, module in zip(path, modules):
        h = _linear_step(module, name, h, linearize)
    channels = [out_channel] if isinstance(out_channel, int) else [int(c) for c in out_channel]
    for c in channels:
        if not 0 <= c < h.shape[1]:
            raise IndexError(f"`out_channel`={c} but {path[-1]!r} has {h.shape[1]} channels")
    centre = h[0, :, h.shape[2] // 2, h.shape[3] // 2]
    grads = [torch.autograd.grad(centre[c], x, retain_graph=True)[0][0] for c in channels]
    return grads[0].detach() if isinstance(out_channel, int) else torch.stack(grads).detach()


def kernel_offsets(kernel_size: int, step: float, device: torch.device | str | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Input offsets ``(x, y)`` (``[k, k]`` each, y up) read by each kernel position.

    Examples:
        >>> x, y = kernel_offsets(3, 1.0)
        >>> x[0].tolist(), y[:, 0].tolist()
        ([-1.0, 0.0, 1.0], [1.0, 0.0, -1.0])
    """
    c = (torch.arange(kernel_size, dtype=torch.float32, device=device) - (kernel_size - 1) / 2) * step
    rows, cols = torch.meshgrid(c, c, indexing="ij")
    return cols, 0.0 - rows


def arc_normal_field(kernel_size: int, step: float, orientation: float, curvature: float, length: float = 0.9,
                     sigma: float | None = None, device: torch.device | str | None = None
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Where the preferred arc runs through a kernel, and its normal direction there.

    The arc is the one :func:`~mi_tutor.vision.stimuli.render_curves` draws: midpoint at the
    kernel centre, convex side facing ``orientation``.

    Args:
        kernel_size: ``k``.
        step: Input distance (half-widths of the image) between kernel positions.
        orientation: Radians.
        curvature: ``1 / radius`` (``0`` for a line).
        length: Arc length.
        sigma: Width of the band around the arc (default ``step``).
        device: Device of the results.

    Returns:
        ``(near, normal)``, both ``[k, k]``: ``near = exp(-d^2 / 2 sigma^2)`` for
        the distance ``d`` to the arc, and the direction (radians) of the arc's
        outward normal at the nearest point of the arc.
    """
    x, y = kernel_offsets(kernel_size, step, device)
    sigma = sigma or step
    d = arc_distance(x, y, torch.tensor([float(orientation)]), torch.tensor([float(curvature)]), length)[0]
    near = torch.exp(-d**2 / (2 * sigma**2))
    if curvature < 1e-4:
        normal = torch.full_like(x, float(orientation))
    else:
        r = 1.0 / curvature
        cx, cy = -r * math.cos(orientation), -r * math.sin(orientation)   # circle centre
        half = min(length / 2 / r, math.pi)
        phi = torch.atan2(y - cy, x - cx)
        rel = torch.remainder(phi - orientation + math.pi, 2 * math.pi) - math.pi
        normal = orientation + rel.clamp(-half, half)                   # nearest point's normal
    return near, torch.remainder(normal, 2 * math.pi)


def tangent_alignment(kernels: torch.Tensor, pre_orientations: torch.Tensor, orientation: float, curvature: float,
                      step: float, axial: bool = True, length: float = 0.9, sigma: float | None = None) -> float:
    """Share of positive weight that sits on the preferred curve with the tangent's orientation.

    ``sum_{i,p} w+[i,p] * near(p) * cos(m * (phi_i - normal(p))) / sum_{i,p} w+[i,p]``

    where ``w+`` is the positive part of the kernel from lower unit ``i`` at
    position ``p``, ``phi_i`` is that unit's preferred orientation, ``near``
    and ``normal`` come from :func:`arc_normal_field` and ``m = 2`` when
    ``axial`` (edges and lines: ``phi`` and ``phi + pi`` are the same) or 1
    (curves). 1 means all positive weight lies on the curve and reads units
    aligned with its tangent; random weights give about 0; negative means the
    positive weight prefers the perpendicular orientation.

    Args:
        kernels: ``[n_pre, k, k]`` weights into one unit.
        pre_orientations: ``[n_pre]`` radians.
        orientation: Orientation of the unit's preferred curve (radians).
        curvature: Its curvature.
        step: Input distance between kernel positions (``2 / size`` times the
            total stride of the input layer, e.g. ``2 / 32 * 2`` after one pool).
        axial: Orientations of the lower units are axial (mod ``pi``).
        length: Arc length of the preferred curve.
        sigma: Band width around the arc (default ``step``).

    Returns:
        A float in ``[-1, 1]``.
    """
    dims = check_tensor("pre_orientations", pre_orientations, ("n_pre",), floating=True)
    check_tensor("kernels", kernels, ("n_pre", "k", "k"), dims=dims, floating=True)
    k = kernels.shape[-1]
    near, normal = arc_normal_field(k, step, orientation, curvature, length, sigma, kernels.device)
    m = 2.0 if axial else 1.0
    match = torch.cos(m * (pre_orientations.to(kernels.device)[:, None, None] - normal[None]))  # [n_pre, k, k]
    pos = kernels.clamp_min(0)
    total = pos.sum()
    if float(total) <= 0:
        return 0.0
    return float((pos * near[None] * match).sum() / total)


def shuffled_tangent_alignment(kernels: torch.Tensor, pre_orientations: torch.Tensor, orientation: float,
                               curvature: float, step: float, axial: bool = True, n_shuffles: int = 200, seed: int = 0,
                               length: float = 0.9, sigma: float | None = None,
                               alignment_fn: Callable[[torch.Tensor, torch.Tensor, float, float, float], float] | None
                               = None) -> torch.Tensor:
    """Null distribution of :func:`tangent_alignment` with the lower units' orientations shuffled.

    The geometry is computed once and the shuffles are scored together.

    Args:
        kernels, pre_orientations, orientation, curvature, step, axial, length, sigma: As in
            :func:`tangent_alignment`.
        n_shuffles: How many permutations of ``pre_orientations``.
        seed: Seeds the permutations.
        alignment_fn: ``alignment_fn(kernels, pre_orientations, orientation, curvature, step) -> float``
            scores each shuffle instead (lesson 4 passes the student's ``tangent_alignment``, so the null
            is measured like the real value); it writes the default ``axial``, ``length`` and ``sigma``.

    Returns:
        ``[n_shuffles]`` alignments; the real value should sit far above them.

    Raises:
        ValueError: for an ``alignment_fn`` with another ``axial``, ``length`` or ``sigma``.

    Examples:
        >>> k = torch.rand(4, 5, 5)
        >>> shuffled_tangent_alignment(k, torch.rand(4), 0.0, 2.0, 0.2, n_shuffles=3).shape
        torch.Size([3])
    """
    dims = check_tensor("pre_orientations", pre_orientations, ("n_pre",), floating=True)
    check_tensor("kernels", kernels, ("n_pre", "k", "k"), dims=dims, floating=True)
    g = torch.Generator().manual_seed(seed)
    perms = torch.stack([torch.randperm(len(pre_orientations), generator=g) for _ in range(n_shuffles)])
    if alignment_fn is not None:
        if not axial or length != 0.9 or sigma is not None:
            raise ValueError("an `alignment_fn` scores axial orientations with length 0.9 and the default sigma; "
                             f"got axial={axial}, length={length}, sigma={sigma}")
        return torch.tensor([float(alignment_fn(kernels, pre_orientations[perm], orientation, curvature, step))
                             for perm in perms.tolist()])
    near, normal = arc_normal_field(kernels.shape[-1], step, orientation, curvature, length, sigma, kernels.device)
    m = 2.0 if axial else 1.0
    phi = pre_orientations.to(kernels.device)[perms.to(kernels.device)]          # [S, n_pre]
    match = torch.cos(m * (phi[:, :, None, None] - normal[None, None]))         # [S, n_pre, k, k]
    pos = kernels.clamp_min(0)
    total = pos.sum()
    if float(total) <= 0:
        return torch.zeros(n_shuffles)
    return ((pos[None] * near[None, None] * match).sum((1, 2, 3)) / total).float().cpu()


def equivariance_score(weights: torch.Tensor, out_orientations: torch.Tensor, in_orientations: torch.Tensor,
                       order: int = 2, axial: bool = False) -> float:
    """How well the weights between two families are a function of the orientation difference alone.

    For scalar weights ``[n_out, n_in]`` it fits
    ``W[o, i] ~ a_0 + sum_{k<=order} a_k cos(k d) + b_k sin(k d)`` with
    ``d = in_orientation_i - out_orientation_o`` (``2 d`` when ``axial``, for
    edge units whose orientation is only defined mod ``pi``) by least squares
    and returns the fraction of variance explained (R^2). An equivariant
    circuit (rotate both units, get the same weight) scores near 1.

    For kernels ``[n_out, n_in, k, k]`` each kernel is first rotated by
    ``-out_orientation_o`` (into the output unit's own frame, see
    :func:`~.rotation.rotate_images`), then every kernel position is fitted
    as above with one shared design: equivariance means the rotated kernels
    depend on ``d`` only, position by position.

    Args:
        weights: ``[n_out, n_in]`` or ``[n_out, n_in, k, k]``.
        out_orientations: ``[n_out]`` radians.
        in_orientations: ``[n_in]`` radians.
        order: Number of harmonics of the fit.
        axial: The input orientations are axial (use ``2 d``).

    Returns:
        R^2 in ``[0, 1]`` (0 when the weights are constant). Compare it with
        shuffled orientations: with few units a flexible fit explains some
        variance by chance.

    Examples:
        >>> o = torch.linspace(0, 6, 6); i = torch.linspace(0, 6, 7)
        >>> w = torch.cos(i[None] - o[:, None])
        >>> round(equivariance_score(w, o, i), 4)
        1.0
    """
    from .rotation import rotate_images

    dims = check_tensor("out_orientations", out_orientations, ("n_out",), floating=True)
    dims = check_tensor("in_orientations", in_orientations, ("n_in",), dims=dims, floating=True)
    if weights.dim() == 4:
        check_tensor("weights", weights, ("n_out", "n_in", "k", "k"), dims=dims, floating=True)
        w = weights.detach().double().cpu()
        n_out, n_in, k, _ = w.shape
        turned = rotate_images(w, -out_orientations.detach().double().cpu(), fill="zeros")
        y = turned.reshape(n_out * n_in, k * k)
    else:
        check_tensor("weights", weights, ("n_out", "n_in"), dims=dims, floating=True)
        y = weights.detach().double().cpu().reshape(-1, 1)
    d = (in_orientations.detach().double().cpu()[None, :] - out_orientations.detach().double().cpu()[:, None]).flatten()
    if axial:
        d = 2 * d
    cols = [torch.ones_like(d)]
    for h in range(1, order + 1):
        cols += [torch.cos(h * d), torch.sin(h * d)]
    X = torch.stack(cols, 1)
    coef = torch.linalg.lstsq(X, y).solution
    resid = y - X @ coef
    var = ((y - y.mean(0, keepdim=True)) ** 2).sum()
    if float(var) <= 1e-24:
        return 0.0
    return float((1 - (resid**2).sum() / var).clamp(0, 1))
