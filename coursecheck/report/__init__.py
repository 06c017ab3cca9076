"""Reporters: pure functions from a :class:`~coursecheck.results.Result` to text."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ReportOptions:
    color: bool = False
    verbose: bool = False
    quiet: bool = False
    timestamp: str = ""  # ISO 8601; reports that show a time use this, never the clock
    automation_id: str = ""
    show_suppressed: bool = False
    phase: str = ""  # a phase id: the report of that phase only (coursecheck report --phase)
    # Reporters append here what the user should hear about (e.g. SARIF cut to GitHub's
    # limits); the CLI prints them on stderr. Reporters write nothing themselves.
    warnings: list[str] = field(default_factory=list)
    # The report's file name when it is written to a file ("" : stdout), and the files it
    # links to that go beside it (plain file name -> text; the CLI writes them atomically):
    # the full course graph of a report that shows it collapsed to modules.
    output_name: str = ""
    attachments: dict[str, str] = field(default_factory=dict)
