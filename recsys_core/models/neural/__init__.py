"""Embedding models trained per epoch with torch: MF with BCE, NeuMF, two-tower, LightGCN, factorization machines,
and the next-item models GRU4Rec and SASRec (ordered histories, :mod:`.sequences`).

One module per model holds its network and its loss; everything else lives once in
:mod:`recsys_core.models.neural.training`: the epoch loop (seeding, early stopping on the validation part
given to ``fit``, NaN guard, loss history, progress with epoch and loss), the negative sampler, the
validation metric and the fold-in of a new user against fixed item vectors. After a fit the learnt tables are
copied into numpy (``user_factors_``, ``item_factors_``, biases), so scoring, maps, similar items and cold start
reuse the shared code and a fitted model pickles without torch objects.

torch is imported only inside a fit (``import recsys_core`` and every other model start without it); when it
is missing the fit says how to install it (:func:`require_torch`).
"""
from __future__ import annotations

from .fm import FactorizationMachine
from .gru4rec import GRU4Rec
from .lightgcn import LightGCN
from .mf_bce import MFBCE
from .ncf import NeuMF
from .sasrec import SASRec
from .training import TORCH_INSTALL, require_torch
from .two_tower import TwoTower

MODELS = (MFBCE, NeuMF, TwoTower, LightGCN, FactorizationMachine, GRU4Rec, SASRec)

__all__ = ["MODELS", "MFBCE", "NeuMF", "TwoTower", "LightGCN", "FactorizationMachine", "GRU4Rec", "SASRec", "TORCH_INSTALL",
           "require_torch"]
