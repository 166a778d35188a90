#!/usr/bin/env bash
# Build the one-folder app with PyInstaller, smoke-test both executables, and wrap the folder in
# an installer archive (Linux: .tar.gz holding the folder and install.sh), then test the install.
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
ARCHIVE=$ROOT/dist/$NAME.tar.gz
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

run() { echo "\$ ${*/#$APP\//}" >&2; "$@"; }
field() { "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)$1)"; }

smoke() {
    cd "$SMOKE"
    local gen_id
    run "$APP/generec" --version
    run "$APP/generec" demo --items 6 --users 4 --db "$DB" --quiet
    run "$APP/generec" info --json --db "$DB" | tee info.json
    [ "$(field '["items"]' < info.json)" = "6" ]
    run "$APP/generec" index --db "$DB" --quiet                    # open_clip + bundled encoder
    run "$APP/generec" generate --user u0001 --item demo-0002 --task clip --json --quiet \
        --db "$DB" | tee gen.json                                   # PyAV decode, ffmpeg H.264
    gen_id=$(field '["generation_id"]' < gen.json)
    run "$APP/generec" check "$gen_id" --json --db "$DB" --quiet > checks.json   # open_nsfw, RetinaFace
    "$PYTHON" -c "import json; s = {c['name']: c['status'] for c in json.load(open('checks.json'))}
print('checks:', s); assert 'error' not in s.values(), 'a check could not run in the bundle'"
    run "$APP/generec" review "$gen_id" --approve --reason "smoke test" \
        --override "smoke test of the build" --db "$DB"
    run "$APP/generec" export "$gen_id" --out out --json --quiet --db "$DB"   # watermark, C2PA
    run "$APP/generec" verify "out/$gen_id.mp4" --json > verify.json
    echo "verify: payload $(field '["payload"]' < verify.json)," \
         "c2pa content intact: $(field '["provenance"]["c2pa"]["content_intact"]' < verify.json)"
    run "$APP/generec" train-thumbnail-model --steps 1 --batch 2 --out thumb --json --quiet \
        --db "$DB" | cut -c1-160                                    # diffusers UNet and scheduler
    if command -v xvfb-run >/dev/null; then
        run timeout 600 xvfb-run -a "$APP/generec-studio" --db "$DB" --screenshot shot.png
    else
        QT_QPA_PLATFORM=offscreen run timeout 600 "$APP/generec-studio" --db "$DB" --screenshot shot.png
    fi
    [ "$(stat -c %s shot.png)" -gt 10000 ]
    echo "screenshot: $(stat -c %s shot.png) bytes"
    cp shot.png "$ROOT/dist/smoke-screenshot.png"
}

echo "== smoke tests"
start=$(date +%s)
( smoke ) 2>&1 | tee "$ROOT/dist/smoke-test.log"
smoke_s=$(( $(date +%s) - start ))

echo "== installer archive"
start=$(date +%s)
tar -czf "$ARCHIVE" --transform "s,^,$NAME/," -C "$ROOT/dist" generec-studio \
    -C "$ROOT/packaging" install.sh
archive_s=$(( $(date +%s) - start ))

echo "== install test (archive extracted, installed into a scratch HOME)"
( cd "$SMOKE" && tar -xzf "$ARCHIVE" && rm -rf home-install && mkdir home-install
  HOME=$SMOKE/home-install XDG_DATA_HOME= sh "$NAME/install.sh"
  run "$SMOKE/home-install/.local/bin/generec" info --json --db "$DB" | tr -d '\n '; echo
  ls "$SMOKE/home-install/.local/share/applications"
  echo "installed THIRD-PARTY-LICENSES.txt: $(sed -n 4p "$SMOKE/home-install/.local/opt/generec-studio/THIRD-PARTY-LICENSES.txt")"
  rm -rf "$NAME" home-install ) 2>&1 | tee -a "$ROOT/dist/smoke-test.log"

{
    echo "version: $VERSION, $(uname -sm), $("$PYTHON" -c 'import torch; print("torch", torch.__version__)')"
    echo "pyinstaller build: $build_s"
    echo "smoke tests: ${smoke_s} s"
    echo "folder: $(du -sh "$APP" | cut -f1) ($(du -sb "$APP" | cut -f1) bytes, $(find "$APP" -type f | wc -l) files)"
    echo "archive: $(basename "$ARCHIVE") $(du -h "$ARCHIVE" | cut -f1) ($(stat -c %s "$ARCHIVE") bytes), ${archive_s} s"
} | tee "$REPORT"
