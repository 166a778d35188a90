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

# The folders this install created (those that did not exist before it), listed inside the
# installed folder so that --uninstall removes them too when they are empty again.
created=.created-folders

remove() {
    folders=""                          # longest path first: children before their parents
    [ -f "$dest/$created" ] && folders=$(awk '{ print length($0) "\t" $0 }' "$dest/$created" |
                                         sort -rn | cut -f2-)
    rm -rf "$dest"
    rm -f "$bindir/generec" "$bindir/generec-studio" "$launcher"
    printf '%s\n' "$folders" | while IFS= read -r folder; do
        [ -z "$folder" ] || rmdir "$folder" 2>/dev/null || true
    done
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
new_folders=""
for folder in "$prefix/opt" "$bindir" "$(dirname "$launcher")"; do
    while [ ! -d "$folder" ]; do        # the folder and each missing parent
        new_folders="$new_folders$folder
"
        folder=$(dirname "$folder")
    done
done
mkdir -p "$prefix/opt" "$bindir" "$(dirname "$launcher")"
cp -a "$here/generec-studio" "$dest"
printf '%s' "$new_folders" | sort -u > "$dest/$created"
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
