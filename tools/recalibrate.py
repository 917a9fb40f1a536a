# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.recalibrate MODEL --sounding P --onset P``: move a trained model's decoder
operating point without retraining.

``qbdi train --sounding-threshold/--onset-threshold`` fold the calibration into the decoder's
output biases (``bridge.training.train.calibrated``): a cell the trained decoder gives probability
P decodes at 0.5. This re-folds it from the thresholds the card records to new ones, by shifting
those biases by ``logit(old) - logit(new)`` per channel (sounding, onset), then saves the folder
(weights and sealed config) and records the change in the card (``training.recalibrated``). The
encoder, the latent statistics and so the dial's top are untouched. Choose the thresholds on the
*search* split (``tools.frontier``), confirm them on the confirm split.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from bridge.config import Representation
from bridge.errors import QbdiError
from bridge.models import WEIGHTS_FILE, read_config, resolve, save_model
from bridge.training.config import calibration_shift

BIAS = "decoder.out.bias"


def shifted(bias: np.ndarray, rep: Representation, old: tuple[float, float], new: tuple[float, float]) -> np.ndarray:
    """``bias`` (steps * 2 * n_pitches,) moved from thresholds ``old`` to ``new`` = (sounding, onset):
    the training's calibration (``calibration_shift``) undone for ``old`` and applied for ``new``."""
    moved = np.asarray(bias, dtype=np.float64) + calibration_shift(rep, old) - calibration_shift(rep, new)
    return moved.astype(np.float32)


def recalibrate(folder: Path, sounding: float, onset: float, note: str = "") -> tuple[float, float]:
    """Re-fold ``folder``'s decoder calibration to (``sounding``, ``onset``); the old thresholds."""
    from safetensors.numpy import load

    config = read_config(folder)
    hyper = config.setdefault("training", {}).setdefault("hyperparameters", {})
    old = (float(hyper.get("sounding_threshold", 0.5)), float(hyper.get("onset_threshold", 0.5)))
    rep = Representation.from_dict(config["representation"])
    tensors = {k: np.asarray(v, dtype=np.float32) for k, v in load((folder / WEIGHTS_FILE).read_bytes()).items()}
    tensors[BIAS] = shifted(tensors[BIAS], rep, old, (sounding, onset))
    hyper["sounding_threshold"], hyper["onset_threshold"] = sounding, onset
    config["training"].setdefault("recalibrated", []).append(
        {"from": {"sounding": old[0], "onset": old[1]}, "to": {"sounding": sounding, "onset": onset},
         "tool": f"python -m tools.recalibrate {folder.name} --sounding {sounding} --onset {onset}", "note": note})
    save_model(folder, tensors, config, dtype=config["weights"].get("dtype", "float32"))
    return old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.recalibrate", description=__doc__.split("\n")[0])
    parser.add_argument("model", help="model name or folder")
    parser.add_argument("--sounding", type=float, required=True, help="new sounding threshold (0.05 to 0.95)")
    parser.add_argument("--onset", type=float, required=True, help="new onset threshold (0.05 to 0.95)")
    parser.add_argument("--note", default="", help="why (recorded in the card)")
    args = parser.parse_args(argv)
    try:
        for p in (args.sounding, args.onset):
            if not 0.05 <= p <= 0.95:
                raise QbdiError(f"thresholds must be from 0.05 to 0.95, got {p}")
        folder = resolve(args.model).resolve()
        old = recalibrate(folder, args.sounding, args.onset, args.note)
    except (QbdiError, OSError, KeyError, json.JSONDecodeError) as exc:
        print(f"recalibrate: {exc}", file=sys.stderr)
        return 2
    print(f"{folder}: sounding {old[0]} -> {args.sounding}, onset {old[1]} -> {args.onset}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
