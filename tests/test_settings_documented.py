"""Every setting the server reads from the environment has its row in docs/operations.md's
settings table, and every row there names a setting the server reads."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "chat_project" / "settings.py"
OPERATIONS = ROOT / "docs" / "operations.md"


def settings_read() -> set[str]:
    """The variable names settings.py reads: the first argument of env_*(...) and
    os.environ.get(...)."""
    names = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        called = ast.unparse(node.func)
        first = node.args[0]
        if (called.startswith("env_") or called == "os.environ.get") and isinstance(
            first, ast.Constant
        ):
            names.add(first.value)
    return names


def settings_documented() -> set[str]:
    """The names in the first column of the table under `## Settings`."""
    section = OPERATIONS.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.MULTILINE))


def test_every_setting_is_in_the_operations_table():
    read = settings_read()
    assert "DATABASE_URL" in read  # the reader found the settings at all
    assert sorted(read - settings_documented()) == []


def test_the_operations_table_names_only_settings_the_server_reads():
    assert sorted(settings_documented() - settings_read()) == []
