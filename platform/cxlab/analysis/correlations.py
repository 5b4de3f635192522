"""Correlation matrices for key-driver analysis, from sufficient statistics: pairwise-
complete Pearson correlations, their bootstrap, and variance inflation factors.

Summing per-unit statistics (counts, sums, squares, cross products) once lets every
bootstrap replicate be a weighted sum instead of a copy of the data: a million answers
are resampled as 2,000 blocks.

>>> data = np.array([[1.0, 2.0], [2.0, 4.1], [3.0, 5.9], [4.0, 8.2]])
>>> correlation = correlations_from_totals(unit_statistics(data, None).sum(axis=0)[None])[0]
>>> round(float(correlation[0, 1]), 4)
0.999
"""

from __future__ import annotations

import numpy as np

BOOTSTRAP_UNITS = 2000  # above this many rows, the bootstrap resamples random blocks of rows


def unit_statistics(data: np.ndarray, present: np.ndarray | None) -> np.ndarray:
    """Per resampling unit, the sufficient statistics of pairwise-complete correlations:
    stacked (counts, Σx over pairs, Σx² over pairs, Σxy) as (units, 4, q, q).

    ``present`` is None when every value is present (listwise). A unit is a response
    when there are at most BOOTSTRAP_UNITS of them; otherwise unit k holds responses
    k, k + K, k + 2K, ... (K = BOOTSTRAP_UNITS): blocks that each span the whole
    collection period, so block sums are (close to) iid and resampling blocks is a
    bootstrap of the same smooth statistic, without copying a million rows."""
    n, q = data.shape
    units = max(min(n, BOOTSTRAP_UNITS), 1)
    size = n // units
    head = units * size

    def blocked(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.einsum("sui,suj->uij", a[:head].reshape(size, units, q),
                        b[:head].reshape(size, units, q), optimize=True)
        rest = n - head
        if rest:
            out[:rest] += a[head:, :, None] * b[head:, None, :]
        return out

    if present is None:
        cross = blocked(data, data)
        counts = np.full(units, size, dtype=float)
        counts[: n - head] += 1
        sums = data[:head].reshape(size, units, q).sum(axis=0)
        sums[: n - head] += data[head:]
        diagonal = np.diagonal(cross, axis1=1, axis2=2)
        return np.stack(
            [np.broadcast_to(counts[:, None, None], cross.shape),
             np.broadcast_to(sums[:, :, None], cross.shape),
             np.broadcast_to(diagonal[:, :, None], cross.shape), cross],
            axis=1,
        )
    mask = present.astype(float)
    filled = np.where(present, data, 0.0)
    return np.stack(
        [blocked(mask, mask), blocked(filled, mask), blocked(filled**2, mask),
         blocked(filled, filled)],
        axis=1,
    )


def correlations_from_totals(totals: np.ndarray) -> np.ndarray:
    """Pairwise-complete Pearson correlations from summed unit statistics (B, 4, q, q)."""
    count, sums, squares, cross = (totals[:, k] for k in range(4))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_i = sums / count
        mean_j = np.swapaxes(sums, 1, 2) / count
        var_i = squares / count - mean_i**2
        var_j = np.swapaxes(squares, 1, 2) / count - mean_j**2
        correlation = (cross / count - mean_i * mean_j) / np.sqrt(var_i * var_j)
    diagonal = np.arange(correlation.shape[-1])
    correlation[:, diagonal, diagonal] = 1.0
    return np.clip(np.nan_to_num(correlation), -1, 1)


def bootstrap_correlations(stats: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """``n_boot`` bootstrap replicates of the correlation matrix, (n_boot, q, q): the
    units of :func:`unit_statistics` resampled with replacement."""
    units = stats.shape[0]
    rng = np.random.default_rng([seed, 3])
    counts = rng.multinomial(units, np.full(units, 1 / units), size=n_boot).astype(float)
    totals = (counts @ stats.reshape(units, -1)).reshape(n_boot, *stats.shape[1:])
    return correlations_from_totals(totals)


def variance_inflation(rxx: np.ndarray) -> np.ndarray:
    """VIF_j = 1 / (1 − R²_j), R²_j of item j on the other items (inf if collinear)."""
    p = rxx.shape[0]
    vif = np.ones(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        if not others:
            continue
        r = rxx[others, j]
        explained = float(r @ np.linalg.pinv(rxx[np.ix_(others, others)], hermitian=True) @ r)
        vif[j] = np.inf if explained >= 1 - 1e-10 else 1 / (1 - explained)
    return vif
