"""Editing what a model knows: a rank-one update of one MLP (ROME) and its scores (lesson 11).

Examples:
    >>> import torch
    >>> from mi_tutor.editing import rank_one_update
    >>> W = rank_one_update(torch.zeros(2, 2), torch.eye(2), torch.tensor([1.0, 0.0]), torch.tensor([3.0, 4.0]))
    >>> W[0].tolist(), W[1].tolist()
    ([3.0, 4.0], [0.0, 0.0])
"""

from .facts import (EditScores, NotKnownError, check_known_fact, edit_fact, edit_facts, edit_measures, edit_scores,
                    fact_edit_prompts, known_facts, new_object_for, score_distribution)
from .memit import MEMITEdit, MEMITRequest, memit_edit, memit_update
from .rome import (ROMEEdit, apply_update, compute_key, compute_value, key_covariance, mlp_keys, output_delta,
                   rank_one_update, ridged, update_rank)

__all__ = ["EditScores", "NotKnownError", "check_known_fact", "edit_fact", "edit_facts", "edit_measures", "edit_scores",
           "fact_edit_prompts", "known_facts", "new_object_for", "score_distribution", "MEMITEdit", "MEMITRequest",
           "memit_edit", "memit_update", "ROMEEdit", "apply_update",
           "compute_key", "compute_value", "key_covariance", "mlp_keys", "output_delta", "rank_one_update", "ridged",
           "update_rank"]
