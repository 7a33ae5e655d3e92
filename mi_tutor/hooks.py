"""Hooks on any ``nn.Module``: capture activations by name, edit them in a forward pass.

The names and calling conventions follow TransformerLens so the skills transfer:
``run_with_cache`` returns ``(output, cache)``, ``run_with_hooks`` takes
``fwd_hooks=[(name, hook_fn)]`` and a hook function has the signature
``hook_fn(activation, hook) -> activation | None`` where ``hook.name`` is the
module's name. Module names are those of ``model.named_modules()``
(``"layer1"``, ``"layer1.0"``, ``"head.2"``, ...). :func:`run_hooked` and :func:`run_cached`
are the one dispatch for code that takes any model: a model with its own hook points
(:class:`HookPointModel`, the course's transformer) runs those, any other module is hooked
by module name.

Over a whole dataset, :func:`collect` records named layers batch by batch and
:func:`pool` turns a conv layer's ``[n, C, H, W]`` maps into one vector per example.

Examples:
    >>> import torch, torch.nn as nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> out, cache = run_with_cache(net, torch.randn(3, 4))
    >>> cache["1"].shape
    torch.Size([3, 8])
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from .device import model_device
from .validation import check_tensor, unknown_name

__all__ = [
    "HookContext",
    "HookFn",
    "checked_forward_hook",
    "ActivationCache",
    "LayerInfo",
    "get_module",
    "module_names",
    "HookPointModel",
    "hook_names",
    "run_hooked",
    "run_cached",
    "run_with_cache",
    "run_with_hooks",
    "hooks",
    "list_layers",
    "Pool",
    "pool",
    "default_layers",
    "collect",
]

HookFn = Callable[[torch.Tensor, "HookContext"], torch.Tensor | None]


@dataclass(frozen=True)
class HookContext:
    """What a hook function is told about where it runs (TransformerLens' ``hook``)."""

    name: str
    module: nn.Module


def module_names(model: nn.Module) -> list[str]:
    """All hookable module names of ``model`` (the root's empty name excluded)."""
    return [name for name, _ in model.named_modules() if name]


def _unknown_name(kind: str, name: str, valid: Sequence[str]) -> KeyError:
    listing = ", ".join(valid[:60]) + (" ..." if len(valid) > 60 else "")
    return unknown_name(f"No {kind} named {name!r}", name, valid, tail=f"Valid names: {listing}")


def get_module(model: nn.Module, name: str) -> nn.Module:
    """Return the submodule called ``name``, or raise listing the valid names.

    Examples:
        >>> net = nn.Sequential(nn.Linear(2, 2))
        >>> get_module(net, "0")
        Linear(in_features=2, out_features=2, bias=True)
    """
    modules = dict(model.named_modules())
    if not name or name not in modules:
        raise _unknown_name("module", name, module_names(model))
    return modules[name]


class ActivationCache(Mapping[str, torch.Tensor]):
    """A read-only mapping from module name to the activation it produced.

    Looking up a name that was not cached raises a ``KeyError`` that lists the
    cached names and the nearest matches.
    """

    def __init__(self, activations: dict[str, torch.Tensor]):
        self._acts = dict(activations)

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self._acts:
            raise _unknown_name("cached activation", name, list(self._acts))
        return self._acts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._acts)

    def __len__(self) -> int:
        return len(self._acts)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(v.shape)}" for k, v in self._acts.items())
        return f"ActivationCache({shapes})"

    def to(self, device: torch.device | str) -> "ActivationCache":
        """Return a copy with every activation moved to ``device``."""
        return ActivationCache({k: v.to(device) for k, v in self._acts.items()})


def _output_tensor(output: object, name: str) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    raise TypeError(f"Module {name!r} returned a {type(output).__name__}, not a tensor: it cannot be cached")


def checked_forward_hook(fn: Callable[[torch.Tensor, object], torch.Tensor | None],
                         hook: object) -> Callable[[nn.Module, tuple, object], torch.Tensor | None]:
    """Wrap ``fn(activation, hook)`` as a torch forward hook that checks what it returns.

    The one hook engine of the package: :func:`hooks` (any ``nn.Module``) and the
    transformer's :class:`~mi_tutor.transformer.hook_points.HookPoint` both attach
    their hook functions through it. ``hook`` is what ``fn`` is told about where it
    runs; it must have a ``name``.

    Args:
        fn: ``fn(activation, hook)`` returning ``None`` (keep the activation) or a
            tensor of the activation's shape (replace it).
        hook: A :class:`HookContext` or a ``HookPoint``.

    Returns:
        A function for ``module.register_forward_hook``.

    Examples:
        >>> lin = nn.Linear(2, 2)
        >>> h = lin.register_forward_hook(checked_forward_hook(lambda a, hook: a * 0, HookContext("lin", lin)))
        >>> lin(torch.ones(1, 2)).abs().sum().item()
        0.0
        >>> h.remove()
    """

    def forward_hook(module: nn.Module, inputs: tuple, output: object) -> torch.Tensor | None:
        act = _output_tensor(output, hook.name)
        new = fn(act, hook)
        if new is None:
            return None
        if not isinstance(new, torch.Tensor) or new.shape != act.shape:
            got = tuple(new.shape) if isinstance(new, torch.Tensor) else type(new).__name__
            raise ValueError(
                f"The hook on {hook.name!r} returned {got}; a hook must return None or a tensor "
                f"of the activation's shape {tuple(act.shape)}."
            )
        return new

    return forward_hook


@contextlib.contextmanager
def hooks(model: nn.Module, fwd_hooks: Sequence[tuple[str, HookFn]]) -> Iterator[nn.Module]:
    """Attach forward hooks for the duration of a ``with`` block.

    Each hook gets ``(activation, hook)`` and may return a replacement tensor of
    the same shape (or ``None`` to leave the activation unchanged).

    Examples:
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        >>> with hooks(net, [("1", lambda act, hook: act * 0)]):
        ...     net(torch.ones(1, 2)).abs().sum().item()
        0.0
    """
    handles = []
    try:
        for name, fn in fwd_hooks:
            module = get_module(model, name)
            handles.append(module.register_forward_hook(checked_forward_hook(fn, HookContext(name, module))))
        yield model
    finally:
        for handle in handles:
            handle.remove()


def run_with_hooks(
    model: nn.Module, x: torch.Tensor, fwd_hooks: Sequence[tuple[str, HookFn]] = ()
) -> torch.Tensor:
    """Run ``model(x)`` with temporary forward hooks and return the output."""
    with hooks(model, fwd_hooks):
        return model(x)


def run_with_cache(
    model: nn.Module,
    x: torch.Tensor,
    names: Sequence[str] | None = None,
    *,
    detach: bool = True,
) -> tuple[torch.Tensor, ActivationCache]:
    """Run ``model(x)`` and record the outputs of the named modules.

    Args:
        model: Any ``nn.Module``.
        x: The input batch.
        names: Module names to record; all leaf-or-not modules when ``None``.
        detach: Detach the cached activations from the autograd graph.

    Returns:
        ``(output, cache)`` where ``cache[name]`` has the module's output shape.
    """
    names = module_names(model) if names is None else list(names)
    store: dict[str, torch.Tensor] = {}

    def save(act: torch.Tensor, hook: HookContext) -> None:
        store[hook.name] = act.detach() if detach else act

    output = run_with_hooks(model, x, [(n, save) for n in names])
    return output, ActivationCache({n: store[n] for n in names if n in store})


@runtime_checkable
class HookPointModel(Protocol):
    """A model with its own named hook points (the course's transformer, TransformerLens' ``HookedRootModule``)."""

    def hook_names(self) -> list[str]: ...

    def run_with_hooks(self, *args, fwd_hooks: Sequence[tuple[str, HookFn]] = (), **kwargs) -> torch.Tensor: ...


def hook_names(model: nn.Module) -> list[str]:
    """Every name a hook can attach to: a model's own hook points, or else its module names.

    Examples:
        >>> hook_names(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
        ['0', '1']
    """
    if isinstance(model, HookPointModel):
        return model.hook_names()
    return module_names(model)


def run_hooked(model: nn.Module, x: torch.Tensor, fwd_hooks: Sequence[tuple[str, HookFn]] = ()) -> torch.Tensor:
    """``model(x)`` with temporary hooks ``[(name, fn(act, hook) -> act | None)]``, on any model.

    The one dispatch between the two kinds of names: a :class:`HookPointModel` runs its own hook
    points (``blocks.0.attn.hook_z``; ``hook`` is the ``HookPoint``); any other module is hooked by
    module name through :func:`run_with_hooks`.

    Examples:
        >>> net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        >>> run_hooked(net, torch.ones(1, 2), [("1", lambda act, hook: act * 0)]).abs().sum().item()
        0.0
    """
    if isinstance(model, HookPointModel):
        return model.run_with_hooks(x, fwd_hooks=list(fwd_hooks))
    return run_with_hooks(model, x, list(fwd_hooks))


def run_cached(model: nn.Module, x: torch.Tensor, names: Sequence[str],
               fwd_hooks: Sequence[tuple[str, HookFn]] = ()) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """:func:`run_hooked` with ``fwd_hooks``, recording the (post-hook, detached) activations of ``names``.

    Examples:
        >>> net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        >>> _, acts = run_cached(net, torch.ones(4, 2), ["0"])
        >>> acts["0"].shape
        torch.Size([4, 3])
    """
    store: dict[str, torch.Tensor] = {}

    def save(act: torch.Tensor, hook) -> None:
        store[hook.name] = act.detach()

    out = run_hooked(model, x, [*fwd_hooks, *[(n, save) for n in names]])
    return out, store


@dataclass(frozen=True)
class LayerInfo:
    """One row of :func:`list_layers`."""

    name: str
    kind: str
    n_params: int
    output_shape: tuple[int, ...]


def list_layers(model: nn.Module, x: torch.Tensor, leaves_only: bool = True) -> list[LayerInfo]:
    """List a network's layers with their parameter counts and output shapes.

    Args:
        model: The network.
        x: An example input batch (its batch size appears in the shapes).
        leaves_only: Only modules without children (conv, relu, linear...).

    Returns:
        One :class:`LayerInfo` per module, in execution order.
    """
    modules = dict(model.named_modules())
    names = [n for n in module_names(model) if not leaves_only or not list(modules[n].children())]
    order: list[str] = []
    shapes: dict[str, tuple[int, ...]] = {}

    def record(act: torch.Tensor, hook: HookContext) -> None:
        if hook.name not in shapes:
            order.append(hook.name)
            shapes[hook.name] = tuple(act.shape)

    with torch.no_grad():
        run_with_hooks(model, x, [(n, record) for n in names])
    return [
        LayerInfo(n, type(modules[n]).__name__,
                  sum(p.numel() for p in modules[n].parameters(recurse=True)), shapes[n])
        for n in order
    ]


#: How :func:`pool` reduces a ``[n, C, H, W]`` map: ``None``, ``"mean"``, ``"max"``, ``"flatten"`` or a grid size.
Pool = str | int | None
_POOLS = (None, "mean", "max", "flatten")


def _check_pool(name: str, how: object) -> None:
    is_grid = isinstance(how, int) and not isinstance(how, bool) and how >= 1
    if is_grid or (isinstance(how, str) or how is None) and how in _POOLS:
        return
    raise ValueError(f"`{name}` is {how!r}; wanted None, 'mean', 'max', 'flatten' or an int k >= 1 (a k x k grid)")


def _pool(acts: torch.Tensor, how: Pool, what: str = "`acts`") -> torch.Tensor:
    if how is None or acts.dim() == 2:
        return acts
    if acts.dim() != 4:
        raise ValueError(f"{what} should be [n, channels, h, w] or [n, d] to be pooled with {how!r} "
                         f"but has shape {tuple(acts.shape)}")
    if how == "mean":
        return acts.mean((-2, -1))
    if how == "max":
        return acts.amax((-2, -1))
    if how == "flatten":
        return acts.flatten(1)
    return nn.functional.adaptive_avg_pool2d(acts, how).flatten(1)


def pool(acts: torch.Tensor, how: Pool) -> torch.Tensor:
    """One vector per example from a layer's output.

    A conv unit is a channel; ``"mean"`` reads it as its spatial mean (what a
    linear probe or a similarity measure is given), ``"max"`` as its spatial
    maximum (where it fires most: the activation of a dataset example).

    Args:
        acts: ``[n, C, H, W]`` maps, or ``[n, d]`` vectors (returned as they are).
        how: ``None`` (unchanged), ``"mean"`` or ``"max"`` over positions (``[n, C]``),
            ``"flatten"`` (every position of every channel, ``[n, C H W]``) or an
            int ``k`` (average-pooled to a ``k x k`` grid, then flattened: ``[n, C k^2]``).

    Returns:
        ``[n, features]`` (``acts`` itself when ``how`` is ``None``).

    Raises:
        ValueError: for an unknown ``how``, or ``acts`` neither 2- nor 4-dimensional.

    Examples:
        >>> acts = torch.arange(8.).reshape(1, 2, 2, 2)
        >>> pool(acts, "mean").tolist(), pool(acts, "max").tolist()
        ([[1.5, 5.5]], [[3.0, 7.0]])
        >>> pool(acts, 1).shape, pool(acts, "flatten").shape
        (torch.Size([1, 2]), torch.Size([1, 8]))
    """
    check_tensor("acts", acts, floating=True)
    _check_pool("how", how)
    return _pool(acts, how)


def default_layers(model: nn.Module) -> list[str]:
    """The layers a vision net is read at: its stages, input to output.

    The model's ``layer_names`` attribute (the course nets have one), else its
    top-level modules named ``layer<k>`` in the order of ``k``.

    Raises:
        ValueError: when the model has neither.

    Examples:
        >>> default_layers(nn.Sequential())
        Traceback (most recent call last):
        ...
        ValueError: Sequential has no `layer_names` and no modules named layer<k>; pass `layers` explicitly
    """
    names = getattr(model, "layer_names", None)
    if names:
        return list(names)
    found = [n for n, _ in model.named_children() if re.fullmatch(r"layer\d+", n)]
    if not found:
        raise ValueError(f"{type(model).__name__} has no `layer_names` and no modules named layer<k>; "
                         "pass `layers` explicitly")
    return sorted(found, key=lambda n: int(n[5:]))


def collect(model: nn.Module, x: torch.Tensor, layers: str | Sequence[str] | None = None, *,
            pool: Pool = None, grad: bool = False, batch_size: int = 256) -> dict[str, torch.Tensor]:
    """Record the outputs of ``layers`` over a dataset ``x``, batch by batch.

    The forward passes run on the model's device; the activations come back on
    the device of ``x``, each batch pooled (see :func:`pool`) before the next, so
    pooled activations of a large dataset fit in memory.

    Args:
        model: Any ``nn.Module`` (put it in eval mode yourself).
        x: ``[n, ...]`` the dataset, e.g. ``[n, 3, H, W]`` images.
        layers: Module names (``"layer2"``, ``"layer2.0.conv1"``, ...), one name, or
            ``"input"`` for ``x`` itself; :func:`default_layers` when ``None``.
        pool: How each output becomes ``[n, features]``: ``None`` keeps it raw,
            else ``"mean"``, ``"max"``, ``"flatten"`` or an int grid size (:func:`pool`).
        grad: Keep the autograd graph, so that the activations can be
            differentiated with respect to ``x`` and the parameters; by default
            the passes run under ``torch.no_grad()``.
        batch_size: Examples per forward pass.

    Returns:
        Layer name -> ``[n, C, h, w]`` (or the module's output shape) raw, or
        ``[n, features]`` pooled, in the order of ``layers``.

    Raises:
        KeyError: for a layer the model does not have; the message lists near matches and the valid names.
        ValueError: for an unknown ``pool`` or a ``batch_size`` below 1.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
        >>> acts = collect(net, torch.rand(5, 3, 8, 8), ["input", "1"], pool="max", batch_size=2)
        >>> {name: tuple(a.shape) for name, a in acts.items()}
        {'input': (5, 3), '1': (5, 4)}
        >>> collect(net, torch.rand(5, 3, 8, 8), "1")["1"].shape
        torch.Size([5, 4, 6, 6])
    """
    check_tensor("x", x)
    if x.dim() == 0 or len(x) == 0:
        raise ValueError(f"`x` should be a dataset [n, ...] of n >= 1 examples but has shape {tuple(x.shape)}")
    _check_pool("pool", pool)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"`batch_size` should be an int >= 1 but is {batch_size!r}")
    layers = default_layers(model) if layers is None else [layers] if isinstance(layers, str) else list(layers)
    valid = module_names(model)
    for name in layers:
        if name != "input" and name not in valid:
            raise _unknown_name("layer", name, ["input", *valid])
    names = [name for name in dict.fromkeys(layers) if name != "input"]
    device = model_device(model)
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    with torch.set_grad_enabled(grad):
        for start in range(0, len(x) if names else 0, batch_size):
            _, cache = run_with_cache(model, x[start:start + batch_size].to(device), names, detach=not grad)
            for name in names:
                parts[name].append(_pool(cache[name], pool, f"The output of {name!r}").to(x.device))
        whole = {name: torch.cat(part) for name, part in parts.items()}
        if "input" in layers:
            whole["input"] = _pool(x if grad else x.detach(), pool, "`x`")
    return {name: whole[name] for name in layers}
