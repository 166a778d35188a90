"""House rules that code review alone would miss (DESIGN.md section 2)."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_never_imports_qt():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "core").rglob("*.py")
                 if any(m.split(".")[0] in QT_MODULES for m in imported_modules(p))]
    assert offenders == []


def test_heavy_libraries_stay_off_the_start_up_path():
    """torch, open_clip and diffusers load lazily, never when the GUI or the CLI starts."""
    code = ("import sys, main, desktop.main_window, core.cli; core.cli.build_parser(); "
            "print(sorted({'torch', 'open_clip', 'diffusers'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"


def sql_calls(path: Path) -> list[str]:
    """`path:line` of each use of a database connection: `.conn`, `.execute*`."""
    tree = ast.parse(path.read_text(), str(path))
    return [f"{path.relative_to(ROOT)}:{node.lineno}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr in ("conn", "execute", "executemany", "executescript")]


def test_sql_lives_in_core_store():
    """Queries belong in core/store; every other package calls its named functions."""
    modules = [p for p in (ROOT / "core").rglob("*.py") if (ROOT / "core" / "store") not in p.parents]
    modules += list((ROOT / "desktop").rglob("*.py")) + [ROOT / "main.py"]
    assert [use for p in modules for use in sql_calls(p)] == []
    assert sql_calls(ROOT / "core" / "store" / "corpus.py")      # the rule can see a query
