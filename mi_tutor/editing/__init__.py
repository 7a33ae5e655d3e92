"""Editing what a model knows: a rank-one update of one MLP (ROME) and its scores (lesson 11).

Examples:
    >>> import torch
    >>> from mi_tutor.editing import rank_one_update
    >>> W = rank_one_update(torch.zeros(2, 2), torch.eye(2), torch.tensor([1.0, 0.0]), torch.tensor([3.0, 4.0]))
    >>> W[0].tolist(), W[1].tolist()
    ([3.0, 4.0], [0.0, 0.0])
"""

from .facts import EditScores, NotKnownError, edit_fact, edit_scores, known_facts, new_object_for
from .rome import (ROMEEdit, apply_update, compute_key, compute_value, key_covariance, mlp_keys, rank_one_update,
                   update_rank)

__all__ = ["EditScores", "NotKnownError", "edit_fact", "edit_scores", "known_facts", "new_object_for", "ROMEEdit",
           "apply_update", "compute_key", "compute_value", "key_covariance", "mlp_keys", "rank_one_update",
           "update_rank"]
