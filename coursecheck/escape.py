"""Text from the repository made safe to print: terminals, CI logs, Markdown, Mermaid, JSON.

A repository chooses its file names, frontmatter, lesson text and config, and all of these
reach coursecheck's outputs (paths, messages, quoted text, rule docs). Printed raw, they
could move the cursor, clear the screen, set the window title or write the clipboard (ESC
and OSC sequences), forge lines that look like findings (a line break inside a message),
hide text (bidi overrides), or forge GitHub Actions workflow commands (``::error ...::``,
``::stop-commands::``, ``##[...]``), which the runner reads from every line of a job's log.

The rules here, used by every reporter and by everything the command line prints:

* :func:`display` turns one field into one line of visible text: control characters (C0
  except tab, DEL, C1), format characters (Unicode Cf: bidi controls, zero-width and soft
  hyphen, BOM), line and paragraph separators (U+2028, U+2029) and lone surrogates (file
  names that are not UTF-8) become Python-style escapes (``\\n``, ``\\x1b``, ``\\u202e``);
  ``##[`` becomes ``##\\[``. Backslashes are left as they are: the escapes are for reading,
  not for decoding back.
* :func:`line` makes a whole output line inert for the GitHub runner: no ``##[`` anywhere,
  and no ``::`` after leading whitespace (the runner trims it) at its start.
* :func:`say` prints a message built from such fields on one line (stderr by default).

The runner's own parser (``ActionCommand.TryParseV2`` and the legacy ``TryParse`` in
actions/runner) reads a command from a line that starts with ``::`` after whitespace, or
that holds ``##[`` anywhere; those are the two shapes :func:`line` removes.
"""

from __future__ import annotations

import bisect
import sys
from typing import IO, Any

import regex  # type: ignore[import-untyped]

# Cc except tab, and every Cf, Zl, Zp, Cs character.
_UNSAFE = regex.compile(r"[^\P{Cc}\t]|[\p{Cf}\p{Zl}\p{Zp}\p{Cs}]")
_NAMED = {"\n": "\\n", "\r": "\\r"}
# Workflow-command prefixes CI runners recognise anywhere in a line: GitHub's legacy ``##[``
# and Azure Pipelines' ``##vso[``.
_LOG_COMMAND = regex.compile(r"(##(?:vso)?)\[", regex.IGNORECASE)
_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")


def _escape_char(match: regex.Match[str]) -> str:
    ch = match.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def controls(value: object, *, keep_line_breaks: bool = False) -> str:
    """``value`` with its control, format and separator characters written as escapes;
    ``keep_line_breaks``: CR and LF stay (the caller escapes them its own way)."""
    text = str(value)
    if text.isprintable():  # fast path: most text has nothing to escape
        return text
    if keep_line_breaks:
        return _UNSAFE.sub(lambda m: m.group() if m.group() in "\r\n" else _escape_char(m), text)
    return _UNSAFE.sub(_escape_char, text)


def _unmask(text: str) -> str:
    """``text`` with its default-ignorable characters (variation selectors, fillers...)
    escaped when they are all that keeps it from holding a command prefix: the runner's
    string search may be culture-sensitive, and such a search skips them."""
    if text.isascii() or _IGNORABLE.search(text) is None:
        return text
    bare = _IGNORABLE.sub("", text)
    if bare != text and (_LOG_COMMAND.search(bare) or starts_command(bare)):
        return _IGNORABLE.sub(_escape_char, text)
    return text


def inert(text: str) -> str:
    """``text`` with no CI log command prefix left in it: ``##[`` (GitHub's legacy form) and
    ``##vso[`` (Azure Pipelines) get a backslash before their bracket."""
    text = _unmask(text)
    return _LOG_COMMAND.sub(r"\1\\[", text) if "##" in text else text


def display(value: object) -> str:
    """One field (a path, a message, quoted text) as one line of visible, inert text."""
    return inert(controls(value))


def display_keep_lines(value: object) -> str:
    """Like :func:`display`, for text whose line breaks are its own (rule docs, tracebacks):
    each line is escaped and made inert, the breaks stay."""
    return "\n".join(line(display(part)) for part in str(value).split("\n"))


def starts_command(text: str) -> bool:
    """Whether the runner would read ``text`` as the start of a workflow command."""
    return text.lstrip().startswith("::")


def line(text: str) -> str:
    """A whole output line the GitHub runner reads as text, never as a command.

    The line's fields must already be :func:`display`-escaped (it keeps the ESC of our own
    colours). A line that would start with ``::`` gets a backslash before it."""
    text = inert(text)
    if starts_command(text):
        at = len(text) - len(text.lstrip())
        text = text[:at] + "\\" + text[at:]
    return text


def path(value: object) -> str:
    """A path at the start of an output line: :func:`display`, and ``./`` before a path that
    would make the line a workflow command (a file named ``::error::x.md``), so it stays a
    path an editor or terminal can open."""
    shown = display(value)
    return "./" + shown if starts_command(shown) or shown[:1].isspace() else shown


def say(message: object, file: IO[str] | None = None) -> None:
    """Print ``message`` on one line, every character of it escaped (our own messages have
    no line breaks; one that comes from the repository is shown as ``\\n``)."""
    print(line(display(message)), file=sys.stderr if file is None else file)


_LINE_END = regex.compile(r"\r\n|\n|\r")


def diff_for_display(diff: str) -> str:
    """A unified diff of the repository's files, shown on a terminal or in a CI log: each line
    keeps its terminator (CRLF files stay CRLF) and its tabs; control characters are shown as
    escapes, a lone CR as ``\\r``, and no line is a workflow command. (``--diff -o FILE``
    writes the exact patch instead.)"""
    out: list[str] = []
    at = 0
    for end in _LINE_END.finditer(diff):
        body, terminator = diff[at : end.start()], end.group()
        if terminator == "\r":
            body, terminator = body + "\\r", "\n"
        out.append(line(display(body)) + terminator)
        at = end.end()
    if at < len(diff):
        out.append(line(display(diff[at:])))
    return "".join(out)


# -- JSON text --------------------------------------------------------------------------------

_JSON_UNSAFE = regex.compile(r"[\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}]")


def json_text(serialized: str) -> str:
    """A JSON document (``json.dumps(..., ensure_ascii=False)``) that is also safe to print:
    DEL, C1, format characters and line separators written as ``\\uXXXX`` escapes and
    the bracket of ``##[`` and ``##vso[`` as ``\\u005b``. These characters occur only inside
    JSON strings, so the document decodes to the same values."""
    if not serialized.isascii():
        serialized = _JSON_UNSAFE.sub(lambda m: "".join(f"\\u{unit:04x}" for unit in _utf16(m.group())), serialized)
    elif "\x7f" in serialized:
        serialized = serialized.replace("\x7f", "\\u007f")
    return _LOG_COMMAND.sub(r"\1\\u005b", serialized) if "##" in serialized else serialized


def _utf16(ch: str) -> list[int]:
    data = ch.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


# -- TOML -------------------------------------------------------------------------------------


def toml_string(value: object) -> str:
    """A TOML basic string holding ``value`` exactly, for the config ``coursecheck init``
    writes from the repository's file names and frontmatter keys: a JSON string is one, once
    DEL is escaped too (TOML allows no raw control character in a basic string). No quote,
    line break or control character can end the string or start a line of TOML."""
    import json

    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


# -- Markdown ---------------------------------------------------------------------------------


MARKDOWN_PARSED = 20_000  # characters of Markdown parsed to tell code from text


def markdown_without_html(markdown: str) -> str:
    """Markdown someone else wrote (a declarative rule's docs, from the repository's config)
    with no raw HTML left: every ``<`` outside code becomes ``&lt;``, so no tag, comment or
    autolink survives, and the rest renders as written.

    Code blocks come from markdown-it-py's parse; code spans from a scan of each line. The
    result is parsed again: should it still hold HTML (a code span the scan saw that the
    parser does not, e.g. one split over lines), every ``<`` outside code blocks is escaped,
    and if even that is not enough, every ``<``. Docs longer than ``MARKDOWN_PARSED`` (rule docs
    are a few hundred characters) get every ``<`` escaped without a parse: bounded time."""
    if "<" not in markdown:
        return markdown
    if len(markdown) > MARKDOWN_PARSED:
        return markdown.replace("<", "&lt;")
    lines = markdown.split("\n")
    code_lines = _code_block_lines(markdown)
    candidate = "\n".join(
        raw if i in code_lines else _escape_outside_code_spans(raw) for i, raw in enumerate(lines)
    )
    if not _has_html(candidate):
        return candidate
    candidate = "\n".join(raw if i in code_lines else raw.replace("<", "&lt;") for i, raw in enumerate(lines))
    return candidate if not _has_html(candidate) else markdown.replace("<", "&lt;")


def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def _code_block_lines(markdown: str) -> set[int]:
    """0-based numbers of the lines inside fenced and indented code blocks (fences included)."""
    out: set[int] = set()
    for token in _parser().parse(markdown):
        if token.type in ("fence", "code_block") and token.map:
            out.update(range(token.map[0], token.map[1]))
    return out


def _has_html(markdown: str) -> bool:
    tokens = list(_parser().parse(markdown))
    while tokens:
        token = tokens.pop()
        if token.type in ("html_block", "html_inline"):
            return True
        tokens.extend(token.children or ())
    return False


def _escape_outside_code_spans(text: str) -> str:
    """``<`` outside the code spans of one line. A run of backticks opens a span closed by
    the next run of the same length; a backslash before an opening run escapes its first
    backtick (inside a span, backslashes are literal). Linear in the line's length: the next
    run of a length is found by bisection in the list of runs of that length."""
    runs: list[tuple[int, int]] = []  # (start, end) of each backtick run, an escaped first backtick left out
    escaped: list[bool] = []
    for m in regex.finditer(r"`+", text):
        at = m.start()
        while at > 0 and text[at - 1] == "\\":
            at -= 1
        runs.append((m.start(), m.end()))
        escaped.append((m.start() - at) % 2 == 1)
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    parts: list[str] = []
    at = i = 0
    while i < len(runs):
        start, end = runs[i]
        if escaped[i]:
            start += 1
        candidates = by_length.get(end - start, [])
        k = bisect.bisect_right(candidates, i)
        if start == end or k == len(candidates):
            i += 1
            continue
        closer = candidates[k]
        parts.append(text[at:start].replace("<", "&lt;"))
        parts.append(text[start : runs[closer][1]])
        at = runs[closer][1]
        i = closer + 1
    parts.append(text[at:].replace("<", "&lt;"))
    return "".join(parts)


# -- Mermaid ----------------------------------------------------------------------------------

_MERMAID_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "[": "#91;", "]": "#93;", "`": "#96;"}


def mermaid_label(value: object) -> str:
    """Text for a quoted Mermaid label (``id["..."]``): one line (line breaks and control
    characters shown as escapes), ``#`` first written as ``#35;`` so that no entity the text
    holds is decoded, then quotes, angle brackets, square brackets and backticks as Mermaid
    entity codes (nothing closes the label, opens HTML or starts a Markdown string)."""
    text = controls(value).replace("#", "#35;")
    for ch, entity in _MERMAID_ENTITIES.items():
        text = text.replace(ch, entity)
    return text
