#!/usr/bin/env bash
# Build the one-folder app with PyInstaller, smoke-test both executables, and wrap the folder in
# an installer archive (Linux: .tar.xz holding the folder and install.sh), then test the install.
# Usage, from anywhere: bash packaging/build.sh [--no-build]
#   --no-build   reuse dist/generec-studio: smoke tests, archive and install test only
#   PYTHON=...   the interpreter whose installed packages are bundled (default: python)
# Figures (build time, sizes) go to dist/build-report.txt, the smoke-test output to
# dist/smoke-test.log and the GUI's screenshot to dist/smoke-screenshot.png.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python}
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

# The smoke tests run the bundle from an empty folder with its own user data folder, so
# nothing from this checkout or this user's data can stand in for what the bundle lacks.
SMOKE=$(mktemp -d /tmp/generec-smoke.XXXXXX)
trap 'rm -rf "$SMOKE"' EXIT
export GENEREC_HOME=$SMOKE/home
unset PYTHONPATH
DB=$SMOKE/x.db

run() { echo "\$ ${*/#$BIN\//}" >&2; "$@"; }
field() { "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)$1)"; }

smoke() {
    cd "$SMOKE"
    local gen_id
    run "$BIN/generec" --version
    run "$BIN/generec" demo --items 6 --users 4 --db "$DB" --quiet
    run "$BIN/generec" info --json --db "$DB" | tee info.json
    [ "$(field '["items"]' < info.json)" = "6" ]
    run "$BIN/generec" index --db "$DB" --quiet                    # open_clip + bundled encoder
    run "$BIN/generec" generate --user u0001 --item demo-0002 --task clip --json --quiet \
        --db "$DB" | tee gen.json                                   # PyAV decode, ffmpeg H.264
    gen_id=$(field '["generation_id"]' < gen.json)
    run "$BIN/generec" check "$gen_id" --json --db "$DB" --quiet > checks.json   # open_nsfw, RetinaFace
    "$PYTHON" -c "import json; s = {c['name']: c['status'] for c in json.load(open('checks.json'))}
print('checks:', s); assert 'error' not in s.values(), 'a check could not run in the bundle'"
    run "$BIN/generec" review "$gen_id" --approve --reason "smoke test" \
        --override "smoke test of the build" --db "$DB"
    run "$BIN/generec" export "$gen_id" --out out --json --quiet --db "$DB"   # watermark, C2PA
    run "$BIN/generec" verify "out/$gen_id.mp4" --json > verify.json
    echo "verify: payload $(field '["payload"]' < verify.json)," \
         "c2pa content intact: $(field '["provenance"]["c2pa"]["content_intact"]' < verify.json)"
    run "$BIN/generec" train-thumbnail-model --steps 1 --batch 2 --out thumb --json --quiet \
        --db "$DB" | cut -c1-160                                    # diffusers UNet and scheduler
    if command -v xvfb-run >/dev/null; then
        run timeout 600 xvfb-run -a "$BIN/generec-studio" --db "$DB" --screenshot shot.png
    else
        QT_QPA_PLATFORM=offscreen run timeout 600 "$BIN/generec-studio" --db "$DB" --screenshot shot.png
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
XZ_OPT=${XZ_OPT:--6 -T0} tar -cJf "$ARCHIVE" --transform "s,^,$NAME/," -C "$ROOT/dist" generec-studio \
    -C "$ROOT/packaging" install.sh
archive_s=$(( $(date +%s) - start ))

# Every smoke test runs the installed copy: the archive extracted, install.sh run into a
# scratch HOME, the commands through the links it makes in ~/.local/bin.
echo "== install (archive extracted, installed into a scratch HOME)"
INSTALL_HOME=$SMOKE/home-install
BIN=$INSTALL_HOME/.local/bin
( cd "$SMOKE" && tar -xJf "$ARCHIVE" && mkdir "$INSTALL_HOME"
  HOME=$INSTALL_HOME XDG_DATA_HOME= sh "$NAME/install.sh"
  ls "$INSTALL_HOME/.local/share/applications"
  echo "installed THIRD-PARTY-LICENSES.txt: $(sed -n 4p "$INSTALL_HOME/.local/opt/generec-studio/THIRD-PARTY-LICENSES.txt")"
  rm -rf "$NAME" ) 2>&1 | tee "$ROOT/dist/smoke-test.log"
installed_bytes=$(du -sb "$INSTALL_HOME/.local/opt/generec-studio" | cut -f1)

echo "== smoke tests (the installed copy)"
start=$(date +%s)
( smoke ) 2>&1 | tee -a "$ROOT/dist/smoke-test.log"
smoke_s=$(( $(date +%s) - start ))

# issue 16: the first window within 3 s of launching the installed copy
echo "== first window (the installed generec-studio, on the smoke corpus)"
if command -v xvfb-run >/dev/null && command -v xwininfo >/dev/null; then
    first_window=$(xvfb-run -a "$PYTHON" packaging/first_window.py "$BIN/generec-studio" \
                   --db "$DB" --runs 3 | tail -1)
else
    first_window="first window: not measured (needs xvfb-run and xwininfo)"
fi
echo "$first_window" | tee -a "$ROOT/dist/smoke-test.log"

{
    echo "version: $VERSION, $(uname -sm), $("$PYTHON" -c 'import torch; print("torch", torch.__version__)')"
    echo "pyinstaller build: $build_s"
    echo "smoke tests: ${smoke_s} s"
    echo "folder: $(du -sh "$APP" | cut -f1) ($(du -sb "$APP" | cut -f1) bytes, $(find "$APP" -type f | wc -l) files)"
    echo "archive: $(basename "$ARCHIVE") $(du -h "$ARCHIVE" | cut -f1) ($(stat -c %s "$ARCHIVE") bytes), ${archive_s} s"
    echo "installed folder: $installed_bytes bytes"
    echo "$first_window"
} | tee "$REPORT"
