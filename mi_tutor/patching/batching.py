"""How :func:`~mi_tutor.patching.patch_sweep` packs many patches into a few short forward passes.

A chunk of ``k`` patches on a target batch of ``b`` prompts is one forward pass on the target
repeated ``k`` times (``[k * b, ...]``); one hook per hook name writes each copy's own site from
the source cache with a single ``torch.where`` over a stacked ``[k, ...]`` mask.

On the course's :class:`~mi_tutor.transformer.HookedTransformer` a pass also skips what its
patches cannot change. A patch in block ``L`` at position ``p`` leaves the blocks below ``L``
and, the model being causal, the positions before ``p`` as in the unpatched target run. So the
pass enters at its lowest block from the target's cached residual stream at positions ``p0..``
(its earliest patched position), with the target's keys and values of positions ``< p0`` as
``past_kv`` (:meth:`~mi_tutor.transformer.HookedTransformer.forward`); the logits of positions
``< p0`` are the target's own. A patch of a term the residual stream adds up at the end of block
``L`` (``hook_resid_post``, ``hook_mlp_out``, and in attention-only models ``hook_attn_out`` and a
head's ``hook_result`` or ``hook_z``, through ``W_O``) enters at block ``L + 1`` instead: what it
changes there is added to the target's residual stream entering that block. Patches are sorted
by where they enter and cut into passes by :func:`plan_chunks`, which weighs the work of each pass
against a fixed cost per pass. Any other model runs each chunk from its input.

Examples:
    >>> plan_chunks([(0, 0), (0, 4), (1, 0), (1, 4)], max_patches=2, n_layers=2, n_pos=5, overhead=20)
    [[0, 1], [2, 3]]
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import torch
from torch import nn

from ..transformer.model import HookedTransformer
from .core import position_axis, run_cached, run_hooked, site_mask

__all__ = ["FORWARD_COST", "UNEMBED_SHARE", "block_of", "entry_point", "absolute_positions", "earliest_position", "plan_chunks",
           "run_caches", "run_chunk", "chunk_hook"]

#: Fixed cost of one forward pass, in prompt x block x position units of work (the planner's trade-off).
FORWARD_COST = 2000.0
#: The fixed cost of a pass that only unembeds patched rows, as a share of :data:`FORWARD_COST`.
UNEMBED_SHARE = 0.1

_BLOCK = re.compile(r"^blocks\.(\d+)\.")


def block_of(name: str, n_layers: int) -> int:
    """The block a transformer hook belongs to: ``L`` for ``blocks.L....``, ``-1`` before the blocks
    (``hook_embed``, ``hook_pos_embed``), ``n_layers`` after them (``ln_final...``).

    Examples:
        >>> block_of("blocks.1.attn.hook_z", 2), block_of("hook_embed", 2), block_of("ln_final.hook_scale", 2)
        (1, -1, 2)
    """
    m = _BLOCK.match(name)
    if m:
        return int(m.group(1))
    return n_layers if name.startswith("ln_final") else -1


def _adds_to_stream(name: str, attn_only: bool) -> bool:
    """Whether the hook is a term the residual stream adds up at the end of its block."""
    ends = ("hook_resid_post", "hook_mlp_out") + (("hook_attn_out", "attn.hook_z", "attn.hook_result") if attn_only else ())
    return bool(_BLOCK.match(name)) and name.endswith(ends)


def entry_point(model: HookedTransformer, name: str, positions, n_pos: int) -> tuple[int, int]:
    """``(block, position)`` where a run patched at ``name`` and ``positions`` must start.

    ``block`` is ``-1`` for a run from the tokens; a residual-stream term of block ``L`` enters at
    ``L + 1``; ``position`` is the earliest patched one (0 for ``None``).

    Examples:
        >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
        >>> model = HookedTransformer(TransformerConfig(n_layers=2, d_vocab=10, n_ctx=5))
        >>> entry_point(model, "blocks.1.attn.hook_q", [3, -1], 5), entry_point(model, "blocks.1.hook_resid_post", 2, 5)
        ((1, 3), (2, 2))
        >>> entry_point(model, "blocks.0.attn.hook_z", [3], 5)  # attention-only: a head's output enters block 1
        (1, 3)
    """
    layer = block_of(name, model.cfg.n_layers)
    if layer < 0:
        return -1, 0
    return layer + _adds_to_stream(name, model.cfg.attn_only), earliest_position(positions, n_pos)


def absolute_positions(positions, n_pos: int):
    """``positions`` (an int, ints or an integer tensor, negatives from the end) counted from 0; ``None`` stays.

    Examples:
        >>> absolute_positions([-1, 2], 5), absolute_positions(torch.tensor([-2]), 5)
        ([4, 2], tensor([3]))
    """
    if positions is None:
        return None
    if isinstance(positions, torch.Tensor):
        return positions.long() % n_pos
    if isinstance(positions, int):
        return positions % n_pos
    return [int(p) % n_pos for p in positions]


def earliest_position(positions, n_pos: int) -> int:
    """The first position a site touches (0 for ``None``: every position)."""
    pos = absolute_positions(positions, n_pos)
    if pos is None:
        return 0
    if isinstance(pos, torch.Tensor):
        return int(pos.min()) if pos.numel() else n_pos
    if isinstance(pos, int):
        return pos
    return min(pos, default=n_pos)


def plan_chunks(starts: Sequence[tuple[int, int]], max_patches: int, n_layers: int, n_pos: int,
                overhead: float) -> list[list[int]]:
    """Cut patches sorted by entry ``(block, position)`` into passes of consecutive patches, at least total cost.

    A pass of ``k`` patches entering at block ``L0`` and position ``p0`` (the lowest of its patches)
    costs ``overhead + k * (n_layers - L0 + 1) * (n_pos - p0)`` (block-positions per patch, the
    unembedding counted as one block); a pass that runs no block (``L0 == n_layers``: terms of the
    last block) unembeds only its patched rows and costs ``UNEMBED_SHARE * overhead + k``. The
    plan minimises the sum by dynamic programming.

    Args:
        starts: Entry ``(block, position)`` of each patch, sorted (a block of ``-1`` counts as 0).
        max_patches: At most this many patches per pass (the memory bound).
        n_layers: Blocks of the model.
        n_pos: Positions of the prompts.
        overhead: Cost of one forward pass in block-positions of one patch.

    Returns:
        Lists of indices into ``starts``, in order.
    """
    n = len(starts)
    best, cut = [0.0] + [math.inf] * n, [0] * (n + 1)
    for i in range(1, n + 1):
        p0 = n_pos
        for j in range(i - 1, max(i - max_patches, 0) - 1, -1):
            p0 = min(p0, starts[j][1])
            if starts[j][0] >= n_layers:  # no block runs: only the patched rows are unembedded
                cost = best[j] + overhead * UNEMBED_SHARE + (i - j)
            else:
                cost = best[j] + overhead + (i - j) * (n_layers - max(starts[j][0], 0) + 1) * (n_pos - p0)
            if cost < best[i]:
                best[i], cut[i] = cost, j
    chunks, i = [], n
    while i:
        chunks.append(list(range(cut[i], i)))
        i = cut[i]
    return chunks[::-1]


def _stream(layer: int, n_layers: int) -> str:
    """The hook holding the residual stream that enters block ``layer`` (``n_layers``: the unembedding)."""
    return f"blocks.{layer}.hook_resid_pre" if layer < n_layers else f"blocks.{n_layers - 1}.hook_resid_post"


def run_caches(model: nn.Module, source: torch.Tensor, target: torch.Tensor, hooks: Sequence[str],
               first: int | None = None, terms: Sequence[str] = ()) -> tuple[dict, dict | None]:
    """The activations of ``hooks`` on ``source``, and (for a transformer pass from block ``first``) the target run.

    The target cache holds ``"logits"``, the residual stream entering each block from ``first`` on,
    the keys and values of those blocks, the residual-stream ``terms`` that patches replace and the
    target's own activations of ``hooks`` (to find patches that change nothing). On a transformer
    both come from one forward pass over ``source`` and ``target`` stacked.

    Returns:
        ``(source activations, target cache or None)``.
    """
    if first is None:
        return run_cached(model, source, list(hooks))[1], None
    n_layers = model.cfg.n_layers
    names = {_stream(L, n_layers) for L in range(max(first, 0), n_layers + 1)} | set(terms)
    names |= {f"blocks.{L}.attn.hook_{kv}" for L in range(max(first, 0), n_layers) for kv in "kv"}
    n = source.shape[0]
    logits, acts = run_cached(model, torch.cat([source, target]), sorted(names | set(hooks)))
    cached = {name: acts[name][n:] for name in names | set(hooks)}
    cached["logits"] = logits[n:]
    return {name: acts[name][:n] for name in hooks}, cached


def run_chunk(model: nn.Module, target: torch.Tensor, src: dict, cached: dict | None,
              part: Sequence[tuple[str, torch.Tensor]], start: tuple[int, int]) -> torch.Tensor:
    """One forward pass patching each site of ``part`` in its own copy of the target.

    Args:
        model: The model.
        target: The target inputs ``[batch, ...]``.
        src: The source activations of every hook in ``part``.
        cached: The target cache of :func:`run_caches` (transformers), or ``None`` (a run from the input).
        part: ``k`` patches as ``(hook name, site mask)``, the mask broadcastable to the activation.
        start: Entry ``(block, position)`` of the pass: the lowest of ``part``'s.

    Returns:
        The outputs ``[k * batch, ...]``, copy ``j`` at rows ``j * batch .. (j + 1) * batch``.
    """
    k, (layer, p0) = len(part), start
    names = list(dict.fromkeys(name for name, _ in part))
    if cached is None or layer < 0:
        hooks = [(name, chunk_hook(name, src[name], part, 0)) for name in names]
        return run_hooked(model, target.repeat((k,) + (1,) * (target.dim() - 1)), hooks)
    n_layers = model.cfg.n_layers
    if layer == n_layers and all(block_of(name, n_layers) < layer for name in names):
        return _unembed_patched_rows(model, src, cached, part)
    stream = cached[_stream(layer, n_layers)]
    resid = stream[:, p0:].repeat(k, 1, 1)  # [k * batch, pos - p0, d_model]
    for name in names:  # residual-stream terms of a block below: target + (source - target) at the sites
        if block_of(name, n_layers) < layer and not name.endswith(_HEAD_TERMS):
            resid = chunk_hook(name, stream + (src[name] - cached[name]), part, p0)(resid, None)
    heads = [j for j, (name, _) in enumerate(part) if block_of(name, n_layers) < layer and name.endswith(_HEAD_TERMS)]
    if heads:  # a head's output below: the target's stream plus what the patch changes in it
        resid = resid.view(k, *stream[:, p0:].shape)
        for j in heads:
            resid[j] = resid[j] + _head_term_change(model, src, cached, *part[j])[:, p0:]
        resid = resid.view(k * stream.shape[0], *resid.shape[2:])
    past = None
    if p0:
        past = [None if L < layer else tuple(cached[f"blocks.{L}.attn.hook_{kv}"][:, :p0].repeat(k, 1, 1, 1)
                                             for kv in "kv") for L in range(n_layers)]
    hooks = [(name, chunk_hook(name, src[name], part, p0)) for name in names if block_of(name, n_layers) >= layer]
    out = model.run_with_hooks(resid, start_at_layer=layer, past_kv=past, fwd_hooks=hooks)
    if not p0:
        return out
    logits = cached["logits"]  # positions before p0 are the target's own
    full = torch.empty((k, *logits.shape), dtype=out.dtype, device=out.device)  # [k, batch, pos, d_vocab]
    full[:, :, :p0] = logits[:, :p0]
    full[:, :, p0:] = out.view(k, logits.shape[0], *out.shape[1:])
    return full.view(k * logits.shape[0], *logits.shape[1:])


_HEAD_TERMS = ("attn.hook_z", "attn.hook_result")


def _head_term_change(model: HookedTransformer, src: dict, cached: dict, name: str, mask: torch.Tensor) -> torch.Tensor:
    """What patching a head's ``hook_z`` or ``hook_result`` at ``mask`` adds to the residual stream after its
    (attention-only) block ``[batch, pos, d_model]``: ``hook_result`` summed over the heads, ``hook_z`` through ``W_O``."""
    diff = torch.where(mask, src[name] - cached[name], torch.zeros((), dtype=src[name].dtype, device=src[name].device))
    if name.endswith("attn.hook_z"):  # [batch, pos, head, d_head] -> [batch, pos, d_model]
        return torch.einsum("bphd,hdm->bpm", diff, model.blocks[block_of(name, model.cfg.n_layers)].attn.W_O)
    return diff.sum(2)  # hook_result [batch, pos, head, d_model]


def _unembed_patched_rows(model: HookedTransformer, src: dict, cached: dict,
                          part: Sequence[tuple[str, torch.Tensor]]) -> torch.Tensor:
    """A pass that runs no block (terms of the last block patched): only the patched positions' logits change,
    so only those rows of the final residual stream go through ``ln_final`` and the unembedding."""
    stream = cached[_stream(model.cfg.n_layers, model.cfg.n_layers)]  # [batch, pos, d_model]
    k, (b, n, _) = len(part), stream.shape
    patched = {name: stream + (src[name] - cached[name])  # each stream term from the source, once
               for name in {name for name, _ in part if not name.endswith(_HEAD_TERMS)}}
    changed = [mask.reshape(*mask.shape[:2], -1).any(-1).expand(b, n) for _, mask in part]  # [batch, pos] per patch
    rows = torch.cat([(stream + _head_term_change(model, src, cached, name, mask) if name.endswith(_HEAD_TERMS)
                       else patched[name])[where] for (name, mask), where in zip(part, changed)])  # [rows, d_model]
    new = model(rows[:, None], start_at_layer=model.cfg.n_layers)[:, 0]  # [rows, d_vocab]
    out = cached["logits"].repeat(k, 1, 1).view(k, b, n, -1)  # [k, batch, pos, d_vocab]
    out[torch.stack(changed)] = new  # the rows in the order they were taken
    return out.view(k * b, n, -1)


def chunk_hook(name: str, act: torch.Tensor, part: Sequence[tuple[str, torch.Tensor]], p0: int):
    """A hook giving copy ``j`` of a ``[k * batch, ...]`` activation the value ``act`` where the mask of
    ``part[j]`` is True (when that patch is on ``name``), in a run that begins at position ``p0``.

    Examples:
        >>> part = [("h.hook_x", torch.tensor([False, True, False])[None, :, None]), ("other", None)]
        >>> chunk_hook("h.hook_x", torch.ones(1, 3, 2), part, 0)(torch.zeros(2, 3, 2), None)[:, :, 0]
        tensor([[0., 1., 0.],
                [0., 0., 0.]])
    """
    ax = position_axis(name, act.dim())
    masks = [mask for hook, mask in part if hook == name]
    if p0:
        act = act.narrow(ax, p0, act.shape[ax] - p0)
        masks = [m.narrow(ax, p0, m.shape[ax] - p0) if m.shape[ax] > 1 else m for m in masks]
    shape = tuple(max(sizes) for sizes in zip(*(m.shape for m in masks)))
    off = torch.zeros(shape, dtype=torch.bool, device=act.device)
    it = iter(masks)
    mask = torch.stack([next(it).expand(shape) if hook == name else off for hook, _ in part])  # [k, ...]

    def hook_fn(a: torch.Tensor, hook) -> torch.Tensor:
        return torch.where(mask, act, a.reshape(len(part), *act.shape)).reshape(a.shape)

    return hook_fn
