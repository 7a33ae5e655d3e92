"""A small decoder-only transformer with TransformerLens hook and weight names.

The whole model is in this file, nanoGPT style, with the shape of every tensor
in a comment. Shapes use ``batch``, ``pos`` (query position), ``key_pos``,
``head``, ``d_model``, ``d_head``, ``d_mlp`` and ``d_vocab``.

Hook points (``model.hook_names()`` lists them)::

    hook_embed, hook_pos_embed                             [batch, pos, d_model]
    blocks.{L}.hook_resid_pre | hook_resid_mid | hook_resid_post
    blocks.{L}.hook_attn_out | hook_mlp_out                [batch, pos, d_model]
    blocks.{L}.ln1.hook_scale | hook_normalized            (LayerNorm models only)
    blocks.{L}.attn.hook_q | hook_k | hook_v | hook_z      [batch, pos, head, d_head]
    blocks.{L}.attn.hook_attn_scores | hook_pattern        [batch, head, pos, key_pos]
    blocks.{L}.attn.hook_result                            [batch, pos, head, d_model]
    blocks.{L}.mlp.hook_pre | hook_post                    [batch, pos, d_mlp]
    ln_final.hook_scale | hook_normalized                  (LayerNorm models only)

Examples:
    >>> model = HookedTransformer(TransformerConfig(n_layers=2, d_vocab=16, n_ctx=8))
    >>> tokens = torch.randint(0, 16, (3, 8))
    >>> logits, cache = model.run_with_cache(tokens)
    >>> cache["pattern", 1].shape
    torch.Size([3, 4, 8, 8])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import ShapeError, check_choice, check_layer_index, check_tensor
from .cache import TransformerCache
from .config import TransformerConfig
from .factored import FactoredMatrix
from .hook_points import HookedRootModule, HookPoint, NamesFilter

__all__ = ["HookedTransformer", "Attention", "MLP", "LayerNorm", "TransformerBlock", "attention_pattern"]


def attention_pattern(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Causal attention pattern from queries and keys (what ``hook_pattern`` records).

    Args:
        q: Queries ``[batch, pos, head, d_head]``.
        k: Keys ``[batch, pos, head, d_head]``.

    Returns:
        ``[batch, head, query_pos, key_pos]``: ``softmax_k(q . k / sqrt(d_head))``
        with keys after the query masked out; every row sums to 1.

    Examples:
        >>> p = attention_pattern(torch.zeros(1, 3, 1, 2), torch.zeros(1, 3, 1, 2))
        >>> p[0, 0]
        tensor([[1.0000, 0.0000, 0.0000],
                [0.5000, 0.5000, 0.0000],
                [0.3333, 0.3333, 0.3333]])
    """
    dims = check_tensor("q", q, ("batch", "pos", "head", "d_head"), floating=True)
    check_tensor("k", k, ("batch", "pos", "head", "d_head"), dims=dims, floating=True)
    n = q.shape[1]
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(q.shape[-1])  # [batch, head, pos, key_pos]
    future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(1)  # True above the diagonal
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1)


def _param(*shape: int, std: float | None = None) -> nn.Parameter:
    """A parameter initialised N(0, std^2), or zeros when ``std`` is None."""
    p = torch.zeros(*shape)
    if std is not None:
        nn.init.normal_(p, std=std)
    return nn.Parameter(p)


class LayerNorm(nn.Module):
    """LayerNorm with hooks on its scale ``[batch, pos, 1]`` and normalised output."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.w = nn.Parameter(torch.ones(cfg.d_model))
        self.b = nn.Parameter(torch.zeros(cfg.d_model))
        self.hook_scale = HookPoint()  # [batch, pos, 1]
        self.hook_normalized = HookPoint()  # [batch, pos, d_model]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x - x.mean(-1, keepdim=True)  # [batch, pos, d_model]
        scale = self.hook_scale((x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt())  # [batch, pos, 1]
        return self.hook_normalized(x / scale) * self.w + self.b


class Attention(nn.Module):
    """Causal multi-head attention with per-head weights ``W_Q[head, d_model, d_head]`` etc."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        h, d, dh, s = cfg.n_heads, cfg.d_model, cfg.d_head, cfg.init_range
        self.W_Q, self.W_K, self.W_V = _param(h, d, dh, std=s), _param(h, d, dh, std=s), _param(h, d, dh, std=s)
        self.W_O = _param(h, dh, d, std=s)
        self.b_Q, self.b_K, self.b_V = _param(h, dh), _param(h, dh), _param(h, dh)
        self.b_O = _param(d)
        mask = torch.tril(torch.ones(cfg.n_ctx, cfg.n_ctx, dtype=torch.bool))
        self.register_buffer("mask", mask, persistent=False)  # [pos, key_pos], True = may attend
        self.scale = 1 / math.sqrt(dh)
        for name in ("q", "k", "v", "attn_scores", "pattern", "z", "result"):  # forward order
            self.add_module(f"hook_{name}", HookPoint())

    def forward(self, q_in: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor,
                past_kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Inputs ``[batch, pos, d_model]`` (the same tensor unless shortformer) -> ``[batch, pos, d_model]``.

        ``past_kv``: keys and values ``[batch, past, head, d_head]`` of ``past`` earlier positions; the
        inputs are then the positions after them, which attend to both (``hook_k``/``hook_v`` see the new
        positions only, ``hook_attn_scores``/``hook_pattern`` have ``past + pos`` key positions).
        """
        q = self.hook_q(torch.einsum("bpm,hmd->bphd", q_in, self.W_Q) + self.b_Q)  # [batch, pos, head, d_head]
        k = self.hook_k(torch.einsum("bpm,hmd->bphd", k_in, self.W_K) + self.b_K)  # [batch, key_pos, head, d_head]
        v = self.hook_v(torch.einsum("bpm,hmd->bphd", v_in, self.W_V) + self.b_V)  # [batch, key_pos, head, d_head]
        if past_kv is not None:  # [batch, past + key_pos, head, d_head]
            k, v = torch.cat([past_kv[0], k], dim=1), torch.cat([past_kv[1], v], dim=1)
        n_q, n_k = q.shape[1], k.shape[1]
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) * self.scale  # [batch, head, pos, key_pos]
        scores = self.hook_attn_scores(scores.masked_fill(~self.mask[n_k - n_q:n_k, :n_k], float("-inf")))
        pattern = self.hook_pattern(scores.softmax(dim=-1))  # [batch, head, pos, key_pos], rows sum to 1
        z = self.hook_z(torch.einsum("bhqk,bkhd->bqhd", pattern, v))  # [batch, pos, head, d_head]
        result = self.hook_result(torch.einsum("bqhd,hdm->bqhm", z, self.W_O))  # [batch, pos, head, d_model]
        return result.sum(dim=2) + self.b_O  # [batch, pos, d_model]


class MLP(nn.Module):
    """``W_in [d_model, d_mlp]`` -> activation -> ``W_out [d_mlp, d_model]``."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.W_in = _param(cfg.d_model, cfg.d_mlp, std=cfg.init_range)
        self.b_in = _param(cfg.d_mlp)
        self.W_out = _param(cfg.d_mlp, cfg.d_model, std=cfg.init_range)
        self.b_out = _param(cfg.d_model)
        self.act = F.relu if cfg.act_fn == "relu" else F.gelu
        self.hook_pre, self.hook_post = HookPoint(), HookPoint()  # [batch, pos, d_mlp]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.hook_pre(x @ self.W_in + self.b_in)  # [batch, pos, d_mlp]
        post = self.hook_post(self.act(pre))  # [batch, pos, d_mlp]
        return post @ self.W_out + self.b_out  # [batch, pos, d_model]


class TransformerBlock(nn.Module):
    """``resid_mid = resid_pre + attn(ln1(resid_pre))``; ``resid_post = resid_mid + mlp(ln2(resid_mid))``."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        norm = cfg.normalization_type == "LN"
        # registered in the order of the forward pass, so hook_names() lists them in that order
        self.hook_resid_pre = HookPoint()  # [batch, pos, d_model]
        self.ln1 = LayerNorm(cfg) if norm else nn.Identity()
        self.attn = Attention(cfg)
        self.hook_attn_out = HookPoint()  # [batch, pos, d_model]
        if not cfg.attn_only:
            self.hook_resid_mid = HookPoint()  # [batch, pos, d_model]
            self.ln2 = LayerNorm(cfg) if norm else nn.Identity()
            self.mlp = MLP(cfg)
            self.hook_mlp_out = HookPoint()  # [batch, pos, d_model]
        self.hook_resid_post = HookPoint()  # [batch, pos, d_model]

    def forward(self, resid: torch.Tensor, pos_embed: torch.Tensor | None = None,
                past_kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """``resid`` ``[batch, pos, d_model]``; ``pos_embed`` only for shortformer models.

        ``past_kv``: the keys and values of earlier positions, as in :class:`Attention`.
        """
        resid = self.hook_resid_pre(resid)
        x = self.ln1(resid)  # [batch, pos, d_model]
        qk_in = x if pos_embed is None else self.ln1(resid + pos_embed)
        resid = resid + self.hook_attn_out(self.attn(qk_in, qk_in, x, past_kv))
        if not self.cfg.attn_only:
            resid = self.hook_resid_mid(resid)
            resid = resid + self.hook_mlp_out(self.mlp(self.ln2(resid)))
        return self.hook_resid_post(resid)


class HookedTransformer(HookedRootModule):
    """A decoder-only transformer whose every activation is a named hook point.

    Args:
        cfg: Sizes and switches; ``model.cfg`` keeps it.

    The forward pass takes token ids ``[batch, pos]`` (or ``[pos]``) and returns
    logits ``[batch, pos, d_vocab]``; ``return_type="loss"`` returns the mean
    next-token cross-entropy instead.

    Examples:
        >>> model = HookedTransformer(TransformerConfig(n_layers=1, d_vocab=10, n_ctx=6))
        >>> model(torch.tensor([[1, 2, 3]])).shape
        torch.Size([1, 3, 10])
        >>> model.W_Q.shape  # [n_layers, n_heads, d_model, d_head]
        torch.Size([1, 4, 64, 16])
    """

    def __init__(self, cfg: TransformerConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or TransformerConfig()
        with torch.random.fork_rng(devices=[]):  # seeded weights, global RNG untouched
            torch.manual_seed(cfg.seed)
            self.W_E = _param(cfg.d_vocab, cfg.d_model, std=cfg.init_range)  # [d_vocab, d_model]
            self.W_pos = _param(cfg.n_ctx, cfg.d_model, std=cfg.init_range)  # [n_ctx, d_model]
            self.hook_embed, self.hook_pos_embed = HookPoint(), HookPoint()
            self.blocks = nn.ModuleList(TransformerBlock(cfg) for _ in range(cfg.n_layers))
            self.ln_final = LayerNorm(cfg) if cfg.normalization_type == "LN" else nn.Identity()
            self.W_U = _param(cfg.d_model, cfg.d_vocab, std=cfg.init_range)  # [d_model, d_vocab]
            self.b_U = _param(cfg.d_vocab)
        self.setup_hooks()

    # ---------------------------------------------------------------- forward
    def _check_tokens(self, tokens: object) -> torch.Tensor:
        if not isinstance(tokens, torch.Tensor) or tokens.is_floating_point() or tokens.dtype == torch.bool:
            kind = f"a tensor of dtype {tokens.dtype}" if isinstance(tokens, torch.Tensor) else f"a {type(tokens).__name__}"
            raise ShapeError(f"`tokens` should be an integer tensor of token ids [batch, pos] but is {kind}")
        if tokens.dim() == 1:
            tokens = tokens[None]
        if tokens.dim() != 2:
            raise ShapeError(f"`tokens` has shape {tuple(tokens.shape)} but expected (batch, pos) or (pos,)")
        if tokens.shape[1] > self.cfg.n_ctx:
            raise ShapeError(
                f"`tokens` has {tokens.shape[1]} positions but the model's context n_ctx is {self.cfg.n_ctx}: "
                "cut the sequence (tokens[:, :n_ctx])."
            )
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.cfg.d_vocab):
            raise ValueError(
                f"`tokens` holds ids from {tokens.min().item()} to {tokens.max().item()} but the vocabulary "
                f"is 0 .. {self.cfg.d_vocab - 1} (d_vocab={self.cfg.d_vocab})."
            )
        return tokens.to(self.W_E.device)

    def forward(self, tokens: torch.Tensor, return_type: str | None = "logits", *, start_at_layer: int | None = None,
                past_kv: Sequence[tuple[torch.Tensor, torch.Tensor] | None] | None = None) -> torch.Tensor | None:
        """Run the model.

        Args:
            tokens: Token ids ``[batch, pos]`` (or ``[pos]``), ``pos <= n_ctx``; with ``start_at_layer``,
                the residual stream ``[batch, pos, d_model]`` entering that block instead.
            return_type: ``"logits"`` (``[batch, pos, d_vocab]``), ``"loss"``
                (mean next-token cross-entropy, a scalar) or ``None``.
            start_at_layer: Run only the blocks from this one on (``n_layers``: only the unembedding),
                as TransformerLens's ``start_at_layer``; the embedding hooks do not fire.
            past_kv: With ``start_at_layer``: one ``(k, v)`` per layer (``None`` below
                ``start_at_layer``), each ``[batch, past, head, d_head]``, the keys and values of
                ``past`` earlier positions; the input holds the ``pos`` positions after them, and the
                logits cover those positions only (a run continued from a key-value cache).
        """
        check_choice("return_type", str(return_type), ["logits", "loss", "None"])
        if start_at_layer is None:
            if past_kv is not None:
                raise ValueError("`past_kv` needs `start_at_layer` (the residual stream the cached positions precede)")
            tokens = self._check_tokens(tokens)
            n = tokens.shape[1]
            embed = self.hook_embed(self.W_E[tokens])  # [batch, pos, d_model]
            pos = self.hook_pos_embed(self.W_pos[:n].expand_as(embed))  # [batch, pos, d_model]
            if self.cfg.positional_embedding_type == "standard":
                resid, pos_in = embed + pos, None
            else:  # shortformer: positions reach queries and keys only
                resid, pos_in = embed, pos
            start = 0
        else:
            if return_type == "loss":
                raise ValueError("`return_type`='loss' needs tokens: it cannot be used with `start_at_layer`")
            resid, pos_in, start = self._resid_input(tokens, start_at_layer, past_kv)
        for layer in range(start, self.cfg.n_layers):
            past = None if past_kv is None else past_kv[layer]
            resid = self.blocks[layer](resid, pos_in, past)  # [batch, pos, d_model]
        logits = self.ln_final(resid) @ self.W_U + self.b_U  # [batch, pos, d_vocab]
        if return_type == "logits":
            return logits
        if return_type == "loss":
            return F.cross_entropy(logits[:, :-1].flatten(0, 1), tokens[:, 1:].flatten())
        return None

    def _resid_input(self, resid: object, start_at_layer: int, past_kv) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        """Check a residual-stream input and its cache; returns ``(resid, pos_embed or None, start)``."""
        start = check_layer_index("start_at_layer", start_at_layer, self, allow_final=True)
        check_tensor("tokens", resid, ("batch", "pos", self.cfg.d_model), floating=True)
        n_past = 0
        if past_kv is not None:
            if len(past_kv) != self.cfg.n_layers:
                raise ShapeError(f"`past_kv` has {len(past_kv)} entries but the model has {self.cfg.n_layers} layers "
                                 "(one (k, v) per layer, None below start_at_layer)")
            spec = (resid.shape[0], "past", self.cfg.n_heads, self.cfg.d_head)
            dims: dict[str, int] = {}
            for layer in range(start, self.cfg.n_layers):
                if past_kv[layer] is None:
                    raise ValueError(f"`past_kv[{layer}]` is None but layer {layer} >= start_at_layer={start} runs")
                for i, what in enumerate("kv"):
                    dims = check_tensor(f"past_kv[{layer}][{i}] ({what})", past_kv[layer][i], spec, dims=dims)
            n_past = dims.get("past", 0)
        n = n_past + resid.shape[1]
        if n > self.cfg.n_ctx:
            raise ShapeError(f"`past_kv` and `tokens` cover {n} positions but the model's context n_ctx is {self.cfg.n_ctx}")
        resid = resid.to(self.W_E.device)
        pos_in = None
        if self.cfg.positional_embedding_type != "standard":
            pos_in = self.W_pos[n_past:n].expand_as(resid)  # [batch, pos, d_model]
        return resid, pos_in, start

    def run_with_cache(
        self, tokens: torch.Tensor, names_filter: NamesFilter = None, *, detach: bool = True,
        return_type: str | None = "logits",
    ) -> tuple[torch.Tensor | None, TransformerCache]:
        """Run the model and record activations.

        Args:
            tokens: Token ids ``[batch, pos]``.
            names_filter: ``None`` (every hook), a name, a list of names or a
                predicate ``name -> bool``.
            detach: Detach cached tensors from the autograd graph.
            return_type: As in :meth:`forward`.

        Returns:
            ``(logits, cache)``; ``cache["pattern", 1]`` is the same tensor as
            ``cache["blocks.1.attn.hook_pattern"]``.
        """
        store: dict[str, torch.Tensor] = {}
        out = self.run_with_hooks(tokens, return_type=return_type, fwd_hooks=self._cache_hooks(names_filter, store, detach))
        return out, TransformerCache(store)

    # ------------------------------------------------------------ weights
    def _stack(self, module: str, name: str) -> torch.Tensor:
        return torch.stack([getattr(getattr(b, module), name) for b in self.blocks])

    @property
    def W_Q(self) -> torch.Tensor:
        """Query weights ``[n_layers, n_heads, d_model, d_head]``."""
        return self._stack("attn", "W_Q")

    @property
    def W_K(self) -> torch.Tensor:
        """Key weights ``[n_layers, n_heads, d_model, d_head]``."""
        return self._stack("attn", "W_K")

    @property
    def W_V(self) -> torch.Tensor:
        """Value weights ``[n_layers, n_heads, d_model, d_head]``."""
        return self._stack("attn", "W_V")

    @property
    def W_O(self) -> torch.Tensor:
        """Output weights ``[n_layers, n_heads, d_head, d_model]``."""
        return self._stack("attn", "W_O")

    @property
    def b_Q(self) -> torch.Tensor:
        """Query biases ``[n_layers, n_heads, d_head]``."""
        return self._stack("attn", "b_Q")

    @property
    def b_K(self) -> torch.Tensor:
        """Key biases ``[n_layers, n_heads, d_head]``."""
        return self._stack("attn", "b_K")

    @property
    def b_V(self) -> torch.Tensor:
        """Value biases ``[n_layers, n_heads, d_head]``."""
        return self._stack("attn", "b_V")

    @property
    def b_O(self) -> torch.Tensor:
        """Attention output biases ``[n_layers, d_model]``."""
        return self._stack("attn", "b_O")

    @property
    def W_in(self) -> torch.Tensor:
        """MLP input weights ``[n_layers, d_model, d_mlp]`` (MLP models only)."""
        return self._stack("mlp", "W_in")

    @property
    def W_out(self) -> torch.Tensor:
        """MLP output weights ``[n_layers, d_mlp, d_model]`` (MLP models only)."""
        return self._stack("mlp", "W_out")

    @property
    def QK(self):
        """``W_Q W_K^T`` of every head as a :class:`~mi_tutor.transformer.FactoredMatrix` ``[n_layers, n_heads, d_model, d_model]``."""
        return FactoredMatrix(self.W_Q, self.W_K.transpose(-2, -1))

    @property
    def OV(self):
        """``W_V W_O`` of every head as a :class:`~mi_tutor.transformer.FactoredMatrix` ``[n_layers, n_heads, d_model, d_model]``."""
        return FactoredMatrix(self.W_V, self.W_O)
