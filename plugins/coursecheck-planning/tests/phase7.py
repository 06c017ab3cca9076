"""A phase written in the format of real GSD phases (our own text): two plans with truths,
lesson and dashboard artifacts, key links, requirement ids and a checkpoint, ROADMAP.md and
REQUIREMENTS.md. The golden phase report (golden/07-VERIFICATION.md) is made from it."""

from __future__ import annotations

LESSON_METRICS = """\
---
title: "Метрики задержки"
description: "Какие метрики показывают отставание коннектора"
order: 1
prerequisites: []
---

import { Mermaid } from '../../components/Mermaid.tsx';

# Метрики задержки

Главная метрика задержки — `LagMillis`. Если LagMillis растёт, коннектор не успевает.

<Mermaid chart={`
graph LR
  DB --> Connector --> Broker
`} />

Панель Prometheus открывается на localhost:9090.

```mermaid
sequenceDiagram
  Connector->>Broker: event
```

Вторая метрика — `QueueFree`: свободное место в очереди.
"""

LESSON_ALERTS = """\
---
title: "Алерты"
description: "Предупреждение и критический уровень"
order: 2
prerequisites: ["ops/01-lag-metrics"]
---

# Алерты

Предупреждение: LagMillis выше 5s в течение 2m.
Критический уровень: LagMillis выше 30s в течение 5m.

Запрос к Prometheus на localhost:9090 возвращает активные правила.
"""

DASHBOARD = """\
{
  "title": "Ops",
  "templating": {"list": [{"name": "connector"}]},
  "panels": [{"title": "Lag", "targets": [{"expr": "LagMillis"}]}]
}
"""

ROADMAP = """\
# Roadmap

### Phase 7: Operations
**Goal**: Learners watch the lag of a connector and alert on it
**Requirements**: OPS-01, OPS-02
"""

REQUIREMENTS = """\
# Requirements

- [ ] **OPS-01**: Метрики задержки и их чтение
- [ ] **OPS-02**: Алерты на задержку
"""

PLAN_01 = """\
---
phase: 07-operations
plan: 01
type: execute
wave: 1
depends_on: []
files_modified:
  - content/07-ops/01-lag-metrics.mdx
  - labs/dashboards/ops.json
autonomous: false
requirements: [OPS-01]

must_haves:
  truths:
    - "LagMillis is the primary lag metric"
    - "Prometheus is reached at localhost:9090"
    - "Learners trust the numbers"
  artifacts:
    - path: "content/07-ops/01-lag-metrics.mdx"
      provides: "Lag metrics and how to read them"
      min_lines: 20
      contains: "LagMillis"
    - path: "labs/dashboards/ops.json"
      provides: "The dashboard"
      contains: "LagMillis"
  key_links:
    - from: "ops.json"
      to: "labs/dashboards/"
      via: "Provisioned from the folder"
    - from: "01-lag-metrics.mdx"
      to: "labs/prometheus/prometheus.yml"
      via: "Scrape configuration"
      pattern: "localhost:9090"
---

<objective>
The lag metrics lesson and its dashboard (OPS-01).
</objective>

<tasks>
<task type="auto">
  <name>Task 1: Lesson on lag metrics (OPS-01)</name>
  <files>content/07-ops/01-lag-metrics.mdx</files>
  <done>LagMillis is explained.</done>
</task>
<task type="checkpoint:human-verify" gate="blocking">
  <name>Dashboard import</name>
  <what-built>The dashboard loads with its connector variable</what-built>
  <how-to-verify>
    Import the dashboard:
    ```bash
    curl -s -X POST localhost:3000/api/dashboards/db -d @labs/dashboards/ops.json
    ```
    Then open it in the browser.
  </how-to-verify>
</task>
</tasks>
"""

PLAN_02 = """\
---
phase: 07-operations
plan: 02
type: execute
wave: 2
depends_on: [07-01]
files_modified:
  - content/07-ops/02-alerts.mdx
autonomous: true
requirements: [OPS-02]

must_haves:
  truths:
    - "Two alert levels: warning at 5s (for 2m), critical at 30s (for 5m)"
    - "QueueFree warns before the queue is full"
    - "HeartbeatGap detects a stale connector"
  artifacts:
    - path: "content/07-ops/02-alerts.mdx"
      provides: "Alert rules and thresholds"
      min_lines: 30
      contains: ["5s", "30s"]
  key_links:
    - from: "02-alerts.mdx"
      to: "01-lag-metrics.mdx"
      via: "Alerts watch the lag metrics"
---

<objective>
Alerts on the lag (OPS-02).
</objective>
"""

FILES = {
    "content/07-ops/01-lag-metrics.mdx": LESSON_METRICS,
    "content/07-ops/02-alerts.mdx": LESSON_ALERTS,
    "labs/dashboards/ops.json": DASHBOARD,
    ".planning/ROADMAP.md": ROADMAP,
    ".planning/REQUIREMENTS.md": REQUIREMENTS,
    ".planning/phases/07-operations/07-01-PLAN.md": PLAN_01,
    ".planning/phases/07-operations/07-02-PLAN.md": PLAN_02,
    ".coursecheck.toml": """\
plugins = ["coursecheck_planning.plugin"]

[course]
content = ["content/**/*.mdx"]
data = ["labs/**/*.json"]
id = "{path}"
aliases = ["{dir|unnumbered}/{stem}"]

[planning]
""",
}
