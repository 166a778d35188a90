#!/usr/bin/env bash
# Build the one-folder app with PyInstaller, smoke-test both executables, and wrap the folder in
# an installer archive (Linux: .tar.xz holding the folder and install.sh), then test the install.
# Usage, from anywhere: bash packaging/build.sh [--no-build]
#   --no-build   reuse dist/generec-studio: smoke tests, archive and install test only
#   PYTHON=...   the interpreter whose installed packages are bundled (default: the CPU build
#                environment that packaging/cpu_runtime.sh makes or reuses: CPU_VENV, else
#                build/cpu-venv)
#   DEV_PYTHON=... the developer install, whose results the installed copy must reproduce
#                (default: python)
# Figures (build time, sizes) go to dist/build-report.txt, the smoke-test output to
# dist/smoke-test.log and the GUI's screenshot to dist/smoke-screenshot.png.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ -z "${PYTHON:-}" ]; then
    CPU_ENV_ONLY=1 bash packaging/cpu_runtime.sh >/dev/null
    PYTHON=${CPU_VENV:-$ROOT/build/cpu-venv}/bin/python
fi
# absolute paths: the smoke tests run with a PATH that holds only the installed commands
PYTHON=$(command -v "$PYTHON")
DEV_PYTHON=$(command -v "${DEV_PYTHON:-python}")
VERSION=$("$PYTHON" -c "import core; print(core.__version__)")
APP=$ROOT/dist/generec-studio
NAME=generec-studio-$VERSION-linux-$(uname -m)
ARCHIVE=$ROOT/dist/$NAME.tar.xz
REPORT=$ROOT/dist/build-report.txt

# The licence gate first (seconds): no GPL or AGPL distribution in the default install's closure
# outside packaging/licence-allowlist.txt; it names the offender and stops the build.
echo "== licence gate"
"$PYTHON" packaging/licences.py

build_s="not run (--no-build)"
if [ "${1:-}" != "--no-build" ]; then
    if ! "$PYTHON" -m PyInstaller --version >/dev/null 2>&1; then
        echo "== installing PyInstaller"
        "$PYTHON" -m pip install "pyinstaller>=6.11"
    fi
    echo "== building with PyInstaller $("$PYTHON" -m PyInstaller --version)"
    start=$(date +%s)
    "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
        --distpath dist --workpath build/pyinstaller packaging/generec-studio.spec
    build_s="$(( $(date +%s) - start )) s"
    echo "built in $build_s"
fi

# Into the bundle's folder (so into the archive too): every third-party distribution with its
# licence and the licence files it ships.
"$PYTHON" packaging/licences.py --bundle "$APP" >/dev/null
[ -s "$APP/THIRD-PARTY-LICENSES.txt" ]

# The smoke tests run the installed copy as a user would: a fresh HOME (the install's and the
# app's data folder), a PATH with only the installed commands and the system's, from an empty
# folder, so nothing from this checkout, the developer install or this user's data can stand in
# for what the bundle lacks. The same tasks run in the developer install (DEV_PYTHON) on a copy
# of the same corpus, and the results must agree (issue 16: same frames selected, same check
# verdicts, outputs and sampler values within 1e-3).
SMOKE=$(mktemp -d /tmp/generec-smoke.XXXXXX)
trap 'rm -rf "$SMOKE"' EXIT
INSTALL_HOME=$SMOKE/home
BIN=$INSTALL_HOME/.local/bin
DB=$SMOKE/x.db
DEV_DB=$SMOKE/developer/x.db
mkdir -p "$SMOKE/installed" "$SMOKE/developer"
unset PYTHONPATH GENEREC_HOME

run() { echo "\$ ${*/#$BIN\//}" >&2; "$@"; }
dev() { echo "\$ (developer install) generec $*" >&2; ( cd "$ROOT" && "$DEV_PYTHON" -m core.cli "$@" ); }
field() { "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)$1)"; }

# task name, then its arguments (every task of `generate`; the item is the demo's second)
TASKS=("thumbnail --item demo-0002" "clip --item demo-0002" "style --item demo-0002 --style cartoon"
       "revise --item demo-0002 --max-seconds 2" "create --frames 8"
       "thumbnail-gen --item demo-0002")
INSTRUCTION="a red circle on a beach"

smoke() {
    cd "$SMOKE"
    export HOME=$INSTALL_HOME PATH=$BIN:/usr/local/bin:/usr/bin:/bin
    local gen_id task
    # shellcheck disable=SC2086
    run generec --version
    run generec demo --items 6 --users 4 --db "$DB" --quiet
    run generec info --json --db "$DB" | tee info.json
    [ "$(field '["items"]' < info.json)" = "6" ]
    "$PYTHON" -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))" \
        "$DB" "$DEV_DB"                                             # the same corpus for both
    run generec index --db "$DB" --quiet                            # open_clip + bundled encoder
    dev index --db "$DEV_DB" --quiet
    for task in "${TASKS[@]}"; do                                   # each checked in its job
        set -- $task
        [ "$1" = create ] && set -- "$@" --instruction "$INSTRUCTION"
        run generec generate --user u0001 --task "$@" --json --quiet --db "$DB" > "installed/$1.json"
        dev generate --user u0001 --task "$@" --json --quiet --db "$DEV_DB" > "developer/$1.json"
    done
    echo "== the installed copy against the developer install"
    "$PYTHON" "$ROOT/packaging/compare_installs.py" installed developer
    dev selftest --json > developer-selftest.json
    run generec selftest --against developer-selftest.json          # encoder and sampler values
    gen_id=$(field '["generation_id"]' < installed/clip.json)
    run generec check "$gen_id" --json --db "$DB" --quiet > checks.json   # open_nsfw, RetinaFace
    "$PYTHON" -c "import json; s = {c['name']: c['status'] for c in json.load(open('checks.json'))}
print('checks:', s); assert 'error' not in s.values(), 'a check could not run in the bundle'"
    run generec review "$gen_id" --approve --reason "smoke test" \
        --override "smoke test of the build" --db "$DB"
    run generec export "$gen_id" --out out --json --quiet --db "$DB"   # watermark, C2PA
    run generec verify "out/$gen_id.mp4" --json > verify.json
    echo "verify: payload $(field '["payload"]' < verify.json)," \
         "c2pa content intact: $(field '["provenance"]["c2pa"]["content_intact"]' < verify.json)"
    run generec train-thumbnail-model --steps 1 --batch 2 --out thumb --json --quiet \
        --db "$DB" | cut -c1-160                                    # diffusers UNet and scheduler
    if command -v xvfb-run >/dev/null; then
        run timeout 600 xvfb-run -a generec-studio --db "$DB" --screenshot shot.png
    else
        QT_QPA_PLATFORM=offscreen run timeout 600 generec-studio --db "$DB" --screenshot shot.png
    fi
    [ "$(stat -c %s shot.png)" -gt 10000 ]
    echo "screenshot: $(stat -c %s shot.png) bytes"
    cp shot.png "$ROOT/dist/smoke-screenshot.png"
}

echo "== installer archive"
start=$(date +%s)
# xz, not gzip (issue 16's 600 MB: gzip left the CPU build at 780 MB; libtorch_cpu.so alone
# 115 MB gzip -6, 73 MB xz -6); `tar -xJf` extracts it anywhere GNU or BSD tar and xz are.
rm -f "$ROOT"/dist/generec-studio-*-linux-*.tar.gz
# (S: the prefix goes on member names, not on symbolic links' targets: `generec` -> generec-studio)
XZ_OPT=${XZ_OPT:--6 -T0} tar -cJf "$ARCHIVE" --transform "s,^,$NAME/,S" -C "$ROOT/dist" generec-studio \
    -C "$ROOT/packaging" install.sh
archive_s=$(( $(date +%s) - start ))

# Every smoke test runs the installed copy: the archive extracted into an empty folder,
# install.sh run with the fresh HOME, the commands through the links it makes in ~/.local/bin.
echo "== install (archive extracted, installed into a fresh HOME)"
( cd "$SMOKE" && mkdir extracted && cd extracted && tar -xJf "$ARCHIVE" && mkdir "$INSTALL_HOME"
  HOME=$INSTALL_HOME XDG_DATA_HOME= PATH=/usr/bin:/bin sh "$NAME/install.sh"
  ls "$INSTALL_HOME/.local/share/applications"
  echo "installed THIRD-PARTY-LICENSES.txt: $(sed -n 4p "$INSTALL_HOME/.local/opt/generec-studio/THIRD-PARTY-LICENSES.txt")"
  rm -rf "$NAME/generec-studio" ) 2>&1 | tee "$ROOT/dist/smoke-test.log"
installed_bytes=$(du -sb "$INSTALL_HOME/.local/opt/generec-studio" | cut -f1)

echo "== smoke tests (the installed copy)"
start=$(date +%s)
( smoke ) 2>&1 | tee -a "$ROOT/dist/smoke-test.log"
smoke_s=$(( $(date +%s) - start ))

# issue 16: the first window within 3 s of launching the installed copy
echo "== first window (the installed generec-studio, on the smoke corpus)"
if command -v xvfb-run >/dev/null && command -v xwininfo >/dev/null; then
    first_window=$(HOME=$INSTALL_HOME xvfb-run -a "$PYTHON" packaging/first_window.py \
                   "$BIN/generec-studio" --db "$DB" --runs 3 | tail -1)
else
    first_window="first window: not measured (needs xvfb-run and xwininfo)"
fi
echo "$first_window" | tee -a "$ROOT/dist/smoke-test.log"

# Uninstall: no file or folder of the install is left (the folders it created in the fresh HOME
# included); what remains is the app's data (settings, the default corpus folder), kept on purpose.
echo "== uninstall"
( HOME=$INSTALL_HOME XDG_DATA_HOME= PATH=/usr/bin:/bin sh "$SMOKE/extracted/$NAME/install.sh" --uninstall
  cd "$INSTALL_HOME"
  left=$(find . -path '*generec-studio*'; for f in .local/opt .local/bin .local/share/applications; do
         [ ! -e "$f" ] || echo "./$f"; done)
  if [ -n "$left" ]; then echo "uninstall left: $left"; exit 1; fi
  echo "uninstall: nothing of the install left; kept in HOME: $(find . -mindepth 1 -maxdepth 3 | tr '\n' ' ')"
) 2>&1 | tee -a "$ROOT/dist/smoke-test.log"

{
    echo "version: $VERSION, $(uname -sm), $("$PYTHON" -c 'import torch; print("torch", torch.__version__)')"
    echo "pyinstaller build: $build_s"
    echo "smoke tests: ${smoke_s} s"
    echo "folder: $(du -sh "$APP" | cut -f1) ($(du -sb "$APP" | cut -f1) bytes, $(find "$APP" -type f | wc -l) files)"
    echo "archive: $(basename "$ARCHIVE") $(du -h "$ARCHIVE" | cut -f1) ($(stat -c %s "$ARCHIVE") bytes), ${archive_s} s"
    echo "installed folder: $installed_bytes bytes"
    echo "$first_window"
} | tee "$REPORT"
