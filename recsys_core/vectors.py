"""Row norms and unit rows for dense and sparse matrices: the one home of cosine normalisation.

Zero rows stay zero (their cosine with anything is 0), never NaN. Used by the models, the
projections, the diversity metric and cold start.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def row_norms(vectors: np.ndarray | sp.spmatrix) -> np.ndarray:
    """Euclidean norm of each row (float64)."""
    if sp.issparse(vectors):
        squared = vectors.multiply(vectors).sum(axis=1)
        return np.sqrt(np.asarray(squared, dtype=np.float64).ravel())
    return np.linalg.norm(np.asarray(vectors, dtype=np.float64), axis=1)


def unit_rows(vectors: np.ndarray | sp.spmatrix) -> np.ndarray | sp.csr_matrix:
    """Rows scaled to unit length in float64 (zero rows stay zero); sparse in, CSR out."""
    norms = row_norms(vectors)
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    if sp.issparse(vectors):
        return sp.csr_matrix(sp.diags(inverse) @ sp.csr_matrix(vectors, dtype=np.float64))
    return np.asarray(vectors, dtype=np.float64) * inverse[:, None]


def cosine_rows(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Cosine similarity of ``vectors[rows]`` to every row of ``vectors`` (dense result)."""
    unit = unit_rows(vectors)
    product = unit[np.asarray(rows)] @ unit.T
    return product.toarray() if sp.issparse(product) else np.asarray(product)
