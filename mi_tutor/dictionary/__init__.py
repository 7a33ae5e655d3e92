"""Sparse autoencoders and dictionary learning (lesson 6).

A sparse autoencoder with a ReLU encoder and unit-norm decoder rows, its
loss (squared error plus decoder-norm-weighted L1), training with resampling
of dead latents, the metrics (L0, dead latents, variance explained, loss
recovered, mean max cosine similarity, concept purity) and figures.

Examples:
    >>> from mi_tutor.dictionary import SAEConfig, SparseAutoencoder, l0_norm
    >>> sae = SparseAutoencoder(SAEConfig(d_in=4, d_sae=8))
    >>> _, f = sae(torch.randn(16, 4))
    >>> float(l0_norm(f)) <= 8
    True
"""

import torch

from .metrics import (
    concept_purity,
    dead_latents,
    fraction_variance_explained,
    l0_norm,
    loss_recovered,
    max_cosine_similarity,
    mean_max_cosine_similarity,
)
from .plots import plot_feature_recovery, plot_latent_concepts, plot_purity, plot_sparsity_sweep, plot_training
from .sae import (
    SAEConfig,
    SAELoss,
    SparseAutoencoder,
    normalize_rows,
    remove_parallel_component,
    sae_decode,
    sae_encode,
    sae_loss,
)
from .train import SAETrainConfig, SAETrainResult, resample_dead_latents, train_sae
from .vision import concept_matrix, spliced_losses

__all__ = [
    "concept_purity", "dead_latents", "fraction_variance_explained", "l0_norm", "loss_recovered",
    "max_cosine_similarity", "mean_max_cosine_similarity",
    "plot_feature_recovery", "plot_latent_concepts", "plot_purity", "plot_sparsity_sweep", "plot_training",
    "SAEConfig", "SAELoss", "SparseAutoencoder", "normalize_rows", "remove_parallel_component",
    "sae_decode", "sae_encode", "sae_loss",
    "SAETrainConfig", "SAETrainResult", "resample_dead_latents", "train_sae",
    "concept_matrix", "spliced_losses",
]
