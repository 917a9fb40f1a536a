# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""A bounded job queue shared fairly between senders: the least recently served sender goes first.

A FIFO lets one sender that queues many long improvisations make every other device wait behind
them (or get ``busy``). Here each sender has a *usage*: the cost (model frames) of the jobs it was
served, decaying with a half-life of ``half_life`` seconds. A worker takes the job that would
leave its sender with the least usage (usage plus the job's cost; then the oldest), so a device
asking for a short improvisation now and then runs next, ahead of any backlog of long ones from
busy senders (it waits at most for the jobs already running); senders that all ask for more than
their share get equal shares of the work. A sender
never seen before starts at zero: a new device is welcome at once. (So a client that opens a new
socket for every request looks like many new devices; on one machine nothing can tell them apart.)

One worker is kept for short jobs: at most ``max_long`` jobs costing more than ``long_cost`` run at
once (one less than the workers), so a short request never waits for a long one to finish.

Caps: ``capacity`` jobs in all, ``per_sender`` from one sender (``busy`` beyond). When the queue
is full, a newcomer whose sender's load (usage plus the cost it has queued) is below that of the
heaviest queued sender takes the place of that sender's newest job (which is returned, for a
``busy`` answer); otherwise the newcomer is refused.

Thread-safe: the receive thread puts, the workers get. O(queued jobs) per call, at most ``capacity``.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from ..errors import QbdiError

HALF_LIFE_S = 5.0
LONG_COST = 64.0           # model frames: a job above this is long (some 25 ms or more of work)
MAX_SENDERS = 4096         # usage records kept (the least recently used go first)


class FairQueue:
    """``put(item, sender, cost)`` / ``get()``; ``close()`` lets the workers drain it and stop."""

    def __init__(self, capacity: int, per_sender: int, half_life: float = HALF_LIFE_S,
                 clock: Callable[[], float] = time.monotonic, max_long: int | None = None,
                 long_cost: float = LONG_COST) -> None:
        self.capacity = capacity
        self.per_sender = per_sender
        self.half_life = half_life
        self.clock = clock
        self.max_long = max_long          # None: no limit
        self.long_cost = long_cost
        self._long: set[int] = set()      # ids of the long jobs running
        self._jobs: list[tuple[int, Hashable, float, Any]] = []          # (seq, sender, cost, item), by arrival
        self._usage: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()   # sender -> (usage, when)
        self._seq = itertools.count()
        self._closed = False
        self._cond = threading.Condition()

    def __len__(self) -> int:
        with self._cond:
            return len(self._jobs)

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, item: Any, sender: Hashable, cost: float = 1.0) -> Any | None:
        """Queue ``item``; returns the item it displaced (None if none); raises ``busy``."""
        with self._cond:
            now = self.clock()
            queued = [job for job in self._jobs if job[1] == sender]
            if len(queued) >= self.per_sender:
                raise QbdiError(f"this client has {self.per_sender} improvisations waiting already; wait for "
                                "their results", code="busy")
            evicted = None
            if len(self._jobs) >= self.capacity:
                load = self._loads(now)
                worst = max(self._jobs, key=lambda job: (load[job[1]], job[0]))
                if load.get(sender, self._used(sender, now)) + cost >= load[worst[1]]:
                    raise QbdiError(f"{self.capacity} improvisations are waiting already; try again in a moment",
                                    code="busy")
                self._jobs.remove(worst)
                evicted = worst[3]
            self._jobs.append((next(self._seq), sender, float(cost), item))
            self._cond.notify()
            return evicted

    def get(self) -> Any | None:
        """The job that leaves its sender with the least usage (usage plus its cost: the least-served
        sender first, and among equals the shortest job, then the oldest); blocks; None once closed
        and drained."""
        with self._cond:
            while not self._eligible() and not (self._closed and not self._jobs):
                self._cond.wait()
            jobs = self._eligible()
            if not jobs:
                return None
            now = self.clock()
            used = {job[1]: self._used(job[1], now) for job in jobs}
            job = min(jobs, key=lambda j: (used[j[1]] + j[2], j[0]))
            self._jobs.remove(job)
            if job[2] > self.long_cost:
                self._long.add(id(job[3]))
            self._usage[job[1]] = (used[job[1]] + job[2], now)
            self._usage.move_to_end(job[1])
            while len(self._usage) > MAX_SENDERS:
                self._usage.popitem(last=False)
            return job[3]

    def done(self, item: Any) -> None:
        """A worker finished ``item`` (from :meth:`get`): a long job frees its place."""
        with self._cond:
            if id(item) in self._long:
                self._long.discard(id(item))
                self._cond.notify_all()

    def _eligible(self) -> list[tuple[int, Hashable, float, Any]]:
        if self.max_long is None or len(self._long) < self.max_long:
            return self._jobs
        return [job for job in self._jobs if job[2] <= self.long_cost]

    def clear(self) -> int:
        """Drop every queued job; how many there were."""
        with self._cond:
            n = len(self._jobs)
            self._jobs.clear()
            self._cond.notify_all()
            return n

    def close(self) -> None:
        """No more jobs: the workers take what is queued, then :meth:`get` returns None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- usage ------------------------------------------------------------------------------
    def _used(self, sender: Hashable, now: float) -> float:
        value, when = self._usage.get(sender, (0.0, now))
        return value * math.exp2(-(now - when) / self.half_life)

    def _loads(self, now: float) -> dict[Hashable, float]:
        """Usage plus queued cost, per queued sender."""
        load: dict[Hashable, float] = {}
        for _, sender, cost, _ in self._jobs:
            load[sender] = load.get(sender, self._used(sender, now)) + cost
        return load

