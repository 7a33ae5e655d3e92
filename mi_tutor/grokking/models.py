"""The two models that grok modular addition.

* :func:`nanda_transformer`: the 1-layer transformer of Nanda et al. (2023), built on
  :class:`~mi_tutor.transformer.HookedTransformer` (no LayerNorm, ReLU MLP) with their initialisation.
* :class:`EmbedMLP`: ``relu((E_a[a] + E_b[b]) W_in + b_in) W_out + b_out``, small enough to grok in seconds.

Both map tokens ``[batch, 3]`` (``a b =``) to logits; :func:`answer_logits` returns the
``[batch, p]`` logits of the answer for either.

Examples:
    >>> m = EmbedMLP(p=7, d_embed=8, d_hidden=16)
    >>> tokens = torch.tensor([[1, 2, 7], [3, 4, 7]])
    >>> answer_logits(m, tokens).shape
    torch.Size([2, 7])
    >>> t = nanda_transformer(p=7, d_model=16, n_heads=2, d_head=8, d_mlp=32)
    >>> answer_logits(t, tokens).shape
    torch.Size([2, 7])
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..transformer.config import TransformerConfig
from ..transformer.hook_points import HookedRootModule, HookPoint
from ..transformer.model import HookedTransformer
from .data import check_prime

__all__ = ["EmbedMLP", "MLPConfig", "answer_logits", "fast_answer_logits", "nanda_config", "nanda_transformer"]


def nanda_config(p: int = 113, d_model: int = 128, n_heads: int = 4, d_head: int = 32, d_mlp: int = 512,
                 seed: int = 0) -> TransformerConfig:
    """The transformer configuration of Nanda et al.: 1 layer, ReLU MLP, no LayerNorm, ``d_vocab = p + 1``."""
    p = check_prime("p", p)
    return TransformerConfig(n_layers=1, d_model=d_model, n_heads=n_heads, d_head=d_head, d_vocab=p + 1, n_ctx=3,
                             d_mlp=d_mlp, attn_only=False, normalization_type=None, act_fn="relu", seed=seed)


def nanda_transformer(p: int = 113, d_model: int = 128, n_heads: int = 4, d_head: int = 32, d_mlp: int = 512,
                      seed: int = 0) -> HookedTransformer:
    """The 1-layer transformer of Nanda et al., initialised as in their code.

    Weight matrices are ``N(0, 1/d_model)`` (the unembedding ``N(0, 1/d_vocab)``), biases zero.

    Args:
        p: Prime modulus (``d_vocab = p + 1``, the last token is ``"="``).
        d_model, n_heads, d_head, d_mlp: Sizes (the paper: 128, 4, 32, 512).
        seed: Seed of the initialisation.
    """
    model = HookedTransformer(nanda_config(p, d_model, n_heads, d_head, d_mlp, seed))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.split(".")[-1].startswith("b_"):
                param.zero_()
            elif name == "W_U":
                param.copy_(torch.randn(param.shape, generator=gen) / math.sqrt(model.cfg.d_vocab))
            else:
                param.copy_(torch.randn(param.shape, generator=gen) / math.sqrt(d_model))
    return model


@dataclass
class MLPConfig:
    """Sizes of :class:`EmbedMLP`.

    Attributes:
        p: Prime modulus (inputs and outputs ``0 .. p-1``).
        d_embed: Width of each embedding.
        d_hidden: ReLU units.
        seed: Seed of the initialisation.
    """

    p: int = 53
    d_embed: int = 64
    d_hidden: int = 256
    seed: int = 0

    def __post_init__(self) -> None:
        check_prime("p", self.p)
        for name in ("d_embed", "d_hidden"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"MLPConfig.{name} must be a positive int but is {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)


class EmbedMLP(HookedRootModule):
    """Two embeddings summed, one ReLU layer, an unembedding.

    ``logits = relu((W_Ea[a] + W_Eb[b]) @ W_in + b_in) @ W_U + b_U``. Hook points:
    ``hook_embed`` ``[batch, d_embed]``, ``hook_pre`` / ``hook_post`` ``[batch, d_hidden]``.

    Args:
        p, d_embed, d_hidden, seed: see :class:`MLPConfig` (or pass ``cfg``).

    Examples:
        >>> EmbedMLP(p=5, d_embed=4, d_hidden=8)(torch.tensor([[1, 2, 5]])).shape
        torch.Size([1, 5])
    """

    def __init__(self, p: int = 53, d_embed: int = 64, d_hidden: int = 256, seed: int = 0,
                 cfg: MLPConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or MLPConfig(p, d_embed, d_hidden, seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        d, h = cfg.d_embed, cfg.d_hidden
        self.W_Ea = nn.Parameter(torch.randn(cfg.p, d, generator=gen) / math.sqrt(d))  # [p, d_embed]
        self.W_Eb = nn.Parameter(torch.randn(cfg.p, d, generator=gen) / math.sqrt(d))  # [p, d_embed]
        self.W_in = nn.Parameter(torch.randn(d, h, generator=gen) / math.sqrt(d))  # [d_embed, d_hidden]
        self.b_in = nn.Parameter(torch.zeros(h))
        self.W_U = nn.Parameter(torch.randn(h, cfg.p, generator=gen) / math.sqrt(h))  # [d_hidden, p]
        self.b_U = nn.Parameter(torch.zeros(cfg.p))
        self.hook_embed, self.hook_pre, self.hook_post = HookPoint(), HookPoint(), HookPoint()
        self.setup_hooks()

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits ``[batch, p]`` for tokens ``[batch, 2]`` or ``[batch, 3]`` (a trailing ``=`` is ignored)."""
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.shape[1] not in (2, 3):
            shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__
            raise ValueError(f"`tokens` should be [batch, 3] rows (a, b, =) but is {shape}")
        tokens = tokens.to(self.W_Ea.device)
        embed = self.hook_embed(self.W_Ea[tokens[:, 0]] + self.W_Eb[tokens[:, 1]])  # [batch, d_embed]
        post = self.hook_post(torch.relu(self.hook_pre(embed @ self.W_in + self.b_in)))  # [batch, d_hidden]
        return post @ self.W_U + self.b_U


def _fast_ok(model: nn.Module) -> bool:
    cfg = getattr(model, "cfg", None)
    return (isinstance(model, HookedTransformer) and cfg.n_layers == 1 and not cfg.attn_only
            and cfg.normalization_type is None and cfg.positional_embedding_type == "standard")


def fast_answer_logits(model: HookedTransformer, tokens: torch.Tensor) -> torch.Tensor:
    """The same logits as :func:`answer_logits` for a 1-layer, LayerNorm-free transformer, ~6x faster.

    Only the last position feeds the loss, so the MLP and unembedding run there only, and the
    queries, keys and values of each position are looked up in tables over the vocabulary (a position's
    residual stream in layer 0 is its token and position embedding), and each head's three scores are
    elementwise products rather than tiny batched matmuls. Hooks do not fire.

    Args:
        model: A 1-layer :class:`~mi_tutor.transformer.HookedTransformer` without LayerNorm.
        tokens: ``[batch, n]`` token ids.

    Returns:
        ``[batch, d_vocab - 1]`` logits at the last position.

    Examples:
        >>> m = nanda_transformer(7, d_model=16, n_heads=2, d_head=8, d_mlp=32)
        >>> t = torch.tensor([[1, 2, 7], [6, 0, 7]])
        >>> torch.allclose(fast_answer_logits(m, t), answer_logits(m, t), atol=1e-5)
        True
    """
    if not _fast_ok(model):
        raise ValueError("`model` must be a 1-layer HookedTransformer with an MLP and no LayerNorm")
    tokens = model._check_tokens(tokens)
    b, n = tokens.shape
    attn, mlp = model.blocks[0].attn, model.blocks[0].mlp
    n_heads, d_model, d_head = attn.W_Q.shape
    d_vocab = model.W_E.shape[0]
    resid0 = (model.W_E[None] + model.W_pos[:n, None]).reshape(n * d_vocab, d_model)  # [pos * d_vocab, d_model]
    w_qkv = torch.cat([attn.W_Q, attn.W_K, attn.W_V]).permute(1, 0, 2).reshape(d_model, 3 * n_heads * d_head)
    b_qkv = torch.cat([attn.b_Q, attn.b_K, attn.b_V]).reshape(3 * n_heads * d_head)
    qkv_tab = resid0 @ w_qkv + b_qkv  # [pos * d_vocab, 3 * head * d_head]: one matmul over the vocabulary
    rows = tokens + torch.arange(n, device=tokens.device) * d_vocab  # [batch, pos]: row of each token's table
    qkv = F.embedding(rows, qkv_tab).view(b, n, 3, n_heads, d_head)  # embedding's backward beats indexing's
    q, k, v = qkv[:, -1, 0], qkv[:, :, 1], qkv[:, :, 2]  # [batch, head, d_head], [batch, pos, head, d_head] x 2
    pattern = ((q[:, None] * k).sum(-1) * attn.scale).softmax(1)  # [batch, key_pos, head]
    z = (pattern[..., None] * v).sum(1)  # [batch, head, d_head]
    last = F.embedding(rows[:, -1], resid0)  # [batch, d_model]
    resid = last + z.reshape(b, n_heads * d_head) @ attn.W_O.reshape(n_heads * d_head, d_model) + attn.b_O
    post = mlp.act(resid @ mlp.W_in + mlp.b_in)  # [batch, d_mlp]
    resid = resid + post @ mlp.W_out + mlp.b_out
    return (resid @ model.W_U + model.b_U)[:, :-1]


def answer_logits(model: nn.Module, tokens: torch.Tensor, fast: bool = False) -> torch.Tensor:
    """Logits ``[batch, p]`` of the answer: the last position, the ``"="`` column dropped.

    Args:
        model: An :class:`EmbedMLP` or a :func:`nanda_transformer`.
        tokens: ``[batch, 3]`` rows ``(a, b, p)``.
        fast: For a 1-layer transformer, use :func:`fast_answer_logits` (same numbers, no hooks).
    """
    if fast and _fast_ok(model):
        return fast_answer_logits(model, tokens)
    out = model(tokens)
    if out.dim() == 3:  # transformer: [batch, pos, d_vocab = p + 1]
        return out[:, -1, :-1]
    return out
