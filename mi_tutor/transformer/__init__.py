"""A tiny transformer with TransformerLens hook names, its data and its training.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig, repeated_random_tokens
    >>> model = HookedTransformer(TransformerConfig(n_layers=2))
    >>> logits, cache = model.run_with_cache(repeated_random_tokens(2, 10, 64))
    >>> cache["pattern", 0].shape
    torch.Size([2, 4, 21, 21])
"""

from .cache import SHORT_NAMES, TransformerCache, get_act_name
from .config import TransformerConfig
from .data import BOS, SequenceConfig, bigram_table, induction_batch, random_tokens, repeated_random_tokens
from .hook_points import HookedRootModule, HookPoint
from .model import HookedTransformer, attention_pattern
from .checkpoints import load_checkpoints, load_training_losses
from .train import TransformerTrainConfig, TrainLog, train_transformer

__all__ = [
    "BOS",
    "SHORT_NAMES",
    "HookPoint",
    "HookedRootModule",
    "HookedTransformer",
    "SequenceConfig",
    "TransformerTrainConfig",
    "TrainLog",
    "TransformerCache",
    "TransformerConfig",
    "attention_pattern",
    "bigram_table",
    "get_act_name",
    "induction_batch",
    "load_checkpoints",
    "load_training_losses",
    "random_tokens",
    "repeated_random_tokens",
    "train_transformer",
]
