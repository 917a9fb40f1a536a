# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The improvising half of the server: a bounded queue of complete requests and the worker
threads that run them, with the models they use (loaded once, then cached).

The NumPy matrix products release the GIL, so workers overlap on several cores while the receive
thread stays free to answer pings. The queue is shared fairly between senders
(:mod:`bridge.serve.fairqueue`): a device's short request runs ahead of another sender's backlog of long
ones; a full queue, or a sender with MAX_QUEUED_PER_SENDER waiting, is answered ``busy``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field

from .. import protocol as P
from ..config import Settings
from ..errors import QbdiError
from ..improvise import Improvisation, free_improvise, improvise
from ..interpolate import check_steps, in_sequence, interpolate
from ..measures.metrics import kept
from ..models import Model, installed_names, list_models, load_model
from ..pianoroll import BarGrid, Note, check_output_flat
from .fairqueue import FairQueue
from .outbox import ErrorReply, Reply, send_chunks

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
MAX_QUEUED_PER_SENDER = 8      # improvisations one sender may have waiting


@dataclass(frozen=True)
class MorphRequest:
    """What a /qbdi/interpolate header adds to the settings: the steps, where clip A's notes end
    among the request's notes, and both clips' lengths in beats (0: to the last note's end)."""

    settings: Settings
    steps: int
    n_notes_a: int
    length_a: float
    length_b: float

    def check(self, n_notes: int) -> None:
        """Refuse a header whose fields cannot describe two clips of ``n_notes`` notes in all."""
        check_steps(self.steps)
        if not 0 <= self.n_notes_a <= n_notes:
            raise QbdiError(f"n_notes_a must be from 0 to n_notes ({n_notes}): clip A's notes come first; "
                            f"got {self.n_notes_a}")
        for name, value in (("length_a", self.length_a), ("length_b", self.length_b)):
            if not (math.isfinite(value) and 0 <= value <= P.MAX_INTERPOLATE_BARS * 32):
                raise QbdiError(f"{name} must be a number of beats from 0 (to the last note's end) to "
                                f"{P.MAX_INTERPOLATE_BARS * 32}, got {value!r}")


@dataclass
class Job:
    """A complete improvisation request waiting for a worker."""

    kind: str                              # "improvise", "free" or "interpolate"
    request_id: int
    dest: tuple[str, int]
    settings: Settings
    notes: list[Note] = field(default_factory=list)
    received: float = field(default_factory=time.perf_counter)
    sender: tuple | None = None            # the source address it came from (default: dest)
    morph: MorphRequest | None = None      # an interpolate job's steps, clip split and lengths

    @property
    def cost(self) -> float:
        """Roughly the model frames (4 beats each) it will span: what fair queueing weighs."""
        bpb = self.settings.beats_per_bar or 4.0
        if self.kind == "free":
            beats = self.settings.bars * bpb
        elif self.kind == "interpolate":
            m = self.morph
            clips = ((self.notes[:m.n_notes_a], m.length_a), (self.notes[m.n_notes_a:], m.length_b))
            ends = [max([n.start + n.duration for n in part] + [length]) for part, length in clips]
            beats = m.steps * math.ceil(max(ends) / bpb) * bpb
        else:
            end = max((n.start + n.duration for n in self.notes), default=0.0)
            beats = math.ceil(max(end, self.settings.length_beats or 0.0) / bpb) * bpb
            beats += self.settings.continue_bars * bpb
        return 1.0 + beats / 4.0


class ModelCache:
    """The default model and the installed ones, each loaded on first use and then cached."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self.default: Model | None = None
        self.catalogue: list[tuple[str, int, int]] = []   # (name, latent size, max rate): the models reply
        self._cache: dict[str, Model] = {}
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the default model and list the installed ones."""
        self.default = load_model(self.name)
        self._cache[self.default.name] = self.default
        catalogue = [(m["name"], int(m.get("latent_size") or 0), int(m.get("max_rate") or 0))
                     for m in list_models() if "error" not in m]
        if self.default.name not in [name for name, _, _ in catalogue]:
            catalogue.insert(0, (self.default.name, self.default.architecture.latent_size, self.default.max_rate))
        self.catalogue = catalogue

    def get(self, name: str | None) -> Model:
        """The default model, or an installed one by name."""
        if not name:
            return self.default
        with self._lock:
            model = self._cache.get(name)
        if model is not None:
            return model
        if name not in installed_names():
            known = sorted({self.default.name, *installed_names()})
            raise QbdiError(f"unknown model '{name}'; this server has {', '.join(known)} (a request names an "
                            "installed model; serve a model folder with qbdi serve --model PATH)",
                            code="unknown_model")
        model = load_model(name)
        with self._lock:
            self._cache[name] = model
        return model


def kept_of(job: Job, result: Improvisation) -> dict[str, float]:
    """Retained harmony and copy of an improvise request's result against its query, on the query's
    bar grid (bridge.measures.metrics.kept: what `qbdi sweep` reports); nothing for a free one (or a morph)."""
    if job.kind != "improvise" or not job.notes:
        return {}
    k = kept(job.notes, result.notes, result.grid.beats_per_bar, job.settings.length_beats or None,
             int(result.grid.representation.steps_per_beat))
    return {"retained": k.retained, "copy": k.copy}


class Workers:
    """``count`` threads improvising queued jobs (0: :meth:`submit` runs the job at once)."""

    def __init__(self, count: int, models: ModelCache, reply: Reply, error: ErrorReply) -> None:
        self.count = max(0, int(count))
        self.models = models
        self._reply, self._error = reply, error
        self._jobs = self._queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._running = 0
        self.served = 0

    @property
    def pending(self) -> int:
        """Jobs queued or running."""
        return len(self._jobs) + self._running

    def start(self) -> None:
        if self._jobs.closed:           # started again after a stop
            self._jobs = self._queue()
        self._threads = [threading.Thread(target=self._work, name=f"qbdi-worker-{i}", daemon=True)
                         for i in range(self.count)]
        for thread in self._threads:
            thread.start()

    def _queue(self) -> FairQueue:
        # with two workers or more, one is kept for short jobs
        return FairQueue(P.MAX_PENDING, MAX_QUEUED_PER_SENDER, max_long=max(1, self.count - 1))

    def stop(self, timeout: float = 5.0) -> None:
        """Let the queued jobs finish within ``timeout`` seconds in all (those still waiting then are
        dropped: a client's backlog must not hold a quit up), then end the threads."""
        self._jobs.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self._threads):
            dropped = self._jobs.clear()
            if dropped:
                log.warning("stopping: %d queued improvisation(s) dropped", dropped)
            for thread in self._threads:
                thread.join(timeout=timeout)
        self._threads = []

    def submit(self, job: Job) -> None:
        """Queue ``job`` fairly; raises ``busy`` (a job it displaces is answered ``busy``)."""
        if not self.count:
            self.run(job)
            return
        evicted = self._jobs.put(job, job.sender or job.dest, job.cost)
        if evicted is not None:
            self._error(evicted.dest, evicted.request_id, "busy",
                        "the server is full of other improvisations and gave this one's place to a shorter "
                        "request; try again in a moment")

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            with self._lock:
                self._running += 1
            try:
                self.run(job)
            finally:
                self._jobs.done(job)
                with self._lock:
                    self._running -= 1

    def run(self, job: Job) -> None:
        """Improvise and send warnings, then the result header and its note chunks."""
        try:
            model = self.models.get(job.settings.model)
            if job.kind == "free":
                result = free_improvise(model, job.settings)
            elif job.kind == "interpolate":
                result = _morph_result(model, job)
            else:
                result = improvise(model, job.notes, job.settings)
            self._send_result(job, result)
        except QbdiError as exc:
            self._error(job.dest, job.request_id, exc.code, str(exc))
        except Exception as exc:  # a bug: report it, keep serving
            log.exception("%s request %d failed", job.kind, job.request_id)
            self._error(job.dest, job.request_id, "internal", f"internal error: {type(exc).__name__}: {exc}")

    def _send_result(self, job: Job, result: Improvisation) -> None:
        # the engine refuses more than P.MAX_NOTES notes (config.MAX_NOTES), so every result fits;
        # and whatever the model folder says, no note outside MIDI's ranges goes out
        flat = P.flatten_notes(result.notes)
        check_output_flat(flat, code="bad_model")
        for warning in result.warnings:
            self._reply(job.dest, P.WARNING, [job.request_id, P.clip_text(warning)], False)
        header = [job.request_id, len(result.notes), P.n_chunks(len(result.notes)), result.model,
                  *P.settings_args(result.settings.to_dict()), *P.measure_args(kept_of(job, result))]
        self._reply(job.dest, P.RESULT, header, False)
        send_chunks(lambda args, first: self._reply(job.dest, P.RESULT_NOTES, args, False), [job.request_id], flat)
        with self._lock:
            self.served += 1
        if log.isEnabledFor(logging.INFO):
            log.info("%s %d for %s:%d: %d -> %d notes, %d bars, model %s, rate %s, %.1f ms", job.kind,
                     job.request_id, job.dest[0], job.dest[1], len(job.notes), len(result.notes), result.grid.n_bars,
                     result.model, result.settings.rate_label, 1000 * (time.perf_counter() - job.received))


def _morph_result(model: Model, job: Job) -> Improvisation:
    """An interpolate job as one result: every step's notes in sequence, ``length_beats`` one step's length."""
    m = job.morph
    morph = interpolate(model, job.notes[:m.n_notes_a], job.notes[m.n_notes_a:], m.steps, job.settings,
                        length_a=m.length_a or None, length_b=m.length_b or None)
    notes = in_sequence(morph)
    if len(notes) > P.MAX_NOTES:
        raise QbdiError(f"the morph holds {len(notes)} notes; a reply carries at most {P.MAX_NOTES}: use fewer steps, "
                        "shorter clips, or a higher threshold", code="too_large")
    first = morph.improvisations[0]
    grid = BarGrid(morph.grid.beats_per_bar, morph.steps * morph.grid.n_bars, morph.grid.representation)
    settings = first.settings.replace(length_beats=morph.grid.length_beats)
    return Improvisation(notes, settings, first.model, grid, first.latents, first.query_latents, first.bits,
                         morph.warnings)
