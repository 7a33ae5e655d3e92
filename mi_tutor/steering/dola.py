"""DoLa (Chuang et al. 2024): contrast the final layer with a premature one.

Every layer's residual stream can be read out through the final LayerNorm and
the unembedding (the logit lens). Early layers tend to predict what is common,
late layers what is specific; subtracting an early layer's log-probabilities
from the final layer's favours what the late layers *added*. DoLa picks the
premature layer ``M`` per prompt as the candidate with the largest
Jensen-Shannon divergence from the final layer ``N``, and scores
``log p_N - log p_M`` only over tokens with ``p_N >= relative_top x max p_N``
(the others get ``-inf``), so implausible tokens cannot win.

Examples:
    >>> p = torch.tensor([[0.5, 0.5]]).log(); q = torch.tensor([[0.5, 0.5]]).log()
    >>> float(js_divergence(p, q))
    0.0
"""

from __future__ import annotations

import torch

from ..validation import check_tensor


__all__ = ["layer_logprobs", "js_divergence", "premature_layer", "dola_scores", "DolaResult", "dola_logits"]


@torch.no_grad()
def layer_logprobs(model, tokens: torch.Tensor, position: int = -1) -> torch.Tensor:
    """Logit-lens log-probabilities at ``position`` of every layer: ``[n_layers + 1, batch, d_vocab]``.

    Entry 0 reads the embeddings (``blocks.0.hook_resid_pre``), entry ``L + 1`` the output of block ``L``
    (``hook_resid_post``); the last entry is the model's own output.
    """
    check_tensor("tokens", tokens, ("batch", "pos"))
    n = model.cfg.n_layers
    names = ["blocks.0.hook_resid_pre"] + [f"blocks.{l}.hook_resid_post" for l in range(n)]
    _, cache = model.run_with_cache(tokens, names_filter=names)
    resid = torch.stack([cache[name][:, position] for name in names])  # [n + 1, batch, d_model]
    logits = model.ln_final(resid) @ model.W_U + model.b_U
    return logits.float().log_softmax(-1)


def js_divergence(logp: torch.Tensor, logq: torch.Tensor) -> torch.Tensor:
    """Jensen-Shannon divergence ``[...]`` of two log-probability tensors ``[..., d_vocab]`` (nats)."""
    if logp.shape != logq.shape:
        raise ValueError(f"js_divergence: `logp` {tuple(logp.shape)} and `logq` {tuple(logq.shape)} differ in shape")
    p, q = logp.exp(), logq.exp()
    logm = ((p + q) / 2).clamp_min(1e-30).log()
    return 0.5 * ((p * (logp - logm)).sum(-1) + (q * (logq - logm)).sum(-1))


def premature_layer(logprobs: torch.Tensor, candidates: list[int]) -> torch.Tensor:
    """Per prompt, the candidate layer (an index into ``logprobs [n_layers + 1, batch, d_vocab]``) whose
    distribution is farthest (JSD) from the last one: ``[batch]``."""
    n = logprobs.shape[0]
    for c in candidates:
        if not isinstance(c, int) or not 0 <= c < n - 1:
            raise ValueError(f"`candidates` holds {c!r}: premature layers are 0 .. {n - 2} (the last, {n - 1}, is "
                             "the mature one)")
    jsd = torch.stack([js_divergence(logprobs[-1], logprobs[c]) for c in candidates])  # [n_cand, batch]
    return torch.tensor(candidates, device=logprobs.device)[jsd.argmax(0)]


def dola_scores(final: torch.Tensor, premature: torch.Tensor, relative_top: float = 0.1) -> torch.Tensor:
    """``log p_N - log p_M`` ``[batch, d_vocab]`` where ``p_N >= relative_top * max p_N``, ``-inf`` elsewhere."""
    check_tensor("final", final, ("batch", "d_vocab"), floating=True)
    check_tensor("premature", premature, tuple(final.shape), floating=True)
    if not 0 <= relative_top <= 1:
        raise ValueError(f"`relative_top` is {relative_top}: use a number in [0, 1]")
    keep = final >= final.max(-1, keepdim=True).values + torch.log(torch.tensor(max(relative_top, 1e-30)))
    return torch.where(keep, final - premature, torch.full_like(final, float("-inf")))


class DolaResult(dict):
    """``scores [batch, d_vocab]`` and ``premature [batch]`` (a dict with attribute access)."""

    __getattr__ = dict.__getitem__


@torch.no_grad()
def dola_logits(model, tokens: torch.Tensor, candidates: list[int] | None = None, relative_top: float = 0.1
                ) -> DolaResult:
    """DoLa scores of the next token after ``tokens [batch, pos]``.

    Args:
        model: The transformer.
        tokens: Prompts.
        candidates: Premature layers as indices of :func:`layer_logprobs` (default every layer but the last).
        relative_top: The plausibility filter ``alpha``.
    """
    logprobs = layer_logprobs(model, tokens)
    candidates = list(range(logprobs.shape[0] - 1)) if candidates is None else list(candidates)
    chosen = premature_layer(logprobs, candidates)
    premature = logprobs[chosen, torch.arange(tokens.shape[0], device=logprobs.device)]
    return DolaResult(scores=dola_scores(logprobs[-1], premature, relative_top), premature=chosen)
