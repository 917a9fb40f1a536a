"""Developer tools, outside the runtime package: run from a checkout as ``python -m tools.NAME``."""
