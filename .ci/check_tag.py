# SPDX-FileCopyrightText: 2026 The qbdi authors
# SPDX-License-Identifier: MIT
"""A release tag must be ``v`` + ``bridge.__version__`` and match the release workflow's tag filter.

    python .ci/check_tag.py v0.1.0       exit 0, or 1 with one line saying what disagrees
    python .ci/check_tag.py              checks the tag the version asks for (what .ci/run does)

Read without importing bridge (so it runs before the package is installed)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def version() -> str:
    """``bridge.__version__``, read from bridge/__init__.py's source."""
    for node in ast.parse((ROOT / "bridge" / "__init__.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit("check_tag: bridge/__init__.py has no __version__")


def tag_patterns(workflow: Path = WORKFLOW) -> list[str]:
    """The ``on: push: tags:`` filters of the workflow (one flow-style list line)."""
    found = re.search(r"^\s+tags:\s*\[(.*?)\]\s*$", workflow.read_text(encoding="utf-8"), flags=re.M)
    if not found:
        raise SystemExit(f"check_tag: {workflow.relative_to(ROOT)} has no `tags: [...]` filter under on.push")
    return [p.strip().strip("\"'") for p in found.group(1).split(",") if p.strip()]


def filter_regex(pattern: str) -> re.Pattern:
    """A GitHub Actions branch/tag filter pattern as a regular expression: ``*`` any run of characters
    but ``/``, ``**`` any run, ``?`` and ``+`` apply to the character before, ``[...]`` a class."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c in "?+":
            out += c
        elif c == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i:end + 1], end + 1
            continue
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out + r"\Z")


def problems(tag: str) -> list[str]:
    out = []
    if tag != f"v{version()}":
        out.append(f"the tag {tag} is not v{version()}: set bridge.__version__ (bridge/__init__.py) and the "
                   "CHANGELOG first, then tag that commit")
    cited = re.search(r'^version:\s*"?([^"\n]+)"?\s*$', (ROOT / "CITATION.cff").read_text(encoding="utf-8"), flags=re.M)
    if not cited or cited.group(1) != version():
        out.append(f"CITATION.cff's version is {cited.group(1) if cited else 'missing'}, not {version()}: update it "
                   "with bridge.__version__")
    patterns = tag_patterns()
    if not any(filter_regex(p).match(tag) for p in patterns):
        out.append(f"the tag {tag} matches none of the release workflow's tag filters {patterns}")
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    tag = argv[0] if argv else f"v{version()}"
    for line in problems(tag):
        print(f"check_tag: {line}", file=sys.stderr)
    return 1 if problems(tag) else 0


if __name__ == "__main__":
    sys.exit(main())
