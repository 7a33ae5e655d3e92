"""A rank-one model edit (ROME, Meng et al. 2022) of one MLP's output matrix.

An MLP is read as a key-value memory: its hidden activation ``k``
(``blocks.L.mlp.hook_post``, ``[d_mlp]``) is a key and ``k @ W_out`` the value it
writes. To make a fact's prompt produce a new object:

1. the **key** ``k*``: the mean MLP key at the edit position (the subject's last
   token as in GPT-2, or the position causal tracing located) over prompts with
   different fillers;
2. the **value** ``v*``: the MLP output at that position found by gradient
   descent so that the new object becomes likely, with a KL term that keeps the
   subject's other facts where they were and a penalty on the change's size;
3. the **closed-form update** ``W_out <- W_out + u (v* - k* W_out)^T / (u . k*)``
   with ``u = C^{-1} k*`` and ``C = E[k k^T]`` the key covariance over the corpus:
   of all updates that map ``k*`` to ``v*`` it disturbs typical keys least. The
   update is an outer product: rank one.

Examples:
    >>> C = torch.eye(3)
    >>> W = torch.zeros(3, 2)
    >>> k = torch.tensor([1.0, 0.0, 0.0]); v = torch.tensor([2.0, -1.0])
    >>> W2 = rank_one_update(W, C, k, v)
    >>> (k @ W2).tolist()
    [2.0, -1.0]
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..validation import check_layer_index, check_tensor, check_vector

__all__ = ["mlp_keys", "key_covariance", "rank_one_update", "ROMEEdit", "compute_key", "compute_value",
           "output_delta", "apply_update", "update_rank", "ridged"]


@torch.no_grad()
def mlp_keys(model, tokens: torch.Tensor, layer: int, position: int | None = None) -> torch.Tensor:
    """MLP keys (``blocks.{layer}.mlp.hook_post``) ``[batch, d_mlp]`` at ``position``, or every position
    ``[batch * pos, d_mlp]`` when ``position`` is None."""
    check_layer_index("layer", layer, model)
    name = f"blocks.{layer}.mlp.hook_post"
    _, cache = model.run_with_cache(tokens, names_filter=name)
    keys = cache[name]
    return keys.flatten(0, 1) if position is None else keys[:, position]


def key_covariance(keys: torch.Tensor) -> torch.Tensor:
    """Uncentred second moment ``E[k k^T]`` ``[d_mlp, d_mlp]`` of keys ``[n, d_mlp]`` (ROME's ``C``)."""
    check_tensor("keys", keys, ("n", "d_mlp"), floating=True)
    k = keys.double()
    return (k.T @ k / k.shape[0]).to(keys.dtype)


def ridged(C: torch.Tensor, ridge: float) -> torch.Tensor:
    """``C + ridge x mean(diag C) x I`` in float64 ``[d_mlp, d_mlp]``: a few rare key directions make ``C``
    nearly singular.

    Examples:
        >>> ridged(torch.eye(2), 0.5).tolist()
        [[1.5, 0.0], [0.0, 1.5]]
    """
    C = C.double()
    return C + ridge * C.diagonal().mean() * torch.eye(C.shape[0], dtype=torch.float64, device=C.device)


def rank_one_update(W_out: torch.Tensor, C: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                    ridge: float = 1e-4) -> torch.Tensor:
    """The edited output matrix ``[d_mlp, d_model]`` that maps ``key`` to ``value`` (``key @ W_new == value``)
    while changing ``k @ W_out`` for keys with covariance ``C`` as little as possible.

    Args:
        W_out: ``[d_mlp, d_model]``.
        C: ``[d_mlp, d_mlp]`` key covariance.
        key: ``[d_mlp]``.
        value: ``[d_model]`` wanted output (without the bias).
        ridge: Added to ``C``'s diagonal (times its mean diagonal) so rare directions stay invertible.
    """
    dims = check_tensor("W_out", W_out, ("d_mlp", "d_model"), floating=True)
    check_tensor("C", C, (dims["d_mlp"], dims["d_mlp"]), floating=True)
    check_vector("key", key, dims["d_mlp"], "d_mlp")
    check_vector("value", value, dims["d_model"], "d_model")
    u = torch.linalg.solve(ridged(C, ridge), key.double())  # C^-1 k*
    residual = value.double() - key.double() @ W_out.double()  # v* - W k*
    return (W_out.double() + torch.outer(u, residual) / (u @ key.double())).to(W_out.dtype)


def update_rank(before: torch.Tensor, after: torch.Tensor) -> tuple[int, torch.Tensor]:
    """Numerical rank of ``after - before`` and its singular values (rank: those above 1e-5 of the largest)."""
    s = torch.linalg.svdvals((after - before).double())
    return int((s > 1e-5 * s[0]).sum()), s


@dataclass
class ROMEEdit:
    """One edit: where it acts, its key and value, and the edited model."""

    layer: int
    position: int
    key: torch.Tensor
    value: torch.Tensor
    model: torch.nn.Module


@torch.no_grad()
def compute_key(model, prompts: torch.Tensor, layer: int, position: int) -> torch.Tensor:
    """``k*``: the mean MLP key ``[d_mlp]`` at ``position`` over ``prompts [batch, pos]`` (the same fact with
    different fillers)."""
    return mlp_keys(model, prompts, layer, position).mean(0)


def compute_value(model, prompts: torch.Tensor, new_object: int, layer: int, position: int,
                  kl_prompts: torch.Tensor | None = None, kl_factor: float = 0.0625, weight_decay: float = 0.5,
                  steps: int = 20, lr: float = 0.5, clamp: float = 4.0, seed: int = 0) -> torch.Tensor:
    """``v*``: the MLP output ``[d_model]`` at ``position`` (bias excluded) that makes ``new_object`` the answer.

    ``v* = k* W_out + delta`` with ``delta`` from :func:`output_delta` (the same arguments).
    """
    check_layer_index("layer", layer, model)
    v0 = compute_key(model, prompts, layer, position) @ model.blocks[layer].mlp.W_out.detach()
    delta = output_delta(model, prompts, new_object, layer, position, kl_prompts=kl_prompts, kl_factor=kl_factor,
                         weight_decay=weight_decay, steps=steps, lr=lr, clamp=clamp, seed=seed)
    return v0 + delta


def output_delta(model, prompts: torch.Tensor, new_object: int, layer: int, position: int,
                 kl_prompts: torch.Tensor | None = None, kl_factor: float = 0.0625, weight_decay: float = 0.5,
                 steps: int = 20, lr: float = 0.5, clamp: float = 4.0, seed: int = 0) -> torch.Tensor:
    """The change ``delta`` ``[d_model]`` of block ``layer``'s MLP output at ``position`` that makes ``new_object``
    the answer (ROME's ``v* - k* W_out``; MEMIT's ``z - h`` at the last edited layer, where adding to the MLP
    output is adding to the residual stream).

    ``delta`` is added to ``blocks.{layer}.hook_mlp_out`` at ``position`` of every prompt ``[batch, pos]`` and
    optimised with Adam (ROME: 20 steps, lr 0.5) to minimise ``-log p(new_object)`` at the last position, plus
    ``kl_factor`` x the KL divergence of the next-token distributions of ``kl_prompts`` (with ``delta`` added at
    ``position`` too) from the unedited ones, plus ``weight_decay`` x ``|delta|^2 / |v|^2`` (``v = k* W_out``, the
    current value); ``|delta|`` is clamped to ``clamp`` x ``|v|``.
    """
    check_layer_index("layer", layer, model)
    name = f"blocks.{layer}.hook_mlp_out"
    with torch.no_grad():
        v0 = compute_key(model, prompts, layer, position) @ model.blocks[layer].mlp.W_out
        ref = model(kl_prompts)[:, -1].log_softmax(-1) if kl_prompts is not None else None
    torch.manual_seed(seed)
    delta = torch.zeros_like(v0, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=lr)
    target = torch.full((prompts.shape[0],), int(new_object), device=prompts.device)
    max_norm = clamp * v0.norm()

    def add_delta(act, hook):
        act = act.clone()
        act[:, position] = act[:, position] + delta
        return act

    use_kl = ref is not None and kl_factor > 0 and kl_prompts.shape[1] == prompts.shape[1]
    batch = torch.cat([prompts, kl_prompts]) if use_kl else prompts  # one forward pass for both terms
    n = prompts.shape[0]
    with _frozen(model):  # gradients for delta only
        for _ in range(steps):
            logits = model.run_with_hooks(batch, fwd_hooks=[(name, add_delta)])[:, -1]
            loss = F.cross_entropy(logits[:n], target)
            if use_kl:
                kl_logits = logits[n:].log_softmax(-1)
                loss = loss + kl_factor * F.kl_div(kl_logits, ref, log_target=True, reduction="batchmean")
            elif ref is not None and kl_factor > 0:
                kl_logits = model.run_with_hooks(kl_prompts, fwd_hooks=[(name, add_delta)])[:, -1].log_softmax(-1)
                loss = loss + kl_factor * F.kl_div(kl_logits, ref, log_target=True, reduction="batchmean")
            loss = loss + weight_decay * delta.pow(2).sum() / v0.pow(2).sum().clamp_min(1e-12)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                if delta.norm() > max_norm:
                    delta.mul_(max_norm / delta.norm())
    return delta.detach()


@contextmanager
def _frozen(model):
    """The model's parameters without gradients while a ``delta`` is optimised (a backward pass through them
    would only be discarded), restored afterwards."""
    flags = [p.requires_grad for p in model.parameters()]
    try:
        for p in model.parameters():
            p.requires_grad_(False)
        yield
    finally:
        for p, f in zip(model.parameters(), flags):
            p.requires_grad_(f)


def apply_update(model, layer: int, W_out_new: torch.Tensor):
    """A copy of ``model`` whose layer-``layer`` MLP has ``W_out = W_out_new`` (the original is untouched)."""
    check_layer_index("layer", layer, model)
    edited = copy.deepcopy(model)
    with torch.no_grad():
        edited.blocks[layer].mlp.W_out.copy_(W_out_new)
    return edited.eval()
