"""Lessons with Cyrillic names: links written plain or percent-encoded name the same lesson."""

from __future__ import annotations

from conftest import check, where

CONFIG = """
[course]
content = ["content/**/*.md"]
id = "{path}"
aliases = ["/course/{path}"]
"""


def test_percent_encoded_and_plain_cyrillic_routes_resolve(course):
    root = course(
        {
            "content/урок-1.md": (
                "# Урок 1\n\n[урок 2](/course/урок-2), [снова](/course/%D1%83%D1%80%D0%BE%D0%BA-2), "
                "[нет](/course/урок-3).\n"
            ),
            "content/урок-2.md": "# Урок 2\n\n[назад](/course/урок-1)\n",
        },
        CONFIG,
    )
    result = check(root, select=["graph/unresolved-reference"])
    assert where(result.active) == [("graph/unresolved-reference", "content/урок-1.md", 3, 78)]
    assert "'/course/урок-3'" in result.active[0].message
