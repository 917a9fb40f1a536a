# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""The release rules: a tag is v + bridge.__version__ and matches the release workflow's tag filter;
every step of the workflow runs a script that .ci/run also runs here; CITATION.cff cites this version."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import bridge

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def check_tag():
    spec = importlib.util.spec_from_file_location("check_tag", ROOT / ".ci" / "check_tag.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_workflow_tag_filter_and_the_version_agree():
    tags = check_tag()
    assert tags.version() == bridge.__version__
    patterns = tags.tag_patterns(WORKFLOW)
    assert patterns and any(tags.filter_regex(p).match(f"v{bridge.__version__}") for p in patterns)
    assert tags.problems(f"v{bridge.__version__}") == []
    assert tags.main([f"v{bridge.__version__}"]) == 0


def test_a_tag_that_is_not_the_version_is_refused_with_the_reason(capsys):
    tags = check_tag()
    major, minor, patch = (int(x) for x in bridge.__version__.split("."))
    assert tags.main([f"v{major}.{minor}.{patch + 1}"]) == 1
    assert f"is not v{bridge.__version__}" in capsys.readouterr().err
    (wrong,) = [p for p in tags.problems(f"v{bridge.__version__}-rc1") if "filters" in p]
    assert "matches none of the release workflow's tag filters" in wrong
    assert tags.filter_regex("v*").match("v1.2.3") and not tags.filter_regex("v*").match("v1/2")
    assert tags.filter_regex("v[0-9]+.[0-9]+").match("v10.2") and not tags.filter_regex("v[0-9]+.[0-9]+").match("v1x2")


def test_citation_cites_the_paper_and_this_version():
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(rf'^version: "{re.escape(bridge.__version__)}"$', cff, flags=re.M)
    assert "1906.09155" in cff and "Dubnov" in cff and cff.startswith("# SPDX-FileCopyrightText")


def test_every_workflow_step_runs_a_script_that_ci_runs_here():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    exercised = {script for script in re.findall(r"(?:\.ci|build)/[\w.]+", ci)}
    for called in list(exercised):
        if called.endswith(".sh") and (ROOT / called).is_file():
            exercised |= set(re.findall(r"(?:\.ci|build)/[\w.]+", (ROOT / called).read_text(encoding="utf-8")))
    assert {".ci/lint.sh", ".ci/test.sh", "build/build.sh", ".ci/check_tag.py"} <= exercised
    steps = re.findall(r"^\s+run: (.+)$", WORKFLOW.read_text(encoding="utf-8"), flags=re.M)
    assert len(steps) >= 5
    for step in steps:
        scripts = re.findall(r"(?:\.ci|build)/[\w.]+", step)
        if scripts:
            assert all((ROOT / s).is_file() and s in exercised for s in scripts), step
        else:   # installing, or publishing what the scripts built: nothing to exercise here
            assert step.startswith(("python -m pip install ", "gh release create ")), step
    assert "--smoke --release" in ci and "build/build.sh --smoke --release" in WORKFLOW.read_text(encoding="utf-8")
