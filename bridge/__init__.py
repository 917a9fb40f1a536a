# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""qbdi: Query-Based Deep Improvisation (Dubnov) for Ableton Live, Max and MIDI files.

Three layers, as ``pip install`` and its extras install them:

* **core** (``pip install qbdi-bridge``: NumPy, mido, python-osc, safetensors), in data-flow order:
  ``config`` (shapes, caps, settings) -> ``smf`` (MIDI bytes <-> events) -> ``midifile`` (MIDI
  file <-> notes) -> ``pianoroll`` (notes <-> bar frames) -> ``vae`` (frames <-> latents, NumPy)
  -> ``channel`` (the rate-limited Gaussian test channel) -> ``structure`` (repeats,
  continuation) -> ``improvise`` (query -> improvisation); ``models`` (verified model folders,
  ``models.schema``); ``paths`` and ``folders`` (untrusted paths: inputs read safely, outputs
  written exclusively, atomically or staged); serving: ``protocol`` and ``osc`` (the OSC contract
  and codec), ``peers`` (who sent a datagram: loopback, the handshake cookie, the allowance,
  log-safe text), ``reassembly``, ``admission``, ``fairqueue``, ``workers``, ``server``,
  ``client``, ``bench``;
  ``cli`` (``qbdi``).
* **training** (``[train]``: PyTorch): ``training.corpus`` -> ``training.train`` ->
  ``training.evaluate``.
* **analysis** (``[analysis]``: vmo, SciPy, matplotlib): ``analysis.oracle`` (VMO), ``chroma``,
  ``tonnetz``, ``metrics``, ``motifs``, ``piece``, ``sweep``, ``figures``, ``report``.

The serving path never imports the training or analysis layers. Developer tools live outside the
package, in ``tools/`` (``python -m tools.fuzz``).
"""

__version__ = "0.1.0"
