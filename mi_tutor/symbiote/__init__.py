"""Networks that interpret networks: a symbiote that reads a host CNN and inhibits it (lesson 12).

The symbiote (``model``) reads pooled activations of host layers through forward
hooks (``reading``), predicts the world's concepts and writes per-channel
hard-concrete gates into one host layer (``gates``); it is trained to suppress
one concept while keeping the host's outputs elsewhere (``train``). Its claims
are checked against dissection, linear probes, random hosts and ablations
(``measures``), against Net2Vec and TCAV directions (``directions``), on hosts
with a planted ground truth (``hosts``).
"""

from .data import ConceptData, check_concept, concept_presence, objects_concept_data
from .directions import (Net2Vec, concept_activation_vector, directional_derivatives, layer_gradients, net2vec,
                         random_tcav_scores, tcav_score)
from .gates import (ablation_gates, channels_touched, gate_hook, hard_concrete_mean, hard_concrete_sample,
                    l0_penalty, l1_penalty, prob_nonzero, random_channels, run_gated)
from .hosts import PlantConfig, plant_loss, random_host, train_planted_host
from .measures import (Agreement, Selectivity, agreement, auroc, dissection_scores, faithfulness_kl, gated_logits,
                       mean_inhibition, probe_aurocs, selectivity, symbiote_aurocs)
from .model import Symbiote, SymbioteConfig, build_symbiote
from .reading import layer_width
from .train import SymbioteTrainConfig, kl_to_host, suppression_loss, train_symbiote

__all__ = [
    "ConceptData", "check_concept", "concept_presence", "objects_concept_data",
    "Net2Vec", "concept_activation_vector", "directional_derivatives", "layer_gradients", "net2vec",
    "random_tcav_scores", "tcav_score",
    "ablation_gates", "channels_touched", "gate_hook", "hard_concrete_mean", "hard_concrete_sample", "l0_penalty",
    "l1_penalty", "prob_nonzero", "random_channels", "run_gated",
    "PlantConfig", "plant_loss", "random_host", "train_planted_host",
    "Agreement", "Selectivity", "agreement", "auroc", "mean_inhibition", "dissection_scores", "faithfulness_kl",
    "gated_logits", "probe_aurocs", "selectivity", "symbiote_aurocs",
    "Symbiote", "SymbioteConfig", "build_symbiote",
    "layer_width",
    "SymbioteTrainConfig", "kl_to_host", "suppression_loss", "train_symbiote",
]
