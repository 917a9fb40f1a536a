# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import json
import subprocess
import sys

import numpy as np
import pytest
from builders import tiny_model

from bridge.errors import ModelError, QbdiError
from bridge.models import installed_names, list_models, load_model


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


def _edit_config(folder, **changes):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            del config[key]
        else:
            config[key] = value
    path.write_text(json.dumps(config))


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
    _edit_config(folder, architecture={"input_size": 2496, "hidden_size": 32, "latent_size": 17, "predictor_hidden": 0})
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
