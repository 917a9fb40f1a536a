# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Classifier two-sample test (issue 20): can a small classifier tell generated bars from corpus bars?

Each bar is a key-invariant feature vector (:func:`.descriptors.bar_features_view`, no absolute
pitch classes). A classifier (:func:`fit_logistic`, L2 logistic regression by Newton's method;
or :func:`fit_mlp`, one tanh hidden layer trained full batch with Adam from a seeded start) is
cross-validated **by group** (a song, or a query: no group is on both sides of a split, so a
classifier cannot win by recognising a song it saw), and the AUC of its out-of-fold scores is
reported: 0.5 = indistinguishable, 1 = always told apart. Deterministic for a given seed.

:func:`calibrate` runs the same test on corpus half vs corpus half (songs split at random):
near 0.5 when the test is honest; its spread says how far from 0.5 chance alone goes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FOLDS = 5
L2 = 1.0
METHODS = ("logistic", "mlp")


@dataclass(frozen=True)
class TwoSample:
    """One test: the AUC of A (label 1) vs B (label 0), bar and group counts, folds used."""

    auc: float
    n_a: int
    n_b: int
    groups_a: int
    groups_b: int
    folds: int


def auc_score(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties count half); NaN without both labels."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    n1, n0 = int(labels.sum()), int((~labels).sum())
    if not n1 or not n0:
        return math.nan
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks over ties
    bounds = np.flatnonzero(np.diff(sorted_scores) != 0) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(scores)]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    return float((ranks[labels].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def group_folds(groups: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Fold id per sample ``(n,)``: groups shuffled, then dealt to the fold with the fewest samples."""
    groups = np.asarray(groups)
    names, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    order = rng.permutation(len(names))
    load = np.zeros(k)
    fold_of = np.zeros(len(names), dtype=np.int64)
    for g in order[np.argsort(-counts[order], kind="stable")]:
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += counts[g]
    return fold_of[inverse]


def _standardize(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def _balanced(y: np.ndarray) -> np.ndarray:
    """Sample weights giving each class the same total weight (mean weight 1)."""
    w = np.empty(len(y))
    for label in (0, 1):
        mine = y == label
        w[mine] = len(y) / (2.0 * max(int(mine.sum()), 1))
    return w


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 30) -> np.ndarray:
    """L2 logistic regression (balanced classes) by Newton's method: weights ``(d + 1,)``, bias last."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = _balanced(y)
    beta = np.zeros(xb.shape[1])
    reg = np.full(xb.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ beta, -30, 30)))
        grad = xb.T @ (w * (p - y)) + reg * beta
        hess = (xb * (w * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def predict_logistic(beta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return x @ beta[:-1] + beta[-1]


def fit_mlp(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, hidden: int = 32, steps: int = 300,
            lr: float = 0.01, decay: float = 1e-3) -> tuple[np.ndarray, ...]:
    """One tanh hidden layer, balanced logistic loss, full-batch Adam: parameters (w1, b1, w2, b2)."""
    d = x.shape[1]
    params = [rng.normal(0, 1 / math.sqrt(d), (d, hidden)), np.zeros(hidden),
              rng.normal(0, 1 / math.sqrt(hidden), hidden), np.zeros(1)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    w = _balanced(y) / len(y)
    for t in range(1, steps + 1):
        w1, b1, w2, b2 = params
        h = np.tanh(x @ w1 + b1)
        p = 1.0 / (1.0 + np.exp(-np.clip(h @ w2 + b2[0], -30, 30)))
        g_out = w * (p - y)
        g_h = np.outer(g_out, w2) * (1 - h ** 2)
        grads = [x.T @ g_h + decay * w1, g_h.sum(axis=0), h.T @ g_out + decay * w2, np.array([g_out.sum()])]
        for i, g in enumerate(grads):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g ** 2
            params[i] = params[i] - lr * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
    return tuple(params)


def predict_mlp(params: tuple[np.ndarray, ...], x: np.ndarray) -> np.ndarray:
    w1, b1, w2, b2 = params
    return np.tanh(x @ w1 + b1) @ w2 + b2[0]


def classifier_auc(a: np.ndarray, groups_a: np.ndarray, b: np.ndarray, groups_b: np.ndarray,
                   folds: int = FOLDS, seed: int = 0, method: str = "logistic") -> TwoSample:
    """Out-of-fold AUC of telling A's bars ``(n_a, d)`` from B's ``(n_b, d)``, cross-validated by group.

    Each side's groups are dealt to ``min(folds, groups_a, groups_b)`` folds separately, so every
    fold tests unseen groups of both sides. NaN with fewer than two groups on a side.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ga, gb = np.unique(groups_a).size, np.unique(groups_b).size
    k = min(folds, ga, gb)
    if k < 2 or not len(a) or not len(b):
        return TwoSample(math.nan, len(a), len(b), ga, gb, 0)
    rng = np.random.default_rng(seed)
    x = np.vstack([a, b])
    y = np.concatenate([np.ones(len(a)), np.zeros(len(b))])
    fold = np.concatenate([group_folds(groups_a, k, rng), group_folds(groups_b, k, rng)])
    scores = np.zeros(len(x))
    for f in range(k):
        test = fold == f
        train_x, test_x = _standardize(x[~test], x[test])
        if method == "logistic":
            scores[test] = predict_logistic(fit_logistic(train_x, y[~test]), test_x)
        else:
            scores[test] = predict_mlp(fit_mlp(train_x, y[~test], rng), test_x)
    return TwoSample(auc_score(scores, y.astype(bool)), len(a), len(b), ga, gb, k)


def calibrate(x: np.ndarray, groups: np.ndarray, repeats: int = 10, seed: int = 0,
              method: str = "logistic", folds: int = FOLDS) -> dict[str, float]:
    """Corpus half vs half: ``repeats`` random splits of the groups into two halves, each tested
    as :func:`classifier_auc`; returns mean, std, min and max of the AUCs (``n`` tests)."""
    groups = np.asarray(groups)
    names = np.unique(groups)
    rng = np.random.default_rng(seed)
    aucs = []
    for r in range(repeats):
        half = set(rng.permutation(names)[: len(names) // 2].tolist())
        in_a = np.array([g in half for g in groups])
        result = classifier_auc(x[in_a], groups[in_a], x[~in_a], groups[~in_a], folds, seed + r, method)
        if math.isfinite(result.auc):
            aucs.append(result.auc)
    values = np.array(aucs)
    if not values.size:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan, "n": 0}
    return {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
            "max": float(values.max()), "n": int(values.size)}
