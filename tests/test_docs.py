"""The documentation says what the code does: the README's commands, rule table and examples."""

from __future__ import annotations

import importlib.util
import re

import pytest
from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).splitlines()
    assert first_block[0].startswith("pip install . && coursecheck ")
    assert first_block[1].startswith("pip install '.[test]' && pytest ")
    assert README.index("```bash") < 40  # right under the title
    assert "python3 -m pytest" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_rule_table_and_rules_page_are_current():
    spec = importlib.util.spec_from_file_location("rules_doc", REPO / "scripts" / "rules-doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, "run: python scripts/rules-doc.py"
    table = README.split("<!-- rules-table:start -->")[1].split("<!-- rules-table:end -->")[0]
    assert "[`graph/unresolved-reference`](docs/rules.md#graphunresolved-reference)" in table


def test_readme_rule_examples_pass_test_rules(cli, tmp_path):
    section = README.split("### Writing your own rules in TOML")[1].split("\n### ")[0]
    (body,) = re.findall(r"^```toml\n(.*?)^```$", section, re.S | re.M)
    kinds = set(re.findall(r'^kind = "([a-z]+)"', body, re.M))
    assert kinds == {
        "existence",
        "required",
        "substitution",
        "occurrence",
        "consistency",
        "conditional",
        "metric",
        "frontmatter",
    }
    (tmp_path / "readme-rules.toml").write_text(body, encoding="utf-8")
    code, out, err = cli(tmp_path, "test-rules", "--strict", "readme-rules.toml")
    assert (code, err) == (0, ""), out
    assert "8 rules passed, 0 failed" in out


@pytest.mark.parametrize("block", re.findall(r"^```toml\n(.*?)^```$", README, re.S | re.M)[:3])
def test_readme_config_snippets_parse(block):
    from coursecheck.config import tomllib  # tomli on Python 3.10

    tomllib.loads(block)
