"""Grokking on modular addition: data, models, training and Fourier progress measures (lesson 10).

Examples:
    >>> from mi_tutor.grokking import modular_addition, fourier_basis
    >>> modular_addition(53, 0.4).train_idx.shape, fourier_basis(53)[0].shape
    (torch.Size([1123]), torch.Size([53, 53]))
"""

from .analysis import (all_logits, check_logits, cos_sum_terms, embedding, excluded_logits, fit_cos_sum, gini,
                       grid_accuracy, grid_loss, key_frequencies_from_embedding, key_frequencies_from_neurons,
                       neuron_activations, neuron_frequency_fractions, restricted_logits, sum_directions)
from .data import ModularData, check_prime, check_train_frac, is_prime, modular_addition
from .fourier import fourier_basis, fourier_transform, fourier_transform_2d, frequency_norms, n_frequencies
from .live import LIVE_MLP, LIVE_TRAIN, LIVE_TRAIN_FRAC, grokking_phases, train_live
from .models import EmbedMLP, MLPConfig, answer_logits, fast_answer_logits, nanda_config, nanda_transformer
from .runs import GrokRun, load_run_dict, run_data
from .train import (GrokConfig, GrokLog, accuracy, evaluate, high_precision_loss, sum_squared_weights,
                    train_grokking)

__all__ = [
    "LIVE_MLP", "LIVE_TRAIN", "LIVE_TRAIN_FRAC", "EmbedMLP", "GrokConfig", "GrokLog", "GrokRun", "MLPConfig",
    "ModularData", "accuracy", "all_logits", "answer_logits", "check_logits", "check_prime", "check_train_frac",
    "cos_sum_terms", "embedding", "evaluate", "excluded_logits", "fast_answer_logits", "fit_cos_sum",
    "fourier_basis", "fourier_transform", "fourier_transform_2d", "frequency_norms", "gini", "grid_accuracy",
    "grid_loss", "grokking_phases", "high_precision_loss", "is_prime", "key_frequencies_from_embedding",
    "key_frequencies_from_neurons", "load_run_dict", "modular_addition", "n_frequencies", "nanda_config",
    "nanda_transformer", "neuron_activations", "neuron_frequency_fractions", "restricted_logits", "run_data",
    "sum_directions", "sum_squared_weights", "train_grokking", "train_live",
]
