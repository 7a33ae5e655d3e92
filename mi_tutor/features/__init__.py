"""Features: dataset examples, statistics, probes, dissection, directions and atlases.

Reference implementations for lesson 2 (and the lessons that build on it). A layer's
activations over a dataset come from :func:`mi_tutor.hooks.collect`, pooled to one
vector per image by :func:`mi_tutor.hooks.pool`.
"""

from .atlas import Atlas, activation_atlas, cell_purity, grid_average, grid_cells, pca_layout
from .directions import (DirectionComparison, compare_direction_to_neurons, concept_direction, concept_iou,
                         direction_activation)
from .dissection import (IOU_THRESHOLD, QUANTILE, Dissection, concept_type, dissect, dissection_iou, label_units,
                         quantile_thresholds, stack_masks, type_counts)
from .examples import ActivationStats, activation_stats, examples_by_quantile, majority_share, top_activating
from .probes import LinearProbe, mass_mean_predict, mass_mean_probe, probe_accuracy, probe_layers, train_linear_probe

__all__ = [
    "Atlas", "activation_atlas", "cell_purity", "grid_average", "grid_cells", "pca_layout",
    "DirectionComparison", "compare_direction_to_neurons", "concept_direction", "concept_iou", "direction_activation",
    "IOU_THRESHOLD", "QUANTILE", "Dissection", "dissect", "dissection_iou", "quantile_thresholds", "stack_masks",
    "label_units", "concept_type", "type_counts", "majority_share",
    "ActivationStats", "activation_stats", "examples_by_quantile", "top_activating",
    "LinearProbe", "mass_mean_predict", "mass_mean_probe", "probe_accuracy", "probe_layers", "train_linear_probe",
]
