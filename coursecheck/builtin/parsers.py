"""Built-in parsers: Markdown, MDX, JSON and YAML files into the document model."""

from __future__ import annotations

from pathlib import Path

from coursecheck import hookimpl
from coursecheck.model import Document, LineIndex
from coursecheck.parse.data import parse_data
from coursecheck.parse.markdown import parse_markdown


@hookimpl(trylast=True)
def coursecheck_parse(path: Path, relpath: str, text: str, kind: str, has_bom: bool) -> Document | None:
    if kind in ("markdown", "mdx"):
        return parse_markdown(path, relpath, text, mdx=kind == "mdx", has_bom=has_bom)
    if kind in ("json", "yaml"):
        return parse_data(path, relpath, text, kind, has_bom=has_bom)
    return Document(path, relpath, "text", text, LineIndex(text), has_bom=has_bom)
