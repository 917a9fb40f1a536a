# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import json
import os
import subprocess
import sys

import pytest
from builders import chord_bars, midi_file

from bridge.models import load_model

pytest.importorskip("torch")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i, song in enumerate(("a", "b", "c", "d")):
        notes = chord_bars()
        moved = [n.__class__(n.pitch + i, n.start, n.duration, n.velocity) for n in notes]
        midi_file(folder / f"{song} - Verse.mid", moved)
    return folder


def _env(tmp_path):
    return {**os.environ, "QBDI_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}


def test_train_writes_a_verified_model_with_a_data_card(tmp_path, corpus):
    out = tmp_path / "model"
    r = subprocess.run([sys.executable, "-m", "bridge", "train", corpus, "--out", out, "--epochs", "2",
                        "--hidden", "16", "--latent", "8", "--transpose", "1", "--heldout", "0.25",
                        "--gamma", "0.5", "--no-progress"], capture_output=True, text=True, env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    card = json.loads(r.stdout)
    assert card["pieces"] == 4 and card["augmentation"].startswith("transposition")
    assert 0 <= card["heldout_onset_f1"] <= 1 and "next_bar_r2" in card
    model = load_model(out)
    assert model.architecture.latent_size == 8 and model.vae.has_predictor
    assert model.card["final_losses"]["reconstruction"] > 0


def test_train_runs_unchanged_under_torchrun_with_two_processes(tmp_path, corpus):
    out = tmp_path / "ddp"
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        "-m", "bridge", "train", str(corpus), "--out", str(out), "--epochs", "1", "--max-steps", "1",
                        "--batch-size", "2", "--hidden", "16", "--latent", "8", "--no-progress"],
                       capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    card = load_model(out).card
    assert card["processes"] == 2 and card["steps"] == 1


def test_train_on_a_missing_corpus_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bridge", "train", tmp_path / "nothing", "--out", tmp_path / "m"],
                       capture_output=True, text=True, env=_env(tmp_path))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "does not exist" in r.stderr
