# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi``: the command line. argparse lives here only; heavy imports wait until after parsing.

Every user mistake ends as one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
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

    if not text.strip():
        raise argparse.ArgumentTypeError("needs a number of bits per frame or 'full', got an empty string")
    try:
        value = parse_rate(text)
    except QbdiError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value is not None and value < 0:
        raise argparse.ArgumentTypeError(f"rate must be 0 or more bits per frame, or 'full'; got {text}")
    return value


def _int_in(lo: int, hi: int):
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


def _float_in(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False):
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


def _name(what: str, limit: int = 1000, empty: bool = False):
    """An argparse type: printable text (no control characters), non-empty unless ``empty``."""
    def parse(text: str) -> str:
        if not text and not empty:
            raise argparse.ArgumentTypeError(f"needs {what}, got an empty string")
        if len(text) > limit or not all(c.isprintable() for c in text):
            raise argparse.ArgumentTypeError(f"must be {what} of at most {limit} printable characters")
        return text
    return parse


def _path(what: str):
    """An argparse type: a non-empty path (the rest is checked by bridge.paths before any work)."""
    def parse(text: str) -> str:
        if not text:
            raise argparse.ArgumentTypeError(f"needs {what}, got an empty string")
        return text
    return parse


def _train_args(p: argparse.ArgumentParser) -> None:
    """``qbdi train``'s options, one per TrainConfig field: flag, type, default, range and help come
    from bridge.training.config (torch-free), so the CLI cannot drift from the data card."""
    from .config import MAX_MODEL_NAME
    from .training.config import cli_fields, flag

    special = {"name": _name("a model name", MAX_MODEL_NAME, empty=True),
               "description": _name("a description", 1000, empty=True),
               "select_queries": _name("a folder of MIDI queries", 4096, empty=True)}
    for f in cli_fields():
        meta = f.metadata
        if f.name in special:
            kind = special[f.name]
        elif isinstance(f.default, bool) or not isinstance(f.default, (int, float)):
            kind = str
        elif isinstance(f.default, int):
            kind = _int_in(int(meta["lo"]), int(meta["hi"]))
        else:
            kind = _float_in(meta["lo"], meta["hi"], lo_open=meta["lo_open"], hi_open=meta["hi_open"])
        hidden = f.name == "max_steps"
        p.add_argument(flag(f.name), dest=f.name, type=kind, default=f.default, metavar=meta.get("metavar"),
                       help=argparse.SUPPRESS if hidden else f"{meta['help']} (default {f.default!r})")


def _settings_args(p: argparse.ArgumentParser) -> None:
    """The improvisation settings as options: choices and defaults come from bridge.config."""
    from .config import ALLOCATIONS, SAMPLING_MODES, SOURCES, STRUCTURES, Z_MODES, Settings

    d = Settings()
    g = p.add_argument_group("improvisation settings")
    g.add_argument("--model", default=d.model, type=_path("a model name or folder"),
                   help="installed model name or model folder (default: pop)")
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
    bars, more = getattr(args, "bars", None), getattr(args, "continue_bars", None)
    return Settings(model=args.model, rate=args.rate, sampling=args.sampling, threshold=args.threshold,
                    temperature=args.temperature, z=args.z, seed=args.seed, allocation=args.allocation,
                    source=args.source, structure=args.structure, beats_per_bar=args.beats_per_bar,
                    bars=d.bars if bars is None else bars, continue_bars=d.continue_bars if more is None else more)


def build_parser() -> argparse.ArgumentParser:
    from . import config as C
    from .config import SWEEP_RATES, Settings

    parser = _Parser(prog="qbdi",
                     description="Query-Based Deep Improvisation: improvise on MIDI with a rate-limited VAE.")
    parser.add_argument("--version", action="version", version=f"qbdi {__version__}")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("improvise", help="improvise on a MIDI file (or freely) and write a MIDI file")
    p.add_argument("query", nargs="?", type=_path("a query MIDI file"), help="query MIDI file ('-': standard input)")
    p.add_argument("-o", "--output", required=True, type=_path("an output file"),
                   help="output MIDI file ('-': standard output)")
    p.add_argument("--free", action="store_true", help="free improvisation: no query, latents from the prior")
    p.add_argument("--bars", type=int, default=None,
                   help=f"bars of free improvisation (default {Settings.bars})")
    p.add_argument("--continue", dest="continue_bars", type=int, default=None, metavar="N",
                   help="improvise N more bars past the end of the query")
    p.add_argument("--with-query", action="store_true", help="write the query and the improvisation as two tracks")
    p.add_argument("--fold", action="store_true", help="fold notes outside the model's range by octaves")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    _settings_args(p)

    p = sub.add_parser("train", help="train a model on a folder of MIDI files (needs the [train] extra)")
    p.add_argument("corpus", type=_path("a corpus folder"), help="folder of .mid files, or music21:bach")
    p.add_argument("--out", required=True, type=_path("a model folder"), help="model folder to write")
    _train_args(p)
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("models", help="list the installed models, or re-save model folders in the current format")
    p.add_argument("--json", action="store_true")
    p.add_argument("--upgrade", nargs="+", metavar="FOLDER", type=_path("a model folder"),
                   help="check these model folders and re-save their config.json in the current format")

    p = sub.add_parser("serve", help="run the OSC server that the Max for Live device talks to")
    p.add_argument("--host", default=None,
                   help="address to bind (default 127.0.0.1; others are reachable from the network)")
    p.add_argument("--port", type=int, default=None, help="UDP port (default 7400)")
    p.add_argument("--model", default=None, type=_path("a model name or folder"),
                   help="default model name or folder (default: pop)")
    p.add_argument("--notify-port", type=int, default=None, help="send /qbdi/ready to this local port once loaded")
    p.add_argument("--workers", type=int, default=None,
                   help=f"improvisation threads, 0 to {C.MAX_WORKERS} (default 2; 0: in the receive thread)")
    p.add_argument("--log-level", dest="serve_log_level", default=None, metavar="LEVEL",
                   help="DEBUG, INFO (one line per request), WARNING (default) or ERROR")
    p.add_argument("--exit-with-stdin", action="store_true",
                   help="stop when stdin closes (the Max launcher holds a pipe there: the server ends with it)")

    p = sub.add_parser("bench", help="measure round-trip latency and throughput against a real server")
    p.add_argument("--port", type=_int_in(0, 65535), default=0,
                   help="benchmark a running server on this port (default: start one)")
    p.add_argument("--model", default=None, type=_path("a model name or folder"))
    p.add_argument("--requests", type=_int_in(1, 1_000_000), default=200, help="requests per latency measurement")
    p.add_argument("--bars", default="1,8,32", help="query lengths in bars")
    p.add_argument("--clients", default="1,4,16", help="concurrent client counts for throughput")
    p.add_argument("--seconds", type=_float_in(0, 3600, lo_open=True), default=3.0,
                   help="duration of each throughput run")
    p.add_argument("--cold", metavar="CMD", default=None, type=_name("a server command"),
                   help="measure cold start to first reply of this server command (e.g. dist/qbdi-server/qbdi-server)")
    p.add_argument("--cold-only", action="store_true", help="with --cold: measure the cold start only")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("analyze", help="VMO analysis of MIDI files: IR vs threshold, IR over time, motifs")
    p.add_argument("files", nargs="+", type=_path("a MIDI file"))
    p.add_argument("--out", required=True, type=_path("a report folder"))
    p.add_argument("--model", default=None, type=_path("a model name or folder"),
                   help="model whose latents are analysed (default: pop)")
    p.add_argument("--no-latents", action="store_true", help="analyse the music surface only")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("sweep", help="improvise at several rates and measure how much harmony survives")
    p.add_argument("query", nargs="+", type=_path("a query MIDI file"),
                   help="query MIDI file(s); with several, the table averages over them")
    p.add_argument("--rates", default=SWEEP_RATES, help=f"comma-separated rates (default {SWEEP_RATES})")
    p.add_argument("--seeds", type=_int_in(1, C.MAX_SWEEP_SEEDS), default=5, help="seeds per rate, starting at --seed")
    p.add_argument("--out", required=True, type=_path("a report folder"))
    p.add_argument("--no-midi", action="store_true", help="do not write the improvisations")
    p.add_argument("--no-progress", action="store_true")
    _settings_args(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .config import LOG_LEVELS

    if str(args.log_level).upper() not in LOG_LEVELS:
        parser.error(f"unknown log level {args.log_level!r}; use DEBUG, INFO, WARNING or ERROR")
    level = getattr(logging, str(args.log_level).upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.captureWarnings(True)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(COMMANDS[args.command](args) or 0)
    except QbdiError as exc:
        print(f"qbdi: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:          # e.g. qbdi models | head -1: stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:           # the file system refused something no check above foresaw
        where = f" ({_one_line(str(exc.filename))})" if exc.filename else ""
        print(f"qbdi: error: {_one_line(exc.strerror or str(exc))}{where}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _one_line(text: str) -> str:
    """Every message the user gets is one line: control characters (a newline in a file name) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cmd_improvise(args) -> int:
    from .improvise import free_improvise, improvise_file
    from .midifile import beats_per_bar_of, encode_midi, signature_of
    from .models import load_model
    from .paths import STDIO, plan_output

    _check_improvise_options(args)
    settings = _settings_from(args)
    output = plan_output(args.output, force=args.force, keep=[args.query] if args.query not in (None, STDIO) else [])
    if args.free:
        result = free_improvise(load_model(settings.model), settings)
        tempo, signature, tracks = 120.0, signature_of(result.grid.beats_per_bar), [("improvisation", result.notes)]
    else:
        score, result = improvise_file(args.query, settings, fold=args.fold)
        bpb = result.grid.beats_per_bar
        tempo = score.tempo_bpm
        signature = score.time_signature if beats_per_bar_of(score.time_signature) == bpb else signature_of(bpb)
        tracks = [("improvisation", result.notes)]
        if args.with_query:
            tracks.insert(0, ("query", score.notes))
    for warning in result.warnings:
        log.warning(warning)
    output.write(encode_midi(tracks, tempo_bpm=tempo, time_signature=signature))
    summary = {"output": "-" if output.path is None else str(output.path), "notes": len(result.notes),
               "bars": result.grid.n_bars, "bits_per_frame": result.bits_per_frame,
               "settings": result.settings.to_dict(), "warnings": result.warnings,
               "time_signature": list(signature)}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {output}: {len(result.notes)} notes, {result.grid.n_bars} bars of {signature[0]}/{signature[1]}, "
              f"model {result.model}, rate {result.settings.rate_label}, seed {result.settings.seed}",
              file=sys.stderr if output.path is None else sys.stdout)
    return 0


def _check_improvise_options(args) -> None:
    """Options that mean nothing together are refused, not ignored."""
    if args.free == bool(args.query):
        raise QbdiError("give a query MIDI file, or --free --bars N for free improvisation (not both)")
    if args.free:
        for flag, given in (("--continue", args.continue_bars is not None), ("--with-query", args.with_query),
                            ("--fold", args.fold)):
            if given:
                raise QbdiError(f"{flag} works on a query; --free improvises without one (its length is --bars)")
    elif args.bars is not None:
        raise QbdiError("--bars sets the length of a free improvisation (--free); an improvisation on a query "
                        "keeps the query's length (add bars with --continue N)")
    if args.json and args.output == "-":
        raise QbdiError("--json prints on standard output, which -o - fills with the MIDI file; use one of them")


def cmd_train(args) -> int:
    from .config import MAX_MODEL_NAME as MAX_NAME
    from .models import plan_model_folder
    from .paths import shown

    plan_model_folder(args.out)          # before hours of training: a file, a full folder or no permission fail now
    name = args.name or Path(args.out).resolve().name
    if not 0 < len(name) <= MAX_NAME or not name.isprintable():
        raise QbdiError(f"the model name {name[:MAX_NAME]!r} (from the folder's name) must be 1 to {MAX_NAME} "
                        "printable characters; give one with --name")
    try:
        from .training.train import train
    except ImportError as exc:
        raise QbdiError(f"training needs PyTorch ({exc}); install it with: pip install 'qbdi-bridge[train]'") from None
    from .training.config import TrainConfig, cli_fields

    if args.select_queries:
        folder = Path(args.select_queries)
        if not folder.is_dir() or not any(p.suffix.lower() in (".mid", ".midi") for p in folder.rglob("*")):
            raise QbdiError(f"--select-queries {shown(folder)} is not a folder of .mid files; build one with "
                            "python -m tools.heldout --out DIR and give DIR/search")
    options = {f.name: getattr(args, f.name) for f in cli_fields()}
    cfg = TrainConfig(corpus=args.corpus, out=args.out, **{**options, "name": name})
    card = train(cfg, progress=not args.no_progress)
    if card:
        print(json.dumps(card, indent=2))
    return 0


def cmd_models(args) -> int:
    from .models import list_models, upgrade_model
    from .paths import shown

    if args.upgrade:
        for folder in args.upgrade:
            old, new = upgrade_model(folder)
            print(f"{shown(folder)}: format {old} -> {new}, config re-saved and sealed" if old != new
                  else f"{shown(folder)}: format {new}, config checked and sealed")
        return 0
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
    from .config import ServeConfig

    text = args.serve_log_level or args.log_level
    ServeConfig(host=args.host, port=args.port, model=args.model, notify_port=args.notify_port,
                workers=args.workers, log_level=text)       # validates every value, before anything starts
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads: see server.py
        os.environ.setdefault(name, "1")
    logging.getLogger().setLevel(getattr(logging, str(text).upper()))
    from .server import serve_from_args

    return serve_from_args(args)


def cmd_bench(args) -> int:
    from .bench import bench_from_args

    return bench_from_args(args)


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
    from .config import MAX_SEED

    settings = _settings_from(args)
    module = _analysis("sweep")
    for rate in module.parse_rates(args.rates):       # every rate is a valid setting, before any work
        settings.replace(rate=rate)
    if settings.seed + args.seeds - 1 > MAX_SEED:
        raise QbdiError(f"--seed {settings.seed} with --seeds {args.seeds} goes past the largest seed, {MAX_SEED}")
    return module.sweep_from_args(args, settings)


COMMANDS = {"improvise": cmd_improvise, "train": cmd_train, "models": cmd_models, "serve": cmd_serve,
            "bench": cmd_bench, "analyze": cmd_analyze, "sweep": cmd_sweep}


if __name__ == "__main__":
    sys.exit(main())
