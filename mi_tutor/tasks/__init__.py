"""Tasks the course trains its transformers on (lesson 9 onwards).

Examples:
    >>> from mi_tutor.tasks import ioi_batch
    >>> len(ioi_batch(4))
    4
"""

from .ioi import (BOS_TOKEN, CLASSIC_D_VOCAB, D_VOCAB, N_CTX, NAMES, NEW_NAMES, ORDERS, ROLES, SPLITS, TEMPLATES,
                  TEST_TEMPLATES, TRAIN_NAMES, TRAIN_TEMPLATES, VOCAB, IOIBatch, decode, ioi_batch, is_held_out_pair,
                  name_token_ids, template_word_ids, tokenize)

__all__ = ["BOS_TOKEN", "CLASSIC_D_VOCAB", "D_VOCAB", "N_CTX", "NAMES", "NEW_NAMES", "ORDERS", "ROLES", "SPLITS",
           "TEMPLATES", "TEST_TEMPLATES", "TRAIN_NAMES", "TRAIN_TEMPLATES", "VOCAB", "IOIBatch", "decode", "ioi_batch",
           "is_held_out_pair", "name_token_ids", "template_word_ids", "tokenize"]
