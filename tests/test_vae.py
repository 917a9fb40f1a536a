# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest

from bridge.config import Architecture
from bridge.vae import VAE, expected_shapes

torch = pytest.importorskip("torch")


def test_numpy_forward_matches_torch_within_1e_5():
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
