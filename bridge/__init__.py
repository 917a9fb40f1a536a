# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""qbdi: Query-Based Deep Improvisation (Dubnov) for Ableton Live, Max and MIDI files.

What ``import bridge`` offers (each name loads its module on first use; docs/API.md has runnable
examples, and ``help(bridge.NAME)`` the details)::

    import bridge

    model = bridge.load_model("pop")                        # a shipped name or a model folder; verified
    query = [bridge.Note(60, 0.0, 4.0, 80), bridge.Note(64, 0.0, 4.0, 80), bridge.Note(67, 0.0, 4.0, 80)]
    result = bridge.improvise_notes(model, query, bridge.Settings(rate=64, seed=42))
    score, result = bridge.improvise_file("query.mid", bridge.Settings(rate=64))
    bridge.write_midi("out.mid", [("qbdi", result.notes)])

    engine = bridge.StreamImproviser(model, bridge.Settings(rate=256))   # playing along, bar by bar
    answer = engine.play(0, query)                          # the notes for bar 1 (or None)

    metrics = bridge.compare(query, result.notes, beats_per_bar=4)       # retained harmony, copy, ...

Through a running ``qbdi serve``: ``bridge.Client`` (requests) and ``bridge.Stream`` (playing along).
Every refusal raises ``bridge.QbdiError`` with a message that names the fix.

Glossary: *stream* is the play-along protocol (``/qbdi/stream/*``) and its engine
(``bridge.stream``); *jam* is its MIDI-port front end (``qbdi jam``, ``bridge.jam``); *Play Along*
is the toggle in Live that uses the stream.

The package in layers, each importing only those below it (``tests/system/test_house.py`` checks):

* **engine**, in data-flow order: ``config`` (shapes, caps, settings) -> ``smf`` (MIDI bytes <->
  events) -> ``midifile`` (MIDI file <-> notes) -> ``pianoroll`` (notes <-> bar frames) -> ``vae``
  (frames <-> latents, NumPy) -> ``channel`` (the rate-limited Gaussian test channel) ->
  ``structure`` (repeats, continuation) -> ``improvise`` (query -> improvisation) -> ``stream``
  (bar by bar); ``models/`` (verified model folders); ``corpora`` (training corpora as files, the
  held-out split by song); ``paths`` and ``folders`` (untrusted files:
  inputs read safely, outputs written exclusively, atomically or staged); ``errors``.
* **wire**: ``protocol`` (every OSC address, layout and cap; the chunk vocabulary) and ``osc`` (the codec).
* **measures/** (NumPy only; shared by training and analysis): ``chroma``, ``tonnetz``, ``texture``,
  ``descriptors``, ``metrics``, ``frontier``; ``reference``, ``twosample``, ``corpuscopy``, ``baselines``.
* **serve/** (``qbdi serve``): ``server`` (the socket loop) -> ``admission`` (the gate) ->
  ``reassembly`` -> ``workers`` (fair queue, model cache) and ``sessions`` (streams); all answer
  through ``outbox``; ``peers`` (cookies, allowances, log-safe text), ``fairqueue``, ``watchdog``.
* **clients**: ``client`` (requests) and ``stream_client`` (a stream through a running server).
* **jam/** (``qbdi jam``, the ``[jam]`` extra): ``jam``, ``player``, ``clock``, ``ports``.
* **training/** (``[train]``: PyTorch): ``corpus`` -> ``corrupt`` -> ``train`` -> ``evaluate``.
* **analysis/** (``[analysis]``: vmo, SciPy, matplotlib; the GPL files): ``oracle`` (VMO),
  ``lockstep``, ``distances``, ``motifs``, ``piece``, ``sweep``, ``figures``, ``report``.
* **command line**: ``cli`` (``qbdi``; the only module that reads ``argparse``), ``options``, ``bench``.

The serving path never imports the training or analysis layers. Developer tools live outside the
package, in ``tools/`` (``python -m tools.fuzz``).
"""

__version__ = "0.1.0"

# name -> the module (under bridge) it lives in: the public API, loaded lazily so that `qbdi --help`
# and the server import only what they use
_API = {
    "Settings": "config", "StreamSettings": "config", "QbdiError": "errors", "Note": "pianoroll",
    "Model": "models", "load_model": "models", "installed_names": "models",
    "Score": "midifile", "read_midi": "midifile", "write_midi": "midifile",
    "Improvisation": "improvise", "improvise_file": "improvise", "free_improvise": "improvise",
    "StreamImproviser": "stream", "NextBar": "stream",
    "compare": "measures.metrics", "HarmonyMetrics": "measures.metrics",
    "Client": "client", "Stream": "stream_client",
}
# bridge.improvise is the module; its function, on a list of notes, is offered under this name
_RENAMED = {"improvise_notes": ("improvise", "improvise")}

__all__ = ["__version__", *_API, *_RENAMED]


def __getattr__(name: str):
    import importlib

    module, attribute = _RENAMED.get(name) or (_API.get(name), name)
    if module is None:
        raise AttributeError(f"module 'bridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
