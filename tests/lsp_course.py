"""A small course for the language server's tests (written here, not copied): three
lessons in two modules, Russian prose with English terms, a glossary, MDX with a Mermaid
component, and planted defects the tests look for."""

from __future__ import annotations

from pathlib import Path

CONFIG = """\
[course]
content = ["content/**/*.{md,mdx}"]
data = ["data/*.json"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}", "/course/{path}"]

[frontmatter.fields.title]
type = "string"
required = true

[frontmatter.fields.order]
type = "integer"

[glossary]
file = "data/glossary.json"
fields = { term = "term", english = "termEn", definition = "definition" }
"""

GLOSSARY = """\
[
  {"term": "Контейнер", "termEn": "Container", "definition": "Изолированный процесс с собственной файловой системой."},
  {"term": "Образ", "termEn": "Image", "definition": "Неизменяемый шаблон, из которого запускают контейнеры."}
]
"""

INTRO = """\
---
title: "Введение"
order: 1
---

# Введение

Контейнер (container) запускается из образа (image). Сначала поставьте Dоcker на машину.

Дальше: [образы](/course/01-basics/02-images).
"""

IMAGES = """\
---
title: "Образы"
order: 2
prerequisites:
  - basics/01-intro
---

import { Mermaid } from '../../components/Mermaid.tsx';

# Образы

Образ собирают командой `docker build`. Вернуться к [введению](./01-intro.md#введение).

<Mermaid chart={`
flowchart LR
    A --> B
`} />
"""

COMPOSE = """\
---
title: "Compose"
order: 1
prerequisites: ["basics/02-images"]
---

# Compose

Несколько контейнеров описывают в одном файле. См. [образы](/course/01-basics/02-images).
"""

FILES = {
    ".coursecheck.toml": CONFIG,
    "data/glossary.json": GLOSSARY,
    "content/01-basics/01-intro.md": INTRO,
    "content/01-basics/02-images.mdx": IMAGES,
    "content/02-advanced/01-compose.md": COMPOSE,
}
INTRO_REL = "content/01-basics/01-intro.md"
IMAGES_REL = "content/01-basics/02-images.mdx"
COMPOSE_REL = "content/02-advanced/01-compose.md"


def write_course(root: Path, extra: dict[str, str] | None = None) -> Path:
    for rel, text in {**FILES, **(extra or {})}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
