# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""Out-of-style piano queries built in code: one generator per texture, each seeded and in any key.

Every generator is ``f(tonic, rng, bars) -> list[Note]`` (4/4, times in beats, MIDI pitches):
an Alberti-bass sonatina, an arpeggiated J-pop/anime ballad, a syncopated anime opening, stride
piano, jazz comping with a walking bass, a hymn, boogie-woogie, a broken-chord etude, a nocturne,
a march and a bossa nova. They are queries for ``tools.heldout`` (never training data): textures
the pop and Bach corpora do not have, over harmony that changes every bar or two, so that a model
that keeps the harmony but not the surface can be told from one that copies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from bridge.pianoroll import Note

QUALITIES = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "dom7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10), "dim": (0, 3, 6), "hdim7": (0, 3, 6, 10), "sus4": (0, 5, 7), "add9": (0, 4, 7, 14),
}
# roman numeral -> (semitones above the tonic, quality); lower case = minor
DEGREES = {
    "I": (0, "maj"), "ii": (2, "min"), "iii": (4, "min"), "IV": (5, "maj"), "V": (7, "maj"), "vi": (9, "min"),
    "V7": (7, "dom7"), "ii7": (2, "min7"), "iii7": (4, "min7"), "Imaj7": (0, "maj7"), "IVmaj7": (5, "maj7"),
    "vi7": (9, "min7"), "VI7": (9, "dom7"), "II7": (2, "dom7"), "I7": (0, "dom7"), "IV7": (5, "dom7"),
    "viio": (11, "dim"), "bVII": (10, "maj"), "V/vi": (4, "maj"), "Vsus4": (7, "sus4"), "Iadd9": (0, "add9"),
    "i": (0, "min"), "iv": (5, "min"), "bVI": (8, "maj"), "bIII": (3, "maj"), "iiø7": (2, "hdim7"),
}
Chord = tuple[int, tuple[int, ...]]   # (root pitch class, intervals)
Generator = Callable[[int, np.random.Generator, int], list[Note]]


def chords(tonic: int, numerals: Sequence[str]) -> list[Chord]:
    """Roman numerals in the key of ``tonic`` (a pitch class) -> (root pitch class, intervals)."""
    out = []
    for numeral in numerals:
        offset, quality = DEGREES[numeral]
        out.append(((tonic + offset) % 12, QUALITIES[quality]))
    return out


def voicing(chord: Chord, low: int, count: int | None = None) -> list[int]:
    """The chord's tones stacked upward from the first root at or above ``low`` (close position)."""
    root, intervals = chord
    base = low + (root - low) % 12
    tones = [base + i for i in intervals]
    while count is not None and len(tones) < count:
        tones.append(tones[len(tones) - len(intervals)] + 12)
    return tones[:count] if count else tones


def bass(chord: Chord, low: int = 36) -> int:
    """The chord's root in the octave at or above ``low``."""
    return low + (chord[0] - low) % 12


def scale(tonic: int, minor: bool = False) -> np.ndarray:
    """Pitch classes of the key's (natural minor or major) scale."""
    steps = (0, 2, 3, 5, 7, 8, 10) if minor else (0, 2, 4, 5, 7, 9, 11)
    return np.array([(tonic + s) % 12 for s in steps])


def melody(chord_per_bar: Sequence[Chord], tonic: int, rng: np.random.Generator, rhythm: Sequence[tuple[float, float]],
           low: int = 67, high: int = 84, minor: bool = False, velocity: int = 88) -> list[Note]:
    """A stepwise line over the chords: strong beats on chord tones, others on scale steps.

    ``rhythm`` is the bar's (start, duration) pairs in beats, reused every bar with a little
    variation (a note now and then merged into the one before).
    """
    pcs = scale(tonic, minor)
    pool = np.array([p for p in range(low, high + 1) if p % 12 in pcs])
    current = int(pool[len(pool) // 2])
    out = []
    for bar, chord in enumerate(chord_per_bar):
        tones = {(chord[0] + i) % 12 for i in chord[1]}
        events = list(rhythm)
        if len(events) > 2 and rng.random() < 0.3:       # merge two notes now and then
            k = int(rng.integers(0, len(events) - 1))
            events[k] = (events[k][0], events[k][1] + events[k + 1][1])
            del events[k + 1]
        for start, duration in events:
            strong = float(start).is_integer() and int(start) % 2 == 0
            step = int(rng.choice([-2, -1, -1, 1, 1, 2, 0]))
            index = int(np.clip(np.searchsorted(pool, current) + step, 0, len(pool) - 1))
            pitch = int(pool[index])
            if strong:  # the nearest chord tone
                candidates = [p for p in pool if p % 12 in tones]
                pitch = int(min(candidates, key=lambda p: (abs(p - pitch), p)))
            current = pitch
            out.append(Note(pitch, bar * 4.0 + start, duration, velocity))
    return out


def _bars(progression: Sequence[Chord], bars: int) -> list[Chord]:
    return [progression[b % len(progression)] for b in range(bars)]


def alberti(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Classical sonatina: Alberti eighths (low-high-middle-high) under a singing melody."""
    prog = _bars(chords(tonic, ["I", "IV", "I", "V7", "vi", "ii", "V7", "I"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        lo, mid, hi = voicing(chord, 48, 3)
        for k, p in enumerate([lo, hi, mid, hi] * 2):
            notes.append(Note(p, b * 4 + k * 0.5, 0.5, 62))
    rhythm = [(0, 1), (1, 0.5), (1.5, 0.5), (2, 1.5), (3.5, 0.5)]
    return notes + melody(prog, tonic, rng, rhythm, 67, 86)


def anime_ballad(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """J-pop/anime ballad: the 'royal road' IV-V-iii-vi, wide left-hand arpeggios, a syncopated melody."""
    prog = _bars(chords(tonic, ["IV", "V", "iii", "vi", "IV", "V", "I", "I"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        root = bass(chord, 36)
        tones = voicing(chord, root + 7, 3)
        pattern = [root, root + 7, tones[1] + 12 if tones[1] < root + 12 else tones[1], tones[0] + 12,
                   root + 19, tones[0] + 12, root + 7, tones[1]]
        for k, p in enumerate(pattern):
            notes.append(Note(int(p), b * 4 + k * 0.5, 0.5, 58))
    rhythm = [(0, 0.75), (0.75, 0.75), (1.5, 1.0), (2.5, 0.5), (3, 0.5), (3.5, 0.5)]
    return notes + melody(prog, tonic, rng, rhythm, 69, 88)


def anime_opening(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Up-tempo anime opening on piano: octave bass eighths, 3+3+2 chord stabs, a sixteenth-driven melody."""
    prog = _bars(chords(tonic, ["vi", "IV", "V", "I", "vi", "IV", "V/vi", "vi"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        root = bass(chord, 33)
        for k in range(8):
            notes.append(Note(root + (12 if k % 2 else 0), b * 4 + k * 0.5, 0.5, 70))
        for start, dur in ((0, 0.75), (0.75, 0.75), (1.5, 0.5), (2, 0.75), (2.75, 0.75), (3.5, 0.5)):
            notes += [Note(p, b * 4 + start, dur, 64) for p in voicing(chord, 57, 3)]
    rhythm = [(0, 0.5), (0.5, 0.25), (0.75, 0.75), (1.5, 0.5), (2, 0.5), (2.5, 0.5), (3, 0.25), (3.25, 0.75)]
    return notes + melody(prog, tonic, rng, rhythm, 72, 91, minor=False)


def stride(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Stride piano: low bass notes on 1 and 3, middle chords on 2 and 4, a swung-feel melody."""
    prog = _bars(chords(tonic, ["I", "VI7", "ii7", "V7", "I", "I7", "IV", "V7"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        root = bass(chord, 31)
        fifth = root + 7 if root + 7 <= 45 else root - 5
        notes += [Note(root, b * 4, 1, 80), Note(fifth, b * 4 + 2, 1, 76)]
        for beat in (1, 3):
            notes += [Note(p, b * 4 + beat, 0.75, 66) for p in voicing(chord, 53, 3)]
    rhythm = [(0, 0.75), (0.75, 0.25), (1, 1), (2.5, 0.5), (3, 1)]
    return notes + melody(prog, tonic, rng, rhythm, 70, 88)


def jazz_comp(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Jazz: ii7-V7-Imaj7 with rootless voicings in a Charleston rhythm over a walking bass."""
    prog = _bars(chords(tonic, ["ii7", "V7", "Imaj7", "vi7", "ii7", "V7", "iii7", "VI7"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        root = bass(chord, 33)
        walk = [root, root + chord[1][1], root + 7, root + 7 + int(rng.choice([2, -1, 3]))]
        notes += [Note(int(p), b * 4 + k, 1, 72) for k, p in enumerate(walk)]
        rootless = [t for t in voicing(chord, 52, 4)[1:]] + [voicing(chord, 52, 4)[0] + 14]
        for start, dur in ((0, 1.5), (1.5, 0.5), (3.5, 0.5)):
            notes += [Note(p, b * 4 + start, dur, 60) for p in rootless]
    return notes


def hymn(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Four-part hymn: block chords in quarter and half notes, soprano moving by step."""
    prog_names = ["I", "IV", "I", "V", "vi", "ii", "V", "I", "I", "V", "vi", "iii", "IV", "I", "ii7", "I"]
    notes = []
    for b in range(bars):
        pair = chords(tonic, [prog_names[(2 * b) % 16], prog_names[(2 * b + 1) % 16]])
        for half, chord in enumerate(pair):
            t = b * 4 + half * 2
            soprano = voicing(chord, 64 + int(rng.integers(0, 5)), 3)[0]
            tones = [bass(chord, 41), voicing(chord, 52, 3)[1], voicing(chord, 57, 3)[0], soprano]
            if rng.random() < 0.5:  # two quarters instead of a half
                notes += [Note(p, t, 1, 76) for p in tones] + [Note(p, t + 1, 1, 72) for p in tones]
            else:
                notes += [Note(p, t, 2, 76) for p in tones]
    return notes


def boogie(tonic: int, rng: np.random.Generator, bars: int = 12) -> list[Note]:
    """Boogie-woogie twelve-bar blues: a walking eighth-note bass and off-beat right-hand chords."""
    names = ["I7", "IV7", "I7", "I7", "IV7", "IV7", "I7", "I7", "V7", "IV7", "I7", "V7"]
    prog = chords(tonic, [names[b % 12] for b in range(bars)])
    notes = []
    for b, chord in enumerate(prog):
        root = bass(chord, 33)
        for k, step in enumerate((0, 4, 7, 9, 10, 9, 7, 4)):
            notes.append(Note(root + step, b * 4 + k * 0.5, 0.5, 78))
        for start in (0.5, 1.5, 2.5, 3.0, 3.5):
            notes += [Note(p, b * 4 + start, 0.5, 70) for p in voicing(chord, 60, 4)[1:]]
        if rng.random() < 0.5:
            notes.append(Note(voicing(chord, 72, 3)[2], b * 4, 1.0, 84))
    return notes


def etude(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Broken-chord etude: sixteenth-note arpeggios rising and falling over two octaves, bass held."""
    prog = _bars(chords(tonic, ["I", "ii7", "V7", "I", "vi", "IV", "ii", "V"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        notes.append(Note(bass(chord, 36), b * 4, 4, 70))
        up = voicing(chord, 55, 8)
        line = up + up[::-1] if rng.random() < 0.5 else (up[:4] + up[4:]) * 2
        notes += [Note(p, b * 4 + k * 0.25, 0.25, 64) for k, p in enumerate(line[:16])]
    return notes


def nocturne(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Romantic nocturne: wide sixteenth arpeggios spanning a tenth and more, a long-note melody."""
    prog = _bars(chords(tonic, ["i", "iv", "V7", "i", "bVI", "iiø7", "V7", "i"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        root = bass(chord, 31)
        tones = voicing(chord, root + 12, 3)
        cycle = [root, root + 7, tones[0], tones[1], tones[2], tones[1], tones[0], root + 7]
        notes += [Note(int(p), b * 4 + k * 0.5, 0.5, 56) for k, p in enumerate(cycle)]
    rhythm = [(0, 1.5), (1.5, 0.5), (2, 2)]
    return notes + melody(prog, tonic, rng, rhythm, 70, 89, minor=True)


def march(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Oom-pah march: bass on 1 and 3, chords on 2 and 4, a dotted-rhythm tune in octaves."""
    prog = _bars(chords(tonic, ["I", "I", "V7", "I", "IV", "I", "V7", "I"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        notes += [Note(bass(chord, 40), b * 4, 1, 76), Note(bass(chord, 40) - 5, b * 4 + 2, 1, 72)]
        for beat in (1, 3):
            notes += [Note(p, b * 4 + beat, 0.5, 62) for p in voicing(chord, 55, 3)]
    tune = melody(prog, tonic, rng, [(0, 0.75), (0.75, 0.25), (1, 1), (2, 0.75), (2.75, 0.25), (3, 1)], 67, 81)
    return notes + tune + [Note(n.pitch + 12, n.start, n.duration, n.velocity - 10) for n in tune]


def bossa(tonic: int, rng: np.random.Generator, bars: int = 16) -> list[Note]:
    """Bossa nova: root-fifth bass in dotted quarters, syncopated maj7/min7 chords, a lazy melody."""
    prog = _bars(chords(tonic, ["Imaj7", "Imaj7", "II7", "II7", "ii7", "V7", "Imaj7", "VI7"]), bars)
    notes = []
    for b, chord in enumerate(prog):
        root = bass(chord, 36)
        notes += [Note(root, b * 4, 1.5, 72), Note(root + 7, b * 4 + 1.5, 0.5, 66),
                  Note(root + 7, b * 4 + 2, 1.5, 70), Note(root, b * 4 + 3.5, 0.5, 66)]
        for start, dur in ((0, 0.5), (0.75, 0.75), (1.75, 0.75), (2.5, 0.5), (3.25, 0.75)):
            notes += [Note(p, b * 4 + start, dur, 56) for p in voicing(chord, 55, 4)]
    rhythm = [(0, 1.5), (1.5, 1.0), (2.5, 1.5)]
    return notes + melody(prog, tonic, rng, rhythm, 67, 84)


GENERATORS: dict[str, Generator] = {
    "alberti": alberti, "anime_ballad": anime_ballad, "anime_opening": anime_opening, "stride": stride,
    "jazz_comp": jazz_comp, "hymn": hymn, "boogie": boogie, "etude": etude, "nocturne": nocturne,
    "march": march, "bossa": bossa,
}


def humanize(notes: Sequence[Note], rng: np.random.Generator, timing: float = 0.04,
             velocity: int = 8) -> list[Note]:
    """Played, not drawn: starts moved by up to ``timing`` beats, velocities by up to ``velocity``."""
    out = []
    for n in notes:
        start = max(0.0, n.start + float(rng.uniform(-timing, timing)))
        vel = int(np.clip(n.velocity + rng.integers(-velocity, velocity + 1), 1, 127))
        out.append(Note(n.pitch, round(start, 4), round(max(0.05, n.duration * float(rng.uniform(0.85, 1.0))), 4), vel))
    return sorted(out, key=lambda n: (n.start, n.pitch))


def build(style: str, tonic: int, seed: int, bars: int = 16, humanized: bool = False) -> list[Note]:
    """One piece: ``style`` (a key of :data:`GENERATORS`) in the key of ``tonic``, seeded."""
    rng = np.random.default_rng(seed)
    notes = GENERATORS[style](tonic, rng, bars)
    notes = [n for n in notes if 24 <= n.pitch <= 101]
    return humanize(notes, rng) if humanized else sorted(notes, key=lambda n: (n.start, n.pitch))
