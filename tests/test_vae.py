# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest

from bridge.config import Architecture
from bridge.vae import VAE, expected_shapes


def test_numpy_forward_matches_torch_within_1e_5():
    torch = pytest.importorskip("torch")
    from bridge.training.train import TorchVAE

    arch = Architecture(2496, 64, 24, predictor_hidden=16)
    torch.manual_seed(0)
    net = TorchVAE(arch).eval()
    tensors = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in tensors.items()} == expected_shapes(arch)
    vae = VAE(tensors, arch)
    x = (np.random.default_rng(0).random((5, 2496)) < 0.05).astype(np.float32)
    with torch.no_grad():
        mu_t, lv_t = net.encode(torch.from_numpy(x))
        logits_t = net.decode_logits(mu_t)
        next_t = net.predict_next(mu_t)
    mu, lv = vae.encode(x)
    assert np.abs(mu - mu_t.numpy()).max() < 1e-5
    assert np.abs(lv - lv_t.numpy()).max() < 1e-5
    assert np.abs(vae.decode_logits(mu) - logits_t.numpy()).max() < 1e-5
    assert np.abs(vae.decode(mu) - torch.sigmoid(logits_t).numpy()).max() < 1e-5
    assert np.abs(vae.predict_next(mu) - next_t.numpy()).max() < 1e-5


def test_a_frame_gives_the_same_bits_alone_or_in_any_batch():
    """float32 BLAS results depend on the batch's shape; the VAE accumulates in float64 and rounds,
    so bar 5 fed alone (a play-along stream) equals bar 5 of a 40-bar query, bit for bit."""
    arch = Architecture(2496, 120, 40, predictor_hidden=24)
    rng = np.random.default_rng(1)
    tensors = {k: rng.standard_normal(shape).astype(np.float32) / np.sqrt(shape[-1])
               for k, shape in expected_shapes(arch).items()}
    vae = VAE(tensors, arch)
    x = (rng.random((40, 2496)) < rng.uniform(0.01, 0.06, (40, 1))).astype(np.float32)
    mu, logvar = vae.encode(x)
    logits, following = vae.decode_logits(mu), vae.predict_next(mu)
    for rows in (slice(5, 6), slice(0, 3), slice(17, 40), slice(39, 40)):
        part_mu, part_logvar = vae.encode(x[rows])
        assert np.array_equal(part_mu, mu[rows]) and np.array_equal(part_logvar, logvar[rows])
        assert np.array_equal(vae.decode_logits(mu[rows]), logits[rows])
        assert np.array_equal(vae.predict_next(mu[rows]), following[rows])
    assert mu.dtype == logits.dtype == following.dtype == np.float32
