# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The texture layer (issue 20): the decoder says *which pitches*, a learned rhythm/voicing
pattern says *when and how* they are played.

A model with patterns (format 3, ``architecture.patterns`` = K > 0) carries K texture patterns
fitted on its corpus (:mod:`bridge.training.patterns`): cluster centroids of key-invariant bar
skeletons, aggregates over many bars, never a corpus bar itself. Each pattern has three roles
(:data:`ROLES`: bass, chord, top line); per role and step of a 16-step bar the share of the
cluster's bars that strike there (its *frequency*), the modal onset (0/1) and a duration in
steps; per step the chord's number of tones; per role a register (mean MIDI pitch).
With them come a transition matrix over patterns (how the corpus moves from one bar's pattern
to the next: a groove persists) and a softmax classifier from a bar's latent to its pattern.

:func:`realize_bar` plays one bar, carrying :class:`TextureState` to the next:

1. **Harmony** from the decoder's sounding probabilities ``(steps, P)`` of the bar: the pitch
   classes whose strength (the strongest octave's mean probability over the bar) passes
   ``settings.threshold`` (sampling: drawn with that probability), heaviest first, at least
   :data:`MIN_TONES` (the heaviest others fill up) and at most :data:`MAX_TONES`; the bass pitch
   class is the one the decoder weighs most below :data:`BASS_SPLIT`.
   Each note then takes its chord from the probabilities over its own span (:func:`_local`;
   the bar's harmony fills up), so the harmony moves inside a bar where the decoder's does.
2. **Pattern**: ``p(k) ~ T[previous, k] * (p(k | z) / p(k)) ** CLASSIFIER_WEIGHT *
   exp(-JUMP_COST * |mean pitch of k - of previous| - PAD_COST * [k holds its chord half a bar])``,
   tempered by ``settings.temperature`` when sampling, drawn from the bar's generator. A repeated
   bar under structure lock takes its source bar's pattern. A new run of a pattern draws its
   *figure*, the onsets it is played with, from the pattern's frequencies; the figure holds while
   the pattern does (the groove), so a pattern sounds a little different each time it returns.
3. **Voicing** with voice leading: the bass near its previous note and the pattern's register,
   at the octave the decoder sounds most; each chord tone at the octave, within 8 semitones of a
   centre between the pattern's register and the previous chord, that the decoder sounds most
   (:data:`VOICING_PULL` weighs the distance; measured: this doubles fewer of the query's own
   notes than the nearest octave), bass and chord at most :data:`MAX_VOICES` at once. Where the
   pattern re-strikes an unchanged chord right where the last one ends, a drawn share
   (:data:`CHORD_HOLD`) of those re-attacks holds the lower voices on and re-strikes only the top
   one, as a pianist or a pad holds common tones (measured: notes held longer as the corpus's
   are, and fewer exact doublings of the query: pop at 64 bits copy 0.138 -> 0.127); the top
   line a seeded walk over chord tones (strong beats) and the piece's running scale (others), in
   small steps, above the chord, steering off the cells the decoder would strike itself.

Notes never cross the bar line, so nothing is held for longer than a bar. NumPy only; a bar's
result depends only on its probabilities, its latent, the state and its generator, which is
what lets the play-along stream (:mod:`bridge.stream`) give the batch's notes bar by bar.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import Representation, Settings
from .pianoroll import Note

ROLES = ("bass", "chord", "top")
BASS, CHORD, TOP = 0, 1, 2
PATTERN_STEPS = 16            # patterns are 16-step (one 4/4 bar of sixteenths); other bars tile/cut them
BASS_SPLIT = 55               # MIDI: the decoder's weight below this pitch chooses the bass pitch class
MIN_TONES, MAX_TONES = 3, 4
MAX_VOICES = 4               # bass and chord together: the corpora rarely sound more at once
CLASSIFIER_WEIGHT = 0.25
PAD_COST = 1.5               # against patterns that hold the chord through half a bar or more (issue 20)
JUMP_COST = 0.25             # per semitone between two patterns' mean pitches: bars move smoothly
CARRY = 0.5                  # how much a role's register follows its previous bar (voice leading)
VOICING_PULL = 0.06          # per semitone from the centre, against the decoder's sounding probability
CHORD_HOLD = 0.4             # share of unchanged chord re-attacks whose lower voices are held, not re-struck
TOP_RANGE = 9                # semitones the top line may wander from its pattern's register
SILENT = 0.05                 # a bar whose strongest sounding probability stays below this is a rest
ROLE_VELOCITY = (0.92, 0.82, 1.0)
TEXTURE_TENSORS = ("patterns.onset", "patterns.frequency", "patterns.duration", "patterns.size", "patterns.register",
                   "patterns.transition", "patterns.prior", "patterns.classifier.weight",
                   "patterns.classifier.bias")


def pattern_shapes(k: int, latent: int) -> dict[str, tuple[int, ...]]:
    """The texture tensors a model with ``k`` patterns holds, with their shapes."""
    r, s = len(ROLES), PATTERN_STEPS
    return {"patterns.onset": (k, r, s), "patterns.frequency": (k, r, s), "patterns.duration": (k, r, s),
            "patterns.size": (k, s),
            "patterns.register": (k, r), "patterns.transition": (k, k), "patterns.prior": (k,),
            "patterns.classifier.weight": (k, latent), "patterns.classifier.bias": (k,)}


def check_patterns(tensors: dict[str, np.ndarray]) -> str | None:
    """What is wrong with the texture tensors' values (shapes are checked elsewhere), or None."""
    onset, duration = tensors["patterns.onset"], tensors["patterns.duration"]
    if not np.all((onset == 0) | (onset == 1)):
        return "patterns.onset must hold only 0 and 1"
    frequency = tensors["patterns.frequency"]
    if np.any(frequency < 0) or np.any(frequency > 1) or np.any((onset == 1) & (frequency == 0)):
        return "patterns.frequency must be 0 to 1, above 0 where a pattern has an onset"
    if np.any(duration < 0) or np.any(duration > PATTERN_STEPS) or np.any((frequency > 0) & (duration < 1)):
        return f"patterns.duration must be 1 to {PATTERN_STEPS} steps where a pattern has an onset"
    size = tensors["patterns.size"]
    if np.any(size < 0) or np.any(size > 12):
        return "patterns.size must be 0 to 12 chord tones"
    register = tensors["patterns.register"]
    if np.any(register < 0) or np.any(register > 127):
        return "patterns.register must be MIDI pitches 0 to 127"
    for name in ("patterns.transition", "patterns.prior"):
        t = np.asarray(tensors[name], dtype=np.float64)
        if np.any(t <= 0) or not np.allclose(t.sum(axis=-1), 1.0, atol=1e-2):
            return f"{name} must hold positive probabilities summing to 1 (per row)"
    return None


class Texture:
    """A model's texture patterns, prepared once at load time (float64 copies, realised onsets)."""

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        self.onset = np.asarray(tensors["patterns.onset"], dtype=np.float64) > 0.5           # (K, R, 16)
        self.frequency = np.asarray(tensors["patterns.frequency"], dtype=np.float64)          # (K, R, 16)
        self.duration = np.rint(np.asarray(tensors["patterns.duration"], dtype=np.float64)).astype(np.int64)
        self.size = np.clip(np.rint(np.asarray(tensors["patterns.size"], dtype=np.float64)), 1, 12).astype(np.int64)
        self.register = np.asarray(tensors["patterns.register"], dtype=np.float64)             # (K, R)
        trans = np.asarray(tensors["patterns.transition"], dtype=np.float64)
        prior = np.asarray(tensors["patterns.prior"], dtype=np.float64)
        self.log_transition = np.log(trans / trans.sum(axis=1, keepdims=True))
        self.log_prior = np.log(prior / prior.sum())
        self.weight = np.ascontiguousarray(np.asarray(tensors["patterns.classifier.weight"], dtype=np.float64).T)
        self.bias = np.asarray(tensors["patterns.classifier.bias"], dtype=np.float64)
        self.k = len(self.onset)
        counts = self.onset.sum(axis=2).astype(np.float64)                                    # (K, R)
        counts[:, CHORD] *= self.size.mean(axis=1)
        self.mean_pitch = (counts * self.register).sum(axis=1) / np.maximum(counts.sum(axis=1), 1.0)
        self._fits = {n: self._fitting(n) for n in range(1, PATTERN_STEPS)}
        chord_onsets = self.onset[:, CHORD].sum(axis=1)
        self.pad = (chord_onsets <= 2) & (self.duration[:, CHORD].max(axis=1) >= PATTERN_STEPS // 2)   # (K,)

    def _fitting(self, n_steps: int) -> np.ndarray:
        """``(K,)`` bool: the patterns whose first ``n_steps`` steps hold at least two onsets and their
        share of the pattern's onsets (all patterns when none does)."""
        total = self.onset.sum(axis=(1, 2))
        inside = self.onset[:, :, :n_steps].sum(axis=(1, 2))
        ok = (inside >= 2) & (inside >= total * n_steps / PATTERN_STEPS * 0.8)
        return ok if ok.any() else np.ones(self.k, dtype=bool)

    def fits(self, n_steps: int) -> np.ndarray:
        """``(K,)`` bool: the patterns a bar of ``n_steps`` (< 16) steps may play."""
        return self._fits[n_steps]

    def scores(self, z: np.ndarray) -> np.ndarray:
        """Bar latents ``(n, L)`` -> ``(n, K)``: ``CLASSIFIER_WEIGHT * (log p(k|z) - log p(k))``.
        Accumulated in float64, so a bar's scores do not depend on its batch."""
        logits = np.asarray(z, dtype=np.float64) @ self.weight + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return CLASSIFIER_WEIGHT * (logp - self.log_prior)


@dataclass
class TextureState:
    """What one bar leaves for the next: the pattern, the last bass, chord and top pitches and the
    piece's running pitch-class profile (its scale)."""

    pattern: int = -1
    bass: int = -1
    chord: tuple[int, ...] = ()
    top: int = -1
    key: np.ndarray = field(default_factory=lambda: np.zeros(12))
    figure: np.ndarray | None = None      # (R, 16) bool: the onsets the current pattern is played with


def harmony(sounding: np.ndarray, rep: Representation, settings: Settings,
            rng: np.random.Generator) -> tuple[list[int], int, np.ndarray] | None:
    """A bar's sounding probabilities ``(steps, P)`` -> (chord pitch classes heaviest first, bass
    pitch class, weight per pitch class ``(12,)``); None for a rest."""
    snd = np.asarray(sounding, dtype=np.float64)
    if snd.size == 0 or snd.max() < SILENT:
        return None
    weight, strength, low_weight = _pitch_classes(snd.mean(axis=0), rep)
    order = [int(pc) for pc in np.lexsort((np.arange(12), -weight))]
    draws = rng.random(12)                                                  # drawn always: a fixed order of draws
    if settings.sampling == "sample":
        chosen = [pc for pc in order if draws[pc] < strength[pc]]
    else:
        chosen = [pc for pc in order if strength[pc] > settings.threshold]
    chosen = chosen[:MAX_TONES]
    for pc in order:
        if len(chosen) >= MIN_TONES:
            break
        if pc not in chosen and weight[pc] > 0:
            chosen.append(pc)
    bass = max(chosen, key=lambda pc: (low_weight[pc] + 1e-3 * weight[pc], -pc))
    return chosen, bass, weight


def choose_pattern(texture: Texture, scores: np.ndarray, previous: int, settings: Settings,
                   rng: np.random.Generator, n_steps: int = PATTERN_STEPS) -> int:
    """The bar's pattern: ``scores`` ``(K,)`` from :meth:`Texture.scores`, the transition from
    ``previous`` (-1: the corpus's prior), tempered by the temperature when sampling. A bar shorter
    than a pattern (2/4, 3/4, 6/8) chooses among the patterns that keep most of their onsets in it."""
    base = texture.log_prior if previous < 0 else texture.log_transition[previous]
    logp = base + scores
    if n_steps < PATTERN_STEPS:
        logp = np.where(texture.fits(n_steps), logp, -np.inf)
    if previous >= 0:
        logp = logp - JUMP_COST * np.abs(texture.mean_pitch - texture.mean_pitch[previous])
    logp = logp - PAD_COST * texture.pad

    if settings.sampling == "sample":
        logp = logp / settings.temperature
    p = np.exp(logp - logp.max())
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), texture.k - 1))


def _nearest(pc: int, target: float, lo: int, hi: int) -> int:
    """The pitch of class ``pc`` nearest ``target`` within ``[lo, hi]`` (lower on ties)."""
    base = pc + 12 * round((target - pc) / 12.0)
    candidates = [p for p in (base - 12, base, base + 12) if lo <= p <= hi] or \
                 [p for p in range(lo, hi + 1) if p % 12 == pc] or [min(max(int(round(target)), lo), hi)]
    return min(candidates, key=lambda p: (abs(p - target), p))


def _role_steps(onset: np.ndarray, n_steps: int) -> np.ndarray:
    """A pattern role's onsets ``(16,)`` on a bar of ``n_steps`` steps (tiled, then cut)."""
    reps = -(-n_steps // PATTERN_STEPS)
    return np.flatnonzero(np.tile(onset, reps)[:n_steps])


def _pitch_classes(per_pitch: np.ndarray, rep: Representation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pitch values ``(P,)`` -> per pitch class ``(12,)`` each: the sum, the strongest octave's
    value, and the sum below BASS_SPLIT."""
    first = rep.lowest_pitch % 12
    rows = -(-(first + rep.n_pitches) // 12)
    grid = np.zeros(rows * 12)
    grid[first:first + rep.n_pitches] = per_pitch
    grid = grid.reshape(rows, 12)
    low_rows = max(0, (BASS_SPLIT - (rep.lowest_pitch - first)) // 12)
    low = grid[:low_rows].sum(axis=0)
    partial = (BASS_SPLIT - (rep.lowest_pitch - first)) % 12
    if low_rows < rows and partial:
        low = low + np.where(np.arange(12) < partial, grid[low_rows], 0.0)
    return grid.sum(axis=0), grid.max(axis=0), low


def _local(per_pitch: np.ndarray, fallback: list[int], threshold: float, rep: Representation) -> tuple[list[int], int]:
    """The harmony where a note sounds: the decoder's mean sounding probability per pitch ``(P,)``
    over its span -> (pitch classes over ``threshold`` heaviest first, filled up from ``fallback``
    (the bar's harmony) to MIN_TONES, at most MAX_TONES; the bass pitch class among them)."""
    weight, strength, low_weight = _pitch_classes(per_pitch, rep)
    order = np.argsort(-weight, kind="stable").tolist()
    chosen = [pc for pc in order if strength[pc] > threshold][:MAX_TONES]
    for pc in sorted(fallback, key=lambda pc: (-weight[pc], pc)):
        if len(chosen) >= MIN_TONES:
            break
        if pc not in chosen:
            chosen.append(pc)
    return chosen, max(chosen, key=lambda pc: (low_weight[pc] + 1e-3 * weight[pc], -pc))


def realize_bar(texture: Texture, k: int, chord: list[int], bass_pc: int, weight: np.ndarray,
                state: TextureState, sounding: np.ndarray, struck: np.ndarray, rep: Representation,
                rng: np.random.Generator, velocity: float, threshold: float = 0.5) -> list[Note]:
    """Play pattern ``k`` over one bar on the harmony (``chord`` pitch classes, ``bass_pc``,
    ``weight`` ``(12,)``); updates ``state``. ``sounding`` and ``struck`` ``(steps, P)`` are the
    decoder's sounding and onset probabilities: each note takes its chord from where it sounds
    (:func:`_local`, ``threshold``; the bar's harmony fills up), so the harmony may move within the
    bar as the query's does; the top line steers off the cells the decoder would strike itself.
    Times in beats from the bar's start."""
    n_steps = len(struck)
    lo, hi = rep.lowest_pitch, rep.highest_pitch
    spb = rep.steps_per_beat
    key = 0.7 * state.key + 0.3 * weight / max(weight.sum(), 1e-9)
    scale = set(int(pc) for pc in np.argsort(-key, kind="stable")[:7] if key[pc] > 0) | set(chord)
    state.key = key
    register = texture.register[k]
    events: list[tuple[int, int, int, int]] = []          # (step, pitch, duration, role)
    local: dict[tuple[int, int], tuple[list[int], int]] = {}

    def durations(role: int, steps: np.ndarray) -> list[int]:
        out = []
        for i, s in enumerate(steps):
            nxt = steps[i + 1] if i + 1 < len(steps) else n_steps
            out.append(int(max(1, min(texture.duration[k, role, s % PATTERN_STEPS], nxt - s))))
        return out

    totals = np.concatenate([np.zeros((1, sounding.shape[1])), np.cumsum(sounding, axis=0)])

    def mean_sounding(s: int, d: int) -> np.ndarray:
        end = min(n_steps, s + max(d, spb))
        return (totals[end] - totals[s]) / max(end - s, 1)

    def harmony_at(s: int, d: int) -> tuple[list[int], int]:
        span = (s, min(n_steps, s + max(d, spb)))
        if span not in local:
            local[span] = _local(mean_sounding(s, d), chord, threshold, rep)
        return local[span]

    draws = rng.random(texture.frequency.shape[1:])          # drawn always: a fixed order of draws
    if state.pattern == k and state.figure is not None:
        figure = state.figure                                 # the groove holds while the pattern does
    else:                                                     # a new run: this time's figure of the pattern
        figure = draws < texture.frequency[k]
        if figure.sum() < 0.5 * texture.onset[k].sum() or not figure.any():
            figure = texture.onset[k]                         # a draw that lost most of the pattern
    state.figure = figure
    bass_steps = _role_steps(figure[BASS], n_steps)
    target = register[BASS] if state.bass < 0 else (1 - CARRY) * register[BASS] + CARRY * state.bass
    bass_lo, bass_hi = max(lo, 28), min(hi, BASS_SPLIT + 2)
    root = _nearest(bass_pc, target, bass_lo, bass_hi)
    previous = -1
    for i, (s, d) in enumerate(zip(bass_steps, durations(BASS, bass_steps))):
        tones, pc = harmony_at(int(s), d) if i > 0 else (chord, bass_pc)
        u = rng.random()
        others = [t for t in tones if t != pc]
        if pc == previous and others and u < 0.3:
            pc = others[int(u * 10) % len(others)]
        near = root if i else target
        held = mean_sounding(int(s), d)      # the octave the decoder sounds most, as for the chord
        nearest = _nearest(pc, near, bass_lo, bass_hi)
        options = [p for p in (nearest - 12, nearest, nearest + 12) if bass_lo <= p <= bass_hi]
        pitch = min(options, key=lambda p: (-held[p - lo] + VOICING_PULL * abs(p - near), p))
        events.append((int(s), pitch, d, BASS))
        previous, state.bass = pc, pitch

    chord_steps = _role_steps(figure[CHORD], n_steps)
    voicing: list[int] = []
    if len(chord_steps):
        center = register[CHORD]
        if state.chord:
            center = (1 - CARRY) * center + CARRY * float(np.mean(state.chord))
        floor = max(lo, root + 3)
        sounded: tuple[int, ...] = ()
        bass_sounds = np.zeros(n_steps, dtype=bool)
        for s, _, d, _ in events:
            bass_sounds[s:s + d] = True
        holds = rng.random(len(chord_steps))                     # drawn always: a fixed order of draws
        last: list[int] = []             # the events of the chord's voices sounding until this onset
        for i, (s, d) in enumerate(zip(chord_steps, durations(CHORD, chord_steps))):
            size = int(texture.size[k, s % PATTERN_STEPS])
            size = max(1, min(size, MAX_VOICES - int(bass_sounds[s])))
            tones, bass_here = harmony_at(int(s), d)
            if len(tones) > size:
                tones = [pc for pc in tones if pc != bass_here] + [bass_here]
            tones = (tones * (1 + size // max(len(tones), 1)))[:size]
            if tuple(sorted(tones)) != sounded:
                held = mean_sounding(int(s), d)                     # (P,) how much the decoder sounds each pitch
                reference = sum(voicing) / len(voicing) if voicing else center
                voicing = []
                for pc in tones:        # each tone at the octave near the centre that the decoder sounds most
                    options = [p for p in (_nearest(pc, reference, floor, hi) + o for o in (-12, 0, 12))
                               if floor <= p <= hi and p not in voicing and abs(p - reference) <= 8]
                    if not options:
                        options = [p for p in range(floor, hi + 1) if p % 12 == pc and p not in voicing][:1]
                    if options:
                        voicing.append(min(options, key=lambda p: (-held[p - lo] + VOICING_PULL * abs(p - reference),
                                                                   p)))
                voicing.sort()
                sounded = tuple(sorted(tones))
            if last and holds[i] < CHORD_HOLD and all(events[j][0] + events[j][2] == s for j in last) \
                    and sorted(events[j][1] for j in last) == voicing and len(voicing) > 1:
                keep = voicing[-1]
                for j in last:
                    if events[j][1] != keep:
                        events[j] = (events[j][0], events[j][1], events[j][2] + d, CHORD)
                last = [j for j in last if events[j][1] != keep] + [len(events)]
                events.append((int(s), keep, d, CHORD))
                continue
            last = []
            for p in voicing:
                last.append(len(events))
                events.append((int(s), p, d, CHORD))
        state.chord = tuple(voicing)

    top_steps = _role_steps(figure[TOP], n_steps)
    if len(top_steps):
        center = register[TOP]
        floor = max(lo, (max(voicing) + 1) if voicing else root + 7)
        top_lo, top_hi = max(floor, int(center) - TOP_RANGE), min(hi, max(int(center) + TOP_RANGE, floor + 12))
        prev = state.top if state.top >= 0 else _nearest(chord[0], center, top_lo, top_hi)
        prev = min(max(prev, top_lo), top_hi)
        pitches = np.arange(top_lo, top_hi + 1)
        for s, d in zip(top_steps, durations(TOP, top_steps)):
            here = harmony_at(int(s), d)[0]
            allowed = set(here) if s % spb == 0 else scale | set(here)
            mask = np.zeros(12, dtype=bool)
            mask[list(allowed)] = True
            cands = pitches[mask[pitches % 12]]
            if not len(cands):
                cands = np.array([prev])
            w = np.exp(-np.abs(cands - prev) / 2.5 - np.abs(cands - center) / 10.0)
            tone = np.zeros(12, dtype=bool)
            tone[here] = True
            w = w * np.where(cands == prev, 0.5, 1.0) * np.where(tone[cands % 12], 1.6, 1.0)
            w = w * (1.0 - struck[s, cands - lo]) ** 2 + 1e-12
            cdf = np.cumsum(w)
            pitch = int(cands[min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), len(cands) - 1)])
            events.append((int(s), pitch, d, TOP))
            prev = pitch
        state.top = prev

    state.pattern = k
    seen: set[tuple[int, int]] = set()
    notes = []
    for s, p, d, role in sorted(events):
        if (s, p) in seen or not lo <= p <= hi:
            continue
        seen.add((s, p))
        accent = 1.08 if s == 0 else 1.0 if s % spb == 0 else 0.94 if s % max(spb // 2, 1) == 0 else 0.88
        v = min(127, max(1, round(velocity * accent * ROLE_VELOCITY[role])))
        notes.append(Note(int(p), s / spb, d / spb, v))
    return notes
