"""A tiny transformer with TransformerLens hook names, its data and its training.

The model of lessons 8-11 (induction heads, causal interventions, reading and steering); lesson 10's
grokking model builds on it.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig, repeated_random_tokens
    >>> model = HookedTransformer(TransformerConfig(n_layers=2))
    >>> logits, cache = model.run_with_cache(repeated_random_tokens(2, 10, 64))
    >>> cache["pattern", 0].shape
    torch.Size([2, 4, 21, 21])
"""

from .cache import SHORT_NAMES, TransformerCache, get_act_name
from .config import TransformerConfig
from .factored import FactoredMatrix
from .data import BOS, SequenceConfig, bigram_table, induction_batch, random_tokens, repeated_random_tokens
from .hook_points import HookedRootModule, HookPoint
from .model import HookedTransformer, attention_pattern
from .checkpoints import checkpoints_dict, models_from_checkpoints
from .train import TransformerTrainConfig, TrainLog, train_transformer

__all__ = [
    "BOS",
    "FactoredMatrix",
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
    "checkpoints_dict",
    "get_act_name",
    "induction_batch",
    "models_from_checkpoints",
    "random_tokens",
    "repeated_random_tokens",
    "train_transformer",
]
