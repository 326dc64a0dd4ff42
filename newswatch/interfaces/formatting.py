"""Formatting shared by the command line and the web pages."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """A delay in the largest unit that keeps it readable: 1.5 h, 3.0 min, 12.0 s."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"
