"""Direct logit attribution: how much each component writes to the correct next token's logit.

The final residual stream is a sum of component outputs (embeddings, every
head, MLPs, biases). The unembedding is linear, so each component's share of
a logit is its output times the token's column of ``W_U``.

Examples:
    >>> comps = torch.randn(3, 2, 5, 8)  # [component, batch, pos, d_model]
    >>> W_U, tokens = torch.randn(8, 11), torch.randint(0, 11, (2, 5))
    >>> logit_attribution(comps, W_U, tokens).shape  # [batch, pos - 1, component]
    torch.Size([2, 4, 3])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..validation import check_tensor

if TYPE_CHECKING:
    from ..transformer.cache import TransformerCache
    from ..transformer.model import HookedTransformer

__all__ = ["logit_attribution", "decompose_resid", "direct_logit_attribution"]


def logit_attribution(components: torch.Tensor, W_U: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Each component's direct contribution to the logit of the actual next token.

    Args:
        components: Outputs ``[component, batch, pos, d_model]`` that add up to the final residual stream.
        W_U: Unembedding ``[d_model, d_vocab]``.
        tokens: Token ids ``[batch, pos]``.

    Returns:
        ``[batch, pos - 1, component]``: entry ``[b, p, c]`` is
        ``components[c, b, p] @ W_U[:, tokens[b, p + 1]]``.
    """
    dims = check_tensor("components", components, ("component", "batch", "pos", "d_model"), floating=True)
    check_tensor("W_U", W_U, ("d_model", "d_vocab"), dims=dims, floating=True)
    check_tensor("tokens", tokens, ("batch", "pos"), dims=dims)
    directions = W_U.T[tokens[:, 1:].to(W_U.device)]  # [batch, pos - 1, d_model]
    return torch.einsum("cbpd,bpd->bpc", components[:, :, :-1], directions)


def decompose_resid(model: "HookedTransformer", cache: "TransformerCache") -> tuple[torch.Tensor, list[str]]:
    """Split what the unembedding reads into components.

    For a model without LayerNorm the components add up to the final residual
    stream exactly. With a final LayerNorm each component is centred and
    divided by the cached ``ln_final.hook_scale`` (and multiplied by its
    weight), and the LayerNorm bias joins the ``"bias"`` component, so the sum
    is the LayerNorm's output.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        cache: A full cache from ``model.run_with_cache(tokens)``.

    Returns:
        ``(components [n_components, batch, pos, d_model], labels)``, labels
        ``"embed"``, ``"pos_embed"``, ``"L{l}H{h}"`` per head, ``"mlp{l}"`` per
        MLP and ``"bias"`` (all attention output biases).
    """
    cfg = model.cfg
    comps, labels = [cache["hook_embed"]], ["embed"]
    if cfg.positional_embedding_type == "standard":
        comps.append(cache["hook_pos_embed"])
        labels.append("pos_embed")
    bias = torch.zeros_like(cache["hook_embed"])
    for layer in range(cfg.n_layers):
        result = cache["result", layer]  # [batch, pos, head, d_model]
        comps.extend(result.unbind(dim=2))
        labels.extend(f"L{layer}H{h}" for h in range(cfg.n_heads))
        bias = bias + model.blocks[layer].attn.b_O.detach()
        if not cfg.attn_only:
            comps.append(cache["mlp_out", layer])
            labels.append(f"mlp{layer}")
    comps.append(bias)
    labels.append("bias")
    stack = torch.stack(comps)  # [component, batch, pos, d_model]
    if cfg.normalization_type == "LN":
        ln = model.ln_final
        stack = (stack - stack.mean(-1, keepdim=True)) / cache["ln_final.hook_scale"] * ln.w.detach()
        stack[-1] = stack[-1] + ln.b.detach()
    return stack, labels


@torch.no_grad()
def direct_logit_attribution(model: "HookedTransformer", tokens: torch.Tensor) -> tuple[torch.Tensor, list[str]]:
    """Run ``model`` on ``tokens`` and attribute each correct next-token logit to the components.

    Returns:
        ``(attributions [batch, pos - 1, n_components], labels)``; adding
        ``model.b_U`` of the next token to the sum over components gives the logit.
    """
    _, cache = model.run_with_cache(tokens)
    stack, labels = decompose_resid(model, cache)
    return logit_attribution(stack, model.W_U.detach(), tokens.to(model.W_E.device)), labels
