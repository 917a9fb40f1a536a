# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi``: the command line. argparse lives here only; heavy imports wait until after parsing.

Every user mistake ends as one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from pathlib import Path

from . import __version__
from . import options as opt
from .errors import QbdiError
from .options import EXIT_USAGE

log = logging.getLogger("bridge")
NO_PROGRESS = "no progress bars (they are drawn only when stderr is a terminal)"
FREE_BPM = 120.0            # the tempo of a free improvisation's file unless --bpm says otherwise

def build_parser() -> argparse.ArgumentParser:
    from . import config as C
    from .config import SWEEP_RATES, Settings

    parser = opt.Parser(prog="qbdi",
                     description="Query-Based Deep Improvisation: improvise on MIDI with a rate-limited VAE.")
    parser.add_argument("--version", action="version", version=f"qbdi {__version__}")
    parser.add_argument("--log-level", default=None,
                        help="DEBUG, INFO, WARNING (default) or ERROR; given, log lines carry a time and the logger "
                             "(otherwise warnings read 'qbdi: warning: ...')")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=opt.Parser)

    p = sub.add_parser("improvise", help="improvise on a MIDI file (or freely) and write a MIDI file")
    p.add_argument("query", nargs="?", type=opt.path("a query MIDI file"), help="query MIDI file ('-': standard input)")
    p.add_argument("-o", "--output", required=True, type=opt.path("an output file"),
                   help="output MIDI file ('-': standard output)")
    p.add_argument("--free", action="store_true", help="free improvisation: no query, latents from the prior")
    p.add_argument("--bars", type=int, default=None,
                   help=f"bars of free improvisation (default {Settings.bars})")
    p.add_argument("--bpm", type=opt.float_in(0, 1000, lo_open=True), default=None,
                   help="with --free: the tempo written to the file (default 120); a query's file keeps its tempo")
    p.add_argument("--continue", dest="continue_bars", type=int, default=None, metavar="N",
                   help="add N bars past the end of the query: the file holds the improvisation over the whole "
                        "query and then the N predicted bars (the device's Continue writes the same, in one clip)")
    p.add_argument("--with-query", action="store_true", help="write the query and the improvisation as two tracks")
    p.add_argument("--fold", action="store_true", help="fold notes outside the model's range by octaves")
    p.add_argument("--force", action="store_true", help="overwrite the output file if it exists")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    opt.settings_args(p)

    p = sub.add_parser("interpolate", help="morph between two MIDI clips: N improvisations that move from A to B")
    p.add_argument("a", type=opt.path("clip A, a MIDI file"), help="the first clip (step 1)")
    p.add_argument("b", type=opt.path("clip B, a MIDI file"), help="the last clip (step N)")
    p.add_argument("--steps", type=opt.int_in(C.MIN_INTERPOLATE_STEPS, C.MAX_INTERPOLATE_STEPS), default=5,
                   help=f"clips from A to B, both included, {C.MIN_INTERPOLATE_STEPS}-{C.MAX_INTERPOLATE_STEPS} "
                        "(default 5)")
    p.add_argument("-o", "--output", required=True, type=opt.path("an output file or folder"),
                   help="output MIDI file with the steps one after another ('-': standard output); with --split, "
                        "a folder for one file per step")
    p.add_argument("--split", action="store_true",
                   help="write one MIDI file per step (step01.mid ...) into the folder -o names")
    p.add_argument("--fold", action="store_true", help="fold notes outside the model's range by octaves")
    p.add_argument("--force", action="store_true", help="overwrite the output file (or the step files) if they exist")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    opt.settings_args(p)

    p = sub.add_parser("train", help="train a model on a folder of MIDI files (needs the [train] extra)")
    p.add_argument("corpus", type=opt.path("a corpus folder"), help="folder of .mid files, or music21:bach")
    p.add_argument("--out", required=True, type=opt.path("a model folder"), help="model folder to write")
    opt.train_args(p)
    p.add_argument("--no-progress", action="store_true", help=NO_PROGRESS)

    p = sub.add_parser("models", help="list the installed models, or re-save model folders in the current format")
    p.add_argument("--json", action="store_true",
                   help="print the list as JSON: per model its name, default flag, description, latent size, "
                        "max rate, corpus, bars, onset F1 and format version (a summary: the full data card is "
                        "the model folder's config.json)")
    p.add_argument("--upgrade", nargs="+", metavar="FOLDER", type=opt.path("a model folder"),
                   help="check these model folders and re-save their config.json in the current format")

    p = sub.add_parser("serve", help="run the OSC server that the Max for Live device talks to")
    p.add_argument("--host", default=None,
                   help="address to bind (default 127.0.0.1; others are reachable from the network)")
    p.add_argument("--port", type=int, default=None, help="UDP port (default 7400)")
    p.add_argument("--model", default=None, type=opt.path("a model name or folder"),
                   help="default model name or folder (default: pop)")
    p.add_argument("--notify-port", type=int, default=None, help="send /qbdi/ready to this local port once loaded")
    p.add_argument("--workers", type=int, default=None,
                   help=f"improvisation threads, 0 to {C.MAX_WORKERS} (default 2; 0: in the receive thread)")
    p.add_argument("--log-level", dest="serve_log_level", default=None, metavar="LEVEL",
                   help="DEBUG, INFO (one line per request), WARNING (default) or ERROR")
    p.add_argument("--exit-with-stdin", action="store_true",
                   help="stop when stdin closes (the Max launcher holds a pipe there: the server ends with it)")

    p = sub.add_parser("bench", help="measure round-trip latency and throughput against a real server")
    p.add_argument("--port", type=opt.int_in(0, 65535), default=0,
                   help="benchmark a running server on this port (default: start one)")
    p.add_argument("--model", default=None, type=opt.path("a model name or folder"),
                   help="model of the server it starts (default: pop)")
    p.add_argument("--requests", type=opt.int_in(1, 1_000_000), default=200, help="requests per latency measurement")
    p.add_argument("--bars", default="1,8,32", help="query lengths in bars")
    p.add_argument("--clients", default="1,4,16", help="concurrent client counts for throughput")
    p.add_argument("--seconds", type=opt.float_in(0, 3600, lo_open=True), default=3.0,
                   help="duration of each throughput run")
    p.add_argument("--cold", metavar="CMD", default=None, type=opt.text("a server command"),
                   help="measure cold start to first reply of this server command (e.g. dist/qbdi-server/qbdi-server)")
    p.add_argument("--cold-only", action="store_true", help="with --cold: measure the cold start only")
    p.add_argument("--stream-bars", type=int, default=300, metavar="N",
                   help="bars per play-along stream measurement (default 300; 0 skips them)")
    p.add_argument("--jam", action="store_true",
                   help="measure qbdi jam's output timing against the ideal grid instead (no server)")
    p.add_argument("--jam-bars", type=int, default=32, metavar="N", help="with --jam: bars to play (default 32)")
    p.add_argument("--bpm", type=float, default=120.0, help="with --jam: tempo (default 120)")
    p.add_argument("--json", action="store_true", help="print the measurements as JSON")

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
    opt.settings_args(p)

    p = sub.add_parser("analyze", help="VMO analysis of MIDI files: IR vs threshold, IR over time, motifs "
                                       "(needs the [analysis] extra)")
    p.add_argument("files", nargs="+", type=opt.path("a MIDI file"), help="MIDI files to analyse")
    p.add_argument("--out", required=True, type=opt.path("a report folder"),
                   help="folder for the report (index.html, analysis.json, figures); an existing report is "
                        "replaced only with --force")
    p.add_argument("--force", action="store_true", help="replace the report already in --out")
    p.add_argument("--model", default=None, type=opt.path("a model name or folder"),
                   help="model whose latents are analysed (default: pop)")
    p.add_argument("--no-latents", action="store_true", help="analyse the music surface only")
    p.add_argument("--no-progress", action="store_true", help=NO_PROGRESS)

    p = sub.add_parser("sweep", help="improvise at several rates and measure how much harmony survives "
                                     "(needs the [analysis] extra)")
    p.add_argument("query", nargs="+", type=opt.path("a query MIDI file"),
                   help="query MIDI file(s); with several, the table averages over them")
    p.add_argument("--rates", default=SWEEP_RATES, help=f"comma-separated rates (default {SWEEP_RATES})")
    p.add_argument("--seeds", type=opt.int_in(1, C.MAX_SWEEP_SEEDS), default=5,
                   help="seeds per rate, starting at --seed (default 5; with 1, the table has no spread)")
    p.add_argument("--out", required=True, type=opt.path("a report folder"),
                   help="folder for sweep.csv, sweep.json, sweep.png, frontier.png and midi/ (a sweep's own "
                        "folder is replaced)")
    p.add_argument("--no-midi", action="store_true", help="do not write the improvisations")
    p.add_argument("--no-progress", action="store_true", help=NO_PROGRESS)
    opt.settings_args(p, with_rate=False)      # the rates are --rates
    # hidden, and refused: without it argparse would read --rate as an abbreviation of --rates
    p.add_argument("--rate", dest="single_rate", default=None, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .config import LOG_LEVELS

    if args.log_level is not None and str(args.log_level).upper() not in LOG_LEVELS:
        parser.error(f"unknown log level {args.log_level!r}; use DEBUG, INFO, WARNING or ERROR")
    level = getattr(logging, str(args.log_level or "WARNING").upper())
    # a server's log is read later, next to other lines: times and loggers; a command's user reads
    # its warnings now, in the form its errors take
    plain = args.log_level is None and args.command != "serve"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PlainFormatter(PLAIN_FORMAT) if plain else logging.Formatter(TIMED_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    logging.captureWarnings(True)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    if getattr(args, "no_progress", None) is False and not sys.stderr.isatty():
        args.no_progress = True      # a bar is redrawn with \r: only a terminal shows it as one line
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


PLAIN_FORMAT = "qbdi: %(levelname)s: %(message)s"
TIMED_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _PlainFormatter(logging.Formatter):
    """``qbdi: warning: ...``, as errors read ``qbdi: error: ...``."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.levelname = record.levelname.lower()
        return _one_line(super().format(record))


def _one_line(text: str) -> str:
    """Every message the user gets is one line: control characters (a newline in a file name) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cmd_improvise(args) -> int:
    from .improvise import free_improvise, improvise_file
    from .midifile import beats_per_bar_of, encode_midi, signature_of
    from .models import load_model
    from .paths import STDIO, plan_output

    _check_improvise_options(args)
    settings = opt.settings_from(args)
    output = plan_output(args.output, force=args.force, keep=[args.query] if args.query not in (None, STDIO) else [])
    if args.free:
        result = free_improvise(load_model(settings.model), settings)
        tempo = FREE_BPM if args.bpm is None else args.bpm
        signature, tracks = signature_of(result.grid.beats_per_bar), [("improvisation", result.notes)]
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
    meters = [] if args.free or not result.sections else score.meters
    length = result.grid.length_beats                    # whole bars, even where the last ones are silent
    if result.sections:
        start, bpb, bars = result.sections[-1]
        length = start + bpb * bars
    output.write(encode_midi(tracks, tempo_bpm=tempo, time_signature=signature, meters=meters, length_beats=length))
    # what it kept of the query: the server's /qbdi/result figures and `qbdi sweep`'s (None when undefined)
    measured = {} if args.free else kept_figures(score.notes, result, score.length_beats)
    summary = {"output": "-" if output.path is None else str(output.path), "notes": len(result.notes),
               "bars": result.grid.n_bars, "bits_per_frame": result.bits_per_frame,
               "settings": result.settings.to_dict(), "warnings": result.warnings,
               "time_signature": list(signature), "retained": measured.get("retained"), "copy": measured.get("copy")}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"wrote {output}: {len(result.notes)} notes, {result.grid.n_bars} bars of {signature[0]}/{signature[1]}, "
              f"model {result.model}, rate {result.settings.rate_label}, seed {result.settings.seed}"
              + kept_text(measured), file=sys.stderr if output.path is None else sys.stdout)
    return 0


def cmd_interpolate(args) -> int:
    from .folders import plan_folder
    from .interpolate import in_sequence, interpolate_files
    from .midifile import beats_per_bar_of, encode_midi, signature_of
    from .paths import STDIO, plan_output

    if args.json and args.output == STDIO:
        raise QbdiError("--json prints on standard output, which -o - fills with the MIDI file; use one of them")
    settings = opt.settings_from(args)
    inputs = [p for p in (args.a, args.b) if p != STDIO]
    if args.split:
        if args.output == STDIO:
            raise QbdiError("--split writes a folder of files; give -o a folder, not standard output")
        def owned(folder: Path) -> bool:    # a previous morph's step files, or anything with --force
            return args.force or all(e.name.startswith("step") and e.suffix == ".mid" for e in folder.iterdir())

        target = plan_folder(args.output, "morph folder", owned=owned)
        existing = [] if args.force or not target.exists else sorted(target.path.glob("step*.mid"))
        if existing:
            raise QbdiError(f"{existing[0]} exists; add --force to replace the step files, or choose another -o")
    else:
        target = plan_output(args.output, force=args.force, keep=inputs)
    score, _, morph = interpolate_files(args.a, args.b, args.steps, settings, fold=args.fold)
    for warning in morph.warnings:
        log.warning(warning)
    bpb = morph.grid.beats_per_bar
    signature = score.time_signature if beats_per_bar_of(score.time_signature) == bpb else signature_of(bpb)
    width = len(str(morph.steps))
    if args.split:
        with target.staged() as folder:
            for k, imp in enumerate(morph.improvisations, 1):
                (folder / f"step{k:0{width}d}.mid").write_bytes(
                    encode_midi([(f"step {k} of {morph.steps}", imp.notes)], score.tempo_bpm, signature,
                                length_beats=morph.grid.length_beats))
    else:
        target.write(encode_midi([("morph", in_sequence(morph))], score.tempo_bpm, signature,
                                 length_beats=morph.steps * morph.grid.length_beats))
    first = morph.improvisations[0]
    summary = {"output": "-" if getattr(target, "path", None) is None else str(target.path), "split": args.split,
               "steps": morph.steps, "bars_per_step": morph.grid.n_bars, "bars_a": morph.bars_a,
               "bars_b": morph.bars_b, "notes": [len(i.notes) for i in morph.improvisations],
               "bits_per_frame": first.bits_per_frame, "settings": first.settings.to_dict(),
               "warnings": morph.warnings, "time_signature": list(signature)}
    if args.json:
        print(json.dumps(summary))
    else:
        where = f"{target}/step{1:0{width}d}.mid ..." if args.split else str(target)
        print(f"wrote {where}: {morph.steps} steps of {morph.grid.n_bars} bars of {signature[0]}/{signature[1]} "
              f"({sum(summary['notes'])} notes), model {first.model}, rate {first.settings.rate_label}, "
              f"seed {first.settings.seed}", file=sys.stderr if args.output == STDIO else sys.stdout)
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
    elif args.bpm is not None:
        raise QbdiError("--bpm sets the tempo of a free improvisation (--free); an improvisation on a query keeps "
                        "the query file's tempo")
    elif args.bars is not None:
        raise QbdiError("--bars sets the length of a free improvisation (--free); an improvisation on a query "
                        "keeps the query's length (add bars with --continue N)")
    if args.json and args.output == "-":
        raise QbdiError("--json prints on standard output, which -o - fills with the MIDI file; use one of them")


def kept_figures(query, result, length_beats: float | None) -> dict[str, float]:
    """Retained harmony and copy of ``result`` against ``query`` (bridge.measures.metrics.kept), the
    finite ones, rounded as /qbdi/result sends them."""
    from .measures.metrics import kept

    grid = result.grid
    k = kept(query, result.notes, grid.beats_per_bar, length_beats, int(grid.representation.steps_per_beat))
    return {key: round(value, 4) for key, value in (("retained", k.retained), ("copy", k.copy)) if math.isfinite(value)}


def kept_text(measured: dict[str, float]) -> str:
    """``", harmony 82% · notes 7%"`` (what the device's status line shows), or "" without figures."""
    parts = []
    if "retained" in measured:
        parts.append(f"harmony {round(100 * measured['retained'])}%")
    if "copy" in measured:
        parts.append(f"notes {round(100 * measured['copy'])}%")
    return (", " + " · ".join(parts)) if parts else ""


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
    card = train(cfg, progress=not args.no_progress, information_rate=_vmo_information_rate())
    if card:
        print(json.dumps(card, indent=2))
    return 0


def _vmo_information_rate():
    """The VMO's information rate of a latent sequence (bits), for the data card; None without the
    [analysis] extra. Training itself never imports the analysis layer."""
    try:
        from .analysis.oracle import analyze
    except ImportError:
        return None
    return lambda latents: analyze(latents, metric="cosine").ir_total


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

    text = args.serve_log_level or args.log_level or "WARNING"
    ServeConfig(host=args.host, port=args.port, model=args.model, notify_port=args.notify_port,
                workers=args.workers, log_level=text)       # validates every value, before anything starts
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads: see server.py
        os.environ.setdefault(name, "1")
    logging.getLogger().setLevel(getattr(logging, str(text).upper()))
    from . import protocol as P
    from .serve.server import DEFAULT_WORKERS, serve

    return serve(host=args.host or P.DEFAULT_HOST, port=P.DEFAULT_PORT if args.port is None else args.port,
                 model=args.model, notify_port=args.notify_port,
                 workers=DEFAULT_WORKERS if args.workers is None else args.workers,
                 exit_with_stdin=args.exit_with_stdin)


def cmd_bench(args) -> int:
    from .bench import bench, int_list

    return bench(port=args.port, model=args.model, requests=args.requests, bars=int_list(args.bars, "--bars"),
                 clients=int_list(args.clients, "--clients"), seconds=args.seconds, cold=args.cold,
                 cold_only=args.cold_only, stream_bars=args.stream_bars, jam=args.jam, jam_bars=args.jam_bars,
                 bpm=args.bpm, as_json=args.json)


def cmd_jam(args) -> int:
    import os

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy loads, as serve
        os.environ.setdefault(name, "1")
    from .jam.jam import JamOptions, jam

    settings = opt.settings_from(args)
    options = JamOptions(list_ports=args.list_ports, input=args.input, output=args.output, virtual=args.virtual,
                         clock=args.clock, bpm=args.bpm, channel=args.channel, thru=not args.mute,
                         bars=args.stop_after, server=args.server, mode=args.mode, window=args.window,
                         replay=args.replay, output_file=args.output_file, with_query=args.with_query,
                         force=args.force)
    return jam(settings, options)


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
    return _analysis("report").analyze(args.files, args.out, model=args.model, latents=not args.no_latents,
                                       progress=not args.no_progress, force=args.force)


def cmd_sweep(args) -> int:
    from .config import MAX_SEED

    if args.single_rate is not None:
        raise QbdiError(f"sweep improvises at every rate of --rates; give --rates {args.single_rate} (or a list, "
                        "e.g. --rates full,256,64,0) instead of --rate")
    settings = opt.settings_from(args)
    module = _analysis("sweep")
    for rate in module.parse_rates(args.rates):       # every rate is a valid setting, before any work
        settings.replace(rate=rate)
    if settings.seed + args.seeds - 1 > MAX_SEED:
        raise QbdiError(f"--seed {settings.seed} with --seeds {args.seeds} goes past the largest seed, {MAX_SEED}")
    return module.sweep(args.query, args.rates, args.seeds, args.out, settings=settings,
                        progress=not args.no_progress, write_midi=not args.no_midi)


COMMANDS = {"improvise": cmd_improvise, "interpolate": cmd_interpolate, "train": cmd_train, "models": cmd_models,
            "serve": cmd_serve, "bench": cmd_bench, "jam": cmd_jam, "analyze": cmd_analyze, "sweep": cmd_sweep}


if __name__ == "__main__":
    sys.exit(main())
