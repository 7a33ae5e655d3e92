"""The configuration of :class:`~mi_tutor.transformer.HookedTransformer`."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["TransformerConfig"]

_NORMS = (None, "LN")
_ACTS = ("relu", "gelu")
_POS = ("standard", "shortformer")


@dataclass
class TransformerConfig:
    """Sizes and switches of a small decoder-only transformer.

    Field names follow TransformerLens' ``HookedTransformerConfig`` so code
    written against one reads the same against the other.

    Attributes:
        n_layers: Number of transformer blocks.
        d_model: Width of the residual stream.
        n_heads: Attention heads per layer.
        d_head: Width of each head's queries, keys and values.
        d_vocab: Vocabulary size (token ids ``0 .. d_vocab - 1``).
        n_ctx: Longest sequence the model accepts (positional embeddings).
        d_mlp: Hidden width of each MLP (ignored when ``attn_only``).
        attn_only: Leave the MLPs out (the models of lesson 8).
        normalization_type: ``"LN"`` for LayerNorm before each sub-layer and
            before the unembedding, ``None`` for no normalisation (the
            analysis of QK/OV circuits is then exact).
        act_fn: MLP non-linearity, ``"relu"`` or ``"gelu"``.
        positional_embedding_type: ``"standard"`` adds ``W_pos`` to the
            residual stream; ``"shortformer"`` feeds it only to queries and keys.
        init_range: Standard deviation of the normal weight initialisation.
        seed: Seed of the weight initialisation.

    Examples:
        >>> cfg = TransformerConfig(n_layers=2, d_model=64, n_heads=4, d_head=16)
        >>> cfg.n_params_attn
        32768
    """

    n_layers: int = 2
    d_model: int = 64
    n_heads: int = 4
    d_head: int = 16
    d_vocab: int = 64
    n_ctx: int = 64
    d_mlp: int = 256
    attn_only: bool = True
    normalization_type: str | None = None
    act_fn: str = "relu"
    positional_embedding_type: str = "standard"
    init_range: float = 0.02
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_layers", "d_model", "n_heads", "d_head", "d_vocab", "n_ctx", "d_mlp"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "n_layers" else 1):
                raise ValueError(f"TransformerConfig.{name} must be a positive int but is {value!r}")
        if self.normalization_type not in _NORMS:
            raise ValueError(f"TransformerConfig.normalization_type must be one of {_NORMS}, not {self.normalization_type!r}")
        if self.act_fn not in _ACTS:
            raise ValueError(f"TransformerConfig.act_fn must be one of {_ACTS}, not {self.act_fn!r}")
        if self.positional_embedding_type not in _POS:
            raise ValueError(
                f"TransformerConfig.positional_embedding_type must be one of {_POS}, "
                f"not {self.positional_embedding_type!r}"
            )

    @property
    def n_params_attn(self) -> int:
        """Parameters in the attention weight matrices (biases excluded)."""
        return self.n_layers * 4 * self.n_heads * self.d_model * self.d_head

    def to_dict(self) -> dict:
        """The fields as a plain dict (what checkpoints store)."""
        return asdict(self)
