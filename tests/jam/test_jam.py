# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""``qbdi jam`` on a simulated clock with in-memory ports (mido's shapes): the whole loop, no
MIDI hardware. The stand-ins are the MIDI ports and the passing of time; the engine is real."""

import math
import subprocess
import sys

import mido
import pytest
from builders import midi_file, performance, tiny_model

from bridge.config import Settings, StreamSettings
from bridge.jam.clock import TICKS_PER_BEAT, InternalClock, MidiClock
from bridge.jam.jam import Jam, LocalEngine, RemoteEngine
from bridge.jam.player import BarCollector, Player
from bridge.jam.ports import MemoryInput, MemoryOutput, match
from bridge.midifile import read_midi
from bridge.models import load_model
from bridge.pianoroll import Note
from bridge.stream import StreamImproviser, merge_bars, split_bars

PY = [sys.executable, "-m", "bridge"]


class FakeTime:
    """Simulated time: ``sleep`` moves the clock on at once."""

    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t = max(self.t + seconds, math.nextafter(self.t, math.inf))     # always on, if only a hair


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(tiny_model(tmp_path_factory.mktemp("m") / "tiny", predictor=8, sparse=True))


def grid_performance(bars, seed=0):
    """Notes on the 16th grid (none in the last 32nd before a bar line: live, those land in the next bar)."""
    return [Note(n.pitch, round(n.start * 4) / 4, max(0.25, round(n.duration * 4) / 4), n.velocity)
            for n in performance(bars, seed=seed)]


def feed(inport, clock, notes, channel=0):
    for n in notes:
        inport.feed(mido.Message("note_on", channel=channel, note=n.pitch, velocity=n.velocity),
                    clock.time_of(n.start * TICKS_PER_BEAT))
        inport.feed(mido.Message("note_off", channel=channel, note=n.pitch), clock.time_of(n.end * TICKS_PER_BEAT))


def played_notes(sent, clock, channel=0, grid=False):
    """Output note messages -> notes in beats (pairs of note-on and note-off per pitch);
    ``grid``: times rounded to the sixteenth (a real-time run is a little late)."""
    on, out = {}, []
    for at, m in sent:
        if m.type not in ("note_on", "note_off") or m.channel != channel:
            continue
        beat = clock.position(at) / TICKS_PER_BEAT
        beat = round(beat * 4) / 4 if grid else round(beat, 6)
        if m.type == "note_on" and m.velocity > 0:
            assert m.note not in on, f"pitch {m.note} struck again while sounding"
            on[m.note] = (beat, m.velocity)
        else:
            start, velocity = on.pop(m.note)
            out.append(Note(m.note, start, beat - start, velocity))
    assert not on, f"notes left sounding: {on}"
    return sorted(out, key=lambda n: (n.start, n.pitch))


def on_grid(ticks):
    sixteenths = ticks / (TICKS_PER_BEAT // 4)
    return abs(sixteenths - round(sixteenths)) < 1e-6


def key(notes):
    return [(n.pitch, n.start, n.duration, n.velocity) for n in notes]


def run_jam(model, notes, bars, settings=None, stream=None, bpm=120.0, **options):
    settings, stream = settings or Settings(), stream or StreamSettings()
    fake = FakeTime()
    clock = InternalClock(bpm, now=fake.now)
    inport, outport = MemoryInput(now=fake.now), MemoryOutput(now=fake.now)
    clock.start()
    feed(inport, clock, notes)
    make = options.pop("make_engine", None)
    engine = make(clock) if make else LocalEngine(model, settings, stream, threaded=False)
    jam = Jam(inport, outport, clock, engine, settings.beats_per_bar or 4.0, bars=bars, now=fake.now,
              sleep=fake.sleep, thru=options.pop("thru", False), **options)
    return jam, jam.run(), outport, clock


# --- the loop ---------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["echo", "ahead"])
def test_the_answers_play_one_bar_later_on_the_grid_as_the_stream_gives_them(model, mode):
    played = grid_performance(8, seed=3)
    settings = Settings(rate=64, seed=4, threshold=0.3)
    jam, report, outport, clock = run_jam(model, played, 8, settings, StreamSettings(mode=mode))
    assert report.bars >= 8 and report.answered >= 8 and report.skipped == 0
    engine = StreamImproviser(model, settings, StreamSettings(mode=mode))
    expected = merge_bars([[]] + [engine.play(t, b).notes for t, b in enumerate(split_bars(played, 4.0, 8))], 4.0)
    assert key(played_notes(outport.sent, clock)) == key(expected)
    for at, m in outport.sent:                         # every note message exactly on a sixteenth
        if m.type in ("note_on", "note_off"):
            assert on_grid(clock.position(at))
    assert outport.sent[-1][1].type == "control_change" and outport.sent[-1][1].control == 123


def test_thru_passes_the_notes_played_at_once_and_mute_does_not(model):
    played = grid_performance(2)
    _, _, thru_out, clock = run_jam(model, played, 2, thru=True, channel=1)
    thru = [(round(clock.position(at) / TICKS_PER_BEAT, 6), m.note) for at, m in thru_out.sent
            if m.type == "note_on" and m.channel == 0]
    assert thru == sorted((n.start, n.pitch) for n in played)
    _, _, muted, _ = run_jam(model, played, 2, thru=False, channel=1)
    assert not [m for _, m in muted.sent if m.type == "note_on" and m.channel == 0]
    played_notes(thru_out.sent, clock, channel=1)      # the answers on their channel, none left on


def test_stopping_in_the_middle_of_notes_leaves_none_sounding(model):
    fake = FakeTime()
    clock = InternalClock(140, now=fake.now)
    inport, outport = MemoryInput(now=fake.now), MemoryOutput(now=fake.now)
    clock.start()
    feed(inport, clock, [Note(60, 0, 40, 100), Note(64, 0, 40, 100)])     # held far past the stop
    jam = Jam(inport, outport, clock, LocalEngine(model, Settings(threshold=0.1), StreamSettings(), threaded=False),
              now=fake.now, sleep=fake.sleep, thru=True)
    stop_at = clock.time_of(2.5 * 4 * TICKS_PER_BEAT)

    def sleep(seconds):
        fake.sleep(seconds)
        if fake.now() >= stop_at:
            jam.stop()                                # Ctrl-C, mid-bar

    jam.sleep = sleep
    jam.run()
    sounding = {}
    for _, m in outport.sent:
        if m.type in ("note_on", "note_off"):
            k = (m.channel, m.note)
            sounding[k] = sounding.get(k, 0) + (1 if m.type == "note_on" and m.velocity else -1)
    assert sounding and all(v == 0 for v in sounding.values()), "every note-on got its note-off"
    assert jam.player.sounding == 0 and outport.sent[-1][1].control == 123


def test_a_late_answer_is_not_played_off_the_grid(model):
    class Late(LocalEngine):           # hands each answer over only once its bar has begun
        def answers(self):
            self.held = getattr(self, "held", []) + super().answers()
            ready = [a for a in self.held if a.bar * 4 * TICKS_PER_BEAT + 12 <= self.clock.tick()]
            self.held = [a for a in self.held if a not in ready]
            return ready

    def make(clock):
        engine = Late(model, Settings(threshold=0.2), StreamSettings(), threaded=False)
        engine.clock = clock
        return engine

    _, report, outport, clock = run_jam(model, grid_performance(4), 4, make_engine=make)
    assert report.skipped > 0 and report.answered >= 3
    for at, m in outport.sent:
        if m.type in ("note_on", "note_off"):
            assert on_grid(clock.position(at))
    played_notes(outport.sent, clock)


def test_the_threaded_engine_keeps_up_in_real_time(model):
    clock = InternalClock(120)                          # a 32nd note, the budget, is 62 ms
    inport, outport = MemoryInput(), MemoryOutput()
    clock.start(at_tick=-TICKS_PER_BEAT)
    feed(inport, clock, grid_performance(2))
    jam = Jam(inport, outport, clock, LocalEngine(model, Settings(rate=64), StreamSettings()), bars=2, thru=False)
    report = jam.run()
    assert report.answered == 2 and report.skipped == 0 and jam.player.sounding == 0
    assert key(played_notes(outport.sent, clock, grid=True))


# --- MIDI clock ---------------------------------------------------------------------------------
def clock_messages(inport, start_at, ticks, bpm, first_tick=0):
    seconds = 60.0 / (bpm * TICKS_PER_BEAT)
    for i in range(ticks):
        inport.feed(mido.Message("clock"), start_at + (first_tick + i) * seconds)


def test_following_midi_clock_start_stop_continue_and_song_position(model):
    fake = FakeTime()
    clock = MidiClock(now=fake.now)
    inport, outport = MemoryInput(now=fake.now), MemoryOutput(now=fake.now)
    bpm, t0 = 100.0, fake.t + 0.5
    tick_s = 60.0 / (bpm * TICKS_PER_BEAT)
    inport.feed(mido.Message("start"), t0 - 0.01)
    clock_messages(inport, t0, 3 * 96 + 40, bpm)                 # three bars and a bit
    for n in grid_performance(3):
        inport.feed(mido.Message("note_on", note=n.pitch, velocity=n.velocity), t0 + n.start * 24 * tick_s + 1e-4)
        inport.feed(mido.Message("note_off", note=n.pitch), t0 + n.end * 24 * tick_s + 1e-4)
    stop_at = t0 + (3 * 96 + 40) * tick_s
    inport.feed(mido.Message("stop"), stop_at)
    inport.feed(mido.Message("songpos", pos=0), stop_at + 0.5)   # back to the start
    inport.feed(mido.Message("continue"), stop_at + 0.6)
    clock_messages(inport, stop_at + 0.61, 96 * 2 + 10, bpm)
    engine = LocalEngine(model, Settings(threshold=0.2), StreamSettings(), threaded=False)
    jam = Jam(inport, outport, clock, engine, now=fake.now, sleep=fake.sleep, thru=False)
    end = stop_at + 0.61 + (96 * 2 + 10) * tick_s

    def sleep(seconds):
        fake.sleep(seconds)
        if fake.now() > end:
            jam.stop()

    jam.sleep = sleep
    stops = []
    real_all_off = jam.player.all_off
    jam.player.all_off = lambda: (stops.append(fake.now()), real_all_off())[1]
    jam.run()
    assert jam.report.restarts >= 2, "the start, then the jump back"
    assert any(abs(t - stop_at) < 0.01 for t in stops), "notes off at the transport's stop"
    assert clock.bpm == pytest.approx(bpm, rel=1e-6)
    between = [m for at, m in outport.sent if stop_at + 0.01 < at < stop_at + 0.6 and m.type == "note_on"]
    assert not between, "nothing plays while the transport is stopped"
    on = sum(1 for _, m in outport.sent if m.type == "note_on")
    off = sum(1 for _, m in outport.sent if m.type == "note_off")
    assert on and off >= on


# --- the parts ------------------------------------------------------------------------------------
def test_the_collector_sends_held_notes_with_negative_starts():
    c = BarCollector()
    c.note_on(0, 48, 70, 2.0)
    c.note_on(0, 60, 90, 3.95)              # struck just before the bar line
    assert [(n.pitch, n.start, n.duration) for n in c.bar(0, 4.0)] == [(48, 2.0, 2.0), (60, 3.95, pytest.approx(0.05))]
    c.note_off(0, 60, 4.5)
    c.note_on(0, 60, 80, 5.0)               # struck again
    c.note_off(0, 48, 6.0)
    bar1 = sorted((n.pitch, round(n.start, 6), round(n.duration, 6), n.velocity) for n in c.bar(1, 4.0))
    assert bar1 == [(48, -2.0, 4.0, 70), (60, -0.05, 0.55, 90), (60, 1.0, 3.0, 80)]


def test_the_player_ties_a_continued_note_and_counts_shared_pitches():
    out = MemoryOutput(now=lambda: 0.0)
    p = Player(out, channel=0)
    p.schedule(96, [Note(60, 2.0, 2.0, 90), Note(64, 0.0, 4.0, 80)], now_tick=90)
    p.fire(96 * 2 - 1)
    p.schedule(192, [Note(60, -2.0, 3.0, 90), Note(64, 0.0, 1.0, 70)], now_tick=191)   # 60 goes on, 64 struck again
    p.fire(192 + 200)
    notes = [(m.type, m.note) for _, m in out.sent]
    assert notes.count(("note_on", 60)) == 1 and notes.count(("note_on", 64)) == 2
    assert p.sounding == 0
    p.thru(mido.Message("note_on", note=67, velocity=100))
    p.schedule(400, [Note(67, 0.0, 1.0, 90)], now_tick=399)
    p.fire(400 + 24)                                      # the answer's 67 ends; the held one must not be cut
    assert ("note_off", 67) not in [(m.type, m.note) for _, m in out.sent[-2:]]
    p.thru(mido.Message("note_off", note=67))
    assert out.sent[-1][1].type == "note_off" and p.sounding == 0


def test_port_names_match_exactly_or_by_a_unique_part():
    names = ["IAC Driver Bus 1", "Keystation 49 MIDI 1", "Keystation 49 MIDI 2"]
    assert match("iac", names, "input") == "IAC Driver Bus 1"
    with pytest.raises(Exception, match="several"):
        match("Keystation", names, "input")
    with pytest.raises(Exception, match="no MIDI input named 'Nord'.*--virtual"):
        match("Nord", names, "input")


# --- through a server, and from the command line ---------------------------------------------------
def test_the_jam_on_a_running_server_plays_what_the_local_engine_plays(server, model_dir):
    class Waiting(RemoteEngine):       # simulated time races ahead of the server: wait for each answer
        def send(self, bar, notes):
            super().send(bar, notes)
            self.got = getattr(self, "got", []) + self.stream.poll(timeout=10.0)

        def answers(self):
            out, self.got = getattr(self, "got", []) + super().answers(), []
            return out

    played = grid_performance(4, seed=7)
    settings = Settings(rate=32, seed=2, threshold=0.3)
    model = load_model(model_dir)
    _, _, local, clock = run_jam(model, played, 4, settings)
    _, report, remote, clock2 = run_jam(model, played, 4, settings, make_engine=lambda clock: Waiting(
        "127.0.0.1", server.port, settings, StreamSettings()))
    assert report.skipped == 0 and report.answered == 4
    assert key(played_notes(remote.sent, clock2)) == key(played_notes(local.sent, clock))


def test_replay_a_recorded_performance_from_the_command_line(model_dir, tmp_path):
    played = midi_file(tmp_path / "played.mid", performance(6, seed=1))
    out = tmp_path / "answers.mid"
    done = subprocess.run([*PY, "jam", "--replay", str(played), "--write", str(out), "--model", str(model_dir),
                           "--rate", "16", "--seed", "3", "--structure", "lock"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "answering" in done.stdout
    score = read_midi(played)
    engine = StreamImproviser(load_model(model_dir), Settings(rate=16, seed=3, structure="lock", beats_per_bar=4.0))
    answers = [engine.play(t, b).notes for t, b in enumerate(split_bars(score.notes, 4.0))]
    expected = merge_bars([[]] + answers, 4.0)
    assert key(read_midi(out).notes) == key(expected)
    again = subprocess.run([*PY, "jam", "--replay", str(played), "--write", str(out), "--model", str(model_dir)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "--force" in again.stderr


@pytest.mark.parametrize("argv, words", [
    (["--channel", "17"], "--channel"), (["--window", "0"], "window"), (["--bars", "0"], "--bars"),
    (["--mode", "sideways"], "invalid choice"), (["--replay", "nope.mid", "--write", "x.mid"], "nope.mid"),
])
def test_bad_jam_options_get_one_line_and_exit_2(argv, words):
    done = subprocess.run([*PY, "jam", *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and words in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.startswith("qbdi")]) == 1
