"""Toy models of superposition (lesson 5).

The ReLU output model ``x' = ReLU(W^T W x + b)`` with an instances axis, its
sparse data and importance-weighted loss, a batched trainer, feature geometry
(norms, interference, dimensionality), the 2-in-1 phase diagram, the
privileged-basis variant and the figures.

Examples:
    >>> from mi_tutor.superposition import ToyModel, ToyModelConfig, ToyTrainConfig, train_toy_model
    >>> model = ToyModel(ToyModelConfig(n_features=5, d_hidden=2, n_instances=2),
    ...                  importance=0.9 ** torch.arange(5.0), feature_probability=torch.tensor([1.0, 0.05]))
    >>> _ = train_toy_model(model, ToyTrainConfig(steps=10), progress=False)
"""

import torch

from .data import as_instance_tensor, generate_batch, importance_decay, log_spaced
from .geometry import (
    check_feature_weights,
    dimensions_per_feature,
    feature_dimensionality,
    feature_norms,
    gram_matrix,
    interference,
    neuron_feature_counts,
    polysemantic_neurons,
)
from .model import ToyModel, ToyModelConfig, importance_weighted_loss, toy_forward
from .phase import (
    ANTIPODAL,
    DEDICATED,
    NOT_LEARNED,
    OTHER,
    PHASE_NAMES,
    PhaseDiagram,
    PhaseDiagramConfig,
    classify_phase,
    phase_diagram_from_model,
    phase_grid_model,
    run_phase_diagram,
)
from .plots import (
    STICKY_FRACTIONS,
    plot_dimensionality,
    plot_features_2d,
    plot_gram,
    plot_neuron_weights,
    plot_phase_diagram,
)
from .train import ToyTrainConfig, ToyTrainResult, best_repeats, evaluate_loss, train_toy_model

__all__ = [
    "as_instance_tensor", "generate_batch", "importance_decay", "log_spaced",
    "check_feature_weights", "dimensions_per_feature", "feature_dimensionality", "feature_norms",
    "gram_matrix", "interference", "neuron_feature_counts", "polysemantic_neurons",
    "ToyModel", "ToyModelConfig", "importance_weighted_loss", "toy_forward",
    "ANTIPODAL", "DEDICATED", "NOT_LEARNED", "OTHER", "PHASE_NAMES", "PhaseDiagram", "PhaseDiagramConfig",
    "classify_phase", "phase_diagram_from_model", "phase_grid_model", "run_phase_diagram",
    "STICKY_FRACTIONS", "plot_dimensionality", "plot_features_2d", "plot_gram", "plot_neuron_weights",
    "plot_phase_diagram",
    "ToyTrainConfig", "ToyTrainResult", "best_repeats", "evaluate_loss", "train_toy_model",
]
