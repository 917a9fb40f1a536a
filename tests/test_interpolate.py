# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
import numpy as np
import pytest
from builders import A_MINOR, C_MAJOR, F_MAJOR, G_MAJOR, chord_bars, tiny_model

import bridge.interpolate
from bridge.config import MAX_INTERPOLATE_STEPS, Settings
from bridge.errors import QbdiError
from bridge.improvise import improvise
from bridge.interpolate import PATHS, interpolate, loop_notes, walk
from bridge.measures.chroma import bar_profiles
from bridge.measures.metrics import retained_harmony
from bridge.models import load_model
from bridge.pianoroll import Note

A = chord_bars((C_MAJOR, A_MINOR, F_MAJOR, G_MAJOR))
B = chord_bars((G_MAJOR, F_MAJOR, A_MINOR, C_MAJOR, F_MAJOR, G_MAJOR, C_MAJOR, A_MINOR), velocity=50)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return load_model(tiny_model(tmp_path_factory.mktemp("m") / "tiny", sparse=True))


@pytest.fixture(scope="module")
def pop():
    return load_model("pop")


def key(notes):
    return [(n.pitch, n.start, n.duration, n.velocity) for n in notes]


@pytest.mark.parametrize("settings", [
    Settings(seed=3),
    Settings(seed=3, z="sample", structure="lock"),
    Settings(seed=3, sampling="sample", temperature=0.8),
])
def test_ends_at_full_rate_are_improvise_of_each_clip(model, settings):
    b = chord_bars((G_MAJOR, F_MAJOR, A_MINOR, C_MAJOR), velocity=50)
    morph = interpolate(model, A, b, 5, settings)
    assert morph.steps == 5 and morph.t[0] == 0 and morph.t[-1] == 1
    for clip, imp in ((A, morph.improvisations[0]), (b, morph.improvisations[-1])):
        alone = improvise(model, clip, settings)
        assert key(imp.notes) == key(alone.notes) and imp.notes
        np.testing.assert_array_equal(imp.latents, alone.latents)
    assert key(morph.improvisations[2].notes) != key(morph.improvisations[0].notes)


def test_the_shorter_clip_loops_to_the_longer_and_its_end_is_its_looped_improvisation(model):
    settings = Settings(seed=1, z="sample")
    morph = interpolate(model, A, B, 3, settings)
    assert (morph.bars_a, morph.bars_b, morph.grid.n_bars) == (4, 8, 8)
    assert all(imp.grid.n_bars == 8 for imp in morph.improvisations)
    looped = loop_notes(A, 4, 8, 4.0)
    assert len(looped) == 2 * len(A) and looped[len(A)].start == A[0].start + 16
    assert key(morph.improvisations[0].notes) == key(improvise(model, looped, settings).notes)
    assert key(morph.improvisations[-1].notes) == key(improvise(model, B, settings).notes)


def test_loop_cuts_the_last_repeat_at_the_bar_line():
    three = [Note(60, 0, 4), Note(62, 8, 4)]         # 3 bars (the last one silent)
    out = loop_notes(three, 3, 4, 4.0)
    assert [(n.start, n.duration) for n in out] == [(0, 4), (8, 4), (12, 4)]
    held = loop_notes([Note(60, 0, 8)], 2, 3, 4.0)
    assert [(n.start, n.duration) for n in held] == [(0, 8), (8, 4)]


@pytest.mark.parametrize("settings", [Settings(seed=9, rate=8, z="sample", sampling="sample"),
                                      Settings(seed=9, rate=4, structure="lock", allocation="frame")])
def test_same_seed_same_morph_and_another_seed_another(model, settings):
    one = interpolate(model, A, B, 4, settings)
    two = interpolate(model, A, B, 4, settings)
    assert [key(i.notes) for i in one.improvisations] == [key(i.notes) for i in two.improvisations]
    other = interpolate(model, A, B, 4, settings.replace(seed=10))
    assert [key(i.notes) for i in other.improvisations] != [key(i.notes) for i in one.improvisations]


def test_every_step_goes_through_the_same_channel(model):
    morph = interpolate(model, A, B, 4, Settings(seed=2, rate=6))
    for imp in morph.improvisations:
        np.testing.assert_array_equal(imp.bits, morph.improvisations[0].bits)
        assert imp.bits.sum() == 6
    zero = interpolate(model, A, B, 4, Settings(seed=2, rate=0))
    for imp in zero.improvisations:      # no bits: every step receives the pair's mean: one clip, A's to B's dynamics
        np.testing.assert_array_equal(imp.latents, zero.improvisations[0].latents)
        assert [k[:3] for k in key(imp.notes)] == [k[:3] for k in key(zero.improvisations[0].notes)]


def test_structure_lock_follows_the_blend_of_the_clips(model):
    repeat = chord_bars((C_MAJOR, A_MINOR, C_MAJOR, A_MINOR))
    morph = interpolate(model, repeat, repeat, 3, Settings(seed=4, sampling="sample", structure="lock", rate=8))

    def bar(notes, i):
        return sorted((n.pitch, round(n.start - 4 * i, 6), n.duration) for n in notes if 4 * i <= n.start < 4 * i + 4)

    for imp in morph.improvisations:
        assert bar(imp.notes, 2) == bar(imp.notes, 0) and bar(imp.notes, 3) == bar(imp.notes, 1)


@pytest.mark.parametrize("path", PATHS)
def test_paths_start_and_end_at_the_clips_and_slerp_keeps_the_norm(path):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 32)), rng.standard_normal((3, 32))
    from bridge.channel import ChannelStats
    stats = ChannelStats(np.zeros(32), np.ones(32))
    np.testing.assert_array_equal(walk(a, b, 0.0, path, stats), a.astype(np.float32))
    np.testing.assert_array_equal(walk(a, b, 1.0, path, stats), b.astype(np.float32))
    mid = walk(a, b, 0.5, path, stats)
    half = np.linalg.norm(0.5 * (a + b), axis=1)
    if path == "lerp":
        np.testing.assert_allclose(np.linalg.norm(mid, axis=1), half, rtol=1e-5)
    else:   # the straight line's middle falls inside the sphere; the great circle's does not
        np.testing.assert_allclose(np.linalg.norm(mid, axis=1),
                                   0.5 * (np.linalg.norm(a, axis=1) + np.linalg.norm(b, axis=1)), rtol=1e-5)
        assert (np.linalg.norm(mid, axis=1) > half).all()


def test_harmony_moves_from_a_to_b_on_the_shipped_model(pop):
    b = chord_bars((F_MAJOR, G_MAJOR, C_MAJOR, A_MINOR), velocity=70)
    b = [Note(n.pitch + 3, n.start, n.duration, n.velocity) for n in b]    # another key, another order
    morph = interpolate(pop, A, b, 6, Settings(seed=1))
    qa, qb = bar_profiles(A, 4.0, 4), bar_profiles(b, 4.0, 4)
    ra = [retained_harmony(qa, bar_profiles(i.notes, 4.0, 4)) for i in morph.improvisations]
    rb = [retained_harmony(qb, bar_profiles(i.notes, 4.0, 4)) for i in morph.improvisations]
    assert ra[0] > 0.5 > ra[-1] and rb[-1] > 0.5 > rb[0]
    assert all(x >= y - 0.1 for x, y in zip(ra, ra[1:])) and all(y >= x - 0.1 for x, y in zip(rb, rb[1:]))


def test_inner_steps_play_the_patterns_of_the_nearer_end(pop, monkeypatch):
    b = chord_bars((F_MAJOR, G_MAJOR, C_MAJOR, A_MINOR), velocity=70)
    b = [Note(n.pitch + 3 + 12 * (i % 2), n.start + 0.5 * (i % 8), 0.5, n.velocity)    # broken chords
         for i, n in enumerate(b)]
    played = {}
    real = bridge.interpolate.decode_latents

    def spy(model, z, grid, settings, rng, velocity, repeat_of, chosen):
        notes = real(model, z, grid, settings, rng, velocity, repeat_of, chosen)
        played[len(played)] = dict(chosen)
        return notes

    monkeypatch.setattr(bridge.interpolate, "decode_latents", spy)
    morph = interpolate(pop, A, b, 5, Settings(seed=1))
    ends, inner = (played[0], played[1]), [played[k] for k in range(2, 5)]   # the ends are decoded first
    assert ends[0] and ends[1] and ends[0] != ends[1]
    for t, chosen in zip(morph.t[1:-1], inner):
        nearer = ends[0] if t < 0.5 else ends[1]
        assert {bar: chosen[bar] for bar in nearer} == nearer
    monkeypatch.undo()
    own = interpolate(pop, A, b, 5, Settings(seed=1), shared_patterns=False)
    assert key(own.improvisations[0].notes) == key(morph.improvisations[0].notes)
    assert key(own.improvisations[-1].notes) == key(morph.improvisations[-1].notes)


def test_bad_morphs_raise_clear_errors(model):
    with pytest.raises(QbdiError, match="clip A has no notes"):
        interpolate(model, [], B, 3, Settings())
    with pytest.raises(QbdiError, match="clip B has no notes"):
        interpolate(model, A, [], 3, Settings())
    for steps in (1, MAX_INTERPOLATE_STEPS + 1, 2.5, True):
        with pytest.raises(QbdiError, match="steps must be a whole number from 2 to 16"):
            interpolate(model, A, B, steps, Settings())
    with pytest.raises(QbdiError, match="no continuation"):
        interpolate(model, A, B, 3, Settings(continue_bars=2))
    with pytest.raises(QbdiError, match="path must be one of"):
        interpolate(model, A, B, 3, Settings(), path="straight")
    with pytest.raises(QbdiError, match="16 steps x 64 bars") as err:
        interpolate(model, A, [Note(60, 252, 1)], 16, Settings())
    assert err.value.code == "too_large"
