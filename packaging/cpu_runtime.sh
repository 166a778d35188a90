#!/usr/bin/env bash
# Build the installer with a CPU-only torch (issue 16, "runtime without CUDA"): create or update
# a build virtual environment holding torch 2.13.0+cpu, torchvision 0.28.0 and the project's
# other dependencies, then run packaging/build.sh with PYTHON pointing at it.
# Usage, from anywhere: bash packaging/cpu_runtime.sh [build.sh options, e.g. --no-build]
#   CPU_VENV=DIR   the build environment (default: build/cpu-venv, gitignored); reused if present
#   CPU_ENV_ONLY=1 only create/update the environment, do not build
#
# Why these versions: pyproject.toml asks for torch>=2.14.1 and torchvision>=0.29.1, the
# developer install, whose PyPI torch is the CUDA build (3.2 GB of NVIDIA libraries in the
# bundle). The CPU wheel on this machine is torch 2.13.0+cpu, so the project is not installed
# into this environment (pip would replace torch with the CUDA 2.14.1); its other dependencies
# are, read from pyproject.toml, with torch and torchvision pinned by a constraints file. The
# spec collects the app's own code from the checkout.
# torchvision 0.28.0 is PyPI's (+cu130) wheel, installed without dependencies: its Python code
# is what the app uses (open_clip's transforms); its CUDA-built C ops cannot load beside a CPU
# torch, and packaging/rthook_torchvision_cpu.py stubs the module that would need them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TORCH=2.13.0
TORCHVISION=0.28.0
VENV=${CPU_VENV:-$ROOT/build/cpu-venv}
PY=$VENV/bin/python

if [ ! -x "$PY" ]; then
    echo "== creating $VENV"
    python3 -m venv "$VENV"
fi

CONSTRAINTS=$(mktemp /tmp/generec-cpu-constraints.XXXXXX)
trap 'rm -f "$CONSTRAINTS"' EXIT
printf 'torch==%s\ntorchvision==%s\n' "$TORCH" "$TORCHVISION" > "$CONSTRAINTS"

have() { "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('$1').split('+')[0] != '$2')" 2>/dev/null; }

# torch first, from the CPU wheel (pip's find-links on this machine hold torch-2.13.0+cpu)
if ! have torch "$TORCH"; then
    echo "== installing torch $TORCH (CPU)"
    "$PY" -m pip install -c "$CONSTRAINTS" "torch==$TORCH"
fi
if ! have torchvision "$TORCHVISION"; then
    echo "== installing torchvision $TORCHVISION (Python code; --no-deps keeps the CPU torch)"
    "$PY" -m pip install --no-deps "torchvision==$TORCHVISION"
fi

# the project's other dependencies, as pyproject.toml states them, and PyInstaller
mapfile -t DEPS < <("$PY" - <<'EOF'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for dep in deps:
    name = re.match(r"[A-Za-z0-9_.-]+", dep).group(0).lower()
    if name not in ("torch", "torchvision"):
        print(dep)
print("pyinstaller>=6.11")
EOF
)
echo "== installing the other dependencies (torch==$TORCH, torchvision==$TORCHVISION pinned)"
"$PY" -m pip install -q -c "$CONSTRAINTS" "${DEPS[@]}"

# The same stub as the bundle's runtime hook (packaging/rthook_torchvision_cpu.py), for this
# environment's interpreters: PyInstaller imports packages in it to find their submodules, and
# without the stub `import torchvision` fails, so transformers' PreTrainedModel and with it
# diffusers.models.unets cannot be imported and the bundle would lack the UNets. A .pth line runs
# at every start of this environment's Python (site-packages only; the developer install is
# untouched).
SITE=$("$PY" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
printf '%s\n' "import sys, types; sys.modules.setdefault('torchvision._meta_registrations', types.ModuleType('torchvision._meta_registrations'))" \
    > "$SITE/generec_torchvision_cpu_stub.pth"

echo "== build environment $VENV"
"$PY" -m pip list --format=freeze
"$PY" - <<EOF
import importlib.metadata as m, sys
import torch
print("torch", torch.__version__, "cuda:", torch.version.cuda, "| torchvision", m.version("torchvision"))
import open_clip, torchvision.transforms                    # needs the stub above
from transformers import PreTrainedModel                    # imports torchvision when present
print("torchvision, open_clip and transformers import")
nvidia = sorted(d.metadata["Name"] for d in m.distributions() if "nvidia" in d.metadata["Name"].lower())
if torch.version.cuda is not None or nvidia:
    sys.exit(f"cpu_runtime.sh: not a CPU-only torch: cuda {torch.version.cuda}, {nvidia}")
EOF

[ "${CPU_ENV_ONLY:-}" = 1 ] && exit 0
PYTHON=$PY exec bash packaging/build.sh "$@"
