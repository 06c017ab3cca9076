"""The JSON format, for scripts: findings, files, counts, rules and notifications."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from coursecheck import hookimpl
from coursecheck.escape import json_text
from coursecheck.report import ReportOptions

if TYPE_CHECKING:
    from coursecheck.engine import Result


def _code_outline(doc: Any) -> list[tuple[str, int]]:
    outline = getattr(doc, "code_outline", None)  # a record keeps it: no parse
    if outline is not None:
        return outline
    return [(block.language, block.span.line) for block in doc.code_blocks]


def document_outline(result: Result) -> list[dict[str, Any]]:
    """Per-file facts scripts often want: lesson id, lines, components with their lines."""
    course = result.course
    if course is None:
        return []
    out = []
    for doc in course.documents:
        if doc.relpath not in result.files:
            continue
        out.append(
            {
                "path": doc.relpath,
                "kind": doc.kind,
                "role": doc.role,
                "lesson_id": doc.lesson_id,
                "aliases": doc.aliases,
                "lines": doc.line_count,
                "headings": [{"level": h.level, "text": h.text, "line": h.span.line} for h in doc.headings],
                "components": [
                    {"name": c.name, "line": c.span.line, "column": c.span.column, "props": sorted(c.props)}
                    for c in doc.components
                ],
                "code_blocks": [{"language": language, "line": line} for language, line in _code_outline(doc)],
                "links": [
                    {"href": link.href, "line": link.span.line, "column": link.span.column} for link in doc.links
                ],
            }
        )
    return out


def render(result: Result, options: ReportOptions) -> str:
    data = {
        "version": result.version,
        "config": result.config_path,
        "counts": result.counts(),
        "failed": result.failed,
        "fail_level": result.fail_level,
        "findings": [f.as_dict() for f in result.findings],
        "files": document_outline(result),
        "rules": [{"id": r.id, "level": r.level, "plugin": r.plugin, "summary": r.summary} for r in result.rules],
        "notifications": [
            {"level": n.level, "message": n.message, "plugin": n.plugin, "rule": n.rule_id, "path": n.path}
            for n in result.notifications
        ],
        **({"extra": result.extra} if result.extra else {}),
    }
    # json_text: the same JSON, with nothing in it a terminal or CI log would act on.
    return json_text(json.dumps(data, ensure_ascii=False, indent=2, default=str)) + "\n"


@hookimpl
def coursecheck_reporters() -> dict[str, object]:
    return {"json": render}
