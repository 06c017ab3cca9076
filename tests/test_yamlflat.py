"""The flat-frontmatter reader gives what composing the YAML gives, or declines.

``coursecheck.parse.yamlflat.load_flat`` is a fast path for the frontmatter most lessons
have; whenever it answers, its data (values and types) and places (key and value spans, in
the same order) must be exactly those of ``yamlpos.load_with_places``. Checked on generated
documents built from the line forms it reads and the forms it must decline, and on the
frontmatter of every corpus lesson when ``../shared`` is there.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coursecheck.parse.yamlflat import load_flat
from coursecheck.parse.yamlpos import FRONTMATTER_LIMITS, YamlProblem, load_with_places
from coursecheck.text import LineIndex

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def _composed(text: str):
    try:
        return load_with_places(text, LineIndex(text), 0, FRONTMATTER_LIMITS)
    except YamlProblem:
        return None


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _places(places):
    return [(path, (s.line, s.column, s.end_line, s.end_column)) for path, s in places.items()]


def _check(text: str) -> bool:
    """Whether the fast reader answered; when it did, it must agree with the composer."""
    fast = load_flat(text, LineIndex(text), 0)
    if fast is None:
        return False
    composed = _composed(text)
    assert composed is not None, f"the fast reader read YAML the composer refuses: {text!r}"
    assert _same(fast[0], composed[0]), (text, fast[0], composed[0])
    assert _places(fast[1]) == _places(composed[1]), text
    return True


def test_a_typical_lesson_frontmatter_is_read_by_the_fast_path():
    text = (
        'title: "Тома и данные"\n'
        "order: 3\n"
        "draft: false\n"
        "tags: [docker, 'volumes', 1.5]\n"
        "prerequisites:\n"
        "  - module-1/intro\n"
        "  - module-1/images\n"
        "description: Как сохранить данные контейнера\n"
    )
    assert _check(text)
    data, places = load_flat(text, LineIndex(text), 0)
    assert data["order"] == 3 and data["draft"] is False and data["tags"] == ["docker", "volumes", 1.5]
    span = places[("prerequisites", 1)]
    assert (span.line, span.column, span.end_column) == (7, 5, 20)


@pytest.mark.parametrize(
    "text",
    [
        "a:\n  b: 1\n",  # a nested mapping
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "a: !!str 1\n",  # a tag
        "a: |\n  text\n",  # a block scalar
        'a: "x\\ty"\n',  # an escape
        "a: x # note\n",  # a comment after the value
        "a: x\n  continued\n",  # a continuation line
        "a: 1\na: 2\n",  # a duplicate key (the composer's error says so)
        "a:\tx\n",  # a tab
        "true: x\n",  # a key that is not a string
        "a: [x, [y]]\n",  # nested flow
        "a: [x,\n  y]\n",  # a flow list over lines
        "a: b: c\n",  # invalid
        "- x\n",  # not a mapping
        "# only a comment\n",
        "a: 'it''s'\n",  # a quote escaped by doubling
        "a: x",  # no newline at the end
        "a:\n  - x\n    - y\n",  # items at two indentations
    ],
)
def test_what_the_fast_path_declines(text):
    assert load_flat(text, LineIndex(text), 0) is None


_WORD = st.sampled_from(
    ["x", "Docker", "урок", "1", "012", "0x1f", "1_000", "1.5", "1e3", ".inf", "-1", "true", "False", "null",
     "~", "yes", "on", "2024-01-01", "a:b", "a#b", "v1.2", "C#", "50%", "a, b", "{x}", "[x]", "x:", ": x",
     "it's", "Привет мир", "a  b", "a #b", "https://example.org/a?b=c", "*", "&", "!", "|", ">", "-", "?"]
)
_KEYS = st.sampled_from(["title", "order", "tags", "draft", "prerequisites", "a_b", "a-b", "x", "yes", "true",
                         "null", "on", "1", "_k"])


@st.composite
def _scalar(draw, flow: bool = False):
    word = draw(_WORD)
    form = draw(st.sampled_from(["plain", "double", "single"]))
    if form == "double":
        return '"' + word.replace('"', "") + '"'
    if form == "single":
        return "'" + word + "'"
    return word


@st.composite
def _document(draw):
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        key = draw(_KEYS)
        kind = draw(st.sampled_from(["scalar", "empty", "flow", "block", "blank", "comment"]))
        pad = " " * draw(st.integers(0, 2))
        if kind == "scalar":
            lines.append(f"{key}: {draw(_scalar())}{pad}")
        elif kind == "empty":
            lines.append(f"{key}:{pad}")
        elif kind == "flow":
            items = draw(st.lists(_scalar(flow=True), max_size=3))
            sep = draw(st.sampled_from([", ", ",", " , "]))
            inner = " " * draw(st.integers(0, 1))
            lines.append(f"{key}: [{inner}{sep.join(items)}{inner}]{pad}")
        elif kind == "block":
            indent = " " * draw(st.integers(0, 3))
            lines.append(f"{key}:")
            for _item in range(draw(st.integers(1, 3))):
                if draw(st.booleans()) and draw(st.booleans()):
                    lines.append(draw(st.sampled_from(["", "# note", "  # note"])))
                lines.append(f"{indent}- {draw(_scalar())}{pad}")
        elif kind == "blank":
            lines.append(pad)
        else:
            lines.append(f"{pad}# {draw(_WORD)}")
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_document())
def test_generated_frontmatter_agrees_with_the_composer(text):
    _check(text)


def test_the_fast_path_reads_most_generated_documents():
    """A fast path that declines everything would pass the agreement test: it must answer."""
    answered = sum(
        _check(text)
        for text in [
            "title: x\norder: 2\n",
            "tags: [a, b]\nprerequisites:\n- a\n- b\n",
            "a: 'q'\nb: \"r\"\n\n# note\nc:\n",
            "d: 2024-01-01\ne: .inf\nf: ~\n",
        ]
    )
    assert answered == 4


_FRONTMATTER = re.compile(r"\A---\n(.*?\n)(?:---|\.\.\.)[ \t]*$", re.S | re.M)


@pytest.mark.skipif(not CORPORA.is_dir(), reason="../shared/corpora is not here")
def test_corpus_frontmatter_agrees_with_the_composer():
    answered = total = 0
    for path in sorted(CORPORA.glob("*/**/*.md*")):
        if not path.is_file() or ".planning" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        match = _FRONTMATTER.match(text.replace("\r\n", "\n"))
        if match is None:
            continue
        total += 1
        answered += _check(match.group(1))
    assert total > 1000 and answered > total // 2, (answered, total)
