"""``coursecheck lsp``: the language server (stdio), an optional part (``pip install
'coursecheck[lsp]'``: pygls 2).

It reuses the engine: the course is checked by :class:`~coursecheck.engine.Engine` as the
command line checks it, an editor's buffer by ``Engine.check_source`` and the course rules
after an edit by ``Engine.recheck_course`` (coursecheck.lsp.workspace). The engine and the
plugins never import this package.
"""

from __future__ import annotations

import argparse
import logging
import sys

MISSING = "coursecheck lsp needs the language server extra: pip install 'coursecheck[lsp]' (pygls {need}); {why}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="coursecheck lsp",
        description="Run the coursecheck language server on stdio (see docs/editors.md).",
    )
    parser.add_argument(
        "--stdio", action="store_true", help="talk over stdin/stdout (the default; for editors that pass it)"
    )
    parser.add_argument("--log-file", help="write the server's own log to this file (for debugging)")
    args = parser.parse_args(argv)
    try:
        import pygls  # noqa: F401
        from lsprotocol import types  # noqa: F401
    except ImportError as exc:
        print(MISSING.format(need=">= 2.1", why=exc), file=sys.stderr)
        return 2
    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=logging.INFO)
    from coursecheck.lsp.server import make_server

    server = make_server()
    server.start_io()
    return 0
