# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""tools.loris, short: a real Client keeps getting improvisations from a `qbdi serve` process while a
hostile client in another process runs each misbehaviour (docs/FAULTS.md has the full run's figures).
Before the fixes, every phase but the baseline ended with the real client getting only `busy`."""

from tools.loris import VARIANTS, run_loris

# the unpaced flood is left to the full run: how much of it a shared CI machine can take is a matter of
# its load; the allowance that cuts it is tested deterministically in tests/serve/test_admission.py
PACED = tuple(v for v in VARIANTS if v != "flood")


def test_a_hostile_client_does_not_deny_service_to_a_real_one(model_dir):
    report = run_loris(seconds=2.0, clients=1, variants=PACED, rate=1000.0, model=str(model_dir), timeout=30.0)
    assert report["ok"], report["problems"]
    phases = {p["phase"]: p for p in report["phases"]}
    assert set(phases) == {"baseline", *PACED}
    for name, phase in phases.items():
        assert phase["completed"] > 0 and not phase["failed"], (name, phase)
        if name != "baseline":
            assert phase["hostile_per_s"] > 500, (name, phase)     # the hostile client really ran
    assert report["server_exit_code"] == 0
