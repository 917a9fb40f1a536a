# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``python -m tools.fit_patterns MODEL CORPUS [--patterns K]``: give a trained model the texture
layer (issue 20, :mod:`bridge.patterns`) without retraining its VAE.

Fits the patterns (:func:`bridge.training.patterns.fit_patterns`) on the model's own training
split (the card's corpus split: held-out fraction and seed, transpositions), adds the tensors,
sets ``architecture.patterns``, records what was fitted in the card (``training.texture``) and
re-saves the folder in the current format. ``qbdi train`` does the same at the end of training.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from bridge.config import Representation
from bridge.errors import QbdiError
from bridge.models import TEXTURE_BANK, WEIGHTS_FILE, read_config, resolve, save_model
from bridge.training.patterns import DEFAULT_PATTERNS, texture_tensors


def add_patterns(folder, corpus_source: str, k: int = DEFAULT_PATTERNS) -> dict:
    """Fit and add the texture tensors to the model in ``folder``; returns the card's texture entry."""
    from safetensors.numpy import load

    from bridge.config import Architecture
    from bridge.training.corpus import load_corpus, split_by_piece
    from bridge.vae import VAE

    config = read_config(folder)
    hyper = config.get("training", {}).get("hyperparameters", {})
    rep = Representation.from_dict(config["representation"])
    corpus = load_corpus(corpus_source, rep, transpose=int(hyper.get("transpose", 0)))
    train_idx, _ = split_by_piece(corpus, float(hyper.get("heldout", 0.1)), int(hyper.get("seed", 0)))
    weights = {name: np.asarray(v, dtype=np.float32) for name, v in load((folder / WEIGHTS_FILE).read_bytes()).items()
               if not name.startswith("patterns.")}
    arch = Architecture.from_dict({**config["architecture"], "patterns": 0})
    vae = VAE({name: v for name, v in weights.items() if name != TEXTURE_BANK}, arch)   # the VAE alone: old
    tensors, card = texture_tensors(lambda x: vae.encode(x)[0], corpus, train_idx, rep, k,  # patterns may not load
                                    int(hyper.get("seed", 0)))
    weights.update(tensors)
    config["architecture"]["patterns"] = card["patterns"]
    card["tool"] = f"python -m tools.fit_patterns {folder.name} CORPUS --patterns {k}"
    config["training"]["texture"] = card
    save_model(folder, weights, config, dtype=config["weights"].get("dtype", "float32"))
    return card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fit_patterns", description=__doc__.split("\n")[0])
    parser.add_argument("model", help="model name or folder")
    parser.add_argument("corpus", help="the model's training corpus: a MIDI folder or music21:bach")
    parser.add_argument("--patterns", type=int, default=DEFAULT_PATTERNS, help="number of texture patterns K")
    args = parser.parse_args(argv)
    try:
        if not 2 <= args.patterns <= 256:
            raise QbdiError(f"--patterns must be from 2 to 256, got {args.patterns}")
        folder = resolve(args.model).resolve()
        card = add_patterns(folder, args.corpus, args.patterns)
    except (QbdiError, OSError, KeyError, json.JSONDecodeError) as exc:
        print(f"fit_patterns: {exc}", file=sys.stderr)
        return 2
    print(f"{folder}: {card['patterns']} patterns, classifier accuracy {card['classifier_train_accuracy']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
