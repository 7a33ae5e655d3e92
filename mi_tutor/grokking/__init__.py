"""Grokking on modular addition: data, models, training and Fourier progress measures (lesson 10)."""

from .data import ModularData, check_prime, check_train_frac, is_prime, modular_addition
from .models import EmbedMLP, MLPConfig, answer_logits, fast_answer_logits, nanda_config, nanda_transformer
from .train import (GrokConfig, GrokLog, accuracy, evaluate, high_precision_loss, sum_squared_weights,
                    train_grokking)

__all__ = [
    "EmbedMLP", "GrokConfig", "fast_answer_logits", "GrokLog", "MLPConfig", "ModularData", "accuracy", "answer_logits",
    "check_prime", "check_train_frac", "evaluate", "high_precision_loss", "is_prime", "modular_addition",
    "nanda_config", "nanda_transformer", "sum_squared_weights", "train_grokking",
]
