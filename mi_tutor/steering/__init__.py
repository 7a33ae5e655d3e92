"""Reading, steering and tracing representations (lesson 11): the top-down tools next to the bottom-up ones.

* :mod:`.reading`: mean-difference and PCA reading vectors, a random baseline, reading accuracy per layer;
* :mod:`.actadd`: activation addition and coefficient/layer sweeps with the off-target loss;
* :mod:`.iti`: a probe per attention head, top-K heads, the alpha x sigma shift;
* :mod:`.tracing`: causal tracing with Gaussian noise on the subject;
* :mod:`.dola`: contrasting the final layer with a premature one.

Rank-one editing lives in :mod:`mi_tutor.editing`.

Examples:
    >>> import torch
    >>> from mi_tutor.steering import mean_difference_vector
    >>> mean_difference_vector(torch.ones(2, 3), torch.zeros(2, 3))
    tensor([0.5774, 0.5774, 0.5774])
"""

from .actadd import (SteeringSweep, add_vector_hook, answer_loss, latent_probability, steered_logits, steering_sweep,
                     steering_vector)
from .dola import DolaResult, dola_logits, dola_scores, js_divergence, layer_logprobs, premature_layer
from .iti import (ITIShift, head_activations, iti_hooks, iti_logits, iti_shift, mass_mean_accuracy,
                  mass_mean_directions, probe_accuracies, random_heads, top_heads)
from .reading import (cosine, mean_difference_vector, pca_reading_vector, project, random_reading_vector,
                      reading_accuracy, reading_accuracy_by_layer, residual_states)
from .tracing import (KINDS, TraceResult, answer_probability, corrupted_probability, embedding_std, noise_hook,
                      restored_probability, trace_states)

__all__ = [
    "SteeringSweep", "add_vector_hook", "answer_loss", "latent_probability", "steered_logits", "steering_sweep",
    "steering_vector", "DolaResult", "dola_logits", "dola_scores", "js_divergence", "layer_logprobs",
    "premature_layer", "ITIShift", "head_activations", "iti_hooks", "iti_logits", "iti_shift",
    "mass_mean_accuracy", "mass_mean_directions", "probe_accuracies", "random_heads", "top_heads", "cosine", "mean_difference_vector",
    "pca_reading_vector", "project", "random_reading_vector", "reading_accuracy", "reading_accuracy_by_layer",
    "residual_states", "KINDS", "TraceResult", "answer_probability", "corrupted_probability", "embedding_std",
    "noise_hook", "restored_probability", "trace_states",
]
