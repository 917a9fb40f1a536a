# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi``: the command line. argparse lives here only; heavy imports wait until after parsing.

Every user mistake ends as one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import QbdiError

log = logging.getLogger("bridge")

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse's own code, without the usage dump)
        self.exit(EXIT_USAGE, f"qbdi: {message} (see qbdi {self.prog.split()[-1]} --help)\n" if " " in self.prog
                  else f"qbdi: {message} (see qbdi --help)\n")


def _rate(text: str):
    from .config import parse_rate

    try:
        value = parse_rate(text)
    except QbdiError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value is not None and value < 0:
        raise argparse.ArgumentTypeError(f"rate must be 0 or more bits per frame, or 'full'; got {text}")
    return value


def _settings_args(p: argparse.ArgumentParser) -> None:
    """The improvisation settings as options: choices and defaults come from bridge.config."""
    from .config import ALLOCATIONS, SAMPLING_MODES, SOURCES, STRUCTURES, Z_MODES, Settings

    d = Settings()
    g = p.add_argument_group("improvisation settings")
    g.add_argument("--model", default=d.model, help="installed model name or model folder (default: pop)")
    g.add_argument("--rate", type=_rate, default=d.rate, help=f"bits per frame, or 'full' (default: {d.rate_label})")
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


def _settings_from(args):
    """Parsed options -> :class:`Settings` (validated there, with the message naming the bad value)."""
    from .config import Settings

    d = Settings()
    return Settings(model=args.model, rate=args.rate, sampling=args.sampling, threshold=args.threshold,
                    temperature=args.temperature, z=args.z, seed=args.seed, allocation=args.allocation,
                    source=args.source, structure=args.structure, beats_per_bar=args.beats_per_bar,
                    bars=getattr(args, "bars", d.bars), continue_bars=getattr(args, "continue_bars", d.continue_bars))


def build_parser() -> argparse.ArgumentParser:
    from .config import SWEEP_RATES, Settings

    parser = _Parser(prog="qbdi",
                     description="Query-Based Deep Improvisation: improvise on MIDI with a rate-limited VAE.")
    parser.add_argument("--version", action="version", version=f"qbdi {__version__}")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("improvise", help="improvise on a MIDI file (or freely) and write a MIDI file")
    p.add_argument("query", nargs="?", help="query MIDI file")
    p.add_argument("-o", "--output", required=True, help="output MIDI file")
    p.add_argument("--free", action="store_true", help="free improvisation: no query, latents from the prior")
    p.add_argument("--bars", type=int, default=Settings.bars,
                   help=f"bars of free improvisation (default {Settings.bars})")
    p.add_argument("--continue", dest="continue_bars", type=int, default=Settings.continue_bars, metavar="N",
                   help="improvise N more bars past the end of the query")
    p.add_argument("--with-query", action="store_true", help="write the query and the improvisation as two tracks")
    p.add_argument("--fold", action="store_true", help="fold notes outside the model's range by octaves")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    _settings_args(p)

    p = sub.add_parser("train", help="train a model on a folder of MIDI files (needs the [train] extra)")
    p.add_argument("corpus", help="folder of .mid files, or music21:bach")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--name", default="", help="model name (default: the folder's name)")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0, help="AdamW weight decay (default 0)")
    p.add_argument("--beta", type=float, default=1.0, help="KL weight (default 1)")
    p.add_argument("--gamma", type=float, default=0.0, help="next-bar predictive information weight (default 0)")
    p.add_argument("--transpose", type=int, default=0, metavar="K", help="augment with shifts -K..+K semitones")
    p.add_argument("--input-dropout", type=float, default=0.0, help="denoising: share of input cells dropped")
    p.add_argument("--latent", type=int, default=500)
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--heldout", type=float, default=0.1, help="share of songs held out (default 0.1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-steps", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--description", default="")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("models", help="list the installed models")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("serve", help="run the OSC server that the Max for Live device talks to")
    p.add_argument("--host", default=None,
                   help="address to bind (default 127.0.0.1; others are reachable from the network)")
    p.add_argument("--port", type=int, default=None, help="UDP port (default 7400)")
    p.add_argument("--model", default=None, help="default model name or folder (default: pop)")
    p.add_argument("--notify-port", type=int, default=None, help="send /qbdi/ready to this local port once loaded")
    p.add_argument("--workers", type=int, default=None,
                   help="improvisation threads (default 2; 0: in the receive thread)")
    p.add_argument("--log-level", dest="serve_log_level", default=None, metavar="LEVEL",
                   help="DEBUG, INFO (one line per request), WARNING (default) or ERROR")
    p.add_argument("--exit-with-stdin", action="store_true",
                   help="stop when stdin closes (the Max launcher holds a pipe there: the server ends with it)")

    p = sub.add_parser("bench", help="measure round-trip latency and throughput against a real server")
    p.add_argument("--port", type=int, default=0, help="benchmark a running server on this port (default: start one)")
    p.add_argument("--model", default=None)
    p.add_argument("--requests", type=int, default=200, help="requests per latency measurement")
    p.add_argument("--bars", default="1,8,32", help="query lengths in bars")
    p.add_argument("--clients", default="1,4,16", help="concurrent client counts for throughput")
    p.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput run")
    p.add_argument("--cold", metavar="CMD", default=None,
                   help="measure cold start to first reply of this server command (e.g. dist/qbdi-server/qbdi-server)")
    p.add_argument("--cold-only", action="store_true", help="with --cold: measure the cold start only")
    p.add_argument("--stream-bars", type=int, default=300, metavar="N",
                   help="bars per play-along stream measurement (default 300; 0 skips them)")
    p.add_argument("--jam", action="store_true",
                   help="measure qbdi jam's output timing against the ideal grid instead (no server)")
    p.add_argument("--jam-bars", type=int, default=32, metavar="N", help="with --jam: bars to play (default 32)")
    p.add_argument("--bpm", type=float, default=120.0, help="with --jam: tempo (default 120)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("jam", help="play along from a MIDI port, bar by bar (or replay a recorded performance)")
    from .config import MAX_STREAM_WINDOW, STREAM_MODES, StreamSettings

    ds = StreamSettings()
    g = p.add_argument_group("ports and clock")
    g.add_argument("--in", dest="input", metavar="PORT", help="MIDI input port (a name or a unique part of one)")
    g.add_argument("--out", dest="output", metavar="PORT", help="MIDI output port")
    g.add_argument("--virtual", action="store_true", help="create virtual ports called 'qbdi jam' instead")
    g.add_argument("--list-ports", action="store_true", help="list the MIDI ports and exit")
    g.add_argument("--clock", choices=("internal", "midi"), default="internal",
                   help="internal: play at --bpm from the start; midi: follow the input's MIDI clock, start and stop")
    g.add_argument("--bpm", type=float, default=120.0, help="tempo of the internal clock (default 120)")
    g.add_argument("--channel", type=int, default=1, help="MIDI channel of the answers, 1-16 (default 1)")
    g.add_argument("--mute", action="store_true", help="do not pass the notes played through to the output")
    g.add_argument("--bars", dest="stop_after", type=int, default=None, metavar="N",
                   help="stop after answering N bars (default: until Ctrl-C)")
    g.add_argument("--server", metavar="[HOST:]PORT", default=None,
                   help="improvise on a running qbdi serve instead of in this process")
    g = p.add_argument_group("how it answers")
    g.add_argument("--mode", choices=STREAM_MODES, default=ds.mode,
                   help="echo: the bar just played, improvised, one bar later; ahead: the bar the model predicts "
                        f"next (default {ds.mode})")
    g.add_argument("--window", type=int, default=ds.window,
                   help=f"bars of recent playing the channel statistics come from, 1-{MAX_STREAM_WINDOW} "
                        f"(default {ds.window})")
    g = p.add_argument_group("replaying a recording")
    g.add_argument("--replay", metavar="FILE", help="feed this MIDI file through the stream bar by bar, as if played")
    g.add_argument("--write", dest="output_file", metavar="OUT", help="with --replay: MIDI file for the answers")
    g.add_argument("--with-query", action="store_true", help="with --replay: write the performance as a track too")
    g.add_argument("--force", action="store_true", help="with --replay: overwrite OUT if it exists")
    _settings_args(p)

    p = sub.add_parser("analyze", help="VMO analysis of MIDI files: IR vs threshold, IR over time, motifs")
    p.add_argument("files", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--model", default=None, help="model whose latents are analysed (default: pop)")
    p.add_argument("--no-latents", action="store_true", help="analyse the music surface only")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("sweep", help="improvise at several rates and measure how much harmony survives")
    p.add_argument("query")
    p.add_argument("--rates", default=SWEEP_RATES, help=f"comma-separated rates (default {SWEEP_RATES})")
    p.add_argument("--seeds", type=int, default=5, help="seeds per rate, starting at --seed")
    p.add_argument("--out", required=True)
    p.add_argument("--no-midi", action="store_true", help="do not write the improvisations")
    p.add_argument("--no-progress", action="store_true")
    _settings_args(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = getattr(logging, str(args.log_level).upper(), None)
    if not isinstance(level, int):
        parser.error(f"unknown log level {args.log_level!r}; use DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.captureWarnings(True)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(COMMANDS[args.command](args) or 0)
    except QbdiError as exc:
        print(f"qbdi: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def cmd_improvise(args) -> int:
    from .improvise import free_improvise, improvise_file
    from .midifile import write_midi
    from .models import load_model

    settings = _settings_from(args)
    out = Path(args.output)
    if args.free == bool(args.query):
        raise QbdiError("give a query MIDI file, or --free --bars N for free improvisation (not both)")
    if args.query and out.resolve() == Path(args.query).resolve():
        raise QbdiError(f"the output {out} is the query file; choose another -o so the query is kept")
    if out.exists() and not args.force:
        raise QbdiError(f"{out} exists; choose another -o or add --force to overwrite it")
    if not out.parent.is_dir():
        raise QbdiError(f"folder {out.parent} does not exist; create it or choose another -o")
    if args.free:
        result = free_improvise(load_model(settings.model), settings)
        tempo, signature, tracks = 120.0, _signature(result.grid.beats_per_bar), [("improvisation", result.notes)]
    else:
        score, result = improvise_file(args.query, settings, fold=args.fold)
        tempo, signature = score.tempo_bpm, score.time_signature
        if settings.beats_per_bar and settings.beats_per_bar != score.beats_per_bar:
            signature = _signature(settings.beats_per_bar)
        tracks = [("improvisation", result.notes)]
        if args.with_query:
            tracks.insert(0, ("query", score.notes))
    for warning in result.warnings:
        log.warning(warning)
    write_midi(out, tracks, tempo_bpm=tempo, time_signature=signature)
    summary = {"output": str(out), "notes": len(result.notes), "bars": result.grid.n_bars,
               "bits_per_frame": result.bits_per_frame, "settings": result.settings.to_dict(),
               "warnings": result.warnings}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {out}: {len(result.notes)} notes, {result.grid.n_bars} bars, "
              f"model {result.model}, rate {result.settings.rate_label}, seed {result.settings.seed}")
    return 0


def _signature(beats_per_bar: float) -> tuple[int, int]:
    if float(beats_per_bar).is_integer():
        return int(beats_per_bar), 4
    return int(round(beats_per_bar * 2)), 8


def cmd_train(args) -> int:
    try:
        from .training.train import TrainConfig, train
    except ImportError as exc:
        raise QbdiError(f"training needs PyTorch ({exc}); install it with: pip install 'qbdi-bridge[train]'") from None
    if args.epochs < 1 or args.batch_size < 1:
        raise QbdiError("epochs and batch size must be at least 1")
    cfg = TrainConfig(corpus=args.corpus, out=args.out, name=args.name, epochs=args.epochs, batch_size=args.batch_size,
                      learning_rate=args.learning_rate, weight_decay=args.weight_decay,
                      beta=args.beta, gamma=args.gamma, transpose=args.transpose,
                      input_dropout=args.input_dropout,
                      hidden=args.hidden, latent=args.latent, heldout=args.heldout, seed=args.seed,
                      max_steps=args.max_steps, description=args.description)
    card = train(cfg, progress=not args.no_progress)
    if card:
        print(json.dumps(card, indent=2))
    return 0


def cmd_models(args) -> int:
    from .models import list_models

    models = list_models()
    if args.json:
        print(json.dumps(models, indent=2))
        return 0
    for m in models:
        if "error" in m:
            print(f"  {m['name']:<10} BROKEN: {m['error']}")
            continue
        mark = "*" if m["default"] else " "
        f1 = f"onset F1 {m['onset_f1']:.3f}" if m.get("onset_f1") is not None else ""
        print(f"{mark} {m['name']:<10} {m['description']}  "
              f"({m['bars']} bars of {m['corpus']}; max rate {m['max_rate']}; {f1})")
    return 0


def cmd_serve(args) -> int:
    import os

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads: see server.py
        os.environ.setdefault(name, "1")
    text = args.serve_log_level or args.log_level
    level = getattr(logging, str(text).upper(), None)
    if not isinstance(level, int):
        raise QbdiError(f"unknown log level {text!r}; use DEBUG, INFO, WARNING or ERROR")
    logging.getLogger().setLevel(level)
    from .server import serve_from_args

    return serve_from_args(args)


def cmd_bench(args) -> int:
    from .bench import bench_from_args

    return bench_from_args(args)


def cmd_jam(args) -> int:
    import os

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads, as serve
        os.environ.setdefault(name, "1")
    from .jam import jam_from_args

    settings = _settings_from(args)
    args.bars, args.input_mode = args.stop_after, "mute" if args.mute else "thru"
    return jam_from_args(args, settings)


def _analysis(module: str):
    import importlib

    try:
        for needed in ("scipy", "matplotlib"):
            importlib.import_module(needed)
        return importlib.import_module(f"bridge.analysis.{module}")
    except ImportError as exc:
        raise QbdiError(f"analysis needs the [analysis] extra ({exc}); install it with: "
                        "pip install 'qbdi-bridge[analysis]'") from None


def cmd_analyze(args) -> int:
    return _analysis("report").analyze_from_args(args)


def cmd_sweep(args) -> int:
    return _analysis("sweep").sweep_from_args(args, _settings_from(args))


COMMANDS = {"improvise": cmd_improvise, "train": cmd_train, "models": cmd_models, "serve": cmd_serve,
            "bench": cmd_bench, "jam": cmd_jam, "analyze": cmd_analyze, "sweep": cmd_sweep}


if __name__ == "__main__":
    sys.exit(main())
