"""Tasks the course trains its transformers on (lesson 9 onwards).

Examples:
    >>> from mi_tutor.tasks import ioi_batch
    >>> len(ioi_batch(4))
    4
"""

from .ioi import (BOS_TOKEN, D_VOCAB, N_CTX, NAMES, ORDERS, ROLES, TEMPLATES, VOCAB, IOIBatch, decode, ioi_batch,
                  name_token_ids, tokenize)

__all__ = ["BOS_TOKEN", "D_VOCAB", "N_CTX", "NAMES", "ORDERS", "ROLES", "TEMPLATES", "VOCAB", "IOIBatch", "decode",
           "ioi_batch", "name_token_ids", "tokenize"]
