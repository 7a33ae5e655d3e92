"""Named hook points and the hook API of the course's transformer.

A :class:`HookPoint` is an identity module placed wherever an activation is
worth reading or editing; its name is its path in the model
(``"blocks.1.attn.hook_pattern"``). :class:`HookedRootModule` gives a model the
TransformerLens calling conventions:

* ``run_with_hooks(tokens, fwd_hooks=[(name_or_filter, fn)])`` where
  ``fn(activation, hook)`` may return a replacement of the same shape;
* ``run_with_cache(tokens, names_filter=...)`` returning ``(logits, cache)``;
* ``with model.hooks(fwd_hooks=...):`` for temporary hooks;
* ``add_hook(name, fn, is_permanent=False)`` and ``reset_hooks()``.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> model = HookedTransformer(TransformerConfig(n_layers=1))
    >>> tokens = torch.randint(0, 64, (2, 8))
    >>> zero = lambda act, hook: act * 0
    >>> logits = model.run_with_hooks(tokens, fwd_hooks=[("blocks.0.hook_attn_out", zero)])
    >>> logits.shape
    torch.Size([2, 8, 64])
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from ..hooks import checked_forward_hook
from ..validation import close_matches

__all__ = ["HookPoint", "HookedRootModule", "HookFn", "NamesFilter"]

HookFn = Callable[[torch.Tensor, "HookPoint"], torch.Tensor | None]
NamesFilter = str | Sequence[str] | Callable[[str], bool] | None


class HookPoint(nn.Module):
    """An identity module that hooks attach to; ``hook.name`` is its full name.

    Hook functions receive ``(activation, hook)`` and return ``None`` (keep the
    activation) or a tensor of exactly the activation's shape (replace it).
    """

    def __init__(self) -> None:
        super().__init__()
        self.name: str = ""
        self._handles: list[tuple[torch.utils.hooks.RemovableHandle, bool]] = []

    def add_hook(self, fn: HookFn, is_permanent: bool = False) -> torch.utils.hooks.RemovableHandle:
        """Attach ``fn``; temporary hooks go away with :meth:`remove_hooks`. Returns the handle."""
        handle = self.register_forward_hook(checked_forward_hook(fn, self))
        self._handles.append((handle, is_permanent))
        return handle

    @property
    def fwd_hooks(self) -> list[torch.utils.hooks.RemovableHandle]:
        """The handles of the hooks attached by :meth:`add_hook` and not yet removed (as TransformerLens's)."""
        return [handle for handle, _ in self._handles]

    def layer(self) -> int:
        """The layer index ``L`` of a hook point named ``blocks.{L}....``, as in TransformerLens.

        Raises:
            ValueError: for a hook point outside the blocks (``hook_embed``, ``ln_final.hook_scale``...).

        Examples:
            >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
            >>> HookedTransformer(TransformerConfig(n_layers=2)).hook_dict["blocks.1.attn.hook_z"].layer()
            1
        """
        parts = self.name.split(".")
        if len(parts) < 3 or parts[0] != "blocks" or not parts[1].isdigit():
            raise ValueError(f"Hook point {self.name!r} is not in a block: layer() wants a name 'blocks.{{L}}....'")
        return int(parts[1])

    def remove_handle(self, handle: torch.utils.hooks.RemovableHandle) -> None:
        """Remove one hook attached by :meth:`add_hook`."""
        handle.remove()
        self._handles = [(h, p) for h, p in self._handles if h is not handle]

    def remove_hooks(self, including_permanent: bool = False) -> None:
        """Remove the temporary hooks (and the permanent ones if asked)."""
        kept = []
        for handle, permanent in self._handles:
            if permanent and not including_permanent:
                kept.append((handle, permanent))
            else:
                handle.remove()
        self._handles = kept

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


class HookedRootModule(nn.Module):
    """Base class of models made of :class:`HookPoint` s (call :meth:`setup_hooks` last in ``__init__``)."""

    hook_dict: dict[str, HookPoint]

    def setup_hooks(self) -> None:
        """Name every hook point after its path and index them in ``hook_dict``."""
        self.hook_dict = {}
        for name, module in self.named_modules():
            if isinstance(module, HookPoint):
                module.name = name
                self.hook_dict[name] = module

    def hook_names(self) -> list[str]:
        """Every hook point's name, in the order of the forward pass."""
        return list(self.hook_dict)

    def _resolve(self, names: NamesFilter) -> list[str]:
        if names is None:
            return self.hook_names()
        if callable(names):
            return [n for n in self.hook_dict if names(n)]
        if isinstance(names, str):
            names = [names]
        for name in names:
            if name not in self.hook_dict:
                valid = self.hook_names()
                near = close_matches(name, valid)
                hint = f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""
                raise KeyError(
                    f"No hook point named {name!r}.{hint} The model has {len(valid)} hook points, "
                    f"e.g. {', '.join(valid[:6])} (see model.hook_names())."
                )
        return list(names)

    def add_hook(self, name: str | Callable[[str], bool], fn: HookFn, is_permanent: bool = False) -> None:
        """Attach ``fn`` to the hook point ``name`` (or to every name a filter accepts)."""
        for n in self._resolve(name):
            self.hook_dict[n].add_hook(fn, is_permanent=is_permanent)

    def reset_hooks(self, including_permanent: bool = False) -> None:
        """Remove every temporary hook (and the permanent ones if asked)."""
        for hp in self.hook_dict.values():
            hp.remove_hooks(including_permanent=including_permanent)

    @contextlib.contextmanager
    def hooks(self, fwd_hooks: Sequence[tuple[str | Callable[[str], bool], HookFn]] = ()) -> Iterator["HookedRootModule"]:
        """Attach ``fwd_hooks`` for the duration of a ``with`` block.

        Examples:
            >>> with model.hooks(fwd_hooks=[("hook_embed", lambda a, h: a * 0)]):  # doctest: +SKIP
            ...     logits = model(tokens)
        """
        added: list[tuple[HookPoint, torch.utils.hooks.RemovableHandle]] = []
        try:
            for name, fn in fwd_hooks:
                for n in self._resolve(name):
                    hp = self.hook_dict[n]
                    added.append((hp, hp.add_hook(fn)))
            yield self
        finally:
            for hp, handle in added:  # only the hooks of this block: hooks added outside it stay
                hp.remove_handle(handle)

    def run_with_hooks(
        self, *args, fwd_hooks: Sequence[tuple[str | Callable[[str], bool], HookFn]] = (), **kwargs
    ) -> torch.Tensor:
        """Run the model with temporary hooks and return its output (logits)."""
        with self.hooks(fwd_hooks):
            return self(*args, **kwargs)

    def _cache_hooks(self, names: NamesFilter, store: dict[str, torch.Tensor], detach: bool) -> list:
        def save(act: torch.Tensor, hook: HookPoint) -> None:
            store[hook.name] = act.detach() if detach else act

        return [(n, save) for n in self._resolve(names)]
