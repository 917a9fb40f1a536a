# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Settings are validated where they live: the config dataclasses, with a JSON round trip."""

import json

import pytest

from bridge.config import MAX_WORKERS, ServeConfig, Settings, check_beats_per_bar
from bridge.errors import QbdiError


def test_serve_config_round_trips_through_json():
    config = ServeConfig(host="::1", port=0, model="pop", notify_port=9000, workers=MAX_WORKERS, log_level="info")
    assert ServeConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert ServeConfig() == ServeConfig.from_dict({})


@pytest.mark.parametrize("field, value, words", [
    ("port", -1, "port must be a whole number from 0 to 65535"), ("port", 70000, "port"), ("port", 1.5, "port"),
    ("port", True, "port"), ("port", "7400", "port"), ("notify_port", 0, "notify port"),
    ("notify_port", 65536, "notify port"), ("workers", -5, "workers must be a whole number from 0 to 64"),
    ("workers", 10 ** 6, "workers"), ("workers", float("nan"), "workers"), ("host", "", "host"),
    ("host", "a b", "host"), ("host", "h\n", "host"), ("host", "x" * 300, "host"), ("host", 5, "host"),
    ("model", "", "model"), ("model", "a\0b", "model"), ("log_level", "loud", "unknown log level"),
])
def test_serve_config_refuses_bad_values(field, value, words):
    with pytest.raises(QbdiError, match=words):
        ServeConfig(**{field: value})
    with pytest.raises(QbdiError, match=words):
        ServeConfig.from_dict({field: value})


def test_serve_config_refuses_unknown_fields():
    with pytest.raises(QbdiError, match="unknown serveconfig field"):
        ServeConfig.from_dict({"colour": 1})


@pytest.mark.parametrize("value", [0.25, 0.75, 1.25, 3.0, 3.25, 3.5, 7.0, 32.0])
def test_bars_midi_can_write_are_accepted(value):
    assert check_beats_per_bar(value) == value and Settings(beats_per_bar=value).beats_per_bar == value


@pytest.mark.parametrize("value, words", [
    (0, "between"), (0.2, "between"), (33, "between"), (float("nan"), "between"), (float("inf"), "between"),
    (-4, "between"), (3.3, "whole number of 16ths"), (1 / 3, "whole number of 16ths"), (0.3, "16ths"),
    ("4", "between"), (True, "between"),
])
def test_bars_midi_cannot_write_are_refused(value, words):
    with pytest.raises(QbdiError, match=words):
        Settings(beats_per_bar=value)
