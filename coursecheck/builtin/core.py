"""Rules about coursecheck itself and about files it cannot read.

Their findings are produced by the parsers and the engine (a file that cannot be decoded,
a plugin that crashed, a suppression that silences nothing); the rules here give them an
id, a level and documentation like any other rule.
"""

from __future__ import annotations

from typing import Any

from coursecheck import hookimpl
from coursecheck.rules import Rule, rule

ALL_KINDS = ("markdown", "mdx", "json", "yaml", "text")


def _produced_elsewhere(doc: Any, ctx: Any) -> None:
    """Findings of this rule come from the parser or the engine, not from a check."""
    return None


def _declare(rule_id: str, level: str, docs: str, tags: tuple[str, ...] = ()) -> Rule:
    declared = rule(rule_id, level=level, kinds=ALL_KINDS, tags=tags)(_produced_elsewhere)
    declared.docs = docs.strip()
    return declared


ENCODING = _declare(
    "parse/encoding",
    "error",
    """
A file could not be decoded as UTF-8 text.

## What it does
Reports a file that is not valid UTF-8 (with the line and column of the first bad byte) or
that contains NUL bytes, as binary files do. The file is not checked further; the rest of
the run goes on.

## Why it matters
Course sites (Astro, Docusaurus, MkDocs) read lessons as UTF-8: a file saved in CP1251 or
KOI8-R shows as mojibake to students, or breaks the build.

## Example
A lesson saved by an old editor in Windows-1251: `Привет` is stored as bytes `cf f0 e8 e2
e5 f2`, which are not UTF-8.

## How to fix
Re-save the file as UTF-8 (`iconv -f cp1251 -t utf-8 lesson.md > lesson.utf8.md`). If a
binary file matched a content glob, narrow the glob or add it to `course.exclude`.
""",
)

UNREADABLE = _declare(
    "parse/unreadable",
    "error",
    """
A file or folder could not be read, or is too large to check.

## What it does
Reports files the operating system refuses to read (permissions, broken links), folders
that cannot be listed, and files over 8 MiB, which are skipped.

## Why it matters
A lesson that is silently skipped is a lesson nobody checks.

## Example
`chmod 000 lesson.mdx`, then `coursecheck`.

## How to fix
Fix the permissions, or exclude the path with `course.exclude`. Split very large files.
""",
)

FRONTMATTER = _declare(
    "parse/frontmatter",
    "error",
    """
The YAML frontmatter of a lesson cannot be read.

## What it does
Reports frontmatter that is opened with `---` and never closed, that is not valid YAML
(at the line and column the YAML parser stopped), that repeats a key, or that is not a
mapping of fields.

## Why it matters
Site generators refuse to build a page whose frontmatter they cannot parse, and every rule
that reads the title, order or prerequisites of the lesson is blind to it.

## Example
```markdown
---
title: "Тома: хранение данных
order: 1
---
```
Reported at line 4, column 1.
The title's closing quote is missing: the YAML parser stops where the next quote would be.

Use instead:
```markdown
---
title: "Тома: хранение данных"
order: 1
---
```

## How to fix
Correct the YAML at the reported place; quote values that contain `:` or `#`.
""",
    ("frontmatter",),
)

MDX_SYNTAX = _declare(
    "parse/mdx-syntax",
    "error",
    """
MDX that the MDX compiler rejects: an unclosed or mismatched tag, expression or comment, a `<` that starts no tag.

## What it does
Reports, at the place `@mdx-js/mdx`'s `compile` names (checked against it on a set of broken
files, `scripts/mdx_harness.py --broken`):
- a JSX tag, `{expression}`, template literal or `{/* comment */}` whose end is missing
  (at its opening place; the compiler names the end of the file);
- a tag never closed: a tag on a line of its own (a *flow* tag) must be closed before the
  end of the file, a tag in a line of text must be closed in the same paragraph; a closing
  tag with no opening one, or closing another tag than the innermost open one;
- `<` followed by a character that cannot start a tag name (`<5 ms`, `<=`, `<-`), an
  autolink (`<https://...>`, `<team@example.org>`) or an HTML comment (`<!-- -->`): MDX reads
  each as a JSX tag;
- an expression in a paragraph that runs past a blank line.
Code (fenced at any indentation, inline) is never read as MDX. The rest of the file is still
checked, reading the broken part as text.

## Why it matters
The MDX compiler stops at the first such error, so the whole lesson fails to build.

## Example
```mdx
Latency stays <5 ms on average.

<Mermaid chart={`
flowchart LR
  A --> B
} />
```
Reported at line 1, column 16.
`<5` starts a tag whose name cannot begin with a digit; the template literal is never closed.

Use instead:
```mdx
Latency stays under 5 ms on average.

<Mermaid chart={`
flowchart LR
  A --> B
`} />
```

## How to fix
Close the element, expression or comment at the place the message names; write `\\<` (or
`&lt;`) for a less-than sign, `[text](url)` for a link and `{/* ... */}` for a comment.
""",
    ("mdx",),
)

UNTERMINATED_FENCE = _declare(
    "parse/unterminated-fence",
    "warning",
    """
A code fence is opened and never closed.

## What it does
Reports a ```` ``` ```` or `~~~` fence with no closing fence of the same character and at
least the same length (a fence in a block quote or on a list item's line also ends with its
container). When a line before it looks like an opener but is none (a backtick fence whose
info string has a backtick, ```` ```js` ````), the fence left open is that line's doing: the
finding is at that line.

## Why it matters
Everything after the fence, to the end of the file, renders as code: headings, links and
diagrams of the rest of the lesson disappear.

## Example
````markdown
```bash
docker run hello-world
## Следующий раздел
````
Reported at line 1, column 1.

Use instead:
````markdown
```bash
docker run hello-world
```
## Следующий раздел
````

## How to fix
Add the closing fence where the code ends.
""",
)

DATA_SYNTAX = _declare(
    "parse/data-syntax",
    "error",
    """
A JSON or YAML data file (glossary, quiz, dashboard) is not valid.

## What it does
Reports the line and column where the JSON or YAML parser stopped.

## Why it matters
The site or lab that loads the file fails, and coursecheck cannot check the glossary terms,
quiz references or dashboard assertions it holds.

## Example
```json
{ "term": "образ", "termEn": "image", }
```
Reported at line 1, column 39.
JSON allows no trailing comma.

Use instead:
```json
{ "term": "образ", "termEn": "image" }
```

## How to fix
Correct the syntax at the reported place.
""",
)

OUTSIDE_ROOT = _declare(
    "parse/outside-root",
    "error",
    """
A symbolic link in the course leads outside the project root, or into its `.git` folder.

## What it does
Reports a link that a lesson, a data file, the folder of a content or data glob, the
glossary file, a must-have artifact or key link, or a relative link in a lesson goes
through, when the link's target is outside the project root or inside `.git` (or `.hg`,
`.svn`). coursecheck does not follow the link: the file behind it is neither read nor
checked, and its content can appear in no finding or report. The finding is at the link,
and quotes what the link says. Links that stay inside the project keep working: a lesson
linked to another file of the course is checked as usual.

## Why it matters
A course repository is not always yours to trust: CI checks pull requests from forks, and
`coursecheck` runs in a contributor's branch. A lesson committed as a link to
`../.git/config` (where a CI checkout keeps the job's token) or to a file of the runner's
home would otherwise be read, and a rule quoting what it matched would print the secret
into the log, the SARIF upload or the report. A link out of the repository is also broken
for everyone who clones it.

## Example
```console
$ ln -s ../.git/config content/02-notes.md
$ coursecheck
content/02-notes.md:1:1: error parse/outside-root is a symbolic link to '../.git/config', leading into .git (version-control data, which may hold credentials); not followed
```

## How to fix
Replace the link with the file itself (`cp --remove-destination "$(readlink -f LINK)"
LINK`), point it at a file inside the project, or exclude the path with `course.exclude`.
A course that really lives outside its repository's root: run coursecheck from a root
that contains it (`--root`).
""",
)

FILE_NAME = _declare(
    "parse/file-name",
    "error",
    """
A file of the course has a name that is not valid UTF-8.

## What it does
Reports a file the course's globs select whose name holds bytes that are not UTF-8 (a name
written by an old archive tool in CP1251 or KOI8-R, or on purpose). The name is shown with
those bytes as `\\xNN` escapes; the file is not checked (its name could not be written
into a report, a SARIF file or a fingerprint). The rest of the run goes on.

## Why it matters
Site generators, Git hosting and browsers expect UTF-8 names: such a lesson has no working
URL, shows as `?` in listings, and breaks tools that read the file list.

## Example
A lesson unpacked from a zip made on Windows: `content/03-\\xcf\\xf0\\xe8.md` (`При` in CP1251).

## How to fix
Rename the file to a UTF-8 name (`git mv`, or `convmv -f cp1251 -t utf-8`).
""",
)

INTERNAL_ERROR = _declare(
    "core/internal-error",
    "error",
    """
A plugin or rule crashed while checking a file.

## What it does
Reports, at the file being checked, that a plugin raised an exception or returned
something coursecheck cannot use. The message names the plugin, the rule and the file; the
traceback is printed with `-v`. The rest of the run goes on.

## Why it matters
A crashing rule checks nothing: its silence must not be mistaken for a clean course.

## Example
A third-party plugin whose rule divides by the number of headings crashes on a lesson with
no heading.

## How to fix
Report the message (and the `-v` traceback) to the plugin's authors; meanwhile switch the
rule off for that file with an `[[overrides]]` entry.
""",
)

UNUSED_SUPPRESSION = _declare(
    "core/unused-suppression",
    "warning",
    """
An inline suppression comment silences nothing.

## What it does
Reports `coursecheck-disable...` comments that covered no finding in this run, or that name
a rule that does not exist.

## Why it matters
Stale suppressions hide future problems: the defect they were written for is gone, but a
new one on the same line would be silenced without anyone deciding so.

## Example
```mdx
{/* coursecheck-disable-next-line anti-patterns/todo */}
Урок закончен: незаконченных мест в нём нет.
```
Reported at line 1, column 1.

Use instead:
```mdx
Урок закончен: незаконченных мест в нём нет.
```

## How to fix
Delete the comment, or correct the rule id it names. Suppression syntax:
`coursecheck-disable-next-line RULE`, `coursecheck-disable RULE` ... `coursecheck-enable
RULE`, `coursecheck-disable-file RULE`, inside `<!-- -->` (Markdown) or `{/* */}` (MDX);
add `-- reason` to say why.
""",
)


@hookimpl
def coursecheck_rules() -> list[Rule]:
    return [
        ENCODING,
        UNREADABLE,
        FRONTMATTER,
        MDX_SYNTAX,
        UNTERMINATED_FENCE,
        DATA_SYNTAX,
        OUTSIDE_ROOT,
        FILE_NAME,
        INTERNAL_ERROR,
        UNUSED_SUPPRESSION,
    ]
