# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import hashlib
import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest
from builders import NULL, edit_config, old_format_model, tiny_model

from bridge.errors import ModelError, QbdiError
from bridge.models import (
    CHECKSUM_KEY,
    FORMAT_VERSION,
    installed_names,
    list_models,
    load_model,
    save_model,
    upgrade_model,
)
from bridge.models.schema import config_digest


def test_shipped_models_load_verified_and_list():
    names = installed_names()
    assert "pop" in names and len(names) >= 2
    for name in names:
        model = load_model(name)
        assert model.vae.encode(np.zeros((1, 2496), np.float32))[0].shape == (1, model.architecture.latent_size)
        assert model.card["heldout_onset_f1"] > 0
    assert list_models()[0]["name"] == "pop" and list_models()[0]["default"]


def test_unknown_model_names_the_installed_ones():
    with pytest.raises(QbdiError, match="unknown model 'nope'.*pop"):
        load_model("nope")


_edit_config = edit_config


def test_changed_weights_are_refused(tmp_path):
    folder = tiny_model(tmp_path / "m")
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_model(folder)


@pytest.mark.parametrize("changes, words", [
    ({"format_version": 99}, "format version 99"),
    ({"architecture": None}, "lacks key.*architecture"),
    ({"format": "pickle"}, "format"),
])
def test_bad_configs_are_refused(tmp_path, changes, words):
    folder = tiny_model(tmp_path / "m")
    _edit_config(folder, **changes)
    with pytest.raises(ModelError, match=words):
        load_model(folder)


def test_missing_weight_file_and_wrong_shapes(tmp_path):
    folder = tiny_model(tmp_path / "a")
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model(folder)
    folder = tiny_model(tmp_path / "b", latent=16)
    _edit_config(folder, architecture={"input_size": 2496, "hidden_size": 32, "latent_size": 17, "predictor_hidden": 0},
                 latent_stats={"mean": [0.0] * 17, "var": [1.0] * 17})    # a consistent config, weights of another
    with pytest.raises(ModelError, match="shape"):
        load_model(folder)


def test_loading_never_unpickles_or_imports_torch(tmp_path):
    folder = tiny_model(tmp_path / "m")
    code = ("import pickle, sys\n"
            "def boom(*a, **k): raise SystemExit('unpickled!')\n"
            "pickle.loads = pickle.load = boom\n"
            f"from bridge.models import load_model; load_model({str(folder)!r}); load_model('pop')\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the config is untrusted: one schema, checked whole before use -------------------------------
REP = {"steps_per_beat": 4, "beats_per_frame": 4, "lowest_pitch": 24, "n_pitches": 78}
ARCH = {"input_size": 2496, "hidden_size": 32, "latent_size": 16, "predictor_hidden": 0}
SHA = "0" * 64


@pytest.mark.parametrize("changes, words", [
    ({"representation": 5}, "representation must be a JSON object, not a number"),
    ({"representation": {**REP, "lowest_pitch": 100}}, "reaches pitch 177; MIDI pitches end at 127"),
    ({"representation": {**REP, "lowest_pitch": 50, "n_pitches": 79}}, "reaches pitch 128"),
    ({"representation": {**REP, "n_pitches": "78"}}, r"representation.n_pitches must be a whole number from 1 to 128"),
    ({"representation": {**REP, "n_pitches": True}}, "n_pitches must be a whole number"),
    ({"representation": {**REP, "steps_per_beat": 0}}, "steps_per_beat must be a whole number from 1 to 24"),
    ({"representation": {**REP, "lowest_pitch": -3}}, "lowest_pitch must be a whole number from 0"),
    ({"representation": {**REP, "beats_per_frame": 1.5}}, "beats_per_frame must be a whole number"),
    ({"representation": {k: v for k, v in REP.items() if k != "n_pitches"}}, "lacks n_pitches"),
    ({"representation": {**REP, "colour": 1}}, "unknown key"),
    ({"representation": {**REP, "steps_per_beat": 24, "beats_per_frame": 32}}, "the limit is 8192"),
    ({"architecture": NULL}, "architecture must be a JSON object, not null"),
    ({"architecture": {**ARCH, "input_size": 2495}}, "is not the representation's frame size 2496"),
    ({"architecture": {**ARCH, "latent_size": "x"}}, "latent_size must be a whole number"),
    ({"architecture": {**ARCH, "hidden_size": 10 ** 9}}, "hidden_size must be a whole number from 1 to 8192"),
    ({"architecture": [1, 2]}, "architecture must be a JSON object, not a list"),
    ({"weights": "x"}, "weights must be a JSON object"),
    ({"weights": {"file": 5, "sha256": SHA}}, "weights.file must be a file name inside the model folder"),
    ({"weights": {"file": "../../etc/passwd", "sha256": SHA}}, "inside the model folder"),
    ({"weights": {"file": "/etc/passwd", "sha256": SHA}}, "inside the model folder"),
    ({"weights": {"file": "", "sha256": SHA}}, "inside the model folder"),
    ({"weights": {"file": "model.safetensors", "sha256": "abc"}}, "weights.sha256 must be the weights' SHA-256"),
    ({"weights": {"file": "model.safetensors", "sha256": SHA, "dtype": "int8"}}, "weights.dtype must be one of"),
    ({"latent_stats": "x"}, "latent_stats must be a JSON object, not a string"),
    ({"latent_stats": {"mean": [0.0] * 15, "var": [1.0] * 16}}, "latent_stats.mean must be a list of 16 numbers"),
    ({"latent_stats": {"mean": [0.0] * 16, "var": ["1"] * 16}}, "latent_stats.var must be a list of 16 numbers"),
    ({"latent_stats": {"mean": [0.0] * 16, "var": [-1.0] * 16}}, "negative variance"),
    ({"max_rate": "x"}, "max_rate must be a whole number of bits from 1 to 1000000"),
    ({"max_rate": 0}, "max_rate must be"), ({"max_rate": 10 ** 12}, "max_rate must be"),
    ({"max_rate": 1.5}, "max_rate must be"), ({"max_rate": True}, "max_rate must be"),
    ({"name": 5}, "name must be a non-empty string"), ({"name": ""}, "name must be a non-empty string"),
    ({"name": "a\nb"}, "no control characters"), ({"name": "x" * 65}, "at most 64 characters"),
    ({"description": 5}, "description must be a string"), ({"description": "\x1b[2Jgone"}, "no control characters"),
    ({"training": "x"}, "training must be a JSON object"), ({"training": {"bars": "many"}}, "training.bars"),
    ({"training": {"heldout_onset_f1": 2.0}}, "heldout_onset_f1 must be a number from 0 to 1"),
    ({"training": {"corpus": ["a"]}}, "training.corpus must be a string"),
    ({"format_version": "2"}, 'format version "2" is not a qbdi model format version'),
    ({"format_version": True}, "is not a qbdi model format version"), ({"format_version": 0}, "format version 0"),
    ({"format_version": 4}, "format version 4 is not supported"), ({"format": 5}, "format is 5"),
])
def test_every_config_field_is_checked(tmp_path, changes, words):
    folder = tiny_model(tmp_path / "m")
    edit_config(folder, **changes)
    with pytest.raises(ModelError, match=words) as caught:
        load_model(folder)
    assert "\n" not in str(caught.value) and str(folder) in str(caught.value)


@pytest.mark.parametrize("text, words", [
    ('{"format": NaN}', "NaN is not a JSON number"), ('{"a": Infinity}', "Infinity is not a JSON number"),
    ('{"a": -Infinity}', "Infinity is not a JSON number"), ('{"a": 1e999}', "too large a number"),
    ('{"a": 1, "a": 2}', "key 'a' is given twice"), ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ('{"a": ' + "9" * 5000 + "}", "a number of 5000 digits"), ("", "not valid JSON"),
    ('\ufeff{"a": 1}', "not valid JSON"), ("[1, 2]", "must hold a JSON object, not a list"),
    ('{"a": "\\ud800"}', "lacks key"),
])
def test_config_bytes_are_read_strictly(tmp_path, text, words):
    folder = tiny_model(tmp_path / "m")
    (folder / "config.json").write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(ModelError, match=words):
        load_model(folder)


def test_config_files_that_are_not_text_or_not_files(tmp_path):
    folder = tiny_model(tmp_path / "m")
    (folder / "config.json").write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(ModelError, match="not UTF-8 text"):
        load_model(folder)
    (folder / "config.json").write_bytes(b" " * (5 << 20))
    with pytest.raises(ModelError, match="the limit is 4 MB"):
        load_model(folder)
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to(os.devnull)
    with pytest.raises(ModelError, match="character device"):
        load_model(folder)
    (folder / "config.json").unlink()
    os.mkfifo(folder / "config.json")                      # would block a reader that opened it
    with pytest.raises(ModelError):
        load_model(folder)


def test_the_config_is_under_its_checksum(tmp_path):
    folder = tiny_model(tmp_path / "m")
    edit_config(folder, reseal=False, description="edited by hand")
    with pytest.raises(ModelError, match="does not match its checksum.*qbdi models --upgrade"):
        load_model(folder)
    edit_config(folder, reseal=False, config_sha256=None)
    with pytest.raises(ModelError, match="config_sha256 must be the config's SHA-256"):
        load_model(folder)
    config = edit_config(folder)                          # a re-sealed edit loads
    (folder / "config.json").write_text(json.dumps(config, indent=7))    # layout is not content
    assert load_model(folder).description == "edited by hand"


def test_weights_that_are_not_float_tensors_or_too_big(tmp_path):
    from safetensors.numpy import save

    from bridge.vae import expected_shapes

    folder = tiny_model(tmp_path / "m")
    arch = load_model(folder).architecture
    tensors = {k: np.zeros(s, np.int32) for k, s in expected_shapes(arch).items()}
    data = save(tensors)
    (folder / "model.safetensors").write_bytes(data)
    edit_config(folder, weights={"file": "model.safetensors", "sha256": hashlib.sha256(data).hexdigest()})
    with pytest.raises(ModelError, match="holds int32 values, not floats"):
        load_model(folder)
    with open(folder / "model.safetensors", "ab") as fh:
        fh.truncate(64 << 20)
    with pytest.raises(ModelError, match="the limit is"):
        load_model(folder)


def test_format_1_folders_load_with_a_warning_and_upgrade(tmp_path, caplog):
    folder = old_format_model(tmp_path / "m")
    weights = (folder / "model.safetensors").read_bytes()
    with caplog.at_level(logging.WARNING, logger="bridge.models"):
        model = load_model(folder)
    assert model.spec.format_version == 1 and "qbdi models --upgrade" in caplog.text
    assert upgrade_model(folder) == (1, FORMAT_VERSION)
    assert (folder / "model.safetensors").read_bytes() == weights
    config = json.loads((folder / "config.json").read_text())
    assert config["format_version"] == FORMAT_VERSION and config[CHECKSUM_KEY] == config_digest(config)
    assert upgrade_model(folder) == (FORMAT_VERSION, FORMAT_VERSION)       # idempotent


def test_format_1_folders_are_held_to_the_same_schema(tmp_path):
    folder = old_format_model(tmp_path / "m")
    edit_config(folder, reseal=False, representation={**REP, "lowest_pitch": 100})
    with pytest.raises(ModelError, match="reaches pitch 177"):
        load_model(folder)
    before = (folder / "config.json").read_bytes()
    with pytest.raises(ModelError, match="reaches pitch 177"):
        upgrade_model(folder)
    assert (folder / "config.json").read_bytes() == before      # a broken folder is not sealed


def test_upgrade_refuses_weights_that_do_not_match(tmp_path):
    folder = old_format_model(tmp_path / "m")
    with open(folder / "model.safetensors", "r+b") as fh:
        fh.seek(-3, 2)
        fh.write(b"\x00\x01\x02")
    before = (folder / "config.json").read_bytes()
    with pytest.raises(ModelError, match="does not match its checksum"):
        upgrade_model(folder)
    assert (folder / "config.json").read_bytes() == before


def test_shipped_models_are_in_the_current_format():
    """After new weights land, run `python -m tools.migrate_models` (this test says when it is needed)."""
    from tools.migrate_models import main

    assert main(["--check"]) == 0
    assert {m["format_version"] for m in list_models()} == {FORMAT_VERSION}


def test_migrate_models_check_names_an_old_folder(tmp_path, capsys):
    from tools.migrate_models import main

    folder = old_format_model(tmp_path / "m")
    assert main(["--check", str(folder)]) == 1 and "migrate it" in capsys.readouterr().out
    assert main([str(folder)]) == 0 and main(["--check", str(folder)]) == 0


def test_save_model_checks_the_config_before_writing(tmp_path):
    folder = tiny_model(tmp_path / "m")
    model = load_model(folder)
    bad = {**model.config, "representation": {**REP, "lowest_pitch": 120}}
    with pytest.raises(ModelError, match="reaches pitch"):
        save_model(tmp_path / "new", {}, bad)
    assert not (tmp_path / "new").exists()


def test_the_server_never_sends_a_note_outside_midi_whatever_the_model(tmp_path):
    """Schema aside (a model object built in code): the last guard before the wire still holds."""
    from dataclasses import replace as dc_replace

    from bridge.config import Representation, Settings
    from bridge.serve.workers import Job, ModelCache, Workers

    good = load_model(tiny_model(tmp_path / "m", sparse=True))
    rogue = dc_replace(good, name="rogue", representation=Representation(lowest_pitch=100))   # pitches up to 177
    models = ModelCache(None)
    models.default = rogue
    sent, errors = [], []
    workers = Workers(0, models, lambda dest, address, args, count: sent.append(address),
                      lambda dest, rid, code, message: errors.append((code, message)))
    workers.run(Job("free", 1, ("127.0.0.1", 9), Settings(threshold=0.05, bars=2)))
    assert sent == [] and errors and errors[0][0] == "bad_model" and "pitches 0..127" in errors[0][1]
