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
    # the texture layer comes with every trained model (issue 20)
    assert model.texture is not None and model.architecture.patterns == card["texture"]["patterns"] >= 2


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


@pytest.mark.parametrize("args, words", [
    (["--note-dropout", "1.5"], "--note-dropout: must be a number from 0 and below 1"),
    (["--octave", "-0.1"], "--octave: must be a number from 0 and below 1"),
    (["--input-dropout", "1"], "--input-dropout: must be a number from 0 and below 1"),
    (["--jitter", "12"], "--jitter: must be a whole number from 0 to 8"),
    (["--free-bits", "-1"], "--free-bits: must be a number from 0 to 16"),
    (["--kl-anneal", "5", "--epochs", "2"], "--kl-anneal must be 0 to --epochs"),
    (["--select-every", "0"], "--select-every: must be a whole number from 1 to"),
    (["--select-queries", "{tmp}/nowhere"], "is not a folder of .mid files"),
    (["--onset-threshold", "1.2"], "--onset-threshold: must be a number from 0.05 to 0.95"),
    (["--sounding-threshold", "0"], "--sounding-threshold: must be a number from 0.05 to 0.95"),
])
def test_bad_training_options_are_one_line(tmp_path, corpus, args, words):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    r = subprocess.run([sys.executable, "-m", "bridge", "train", corpus, "--out", tmp_path / "m", *args],
                       capture_output=True, text=True, env=_env(tmp_path))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and words in r.stderr, r.stderr


def test_denoising_free_bits_and_selection_are_recorded(tmp_path, corpus):
    queries = tmp_path / "queries"
    queries.mkdir()
    midi_file(queries / "q.mid", chord_bars())
    out = tmp_path / "model"
    r = subprocess.run([sys.executable, "-m", "bridge", "train", corpus, "--out", out, "--epochs", "2",
                        "--hidden", "16", "--latent", "8", "--heldout", "0.25", "--note-dropout", "0.2",
                        "--octave", "0.3", "--jitter", "2", "--free-bits", "0.1", "--kl-anneal", "1",
                        "--select-queries", queries, "--no-progress"], capture_output=True, text=True,
                       env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    card = load_model(out).card
    hp = card["hyperparameters"]
    assert (hp["note_dropout"], hp["octave"], hp["jitter"], hp["free_bits"], hp["kl_anneal"]) == (0.2, 0.3, 2, 0.1, 1)
    assert [h["epoch"] for h in card["selection"]["history"]] == [1, 2] and card["selection"]["best_epoch"] in (1, 2)
    select = card["frontier"]["select"]
    assert [row["rate"] for row in select["rows"]][0] == "full" and set(select["goals"]) >= {"full", "smooth"}
    assert load_model(out).texture_bank.shape[1] == 39
    assert len(card["loss_history"]) == 2


def test_calibration_shifts_the_decoder_output_biases(tmp_path, corpus):
    import numpy as np

    outs = {}
    for name, extra in (("plain", []), ("calibrated", ["--sounding-threshold", "0.45", "--onset-threshold", "0.6"])):
        out = tmp_path / name
        r = subprocess.run([sys.executable, "-m", "bridge", "train", corpus, "--out", out, "--epochs", "1",
                            "--hidden", "16", "--latent", "8", "--heldout", "0.25", "--no-progress", *extra],
                           capture_output=True, text=True, env=_env(tmp_path))
        assert r.returncode == 0, r.stderr
        outs[name] = load_model(out)
    from safetensors.numpy import load_file

    plain = load_file(str(tmp_path / "plain" / "model.safetensors"))["decoder.out.bias"].astype(np.float64)
    cal = load_file(str(tmp_path / "calibrated" / "model.safetensors"))["decoder.out.bias"].astype(np.float64)
    shift = (plain - cal).reshape(16, 2, 78)
    np.testing.assert_allclose(shift[:, 0], np.log(0.45 / 0.55), atol=2e-3)   # float16 on disk
    np.testing.assert_allclose(shift[:, 1], np.log(0.6 / 0.4), atol=2e-3)
    assert outs["calibrated"].card["hyperparameters"]["onset_threshold"] == 0.6
