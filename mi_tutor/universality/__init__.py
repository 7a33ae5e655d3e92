"""Universality: do different nets learn the same features? (lesson 7)

Similarity of representations on ``[n_examples, n_features]`` tensors (rows are
examples; any float dtype; computed on the inputs' device):

* :mod:`.cka`: linear (feature-space form), RBF and debiased CKA (Kornblith et al. 2019).
* :mod:`.cca`: CCA, SVCCA (Raghu et al. 2017; their ``neurons x datapoints`` is our transpose), PWCCA.
* :mod:`.matching`: unit correlation, Hungarian one-to-one and semi-matching (Li et al. 2016).
* :mod:`.knn`: mutual k-nearest-neighbour alignment (Huh et al. 2024).
* :mod:`.correspondence`: layer-by-layer maps. A net's layer features (the input of every
  measure) are ``mi_tutor.hooks.collect(net, images, layers, pool="mean")``.
* :mod:`.stitching`: 1x1-conv model stitching (Lenc & Vedaldi 2015, Bansal et al. 2021).
* :mod:`.census`: curve and edge families across the zoo.
* :mod:`.captions`, :mod:`.crossmodal`: captions of object-world scenes and image-caption alignment.
* :mod:`.controls`: a bag of words, the caption model's control (untrained nets: :func:`mi_tutor.zoo.untrained`).
"""

from .cca import cca, cca_coefficients, pwcca, svcca
from .captions import CAPTION_VOCAB, caption_features, caption_tokens, describe, scene_captions
from .census import CensusRow, census_table, edge_units, family_census, plot_census
from .cka import center_gram, cka_from_grams, debiased_cka, gram_linear, gram_rbf, hsic, linear_cka, rbf_cka
from .controls import bag_of_words
from .correspondence import (CorrespondenceMap, correspondence_map, identification_accuracy, identify_layers,
                             plot_correspondence)
from .crossmodal import AlignmentResult, image_caption_alignment, shuffled_knn_alignment
from .knn import clamp_outliers, knn_indices, mutual_knn_alignment, mutual_knn_chance
from .matching import Matching, match_units, semi_match, unit_correlation
from .stitching import (StitchConfig, StitchedNet, layer_output_size, stitch_accuracy, stitch_fit_lstsq,
                        stitch_init_lstsq, train_stitch)

__all__ = [
    "linear_cka", "debiased_cka", "rbf_cka", "gram_linear", "gram_rbf", "center_gram", "cka_from_grams", "hsic",
    "cca", "cca_coefficients", "svcca", "pwcca",
    "unit_correlation", "Matching", "match_units", "semi_match",
    "knn_indices", "mutual_knn_alignment", "mutual_knn_chance", "clamp_outliers",
    "CorrespondenceMap", "correspondence_map", "identify_layers", "identification_accuracy", "plot_correspondence",
    "StitchConfig", "StitchedNet", "train_stitch", "stitch_accuracy", "stitch_init_lstsq", "stitch_fit_lstsq",
    "layer_output_size",
    "CensusRow", "family_census", "census_table", "edge_units", "plot_census",
    "CAPTION_VOCAB", "describe", "scene_captions", "caption_tokens", "caption_features",
    "AlignmentResult", "image_caption_alignment", "shuffled_knn_alignment",
    "bag_of_words",
]
