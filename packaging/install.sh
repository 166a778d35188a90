#!/bin/sh
# Install GeneRec Studio for the current user (Linux), from the extracted installer archive:
#   the app folder to ~/.local/opt/generec-studio, `generec` and `generec-studio` linked into
#   ~/.local/bin, and a menu entry. PREFIX replaces ~/.local.
# Usage: ./install.sh               install, replacing an earlier install
#        ./install.sh --uninstall   remove it (the corpus in the user data folder is kept)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
dest=$prefix/opt/generec-studio
bindir=$prefix/bin
launcher=${XDG_DATA_HOME:-$HOME/.local/share}/applications/generec-studio.desktop

remove() {
    rm -rf "$dest"
    rm -f "$bindir/generec" "$bindir/generec-studio" "$launcher"
}

case "${1:-}" in
    --uninstall) remove; echo "GeneRec Studio removed from $dest"; exit 0 ;;
    "") ;;
    *) echo "usage: $0 [--uninstall]" >&2; exit 2 ;;
esac

if [ ! -x "$here/generec-studio/generec-studio" ]; then
    echo "install.sh: $here/generec-studio/generec-studio not found; run the install.sh" \
         "that sits beside the generec-studio folder of the extracted archive" >&2
    exit 2
fi

remove
mkdir -p "$prefix/opt" "$bindir" "$(dirname "$launcher")"
cp -a "$here/generec-studio" "$dest"
ln -s "$dest/generec" "$bindir/generec"
ln -s "$dest/generec-studio" "$bindir/generec-studio"
cat > "$launcher" <<EOF
[Desktop Entry]
Type=Application
Name=GeneRec Studio
Comment=Generative recommendation of micro-videos with fidelity checks and human review
Exec="$dest/generec-studio"
Icon=applications-multimedia
Terminal=false
Categories=AudioVideo;Video;
EOF

echo "GeneRec Studio installed in $dest"
echo "commands: $bindir/generec, $bindir/generec-studio; menu entry: $launcher"
case ":$PATH:" in
    *":$bindir:"*) ;;
    *) echo "note: $bindir is not on PATH" ;;
esac
