"""Captions of object-world scenes from their ground truth, and a tiny text model's view of them.

The object world (:mod:`mi_tutor.vision.objects`) knows what it drew, so it can
describe it: every object's kind, colour, size, facing, parts and position,
the background texture and whether the object is out of focus. A caption is a
fixed grammar of whole-word tokens, e.g.

    ``<bos> a large red car facing left with body window wheel hub at the top left
    on a noise background <eos>``

:func:`caption_tokens` turns captions into ``[n, n_ctx]`` token ids (padded with
``<pad>``) for the course's transformer (:mod:`mi_tutor.transformer`);
:func:`caption_features` reads a trained text model's representation of each
caption (the residual stream averaged over the caption's tokens) for
cross-modal comparisons such as :func:`~mi_tutor.universality.mutual_knn_alignment`.

Examples:
    >>> from mi_tutor.vision.objects import SceneObject
    >>> obj = SceneObject("clock", 0.5, 0.6, 0.45, 0.0, None, "blue", ("rim", "hand", "hub"), False)
    >>> describe([obj], "plain")
    '<bos> a large blue clock with rim hand hub at the top right on a plain background <eos>'
    >>> caption_tokens([describe([obj], "plain")], n_ctx=24).shape
    torch.Size([1, 24])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..device import model_device
from ..validation import ShapeError, check_tensor

__all__ = ["CAPTION_VOCAB", "describe", "scene_captions", "caption_tokens", "caption_features", "WORD_TO_ID"]


def _vocab() -> tuple[str, ...]:
    from ..vision.objects import OBJECT_KINDS, PARTS, TEXTURES
    from ..vision.world import COLOURS

    words = ["<pad>", "<bos>", "<eos>", "a", "small", "medium", "large", "facing", "left", "right", "with", "at",
             "the", "top", "middle", "bottom", "centre", "on", "background", "out", "of", "focus", "and"]
    for w in (*COLOURS, *OBJECT_KINDS, *PARTS, *TEXTURES):
        if w not in words:
            words.append(w)
    return tuple(words)


#: Every word a caption may use; a word's token id is its index.
CAPTION_VOCAB: tuple[str, ...] = _vocab()
WORD_TO_ID: dict[str, int] = {w: i for i, w in enumerate(CAPTION_VOCAB)}


def _size_word(scale: float, lo: float = 0.3, hi: float = 0.5) -> str:
    third = (hi - lo) / 3
    return "small" if scale < lo + third else ("large" if scale >= hi - third else "medium")


def _place(x: float, y: float) -> str:
    v = "top" if y > 1 / 3 else ("bottom" if y < -1 / 3 else "middle")
    h = "right" if x > 1 / 3 else ("left" if x < -1 / 3 else "centre")
    return f"{v} {h}"


def describe(objects: Sequence, texture: str, scale_range: tuple[float, float] = (0.3, 0.5)) -> str:
    """Caption of one scene from its ground truth.

    Args:
        objects: The scene's ``SceneObject`` s (``ObjectBatch.scene(i)``).
        texture: Background texture name.
        scale_range: The world's range of object half-sizes (sizes are its thirds).

    Returns:
        Space-separated words from :data:`CAPTION_VOCAB`, ``<bos>`` ... ``<eos>``.
    """
    phrases = []
    for o in objects:
        words = ["a", _size_word(o.scale, *scale_range), o.colour, o.kind]
        if o.facing is not None:
            words += ["facing", o.facing]
        words += ["with", *o.parts, "at", "the", _place(o.x, o.y)]
        if o.blurred:
            words += ["out", "of", "focus"]
        phrases.append(" ".join(words))
    return "<bos> " + " and ".join(phrases) + f" on a {texture} background <eos>"


def scene_captions(batch) -> list[str]:
    """Captions of every scene of an ``ObjectBatch`` (in order)."""
    cfg = batch.config
    scale_range = cfg.scale if cfg.task == "object" else cfg.count_scale
    return [describe(batch.scene(i), cfg.textures[int(batch.texture[i])], scale_range) for i in range(len(batch))]


def caption_tokens(captions: Sequence[str], n_ctx: int = 32) -> torch.Tensor:
    """Token ids ``[n, n_ctx]`` of captions, padded with ``<pad>`` (id 0).

    Raises:
        KeyError: for a word outside :data:`CAPTION_VOCAB`.
        ValueError: for a caption longer than ``n_ctx`` tokens.
    """
    out = torch.zeros(len(captions), n_ctx, dtype=torch.long)
    for i, c in enumerate(captions):
        words = c.split()
        unknown = [w for w in words if w not in WORD_TO_ID]
        if unknown:
            raise KeyError(f"caption {i} uses words outside CAPTION_VOCAB: {unknown[:5]}")
        if len(words) > n_ctx:
            raise ValueError(f"caption {i} has {len(words)} tokens but `n_ctx` is {n_ctx}: {c!r}")
        out[i, :len(words)] = torch.tensor([WORD_TO_ID[w] for w in words])
    return out


@torch.no_grad()
def caption_features(model: nn.Module, tokens: torch.Tensor, layer: int | None = None, pool: str = "mean",
                     batch_size: int = 512) -> torch.Tensor:
    """A text model's representation ``[n, d_model]`` of each caption.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        tokens: ``[n, pos]`` from :func:`caption_tokens`.
        layer: Block whose ``hook_resid_post`` is read (default: the last); ``-1``
            reads the embeddings (``hook_embed + hook_pos_embed``, i.e. block 0's input).
        pool: ``"mean"`` over the caption's non-pad tokens, or ``"last"`` (its ``<eos>``).
        batch_size: Captions per forward pass.

    Returns:
        float32 ``[n, d_model]`` on the CPU.
    """
    check_tensor("tokens", tokens, ("n", "pos"), dtype=torch.long)
    if pool not in ("mean", "last"):
        raise ValueError(f"`pool` is {pool!r}; wanted 'mean' or 'last'")
    n_layers = model.cfg.n_layers
    layer = n_layers - 1 if layer is None else layer
    if not -1 <= layer < n_layers:
        raise ShapeError(f"`layer` is {layer}; the model has blocks 0..{n_layers - 1} (or -1 for the embeddings)")
    name = "blocks.0.hook_resid_pre" if layer == -1 else f"blocks.{layer}.hook_resid_post"
    device = model_device(model)
    outs = []
    for i in range(0, len(tokens), batch_size):
        t = tokens[i:i + batch_size].to(device)
        _, cache = model.run_with_cache(t, names_filter=[name], return_type=None)
        resid = cache[name]                                    # [b, pos, d_model]
        keep = (t != WORD_TO_ID["<pad>"]).float()
        if pool == "mean":
            outs.append(((resid * keep[..., None]).sum(1) / keep.sum(1, keepdim=True)).float().cpu())
        else:
            last = keep.sum(1).long() - 1
            outs.append(resid[torch.arange(len(t)), last].float().cpu())
    return torch.cat(outs)

