"""LMG relative importance (Shapley decomposition of R²) from correlation matrices.

pingouin computes LMG from the correlation matrix of the data it is given
(:func:`pingouin.linear_regression` with ``relimp=True``). Two things it cannot do
cheaply: take a pairwise-complete correlation matrix, and run hundreds of bootstrap
replicates. :func:`lmg_batch` is the same decomposition vectorised over a stack of
matrices for the bootstrap. The tests hold it to pingouin's own result (through a
tiny dataset with exactly the wanted correlation matrix, tests/test_analysis_drivers.py)
and to a brute-force all-subsets regression to 1e-8.
"""

from __future__ import annotations

import itertools
from functools import cache
from math import comb

import numpy as np


def lmg_batch(correlations: np.ndarray) -> np.ndarray:
    """LMG importances for a stack of correlation matrices, shape (B, p+1, p+1) → (B, p).

    R²(S) = r_Sᵀ R_SS⁻¹ r_S for every subset S of predictors; the importance of j is
    Σ_S [R²(S ∪ j) − R²(S)] / (p · C(p−1, |S|)) over subsets S not holding j.

    >>> r = np.array([[1.0, 0.5, 0.3], [0.5, 1.0, 0.2], [0.3, 0.2, 1.0]])
    >>> lmg_batch(r[None]).round(6).tolist()
    [[0.225833, 0.065833]]
    """
    predictors = correlations.shape[-1] - 1
    r = correlations[:, 0, 1:]
    rxx = correlations[:, 1:, 1:]
    r2 = np.zeros((correlations.shape[0], 2**predictors))
    for size in range(1, predictors + 1):
        subsets, ids = _subsets(predictors, size)
        blocks = rxx[:, subsets[:, :, None], subsets[:, None, :]]
        rhs = r[:, subsets]
        try:
            solved = np.linalg.solve(blocks, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:  # exactly collinear items: minimum-norm solution
            solved = (np.linalg.pinv(blocks, hermitian=True) @ rhs[..., None])[..., 0]
        r2[:, ids] = np.einsum("bmk,bmk->bm", rhs, solved)
    return r2 @ _shapley_weights(predictors)


@cache
def _subsets(predictors: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    subsets = np.array(list(itertools.combinations(range(predictors), size)), dtype=np.intp)
    return subsets, (1 << subsets).sum(axis=1)


@cache
def _shapley_weights(predictors: int) -> np.ndarray:
    masks = np.arange(2**predictors)
    sizes = np.array([bin(mask).count("1") for mask in masks])
    weights = np.zeros((2**predictors, predictors))
    for j in range(predictors):
        without = masks[(masks >> j) & 1 == 0]
        share = 1 / (predictors * np.array([comb(predictors - 1, k) for k in sizes[without]]))
        weights[without | (1 << j), j] += share
        weights[without, j] -= share
    return weights
