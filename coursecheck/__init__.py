"""coursecheck: a declarative linter for course repositories."""

from __future__ import annotations

__version__ = "0.1.0"

import pluggy

hookimpl = pluggy.HookimplMarker("coursecheck")

__all__ = ["__version__", "hookimpl"]
