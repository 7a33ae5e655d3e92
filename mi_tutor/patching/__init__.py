"""Causal interventions on any hooked model: channel edits, ablation, activation and path patching, circuits, scrubbing.

Lesson 1 edits a CNN's channels with it (:mod:`.channels`); lesson 9 patches, path-patches and
scrubs the IOI transformer.

One API serves the course's transformer (hook names such as
``blocks.0.attn.hook_z``) and any ``nn.Module`` (module names such as
``"layer2"``, where a "head" is a channel).

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> model = HookedTransformer(TransformerConfig(n_layers=1, d_vocab=10, n_ctx=5))
    >>> x = torch.randint(0, 10, (2, 5))
    >>> ablate(model, x, "blocks.0.attn.hook_z", "zero").shape
    torch.Size([2, 5, 10])
"""

import torch  # noqa: F401  (doctest namespace)

from .ablation import ABLATIONS, ablate, ablation_hook, ablation_values, replace_hook
from .activation import (DIRECTIONS, HEAD_COMPONENTS, Site, patch, patch_heads, patch_naive_loop, patch_residual,
                         patch_sweep)
from .channels import ablation_effect, channel_logit_drops, scale_channels, scale_sweep, zero_channels
from .circuit import CircuitScores, all_heads, completeness, faithfulness, knockout_metric, minimality, random_circuit
from .core import hook_names, resolve_hook, run_cached, run_hooked, site_mask
from .metrics import logit_diff, normalized_metric
from .path import Receiver, path_patch
from .scrubbing import ScrubResult, causal_scrub

__all__ = [
    "ABLATIONS", "DIRECTIONS", "HEAD_COMPONENTS", "CircuitScores", "Receiver", "ScrubResult", "Site",
    "ablate", "ablation_effect", "ablation_hook", "ablation_values", "all_heads", "causal_scrub", "channel_logit_drops",
    "completeness",
    "faithfulness", "hook_names", "knockout_metric", "logit_diff", "minimality", "normalized_metric", "patch",
    "patch_heads", "patch_naive_loop", "patch_residual", "patch_sweep", "path_patch", "random_circuit",
    "replace_hook", "resolve_hook", "run_cached", "run_hooked", "scale_channels", "scale_sweep", "site_mask",
    "zero_channels",
]
