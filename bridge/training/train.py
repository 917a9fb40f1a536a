# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Training in PyTorch (the ``[train]`` extra): the reference VAE, optional next-bar predictor.

Loss per frame = Bernoulli reconstruction (summed over the frame) + beta * KL(q(z|x) || N(0, I))
+ gamma * next-bar prediction error (appendix B's -gamma I(Z;Y) term: a Gaussian predictor of the
next bar's latent mean gives a variational bound on I(Z;Y)). With gamma = 0 the predictor is still
trained, on detached latents, so every model can continue a query and the two can be compared.
Runs unchanged under ``torchrun`` (DistributedDataParallel,
gloo on CPU): each rank trains on its shard and rank 0 writes the model.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..config import Architecture, Representation
from ..measures.texture import texture_bank
from .config import TrainConfig, calibration_shift
from .corpus import BACH, Corpus, load_corpus, split_by_piece
from .corrupt import Corruption, corrupt
from .patterns import texture_tensors

log = logging.getLogger(__name__)


class TorchVAE(nn.Module):
    """Same tensor names and shapes as :class:`bridge.vae.VAE` reads."""

    def __init__(self, arch: Architecture) -> None:
        super().__init__()
        self.arch = arch
        self.encoder = nn.ModuleDict({
            "hidden": nn.Linear(arch.input_size, arch.hidden_size),
            "mean": nn.Linear(arch.hidden_size, arch.latent_size),
            "logvar": nn.Linear(arch.hidden_size, arch.latent_size),
        })
        self.decoder = nn.ModuleDict({
            "hidden": nn.Linear(arch.latent_size, arch.hidden_size),
            "out": nn.Linear(arch.hidden_size, arch.input_size),
        })
        if arch.predictor_hidden > 0:
            self.predictor = nn.ModuleDict({
                "hidden": nn.Linear(arch.latent_size, arch.predictor_hidden),
                "out": nn.Linear(arch.predictor_hidden, arch.latent_size),
            })

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.encoder["hidden"](x))
        return self.encoder["mean"](h), self.encoder["logvar"](h)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder["out"](torch.relu(self.decoder["hidden"](z)))

    def predict_next(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.predictor["out"](torch.relu(self.predictor["hidden"](z)))

    def forward(self, x: torch.Tensor, x_next: torch.Tensor | None = None, shape_latent: bool = False,
                corruption: Corruption | None = None, rep: Representation | None = None):
        """-> (reconstruction, KL per latent dimension ``(latent,)``, next-bar prediction) losses,
        each averaged over the batch. The encoder sees ``x`` corrupted, the target is ``x``.

        With ``shape_latent`` False the predictor learns from detached latents: a probe that
        measures how predictable the latent already is, without changing it (gamma = 0).
        """
        seen = corrupt(x, corruption, rep or Representation()) if corruption is not None else x
        mu, logvar = self.encode(seen)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.decode_logits(z)
        rec = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1).mean()
        kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).mean(0)
        pred = torch.zeros((), device=x.device)
        if x_next is not None and self.arch.predictor_hidden > 0:
            with torch.no_grad():
                target, _ = self.encode(x_next)
            source = z if shape_latent else z.detach()
            pred = (self.predict_next(source) - target).pow(2).sum(1).mean()
        return rec, kl, pred


def _dist() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("gloo")
    if world > 1:
        return torch.distributed.get_rank(), world
    return 0, 1


def train(cfg: TrainConfig, progress: bool = True,
          information_rate: Callable[[np.ndarray], float] | None = None) -> dict[str, Any]:
    """Train, evaluate on held-out pieces, write the model folder (rank 0); returns the data card.

    ``information_rate`` (latents ``(n_bars, latent)`` -> bits; the VMO's, from the [analysis] extra)
    adds the latent information rate to the card (:func:`bridge.training.evaluate.evaluate`)."""
    rank, world = _dist()
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    rep = Representation()
    arch = Architecture(rep.frame_size, cfg.hidden, cfg.latent, cfg.predictor_hidden)
    corpus = load_corpus(cfg.corpus, rep, transpose=cfg.transpose)
    train_idx, held_idx = split_by_piece(corpus, cfg.heldout, cfg.seed)
    held_idx = held_idx[corpus.shift[held_idx] == 0]  # evaluate in the original keys only
    corruption = Corruption(cfg.note_dropout, cfg.octave, cfg.jitter, cfg.input_dropout)
    corruption.check()
    bank = texture_bank(corpus.frames[corpus.shift == 0], rng, steps=rep.steps_per_frame, n_pitches=rep.n_pitches)
    selector = Selector(cfg, rep, arch, bank) if cfg.select_queries and rank == 0 else None
    model = TorchVAE(arch)
    wrapped = model
    if world > 1:
        wrapped = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(wrapped.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, cfg.epochs))
    frames = torch.from_numpy(corpus.frames.astype(np.float32))
    nxt = corpus.next_index
    started = time.time()
    steps, history = 0, []
    shard = train_idx
    bar = None
    if progress and rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=cfg.epochs, desc="training", unit="epoch", file=sys.stderr)
    for epoch in range(cfg.epochs):
        order = rng.permutation(train_idx)          # same permutation on every rank (same seed)
        shard = order[rank::world]
        sums = np.zeros(3)
        n_batches = max(1, len(shard) // cfg.batch_size)
        for b in range(n_batches):
            idx = shard[b * cfg.batch_size:(b + 1) * cfg.batch_size]
            x = frames[idx]
            x_next = None
            if arch.predictor_hidden > 0:
                has_next = nxt[idx] >= 0
                idx_next = np.where(has_next, nxt[idx], idx)
                x_next = frames[idx_next]
            rec, kl_dims, pred = wrapped(x, x_next, cfg.gamma > 0, corruption, rep)
            kl = kl_dims.sum()
            penalised = torch.clamp(kl_dims, min=cfg.free_bits).sum() if cfg.free_bits > 0 else kl
            warm = min(1.0, (epoch + b / n_batches) / cfg.kl_anneal) if cfg.kl_anneal > 0 else 1.0
            loss = rec + cfg.beta * warm * penalised + (cfg.gamma if cfg.gamma > 0 else 1.0) * pred
            opt.zero_grad()
            loss.backward()
            opt.step()
            sums += [rec.item(), kl.item(), pred.item()]
            steps += 1
            if cfg.max_steps and steps >= cfg.max_steps:
                break
        sched.step()
        history.append((sums / n_batches).tolist())
        if bar:
            bar.update(1)
            bar.set_postfix(rec=f"{history[-1][0]:.1f}", kl=f"{history[-1][1]:.1f}")
        last = epoch == cfg.epochs - 1 or bool(cfg.max_steps and steps >= cfg.max_steps)
        if selector is not None and ((epoch + 1) % cfg.select_every == 0 or last):
            selector.consider(model, epoch + 1)
        if cfg.max_steps and steps >= cfg.max_steps:
            break
    if bar:
        bar.close()
    if selector is not None:
        selector.restore(model)
    if world > 1:
        torch.distributed.barrier()
    card: dict[str, Any] = {}
    if rank == 0:
        card = _finish(model, cfg, arch, rep, corpus, train_idx, held_idx, history, steps, time.time() - started, world,
                       bank, selector, information_rate)
    if world > 1:
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
    return card


def _losses(row) -> dict[str, float]:
    return {"reconstruction": round(row[0], 3), "kl": round(row[1], 3), "prediction": round(row[2], 3)}


class Selector:
    """Early stopping on a held-out frontier: every ``select_every`` epochs, the frontier score
    (:func:`bridge.measures.frontier.frontier_score`) of the current weights on the
    ``select_queries`` MIDI files (out-of-style, never trained on); the best epoch's weights win."""

    def __init__(self, cfg: TrainConfig, rep: Representation, arch: Architecture, bank: np.ndarray) -> None:
        from ..errors import QbdiError

        self.paths = sorted(p for p in Path(cfg.select_queries).rglob("*") if p.suffix.lower() in (".mid", ".midi"))
        if not self.paths:
            raise QbdiError(f"--select-queries {cfg.select_queries} holds no .mid files; give a folder of queries")
        self.rep, self.arch, self.bank = rep, arch, bank
        self.thresholds = (cfg.sounding_threshold, cfg.onset_threshold)
        self.best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        self.history: list[dict[str, Any]] = []

    def consider(self, model: TorchVAE, epoch: int) -> float:
        from ..measures.frontier import frontier_score, run, summarize

        numpy_model = _numpy_model(model, self.rep, self.arch, self.bank, self.thresholds)
        rows = summarize(run(numpy_model, self.paths))
        score = frontier_score(rows)
        by_rate = {r["rate"]: r for r in rows}
        self.history.append({"epoch": epoch, "score": score, **{
            f"{k}_{rate}": by_rate[rate][k] for rate in ("full", "16") for k in ("retained", "copy")}})
        log.info("epoch %d: frontier score %.4f", epoch, score)
        if self.best is None or score > self.best[0]:
            self.best = (score, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        return score

    def restore(self, model: TorchVAE) -> None:
        if self.best is not None:
            model.load_state_dict(self.best[2])

    def card(self) -> dict[str, Any]:
        return {"queries": Path(self.paths[0]).parent.name if self.paths else "", "files": len(self.paths),
                "best_epoch": self.best[1] if self.best else None, "history": self.history}


def calibrated(model: TorchVAE, rep: Representation, thresholds: tuple[float, float]) -> dict[str, np.ndarray]:
    """The weights as NumPy arrays (float32) with the decoder's output biases shifted so that a
    cell the trained decoder gives probability ``thresholds`` = (sounding, onset) decodes at 0.5:
    the model's operating point, chosen on out-of-style queries (see docs/ENGINE.md)."""
    tensors = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    if tuple(thresholds) != (0.5, 0.5):
        bias = tensors["decoder.out.bias"] - calibration_shift(rep, thresholds)
        tensors["decoder.out.bias"] = bias.astype(np.float32)
    return tensors


def _numpy_model(model: TorchVAE, rep: Representation, arch: Architecture, bank: np.ndarray,
                 cfg_thresholds: tuple[float, float] = (0.5, 0.5)):
    """The NumPy inference model of the current weights (float32, in memory), for selection."""
    from ..models import Model
    from ..vae import VAE

    tensors = calibrated(model, rep, cfg_thresholds)
    zeros, ones = np.zeros(arch.latent_size), np.ones(arch.latent_size)
    return Model("selecting", Path("."), {"max_rate": 2048}, rep, arch, VAE(tensors, arch), zeros, ones, bank)


def _finish(model, cfg, arch, rep, corpus: Corpus, train_idx, held_idx, history, steps, seconds, world,
            bank: np.ndarray, selector: Selector | None, information_rate=None) -> dict:
    from ..models import TEXTURE_BANK, load_model, save_model
    from .evaluate import evaluate, frontier_card

    tensors = calibrated(model, rep, (cfg.sounding_threshold, cfg.onset_threshold))
    tensors[TEXTURE_BANK] = bank.astype(np.float32)   # counts: exact in float16 too
    with torch.no_grad():
        mu, _ = model.encode(torch.from_numpy(corpus.frames[train_idx].astype(np.float32)))
    mu = mu.numpy().astype(np.float64)
    texture_card = None
    if cfg.patterns > 0:
        def encode(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return model.encode(torch.from_numpy(np.asarray(x, dtype=np.float32)))[0].numpy()

        texture, texture_card = texture_tensors(encode, corpus, train_idx, rep, cfg.patterns, cfg.seed)
        tensors.update(texture)
        arch = replace(arch, patterns=texture_card["patterns"])
    name = cfg.name or Path(cfg.out).name
    card = {
        "corpus": cfg.corpus if cfg.corpus == BACH else Path(cfg.corpus).name,
        "pieces": len(corpus.names),
        "bars": int((corpus.shift == 0).sum()),
        "train_frames": int(len(train_idx)),
        "heldout_frames": int(len(held_idx)),
        "heldout_split": "by song (every section of a song on one side), original keys only",
        "augmentation": f"transposition -{cfg.transpose}..+{cfg.transpose} semitones" if cfg.transpose else "none",
        "epochs": len(history), "steps": steps, "processes": world,
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("corpus", "out", "description")},
        "final_losses": _losses(history[-1]) if history else {},
        "loss_history": [_losses(h) for h in history],   # per epoch: the selected epoch's weights are shipped
        "seconds": round(seconds, 1),
        **({"selection": selector.card()} if selector is not None else {}),
        **({"texture": texture_card} if texture_card is not None else {}),
        "torch": torch.__version__, "python": platform.python_version(),
    }
    config = {
        "name": name,
        "description": cfg.description or f"VAE trained on {card['corpus']}",
        "representation": rep.to_dict(),
        "architecture": arch.to_dict(),
        "latent_stats": {"mean": mu.mean(0).round(6).tolist(), "var": mu.var(0).round(6).tolist()},
        "max_rate": 2048,
        "training": card,
    }
    save_model(cfg.out, tensors, config, cfg.weights_dtype)
    if len(held_idx):
        card.update(evaluate(load_model(cfg.out), corpus, held_idx, information_rate))   # on the weights as shipped
        if selector is not None:
            shipped = load_model(cfg.out)
            card["frontier"] = {"select": frontier_card(shipped, selector.paths, selector.card()["queries"])}
        config["training"] = card
        config["max_rate"] = int(card.get("max_rate", 2048))
        save_model(cfg.out, tensors, config, cfg.weights_dtype)
    log.info("wrote %s", cfg.out)
    return card
