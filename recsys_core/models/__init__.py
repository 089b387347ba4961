"""Model registry: every model the CLI and the dashboard can fit, by name.

Adding a model means writing its module and registering its class here; the
contract test, the evaluation runner, cold start and the pages pick it up.
"""
from __future__ import annotations

from typing import Any

from .base import Recommender, rank_top_n
from .baselines import BaselineOnly, GlobalMean, MostPopular
from .coclustering import CoClustering
from .knn import KNNBaseline, KNNBasic, KNNWithMeans
from .matrix_factorization import NMF, SVD, SVDpp
from .ranking import ALS, BPR, EASE, RP3beta, ItemKNNCosine
from .hybrid import LightFMHybrid
from .item2vec import Item2Vec
from .neural import GRU4Rec, SASRec, FactorizationMachine, LightGCN, MFBCE, NeuMF, TwoTower

REGISTRY: dict[str, type[Recommender]] = {
    cls.name: cls
    for cls in (
        GlobalMean, BaselineOnly, MostPopular, SVD, SVDpp, NMF,
        KNNBasic, KNNWithMeans, KNNBaseline, CoClustering,
        ItemKNNCosine, RP3beta, EASE, ALS, BPR,
        LightFMHybrid,
        MFBCE, NeuMF, TwoTower, LightGCN, FactorizationMachine, Item2Vec,
        GRU4Rec, SASRec,
    )
}


def _register_content() -> None:
    from .content import ContentKNN, ContentSBERT

    for cls in (ContentKNN, ContentSBERT):
        REGISTRY[cls.name] = cls


_register_content()


def warm_up_kernels() -> None:
    """Compile the k-NN, SVD and top-n kernels (numba) ahead of the first fit; safe to call from a background thread."""
    from . import _neighbours, _sgd, _topn

    for module in (_neighbours, _sgd, _topn):
        module.warm_up()


def make_model(name: str, **params: Any) -> Recommender:
    """A new, unfitted model by registry name, with hyper-parameters overriding the defaults."""
    try:
        cls = REGISTRY[name]
    except KeyError:
        raise ValueError(f"Unknown model '{name}'. Available: {', '.join(REGISTRY)}.") from None
    return cls(**params)


__all__ = ["REGISTRY", "Recommender", "make_model", "rank_top_n", "warm_up_kernels"]
