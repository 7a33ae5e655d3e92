"""The activation cache of the transformer, with TransformerLens' shorthand names.

``cache["blocks.1.attn.hook_pattern"]`` and ``cache["pattern", 1]`` are the
same tensor; :func:`get_act_name` turns the short form into the full name.

Examples:
    >>> get_act_name("pattern", 1)
    'blocks.1.attn.hook_pattern'
    >>> get_act_name("resid_pre", 0)
    'blocks.0.hook_resid_pre'
    >>> get_act_name("scale", 0, "ln1")
    'blocks.0.ln1.hook_scale'
"""

from __future__ import annotations

import re

import torch

from ..hooks import ActivationCache
from ..validation import unknown_name

__all__ = ["TransformerCache", "get_act_name", "SHORT_NAMES"]

_ALIASES = {"attn": "pattern", "attn_logits": "attn_scores", "scores": "attn_scores", "mlp_pre": "pre", "mlp_post": "post"}
_BLOCK = ("resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out")
_ATTN = ("q", "k", "v", "z", "attn_scores", "pattern", "result")
_MLP = ("pre", "post")
_LN = ("scale", "normalized")
_TOP = ("embed", "pos_embed")

#: Every short name :func:`get_act_name` understands.
SHORT_NAMES: tuple[str, ...] = _TOP + _BLOCK + _ATTN + _MLP + _LN + tuple(_ALIASES)


def get_act_name(name: str, layer: int | None = None, layer_type: str | None = None) -> str:
    """Full hook name of a short name, e.g. ``("pattern", 1)`` -> ``"blocks.1.attn.hook_pattern"``.

    Args:
        name: A short name (see :data:`SHORT_NAMES`), a full hook name (returned
            unchanged) or a name with the layer glued on (``"k6"``, ``"pattern0"``).
        layer: The block index (not needed for ``embed``, ``pos_embed`` or the
            final LayerNorm's ``scale``/``normalized``).
        layer_type: For ``scale``/``normalized``: ``"ln1"``, ``"ln2"`` or
            ``"ln_final"`` (the default when ``layer`` is ``None``).

    Returns:
        The full hook name.

    Raises:
        KeyError: for a short name that is not known or misses its layer.
    """
    if "." in name or name.startswith("hook_"):
        return name
    match = re.fullmatch(r"([a-z_]+?)(\d+)", name)
    if match and layer is None:
        name, layer = match.group(1), int(match.group(2))
    name = _ALIASES.get(name, name)
    if name in _TOP:
        return f"hook_{name}"
    if name in _LN:
        if layer is None or layer_type == "ln_final":
            return f"ln_final.hook_{name}"
        if layer_type not in ("ln1", "ln2"):
            raise KeyError(f"get_act_name({name!r}, {layer}) needs layer_type 'ln1' or 'ln2'")
        return f"blocks.{layer}.{layer_type}.hook_{name}"
    if name not in _BLOCK + _ATTN + _MLP:
        raise unknown_name(f"Unknown short activation name {name!r}", name, SHORT_NAMES,
                           tail=f"Known short names: {', '.join(SHORT_NAMES)}")
    if layer is None:
        raise KeyError(f"The short name {name!r} needs a layer, e.g. cache[{name!r}, 0]")
    if name in _BLOCK:
        return f"blocks.{layer}.hook_{name}"
    if name in _ATTN:
        return f"blocks.{layer}.attn.hook_{name}"
    return f"blocks.{layer}.mlp.hook_{name}"


class TransformerCache(ActivationCache):
    """An :class:`~mi_tutor.hooks.ActivationCache` that also takes ``cache[short_name, layer]``.

    Examples:
        >>> cache = TransformerCache({"blocks.0.attn.hook_pattern": torch.ones(1, 2, 3, 3)})
        >>> cache["pattern", 0].shape
        torch.Size([1, 2, 3, 3])
    """

    def __getitem__(self, key: str | tuple) -> torch.Tensor:
        if isinstance(key, tuple):
            key = get_act_name(*key)
        elif isinstance(key, str) and "." not in key and not key.startswith("hook_"):
            try:
                key = get_act_name(key)
            except KeyError:
                pass
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def to(self, device: torch.device | str) -> "TransformerCache":
        """Return a copy with every activation moved to ``device``."""
        return TransformerCache({k: v.to(device) for k, v in self.items()})

    def remove_batch_dim(self) -> "TransformerCache":
        """Drop the leading batch axis of a cache computed on a single sequence."""
        first = next(iter(self.values()), None)
        if first is not None and first.shape[0] != 1:
            raise ValueError(f"remove_batch_dim needs a batch of size 1, not {first.shape[0]}")
        return TransformerCache({k: v[0] for k, v in self.items()})
