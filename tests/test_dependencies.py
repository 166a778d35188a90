"""`pip install .` alone runs every command: each third-party module that core/ and desktop/
import, at the top of a file or lazily inside a function, comes from a distribution that
pyproject.toml declares, not from the dev extra or from another package's dependencies."""
import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = {"core", "desktop"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> tuple[set[str], set[str], set[str]]:
    """(runtime dependencies, dev-extra dependencies, optional capabilities' extras) as
    normalised distribution names; the first includes the third."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = lambda deps: {_normalise(re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]) for d in deps}  # noqa: E731
    extras = project["optional-dependencies"]
    # an optional capability's extra (cluster: Ray) counts: its commands say how to install it
    optional = set().union(*(names(deps) for name, deps in extras.items() if name != "dev"))
    return names(project["dependencies"]) | optional, names(extras.get("dev", [])), optional


def _imports() -> dict[str, set[str]]:
    """Top-level third-party module -> the files that import it."""
    found: dict[str, set[str]] = {}
    for package in PROJECT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in PROJECT_PACKAGES | {"__future__"}:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_of_the_app_is_a_declared_dependency():
    runtime, dev, optional = _declared()
    providers = importlib.metadata.packages_distributions()
    undeclared = {}
    for module, files in sorted(_imports().items()):
        dists = {_normalise(d) for d in providers.get(module, [])}
        if not dists and _normalise(module) in optional:
            continue       # an optional capability's extra (nudenet, Ray) not installed here
        assert dists, f"{module} (imported by {sorted(files)}) is not installed at all"
        if not dists & runtime:
            undeclared[module] = (sorted(dists), sorted(files), "dev extra only" if dists & dev else "")
    assert not undeclared, f"imported but not declared in [project] dependencies: {undeclared}"


def test_the_scan_sees_lazy_imports_and_the_dependencies_it_needs():
    """The scan would catch today's known cases: onnxruntime is imported inside a function, and
    the dev extra's test images library is not imported by the app."""
    imports = _imports()
    assert "core/fidelity/detector.py" in imports["onnxruntime"]
    assert "skimage" not in imports and "pytest" not in imports
    runtime, _, _ = _declared()
    assert {"onnxruntime", "sqlite-utils", "torch", "pyside6"} <= runtime


def test_a_plain_install_carries_the_bundled_resources(tmp_path):
    """`pip install .` (not editable) must bring resources/ beside core/, where core.paths
    looks: the bundled encoder, diffusion models, judge and rules."""
    import subprocess
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("generec_studio-*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    bundled = {str(p.relative_to(ROOT)) for p in (ROOT / "resources").rglob("*") if p.is_file()}
    assert bundled and bundled <= packed, f"missing from the wheel: {sorted(bundled - packed)}"
    assert "core/paths.py" in packed and "desktop/app.py" in packed
