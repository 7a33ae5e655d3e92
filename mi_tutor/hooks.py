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

Examples:
    >>> import torch, torch.nn as nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    >>> out, cache = run_with_cache(net, torch.randn(3, 4))
    >>> cache["1"].shape
    torch.Size([3, 8])
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from .validation import unknown_name

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
