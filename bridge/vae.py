# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The VAE's forward passes in NumPy: what ``qbdi improvise`` and ``qbdi serve`` run (no torch).

Reference architecture (``Architecture``): frame (2496) -> hidden ReLU (500) -> mean and
log-variance (latent 500) -> hidden ReLU (500) -> frame logits (2496). Tensor names and shapes
follow ``torch.nn.Linear`` (weight ``(out, in)``) so ``bridge.training.train`` saves them as they are;
weights are transposed (and widened to float64) once here, at load time.

**A frame's result does not depend on its batch.** A float32 matrix product gives a row
different last bits depending on how many rows share the call (BLAS picks kernels and blocking
by shape), so bar 5 of a 32-bar query and bar 5 fed alone, as the play-along stream does, would
differ and a threshold or a velocity could flip. Every layer here accumulates in float64 and
rounds its output to float32: the order-dependent error (~1e-16) vanishes in the rounding, so a
frame gives the same float32 outputs alone or in any batch, and on any BLAS. It costs about twice
the time of a float32 product (tests/test_vae.py checks the independence).
"""

from __future__ import annotations

import numpy as np

from .config import Architecture
from .patterns import pattern_shapes

# name -> (rows, cols) as functions of the architecture, in torch.nn.Linear layout (out, in)
LAYERS = {
    "encoder.hidden": lambda a: (a.hidden_size, a.input_size),
    "encoder.mean": lambda a: (a.latent_size, a.hidden_size),
    "encoder.logvar": lambda a: (a.latent_size, a.hidden_size),
    "decoder.hidden": lambda a: (a.hidden_size, a.latent_size),
    "decoder.out": lambda a: (a.input_size, a.hidden_size),
}
PREDICTOR_LAYERS = {
    "predictor.hidden": lambda a: (a.predictor_hidden, a.latent_size),
    "predictor.out": lambda a: (a.latent_size, a.predictor_hidden),
}


def expected_shapes(arch: Architecture) -> dict[str, tuple[int, ...]]:
    """Every tensor a model file must hold, with its shape."""
    layers = dict(LAYERS)
    if arch.predictor_hidden > 0:
        layers.update(PREDICTOR_LAYERS)
    shapes: dict[str, tuple[int, ...]] = {}
    for name, shape in layers.items():
        rows, cols = shape(arch)
        shapes[f"{name}.weight"] = (rows, cols)
        shapes[f"{name}.bias"] = (rows,)
    if arch.patterns > 0:
        shapes.update(pattern_shapes(arch.patterns, arch.latent_size))
    return shapes


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class VAE:
    """Inference-only VAE over flattened frames ``(n, input_size)``; float32 in and out."""

    def __init__(self, tensors: dict[str, np.ndarray], arch: Architecture) -> None:
        self.arch = arch
        tensors = {k: v for k, v in tensors.items() if not k.startswith("patterns.")}
        self._w = {name[:-7]: np.ascontiguousarray(np.asarray(t, dtype=np.float32).T, dtype=np.float64)
                   for name, t in tensors.items() if name.endswith(".weight")}
        self._b = {name[:-5]: np.asarray(np.asarray(t, dtype=np.float32), dtype=np.float64)
                   for name, t in tensors.items() if name.endswith(".bias")}
        # mean and log-variance share one matmul: (hidden, 2 * latent)
        self._w["encoder.stats"] = np.ascontiguousarray(
            np.concatenate([self._w["encoder.mean"], self._w["encoder.logvar"]], axis=1))
        self._b["encoder.stats"] = np.concatenate([self._b["encoder.mean"], self._b["encoder.logvar"]])

    @property
    def has_predictor(self) -> bool:
        return "predictor.hidden" in self._w

    def _linear(self, name: str, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """float32 ``x`` ``(n, in)`` -> float32 ``x @ W + b`` ``(n, out)``, accumulated in float64
        (see the module docstring); ``rows`` restricts ``W`` to those input rows."""
        w = self._w[name] if rows is None else self._w[name][rows]
        return (np.asarray(x, dtype=np.float64) @ w + self._b[name]).astype(np.float32)

    def encode(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frames ``(n, input_size)`` -> posterior mean and log-variance, each ``(n, latent_size)``."""
        x = np.asarray(frames, dtype=np.float32)
        cols = np.flatnonzero(x.any(axis=0))  # piano rolls are ~3% ones: multiply the active cells only
        h = np.maximum(self._linear("encoder.hidden", x[:, cols], cols), np.float32(0.0))
        stats = self._linear("encoder.stats", h)
        latent = self.arch.latent_size
        return stats[:, :latent], stats[:, latent:]

    def decode_logits(self, z: np.ndarray) -> np.ndarray:
        """Latents ``(n, latent_size)`` -> note logits ``(n, input_size)``."""
        h = np.maximum(self._linear("decoder.hidden", np.asarray(z, dtype=np.float32)), np.float32(0.0))
        return self._linear("decoder.out", h)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Latents ``(n, latent_size)`` -> note probabilities ``(n, input_size)``."""
        return sigmoid(self.decode_logits(z))

    def predict_next(self, z: np.ndarray) -> np.ndarray:
        """Latents ``(n, latent_size)`` -> predicted next-bar latent means ``(n, latent_size)``."""
        if not self.has_predictor:
            raise ValueError("this model has no next-bar predictor; train it with --gamma > 0")
        z = np.asarray(z, dtype=np.float32)
        h = np.maximum(self._linear("predictor.hidden", z), np.float32(0.0))
        return z + self._linear("predictor.out", h)
