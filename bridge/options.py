# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The command line's option types and shared option groups (argparse lives here and in
:mod:`bridge.cli` only): every bad value is one line and exit 2, ranges and defaults come from
:mod:`bridge.config` and :mod:`bridge.training.config`."""

from __future__ import annotations

import argparse

from .errors import QbdiError

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's own code, without the usage dump)
        self.exit(EXIT_USAGE, f"qbdi: {message} (see qbdi {self.prog.split()[-1]} --help)\n" if " " in self.prog
                  else f"qbdi: {message} (see qbdi --help)\n")


def rate(text: str):
    from .config import parse_rate

    if not text.strip():
        raise argparse.ArgumentTypeError("needs a number of bits per frame or 'full', got an empty string")
    try:
        value = parse_rate(text)
    except QbdiError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value is not None and value < 0:
        raise argparse.ArgumentTypeError(f"rate must be 0 or more bits per frame, or 'full'; got {text}")
    return value


def int_in(lo: int, hi: int):
    """An argparse type: a whole number from ``lo`` to ``hi``."""
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number from {lo} to {hi}, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be a whole number from {lo} to {hi}, got {value}")
        return value
    return parse


def float_in(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False):
    """An argparse type: a finite number in the interval (``lo_open``/``hi_open`` exclude the ends)."""
    import math

    span = f"{'above' if lo_open else 'from'} {lo:g} {'and below' if hi_open else 'to'} {hi:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number {span}, got {text!r}") from None
        if (not math.isfinite(value) or value < lo or value > hi or (lo_open and value == lo)
                or (hi_open and value == hi)):
            raise argparse.ArgumentTypeError(f"must be a number {span}, got {text}")
        return value
    return parse


def text(what: str, limit: int = 1000, empty: bool = False):
    """An argparse type: printable text (no control characters), non-empty unless ``empty``."""
    def parse(text: str) -> str:
        if not text and not empty:
            raise argparse.ArgumentTypeError(f"needs {what}, got an empty string")
        if len(text) > limit or not all(c.isprintable() for c in text):
            raise argparse.ArgumentTypeError(f"must be {what} of at most {limit} printable characters")
        return text
    return parse


def path(what: str):
    """An argparse type: a non-empty path (the rest is checked by bridge.paths before any work)."""
    def parse(text: str) -> str:
        if not text:
            raise argparse.ArgumentTypeError(f"needs {what}, got an empty string")
        return text
    return parse


def train_args(p: argparse.ArgumentParser) -> None:
    """``qbdi train``'s options, one per TrainConfig field: flag, type, default, range and help come
    from bridge.training.config (torch-free), so the CLI cannot drift from the data card."""
    from .config import MAX_MODEL_NAME

    try:
        from .training.config import cli_fields, flag
    except ImportError:   # the standalone server leaves training out; its entry point refuses `train`
        return

    special = {"name": text("a model name", MAX_MODEL_NAME, empty=True),
               "description": text("a description", 1000, empty=True),
               "select_queries": text("a folder of MIDI queries", 4096, empty=True)}
    for f in cli_fields():
        meta = f.metadata
        if f.name in special:
            kind = special[f.name]
        elif isinstance(f.default, bool) or not isinstance(f.default, (int, float)):
            kind = str
        elif isinstance(f.default, int):
            kind = int_in(int(meta["lo"]), int(meta["hi"]))
        else:
            kind = float_in(meta["lo"], meta["hi"], lo_open=meta["lo_open"], hi_open=meta["hi_open"])
        hidden = f.name == "max_steps"
        p.add_argument(flag(f.name), dest=f.name, type=kind, default=f.default, metavar=meta.get("metavar"),
                       help=argparse.SUPPRESS if hidden else f"{meta['help']} (default {f.default!r})")


def settings_args(p: argparse.ArgumentParser, with_rate: bool = True) -> None:
    """The improvisation settings as options: choices and defaults come from bridge.config.
    ``with_rate=False`` leaves ``--rate`` out (a command that sets the rate itself, as sweep's ``--rates``)."""
    from .config import ALLOCATIONS, SAMPLING_MODES, SOURCES, STRUCTURES, Z_MODES, Settings

    d = Settings()
    g = p.add_argument_group("improvisation settings")
    g.add_argument("--model", default=d.model, type=path("a model name or folder"),
                   help="installed model name or model folder (default: pop)")
    if with_rate:
        g.add_argument("--rate", type=rate, default=d.rate,
                       help=f"bits per frame, or 'full' (default: {d.rate_label})")
    g.add_argument("--threshold", type=float, default=d.threshold,
                   help=f"note probability threshold (default {d.threshold})")
    g.add_argument("--sample", dest="sampling", action="store_const", const=SAMPLING_MODES[1], default=d.sampling,
                   help="sample notes (Bernoulli) instead of thresholding")
    g.add_argument("--temperature", type=float, default=d.temperature,
                   help=f"sampling temperature (with --sample; default {d.temperature})")
    g.add_argument("--z", choices=Z_MODES, default=d.z, help=f"encoder output: mean or a sample (default {d.z})")
    g.add_argument("--seed", type=int, default=d.seed, help=f"random seed: same seed, same notes (default {d.seed})")
    g.add_argument("--allocation", choices=ALLOCATIONS, default=d.allocation,
                   help=f"allocate bits once per query (reference) or per frame (default {d.allocation})")
    g.add_argument("--source", choices=SOURCES, default=d.source,
                   help="channel statistics: the spread of the query's latents over its bars (empirical, a smooth "
                        "dial), the time-averaged posterior variance (the paper's reference), or N(0,1) (prior); "
                        f"default {d.source}")
    g.add_argument("--structure", choices=STRUCTURES, default=d.structure,
                   help="lock: bars that repeat in the query get the same noise, so repeats survive "
                        f"(default {d.structure})")
    g.add_argument("--beats-per-bar", type=float, default=d.beats_per_bar, help="override the file's meter")


def settings_from(args):
    """Parsed options -> :class:`Settings` (validated there, with the message naming the bad value)."""
    from .config import Settings

    d = Settings()
    bars, more = getattr(args, "bars", None), getattr(args, "continue_bars", None)
    return Settings(model=args.model, rate=getattr(args, "rate", d.rate), sampling=args.sampling,
                    threshold=args.threshold, temperature=args.temperature, z=args.z, seed=args.seed,
                    allocation=args.allocation, source=args.source, structure=args.structure,
                    beats_per_bar=args.beats_per_bar,
                    bars=d.bars if bars is None else bars, continue_bars=d.continue_bars if more is None else more)
