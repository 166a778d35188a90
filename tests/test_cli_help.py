"""The CLI for the operator (issue 19): every option of every command has a help text, and
`generec --help` groups the commands by what they are for."""
import argparse
import subprocess
import sys
from pathlib import Path

from core.cli import build_parser
from core.cli.help_texts import GROUPS

ROOT = Path(__file__).resolve().parent.parent


def _commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, sub.choices


def test_every_option_of_every_command_has_help():
    _, commands = _commands()
    missing = [(name, action.dest) for name, parser in commands.items()
               for action in parser._actions
               if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()]
    assert not missing, f"options without help: {missing}"
    for parser in commands.values():
        parser.format_help()        # every %(default)s in a help text expands


def test_review_options_say_what_they_do():
    _, commands = _commands()
    helps = {a.dest if a.dest != "decision" else a.const: a.help for a in commands["review"]._actions}
    assert "current" in helps["approve"] and "reason" in helps["reject"]
    assert helps["reason"] and helps["generation_id"]


def test_help_groups_every_command_under_one_heading():
    out = subprocess.run([sys.executable, "-m", "core.cli", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    _, commands = _commands()
    for title, names in GROUPS:
        assert f"\n{title}:\n" in text
    listed = [line.split()[0] for line in text.splitlines()
              if line.startswith("  ") and line.split() and line.split()[0] in commands]
    assert sorted(listed) == sorted(commands), "each command once, under a heading"
    assert "Other:" not in text, "a command is missing from GROUPS"
