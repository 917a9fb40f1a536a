# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi jam``: play along from any MIDI port, outside Live (docs/PLAYING.md).

Notes played into the input port are collected per bar (:class:`bridge.jam.player.BarCollector`) on
a clock (:mod:`bridge.jam.clock`: ``--bpm`` or the input's MIDI clock). Each bar closes half a step
(a 32nd note) before its bar line: a note struck later lands on the next downbeat anyway, so
the answer is back before the bar it is for begins. The engine is in process by default
(:class:`LocalEngine`) or a running ``qbdi serve`` (:class:`RemoteEngine`, ``--server``). The
answer plays during the next bar on the grid (:class:`bridge.jam.player.Player`); stop, a transport
stop and Ctrl-C end every note. Ports, clock, time and engine are all injectable: the tests run
the whole loop on a simulated clock with in-memory ports.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings, StreamSettings
from ..errors import QbdiError
from ..pianoroll import Note
from ..stream import NextBar, StreamImproviser
from .clock import TICKS_PER_BEAT, InternalClock, MidiClock
from .player import BarCollector, Player

log = logging.getLogger(__name__)

POLL_S = 0.001                              # how often ports are read between scheduled events
CLOSE_EARLY_TICKS = TICKS_PER_BEAT // 8     # half a sixteenth: the bar closes a 32nd before its line
CLOCK_MESSAGES = ("clock", "start", "stop", "continue", "songpos")


class LocalEngine:
    """The stream engine in this process. ``threaded``: bars are improvised in a thread of their
    own, so the loop keeps playing (thru notes, due events) meanwhile; else at once, in the loop
    (what simulated-time tests need)."""

    def __init__(self, model: Any, settings: Settings, stream: StreamSettings, threaded: bool = True) -> None:
        self.model, self.settings, self.stream = model, settings, stream
        self.engine = StreamImproviser(model, settings, stream)
        self._ready: list[NextBar] = []
        self._lock = threading.Lock()
        self._todo: queue.Queue[tuple[StreamImproviser, int, list] | None] | None = None
        self.last_ms = 0.0
        self.times_ms: list[float] = []          # every bar's improvisation time
        if threaded:
            self._todo = queue.Queue()
            threading.Thread(target=self._work, name="qbdi-jam-engine", daemon=True).start()

    def send(self, bar: int, notes: list) -> None:
        if self._todo is None:
            self._play(self.engine, bar, notes)
        else:
            self._todo.put((self.engine, bar, notes))

    def answers(self) -> list:
        with self._lock:
            out, self._ready = self._ready, []
        return out

    def restart(self) -> None:
        self.engine = StreamImproviser(self.model, self.settings, self.stream)
        with self._lock:
            self._ready = []

    def close(self) -> None:
        if self._todo is not None:
            self._todo.put(None)

    def _work(self) -> None:
        while (job := self._todo.get()) is not None:
            self._play(*job)

    def _play(self, engine: StreamImproviser, bar: int, notes: list) -> None:
        started = time.perf_counter()
        try:
            answer = engine.play(bar, notes)
        except QbdiError as exc:
            log.warning("bar %d: %s", bar, exc)
            return
        self.last_ms = 1000 * (time.perf_counter() - started)
        self.times_ms.append(self.last_ms)
        if answer is None or engine is not self.engine:     # skipped, or from before a restart
            return
        for warning in answer.warnings:
            log.warning(warning)
        with self._lock:
            self._ready.append(answer)


class RemoteEngine:
    """A running ``qbdi serve`` (bridge.stream_client.Stream); a stream the server lost is reopened."""

    def __init__(self, host: str, port: int, settings: Settings, stream: StreamSettings) -> None:
        from ..stream_client import Stream

        self.stream = Stream(settings, mode=stream.mode, window=stream.window, host=host, port=port)
        self.last_ms = 0.0

    def send(self, bar: int, notes: list) -> None:
        self.stream.send_bar(bar, notes)

    def answers(self) -> list:
        out = self.stream.poll(0.0)
        if out and out[-1].round_trip_s is not None:
            self.last_ms = 1000 * out[-1].round_trip_s
        errors, self.stream.errors = self.stream.errors, []
        for error in errors:
            log.warning("server: %s", error)
            if error.code == "unknown_stream":
                self.stream.open()
        for warning in self.stream.warnings:
            log.warning("server: %s", warning)
        self.stream.warnings = []
        return out

    def restart(self) -> None:
        self.stream.open()

    def close(self) -> None:
        self.stream.close()


@dataclass
class JamReport:
    """What a jam did: bars closed and answered, notes in and out, notes skipped for lateness."""

    bars: int = 0
    answered: int = 0
    played: int = 0
    sent: int = 0
    skipped: int = 0
    restarts: int = 0
    engine_ms: list[float] = field(default_factory=list)


class Jam:
    """The play-along loop. ``inport``/``outport`` follow mido's port shapes; ``clock`` an
    InternalClock (started here unless running) or a MidiClock (fed from ``inport``); ``engine``
    a LocalEngine or RemoteEngine; ``bars``: stop once the answer to that many bars has played."""

    def __init__(self, inport: Any, outport: Any, clock: InternalClock | MidiClock, engine: Any,
                 beats_per_bar: float = 4.0, channel: int = 0, thru: bool = True, bars: int | None = None,
                 now: Callable[[], float] = time.perf_counter, sleep: Callable[[float], None] = time.sleep,
                 status: Callable[[str], None] | None = None,
                 on_send: Callable[[int, Any], None] | None = None) -> None:
        ticks = beats_per_bar * TICKS_PER_BEAT
        if ticks != int(ticks) or int(ticks) % (TICKS_PER_BEAT // 4):
            raise QbdiError(f"beats per bar must be a whole number of sixteenths, got {beats_per_bar:g}")
        self.inport, self.clock, self.engine = inport, clock, engine
        self.beats_per_bar, self.bar_ticks = float(beats_per_bar), int(ticks)
        self.thru, self.limit = thru, bars
        self.now, self.sleep, self.status = now, sleep, status
        self.player = Player(outport, channel, on_send)
        self.collector = BarCollector()
        self.report = JamReport()
        self._next_close = 0                   # the next bar to close
        self._stopped = False
        self._last_status = -1

    def stop(self) -> None:
        """End the loop from another thread or a signal handler (it ends within POLL_S)."""
        self._stopped = True

    def run(self) -> JamReport:
        """Play until :meth:`stop`, the bar limit, or Ctrl-C; every note is off when it returns."""
        if isinstance(self.clock, InternalClock) and not self.clock.running:
            self.clock.start()
        try:
            while not self._stopped:
                self.step()
                self.sleep(self._wait())
        finally:
            self.player.all_off()
            self.engine.close()
            self.report.sent, self.report.skipped = self.player.sent, self.player.skipped
        return self.report

    def step(self) -> None:
        """One turn: read the input, close due bars, schedule answers, send due events."""
        for message in self.inport.iter_pending():
            self._on_message(message)
        if not self.clock.running:
            return
        tick = self.clock.tick()
        if self.limit is not None and tick >= (self.limit + 1) * self.bar_ticks:
            self.player.fire(tick)              # the last answer's note-offs, on time
            self._stopped = True                # run() ends anything still sounding
            return
        while tick >= (self._next_close + 1) * self.bar_ticks - CLOSE_EARLY_TICKS and (
                self.limit is None or self._next_close < self.limit):
            self._close(self._next_close)
            self._next_close += 1
        for answer in self.engine.answers():
            self.report.answered += 1
            self.player.schedule(answer.bar * self.bar_ticks, answer.notes, tick)
        self.player.fire(tick)
        self._show(tick)

    # --- plumbing -----------------------------------------------------------------------------
    def _on_message(self, message: Any) -> None:
        kind = message.type
        if kind in CLOCK_MESSAGES:
            before = self.clock.position()
            change = self.clock.feed(message)
            if change == "stop":
                self.player.all_off()
            elif change in ("start", "continue", "songpos"):
                self._relocate(before, change)
            return
        if kind in ("note_on", "note_off"):
            beat = self.clock.position() / TICKS_PER_BEAT
            if kind == "note_on":
                self.collector.note_on(message.channel, message.note, message.velocity, beat)
            else:
                self.collector.note_off(message.channel, message.note, beat)
        if self.thru:
            self.player.thru(message)

    def _relocate(self, before: float, change: str) -> None:
        """Start, or a jump: from bar 0, or from the bar the song position is in."""
        position = max(self.clock.position(), 0.0)
        bar = int(position // self.bar_ticks)
        if change == "start" or position < before or bar < self._next_close - 1:
            self.player.all_off()
            self.collector.clear()
            self.engine.restart()
            self.report.restarts += 1
            self._next_close = bar
        elif bar > self._next_close:
            self._next_close = bar

    def _close(self, bar: int) -> None:
        notes = self.collector.bar(bar, self.beats_per_bar)
        self.engine.send(bar, notes)
        self.report.bars += 1
        self.report.played = self.collector.played
        self.report.engine_ms.append(self.engine.last_ms)

    def _wait(self) -> float:
        """Seconds to sleep: to the next event or bar close, at most POLL_S (ports are polled;
        an in-memory port says when its next message is due)."""
        closing = self.limit is None or self._next_close < self.limit
        due = [self.player.next_tick(), (self._next_close + 1) * self.bar_ticks - CLOSE_EARLY_TICKS if closing
               else (self.limit + 1) * self.bar_ticks]
        times = [self.clock.time_of(t) for t in due if t is not None]
        times.append(getattr(self.inport, "next_time", lambda: None)())
        wake = min([t for t in times if t is not None], default=None)
        return POLL_S if wake is None else min(POLL_S, max(0.0, wake - self.now()))

    def _show(self, tick: int) -> None:
        if self.status is None or tick // TICKS_PER_BEAT == self._last_status:
            return
        self._last_status = tick // TICKS_PER_BEAT
        bar, beat = divmod(tick // TICKS_PER_BEAT, int(self.beats_per_bar) or 1)
        tempo = self.clock.bpm
        last = self.report.engine_ms[-1] if self.report.engine_ms else 0.0
        shown = f"{tempo:.1f}" if tempo else "--"
        self.status(f"bar {bar + 1}.{beat + 1}  {shown} BPM ({self.clock.source})  "
                    f"in {self.collector.played}  out {self.player.sent}  answer {last:.1f} ms  "
                    f"late {self.player.skipped}  sounding {self.player.sounding}")


# --- the command ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class JamOptions:
    """What ``qbdi jam`` does besides the engine's settings: ports, clock, answers, or a replay."""

    list_ports: bool = False               # list the MIDI ports and return
    input: str | None = None               # MIDI input port (a name or a unique part of one)
    output: str | None = None              # MIDI output port
    virtual: bool = False                  # virtual ports called 'qbdi jam' instead
    clock: str = "internal"                # internal (at ``bpm``) or midi (follow the input's clock)
    bpm: float = 120.0
    channel: int = 1                       # of the answers, 1-16
    thru: bool = True                      # pass the notes played through to the output
    bars: int | None = None                # stop after answering this many bars (None: until Ctrl-C)
    server: str | None = None              # [HOST:]PORT of a running qbdi serve (None: in this process)
    mode: str = "echo"                     # StreamSettings.mode
    window: int | None = None              # StreamSettings.window (None: its default)
    replay: str | None = None              # a MIDI file fed through the stream as if played
    output_file: str | None = None         # with replay: the MIDI file for the answers
    with_query: bool = False               # with replay: the performance as a track too
    force: bool = False                    # with replay: overwrite output_file


def jam(settings: Settings, options: JamOptions) -> int:
    """``qbdi jam``: list ports, replay a file, or play along live until Ctrl-C (or ``options.bars``)."""
    import signal
    import sys

    from threadpoolctl import threadpool_limits

    from .ports import open_ports, port_names

    if options.list_ports:
        inputs, outputs = port_names()
        print("MIDI inputs:  " + (", ".join(repr(n) for n in inputs) or "none"))
        print("MIDI outputs: " + (", ".join(repr(n) for n in outputs) or "none"))
        return 0
    stream = StreamSettings(mode=options.mode, **({} if options.window is None else {"window": options.window}))
    if not 1 <= options.channel <= 16:
        raise QbdiError(f"--channel must be from 1 to 16, got {options.channel}")
    if options.bars is not None and options.bars < 1:
        raise QbdiError(f"--bars must be 1 or more, got {options.bars}")
    if options.replay:
        return replay(settings, stream, options)
    clock = MidiClock() if options.clock == "midi" else InternalClock(options.bpm)
    inport, outport = open_ports(options.input, options.output, options.virtual)
    try:
        with threadpool_limits(1, user_api="blas"):     # as qbdi serve: BLAS threads spin against other work
            engine = _engine(options.server, settings, stream)
            tty = sys.stderr.isatty()
            jam = Jam(inport, outport, clock, engine, settings.beats_per_bar or 4.0, options.channel - 1,
                      thru=options.thru, bars=options.bars,
                      status=lambda line: print(("\r" if tty else "") + "qbdi jam: " + line + ("  " if tty else ""),
                                                end="" if tty else "\n", file=sys.stderr, flush=True))
            previous = {sig: signal.signal(sig, lambda signum, frame: jam.stop())
                        for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                report = jam.run()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
    finally:
        inport.close()
        outport.close()
    print(f"\nqbdi jam: {report.bars} bars played, {report.answered} answered, {report.played} notes in, "
          f"{report.sent} messages out, {report.skipped} late notes skipped; all notes off", file=sys.stderr)
    return 0


def _engine(server: str | None, settings: Settings, stream: StreamSettings):
    if server:
        host, _, port = str(server).rpartition(":")
        try:
            return RemoteEngine(host or "127.0.0.1", int(port), settings, stream)
        except ValueError:
            raise QbdiError(f"--server takes [HOST:]PORT, e.g. 127.0.0.1:7400; got {server!r}") from None
    from ..models import load_model

    return LocalEngine(load_model(settings.model), settings, stream)


def replay(settings: Settings, stream: StreamSettings, options: JamOptions) -> int:
    """``qbdi jam --replay FILE --write OUT``: a recorded performance through the stream, bar by bar,
    as if played live; OUT holds the answers where they would sound (one bar later in echo)."""
    from pathlib import Path

    from ..midifile import read_midi, write_midi
    from ..stream import merge_bars, split_bars

    out = Path(options.output_file or "")
    if not options.output_file:
        raise QbdiError("--replay needs --write OUT.mid for the answers")
    if out.resolve() == Path(options.replay).resolve():
        raise QbdiError(f"the output {out} is the performance; choose another -o so the performance is kept")
    if out.exists() and not options.force:
        raise QbdiError(f"{out} exists; choose another -o or add --force to overwrite it")
    if not out.parent.is_dir():
        raise QbdiError(f"folder {out.parent} does not exist; create it or choose another -o")
    score = read_midi(options.replay)
    bpb = settings.beats_per_bar or score.beats_per_bar
    settings = settings.replace(beats_per_bar=bpb)
    bars = split_bars(score.notes, bpb)
    if options.bars:
        bars = bars[:options.bars]
    engine = _engine(options.server, settings, stream)
    answers: dict[int, list] = {}
    try:
        for t, notes in enumerate(bars):
            engine.send(t, notes)
            deadline = time.monotonic() + 10.0
            while t + 1 not in answers and time.monotonic() < deadline:
                answers.update((a.bar, a.notes) for a in engine.answers())
                if t + 1 not in answers:
                    time.sleep(0.0005)
            if t + 1 not in answers:
                raise QbdiError(f"no answer for bar {t} within 10 s; is the server still running?")
    finally:
        engine.close()
    last = max(answers, default=0)
    notes = merge_bars([answers.get(b, []) for b in range(last + 1)], bpb)
    tracks = [("answers", notes)]
    if options.with_query:
        tracks.insert(0, ("performance", score.notes))
    signature = score.time_signature if bpb == score.beats_per_bar else (int(bpb * 2), 8)
    write_midi(out, tracks, tempo_bpm=score.tempo_bpm, time_signature=signature)
    print(f"wrote {out}: {len(notes)} notes answering {len(bars)} bars ({stream.mode}, rate {settings.rate_label}, "
          f"seed {settings.seed})")
    return 0


# --- the jitter benchmark (qbdi bench --jam) ------------------------------------------------------
def measure_jitter(performance: list[Note], settings: Mapping[str, Any], bars: int = 16,
                   bpm: float = 120.0) -> dict[str, Any]:
    """Play ``bars`` bars of ``performance`` (notes in beats, 4 to the bar; ``bridge.bench`` passes
    its realistic query) into a jam in real time (memory ports, the in-process engine with
    ``settings``, a dict of Settings fields, the internal clock) and time every message sent
    against its ideal time on the grid."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from ..models import load_model
    from .ports import MemoryInput, MemoryOutput, _mido

    mido = _mido()

    settings = dict(settings)
    engine_settings = Settings.from_dict(settings)
    engine = LocalEngine(load_model(engine_settings.model), engine_settings, StreamSettings())
    clock = InternalClock(bpm)
    inport, outport, sent = MemoryInput(), MemoryOutput(), []
    jam = Jam(inport, outport, clock, engine, 4.0, thru=False, bars=bars,
              on_send=lambda tick, message: sent.append((tick, time.perf_counter())))
    clock.start(at_tick=-TICKS_PER_BEAT)                       # a beat of lead-in
    for n in performance:
        inport.feed(mido.Message("note_on", note=n.pitch, velocity=n.velocity), clock.time_of(n.start * TICKS_PER_BEAT))
        inport.feed(mido.Message("note_off", note=n.pitch), clock.time_of(n.end * TICKS_PER_BEAT))
    with threadpool_limits(1, user_api="blas"):
        report = jam.run()
    late = np.array([at - clock.time_of(tick) for tick, at in sent]) * 1000.0
    engine_ms = np.array(engine.times_ms or [0.0])
    return {"bpm": bpm, "bars": bars, "events": len(late), "skipped": report.skipped,
            "sounding_after": jam.player.sounding,
            "late_p50_ms": round(float(np.percentile(late, 50)), 3),
            "late_p99_ms": round(float(np.percentile(late, 99)), 3),
            "late_max_ms": round(float(late.max()), 3), "early": int((late < 0).sum()),
            "engine_p50_ms": round(float(np.percentile(engine_ms, 50)), 3),
            "engine_p99_ms": round(float(np.percentile(engine_ms, 99)), 3),
            "budget_ms": round(60_000.0 / bpm / 8, 1),
            "settings": {k: v for k, v in settings.items() if k != "model"}}


def format_jitter(report: dict[str, Any]) -> str:
    return (f"qbdi jam timing: {report['bars']} bars at {report['bpm']:g} BPM, {report['events']} messages, "
            f"settings " + " ".join(f"{k}={v}" for k, v in report["settings"].items()) + "\n"
            f"  late against the grid   p50 {report['late_p50_ms']:.3f} ms  p99 {report['late_p99_ms']:.3f} ms  "
            f"max {report['late_max_ms']:.3f} ms  (early: {report['early']})\n"
            f"  engine per bar          p50 {report['engine_p50_ms']:.2f} ms  p99 {report['engine_p99_ms']:.2f} ms  "
            f"(budget: half a step, {report['budget_ms']:g} ms)\n"
            f"  late notes skipped {report['skipped']}, notes left sounding {report['sounding_after']}")
