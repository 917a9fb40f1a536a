# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""tools.recalibrate moves a model's decoder operating point: a cell the old decoder gave the new
threshold's probability now decodes at 0.5, the folder stays valid (sealed), the card records it;
tools.frontier's card writer keeps the folder loadable."""

import json
import shutil

import numpy as np
import pytest

from bridge.models import load_model, read_config
from bridge.vae import sigmoid
from tools import recalibrate
from tools.frontier import write_card


@pytest.fixture
def folder(model_dir, tmp_path):
    return shutil.copytree(model_dir, tmp_path / "tiny")


def test_recalibration_moves_each_channel_by_its_own_threshold(folder):
    before = load_model(folder)
    z = np.random.default_rng(0).normal(size=(3, before.architecture.latent_size))
    p_old = sigmoid(before.vae.decode_logits(z)).reshape(3, 16, 2, -1)
    assert recalibrate.main([str(folder), "--sounding", "0.4", "--onset", "0.7"]) == 0
    after = load_model(folder)                                    # loads: weights and config sealed
    p_new = sigmoid(after.vae.decode_logits(z)).reshape(3, 16, 2, -1)
    def logit(p):
        return np.log(p / (1 - p))

    shift = np.log(p_new / (1 - p_new)) - np.log(p_old / (1 - p_old))
    assert np.allclose(shift[:, :, 0], -logit(0.4), atol=0.01)   # from 0.5 (the fixture's) to 0.4
    assert np.allclose(shift[:, :, 1], -logit(0.7), atol=0.01)
    card = read_config(folder)["training"]
    assert card["hyperparameters"]["onset_threshold"] == 0.7
    assert card["recalibrated"][-1]["from"] == {"sounding": 0.5, "onset": 0.5}


def test_recalibrating_back_restores_the_decoder(folder):
    z = np.random.default_rng(1).normal(size=(2, load_model(folder).architecture.latent_size))
    first = load_model(folder).vae.decode_logits(z)
    assert recalibrate.main([str(folder), "--sounding", "0.45", "--onset", "0.65"]) == 0
    assert recalibrate.main([str(folder), "--sounding", "0.5", "--onset", "0.5"]) == 0
    assert np.allclose(load_model(folder).vae.decode_logits(z), first, atol=0.02)   # float16 weights on disk
    assert len(read_config(folder)["training"]["recalibrated"]) == 2


def test_out_of_range_thresholds_are_one_line(folder, capsys):
    before = (folder / "model.safetensors").read_bytes()
    assert recalibrate.main([str(folder), "--sounding", "0.99", "--onset", "0.5"]) == 2
    assert "0.05 to 0.95" in capsys.readouterr().err
    assert (folder / "model.safetensors").read_bytes() == before


def test_a_frontier_written_into_the_card_keeps_the_folder_loadable(folder, tmp_path):
    model = load_model(folder)
    rows = [{"rate": "full", "n": 2, "retained": 0.8, "copy": 0.1}]
    write_card(model, "confirm", [tmp_path / "a.mid"], [1, 2], rows, {"full": {"met": True}})
    again = load_model(folder)                                   # the config is still under its checksum
    assert json.loads((folder / "config.json").read_text())["training"]["frontier"]["confirm"]["rows"] == rows
    assert again.card["frontier"]["confirm"]["queries"] == ["a"]


def test_the_frontier_tool_measures_the_rates_it_is_given(model_dir, tmp_path):
    from tools import frontier, heldout

    heldout.build_set(tmp_path / "q", built_only=True)
    out = tmp_path / "f.json"
    assert frontier.main(["--model", str(model_dir), "--queries", str(tmp_path / "q"), "--split", "fresh",
                          "--rates", "full,48,0", "--seeds", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())[str(model_dir)]["rows"]
    assert [r["rate"] for r in rows] == ["full", "48", "0"] and all(r["n"] == 7 for r in rows)
