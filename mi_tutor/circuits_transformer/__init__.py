"""Circuit analysis for the transformer: head scores, QK/OV circuits, composition, attribution.

Reference implementations for lesson 8 (induction heads); lessons 9-11 read heads with its scores.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig, repeated_random_tokens
    >>> from mi_tutor.circuits_transformer import head_scores
    >>> model = HookedTransformer(TransformerConfig(n_layers=2))
    >>> sorted(head_scores(model, repeated_random_tokens(2, 8, 64)))
    ['duplicate_token', 'induction', 'previous_token']
"""

from .attribution import decompose_resid, direct_logit_attribution, logit_attribution
from .composition import (
    COMPOSITION_KINDS,
    composition_score,
    composition_scores,
    copying_score,
    full_ov_circuit,
    full_qk_circuit,
    random_composition_baseline,
)
from .detector import HeadLabel, detect_heads
from ..transformer.factored import FactoredMatrix  # re-exported: lesson 8 meets it with the circuits
from .loss import in_context_learning_score, per_token_loss
from .scores import (
    SCORE_KINDS,
    duplicate_token_score,
    head_scores,
    induction_score,
    pattern_score,
    previous_token_score,
    token_masks,
)

__all__ = [
    "COMPOSITION_KINDS",
    "SCORE_KINDS",
    "FactoredMatrix",
    "HeadLabel",
    "composition_score",
    "composition_scores",
    "copying_score",
    "decompose_resid",
    "detect_heads",
    "direct_logit_attribution",
    "duplicate_token_score",
    "full_ov_circuit",
    "full_qk_circuit",
    "head_scores",
    "in_context_learning_score",
    "induction_score",
    "logit_attribution",
    "pattern_score",
    "per_token_loss",
    "previous_token_score",
    "random_composition_baseline",
    "token_masks",
]
