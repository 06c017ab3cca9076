"""A small GSD project written for these tests (our own text): lessons, components, a lab,
ROADMAP.md, REQUIREMENTS.md and plans in GSD's format, and helpers to run coursecheck on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from coursecheck.config import load_config
from coursecheck.engine import Engine, Result, RunOptions
from coursecheck.model import Verdict

CONFIG = """\
plugins = ["coursecheck_planning.plugin"]

[course]
content = ["content/**/*.md", "content/**/*.mdx"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}"]

[planning]
"""

INTRO = """\
---
title: Intro
---

# Intro

The lag metric is MilliSecondsBehindSource.
The Outbox Pattern keeps writes and events together.
Check it with curl -s http://localhost:8083/connectors | jq.
"""

ALERTS = """\
---
title: Alerts
prerequisites: [basics/01-intro]
---

# Alerts

Alert when MilliSecondsBehindSource stays above 5s for 2m.
"""

MORE = """\
---
title: More
---

import { Gauge } from '../../src/widgets';

# More

<Gauge />

```mermaid
graph TD
  A --> B
```
"""

GAUGE = """\
import { Frame } from './frame';

export function Gauge() {
  return null;
}

export const Dial = () => null;
"""

FRAME = "export const Frame = () => null;\n"
INDEX = "export * from './Gauge';\nexport { Frame as Box } from './frame';\n"
COMPOSE = """\
services:
  app:
    build:
      context: ./app
    volumes:
      - ./conf/app.ini:/etc/app.ini
"""

ROADMAP = """\
# Roadmap

### Phase 1: Basics
**Goal**: Learners read the lag metric and set an alert on it
**Requirements**: BAS-01, BAS-02, BAS-03a

### Phase 2: Extra material
**Goal**: Learners see the gauge widget in a lesson
**Requirements**: EXT-01
"""

REQUIREMENTS = """\
# Requirements

- [ ] **BAS-01**: The lag metric is explained
- [ ] **BAS-02**: An alert on the lag
- [ ] **BAS-03a**: A lab to try it
- [ ] **EXT-01**: The gauge widget in a lesson
"""

PLAN_BASICS = """\
---
phase: 01-basics
plan: 01
type: execute
files_modified:
  - content/01-basics/01-intro.md
  - content/01-basics/02-alerts.md
requirements: [BAS-01, BAS-02]
must_haves:
  truths:
    - "MilliSecondsBehindSource is the lag metric"
    - "Learners enjoy the module"
  artifacts:
    - path: "content/01-basics/01-intro.md"
      provides: "The intro"
      min_lines: 5
      contains: "MilliSecondsBehindSource"
    - path: "content/01-basics/02-alerts.md"
      provides: "The alert lesson"
      contains: ["5s", "2m"]
  key_links:
    - from: "02-alerts.md"
      to: "01-intro.md"
      via: "Alerts build on the intro"
    - from: "01-intro.md"
      to: "metrics reference"
      via: "The metric is named"
      pattern: "MilliSeconds\\\\w+"
---

<objective>
Two lessons: the lag metric and an alert on it.
</objective>

<tasks>
<task type="auto">
  <name>Task 1: Intro (BAS-01)</name>
  <files>content/01-basics/01-intro.md</files>
  <done>The metric is named.</done>
</task>
<task type="checkpoint:human-verify" gate="blocking">
  <name>The alert fires</name>
  <what-built>An alert rule on the lag</what-built>
  <how-to-verify>
    Start the lab, then:
    ```bash
    curl -s http://localhost:9090/api/v1/rules | jq '.data.groups | length'
    ```
    The count is 1.
  </how-to-verify>
</task>
</tasks>
"""

PLAN_LAB = """\
---
phase: 01-basics
plan: 02
files_modified: [lab/compose.yml]
must_haves:
  truths:
    - "The lab builds the app from `./app`"
  artifacts:
    - path: lab/compose.yml
      provides: "The lab"
      contains: "services"
  key_links:
    - from: lab/compose.yml
      to: lab/app/Dockerfile
      via: "build context"
      pattern: "build:.*app"
---

<objective>
A lab for BAS-03a.
</objective>
"""

PLAN_EXTRA = """\
---
phase: 02-extra
plan: 01
files_modified:
  - src/widgets/Gauge.tsx
  - content/02-extra/01-more.mdx
must_haves:
  truths:
    - "No <Spinner> remains in the lessons"
  artifacts:
    - path: src/widgets/Gauge.tsx
      provides: "The gauge"
      exports: [Gauge, Dial]
    - path: src/widgets/index.ts
      provides: "The barrel"
      exports: [Gauge, Box]
    - path: "content/02-extra/*.mdx"
      provides: "Lessons using the widget"
      contains: "from '../../src/widgets'"
  key_links:
    - from: "content/02-extra/*.mdx"
      to: "src/widgets"
      via: "import statement"
      pattern: "import .* from .*widgets"
    - from: "content/02-extra/*.mdx"
      to: "Spinner component"
      via: "removal verification"
      pattern: "Spinner"
---

<objective>
The gauge widget, used in the extra lesson (EXT-01).
</objective>
"""

FILES = {
    "content/01-basics/01-intro.md": INTRO,
    "content/01-basics/02-alerts.md": ALERTS,
    "content/02-extra/01-more.mdx": MORE,
    "src/widgets/Gauge.tsx": GAUGE,
    "src/widgets/frame.tsx": FRAME,
    "src/widgets/index.ts": INDEX,
    "lab/compose.yml": COMPOSE,
    "lab/app/Dockerfile": "FROM python:3.12-slim\n",
    ".planning/ROADMAP.md": ROADMAP,
    ".planning/REQUIREMENTS.md": REQUIREMENTS,
    ".planning/phases/01-basics/01-01-PLAN.md": PLAN_BASICS,
    ".planning/phases/01-basics/01-02-PLAN.md": PLAN_LAB,
    ".planning/phases/02-extra/02-01-PLAN.md": PLAN_EXTRA,
}


def make(root: Path, changes: dict[str, str | None] | None = None, config: str = CONFIG) -> Path:
    """Write the project (``changes``: files replaced, or removed with None)."""
    files: dict[str, str | None] = {**FILES, ".coursecheck.toml": config, **(changes or {})}
    for rel, text in files.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def run(root: Path, select: list[str] | None = None) -> Result:
    config = load_config(root / ".coursecheck.toml", root)
    return Engine(config, RunOptions(entry_points=False, cache=False, select=select or [])).run()


def verdicts(result: Result) -> dict[tuple[str, str], Verdict]:
    return {(v.kind, v.id): v for v in result.extra.get("verdicts", [])}


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the ``nth`` line containing ``needle`` (so that tests assert exact
    lines without counting by hand)."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == nth:
                return number
    raise AssertionError(f"{needle!r} not in the text")


def dedent(text: str) -> str:
    return textwrap.dedent(text)
