"""The JSON format, for scripts: findings, files, counts, rules and notifications."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from coursecheck import hookimpl
from coursecheck.escape import json_text
from coursecheck.model import Verdict
from coursecheck.report import ReportOptions
from coursecheck.state import VERDICTS
from coursecheck.text import Span

if TYPE_CHECKING:
    from coursecheck.results import Result


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


def verdict_object(v: Verdict) -> dict[str, Any]:
    """A must-have's verdict for scripts: what it is about as declared, where, its status,
    the evidence, the rule that decided it, and the measurements."""
    return {
        "kind": v.kind,
        "id": v.id,
        "status": v.status,
        "state": v.measures.get("state", ""),
        "text": v.text,
        "evidence": v.evidence,
        "decided_by": v.measures.get("decided_by", ""),
        "subject": _plain(v.subject),
        "declared": {"file": v.declared[0], "line": v.declared[1]} if v.declared else None,
        "phase": v.phase,
        "locations": [{"path": path, "line": span.line, "column": span.column} for path, span in v.locations],
        "measures": _plain({k: m for k, m in v.measures.items() if k not in ("decided_by", "state")}),
    }


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses as objects, spans as line and column, tuples as lists."""
    if isinstance(value, Verdict):
        return verdict_object(value)
    if isinstance(value, Span):
        return {"line": value.line, "column": value.column}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def render(result: Result, options: ReportOptions) -> str:
    import secrets

    # Where the files' outlines and the findings go: strings no finding can hold (a fresh
    # nonce each run).
    nonce = secrets.token_hex(16)
    placeholder = f"coursecheck-files-{nonce}"
    findings_placeholder = f"coursecheck-findings-{nonce}"
    extra = dict(result.extra)
    if options.phase and isinstance(VERDICTS.get(extra), list):
        from coursecheck.report.phase import find_phase

        phase = find_phase(result.phases, options.phase)
        if phase is not None:
            VERDICTS.set(extra, [v for v in VERDICTS.get(extra) or [] if isinstance(v, Verdict) and v.phase == phase.id])
            extra["phase"] = phase
        else:
            options.warnings.append(f"no phase '{options.phase}' is declared; the JSON covers the whole course")
    if result.phases:
        extra.setdefault("phases", result.phases)
    data = {
        "version": result.version,
        "config": result.config_path,
        "counts": result.counts(),
        "failed": result.failed,
        "fail_level": result.fail_level,
        "findings": findings_placeholder,
        "files": placeholder,
        "rules": [{"id": r.id, "level": r.level, "plugin": r.plugin, "summary": r.summary} for r in result.rules],
        "notifications": [
            {"level": n.level, "message": n.message, "plugin": n.plugin, "rule": n.rule_id, "path": n.path}
            for n in result.notifications
        ],
        **({"extra": _plain(extra)} if extra else {}),
    }
    # json_text: the same JSON, with nothing in it a terminal or CI log would act on.
    text = json_text(dumps(data))
    before, _, after = text.partition(json.dumps(findings_placeholder))
    text = before + _findings_json(result) + after
    before, _, after = text.partition(json.dumps(placeholder))
    return before + _files_json(result) + after + "\n"


_FINDING_INDENT = "    "  # a finding's place in the document: an item of the top-level "findings"


def _findings_text(findings: list[Any]) -> str:
    """``findings`` as items of the ``findings`` array (indented, separated, escaped)."""
    out: list[str] = []
    for i, f in enumerate(findings):
        if i:
            out.append(",\n" + _FINDING_INDENT)
        _encode(f.as_dict(), _FINDING_INDENT, out)
    return json_text("".join(out))


def _findings_json(result: Result) -> str:
    """The ``findings`` array as it sits in the document. Each file's part is the text the
    last run made of the same finished findings when the engine vouches for them
    (``result.blocks``): a warm run does not build and encode them again."""
    if not result.findings:
        return "[]"
    if result.blocks is not None:
        parts = [part for part in result.blocks.cached("json", result.findings, _findings_text) if part]
    else:
        parts = [_findings_text(result.findings)]
    between = ",\n" + _FINDING_INDENT
    return "[\n" + _FINDING_INDENT + between.join(parts) + "\n  ]"


def dumps(value: Any, *, strict: bool = False, indent: str = "") -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2, default=str)``, the same text,
    built directly: the standard library's indenting encoder is pure Python and generic
    (its generators were most of a warm run's time with tens of thousands of findings).
    ``strict``: as without ``default`` (an object JSON has no type for is a TypeError);
    ``indent``: the value as it is written at that depth of a document."""
    out: list[str] = []
    _encode(value, indent, out, strict)
    return "".join(out)


def _encode(value: Any, indent: str, out: list[str], strict: bool = False) -> None:
    scalar = _scalar(value)
    if scalar is not None:
        out.append(scalar)
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        head = "{\n" + inner
        between = ",\n" + inner
        for key, item in value.items():
            out.append(head)
            head = between
            out.append(_encode_string(key if isinstance(key, str) else _key_text(key)))
            out.append(": ")
            # Strings and numbers inline (most values): no call per value.
            if type(item) is str:
                out.append(_encode_string(item))
            else:
                _encode(item, inner, out, strict)
        out.append("\n" + indent + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        head = "[\n" + inner
        between = ",\n" + inner
        for item in value:
            out.append(head)
            head = between
            if type(item) is str:
                out.append(_encode_string(item))
            else:
                _encode(item, inner, out, strict)
        out.append("\n" + indent + "]")
    elif strict:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    else:
        out.append(_encode_string(str(value)))  # default=str


def _scalar(value: Any) -> str | None:
    """A scalar's JSON text; None for containers and other objects."""
    if isinstance(value, str):
        return _encode_string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return json.dumps(value)
    return None


def _key_text(key: Any) -> str:
    """A non-string dict key as ``json.dumps`` writes it."""
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, (int, float)):
        return json.dumps(key)
    return str(key)


_encode_string = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring


def _files_json(result: Result) -> str:
    """The ``files`` array as it sits in the document (indented one level), escaped like the
    rest. Built from every file's outline (thousands of records restored, then indented): on
    an unchanged course it is the text the last run stored, keyed on the course stage (every
    file's record, the config) and on which files are reported."""
    import hashlib

    reported = hashlib.sha256("\0".join(result.files).encode("utf-8", "surrogatepass")).hexdigest()
    store = result.outputs
    if store is not None:
        stored = store.get("json-files", reported)
        if isinstance(stored, str):
            return stored
    text = json_text(dumps(document_outline(result)))
    text = text.replace("\n", "\n  ")
    if store is not None:
        store.put("json-files", text, reported)
    return text


@hookimpl
def coursecheck_reporters() -> dict[str, object]:
    return {"json": render}
