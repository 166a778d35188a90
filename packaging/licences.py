"""The licence gate: no strong-copyleft (GPL, AGPL) distribution in the app's dependency closure
unless packaging/licence-allowlist.txt names it with a reason; and the third-party licence file
that goes into the bundle.

The closure starts from the project's declared dependencies, pyproject.toml's [project]
dependencies (plus the optional-dependencies of the extras asked for; the default install is no
extra), and follows each installed distribution's Requires-Dist (markers evaluated for this
interpreter), so it is the default install's closure whatever else is installed beside it, and
an install whose metadata is older than the checkout cannot hide a new dependency.
`--root NAME` starts from an installed distribution's Requires-Dist instead.

For each distribution the licence is read from its metadata (License-Expression, else License, and the
`License ::` classifiers) and from the titles of the licence files it ships in its .dist-info
folder (nudenet's metadata says MIT while its wheel carries the AGPL-3.0 text: a file's title
that the declared licence does not explain counts), and from the native libraries it ships:
a wheel may carry a GPL-only library whatever its own licence says (PyAV's BSD-3-Clause wheels
carry libx264 and libx265, which their libavcodec links: PyAV issues #2270 and #2408).

Families: AGPL and GPL are strong copyleft (the gate fails); LGPL, MPL and the like are weak
copyleft (listed, pass: Qt is LGPL-3.0, linked dynamically and replaceable). An SPDX expression
is read as SPDX says: `A OR B` is the licensee's choice (the least restrictive alternative
counts), `A AND B` the most restrictive; `GPL-2.0 WITH Classpath-exception-2.0` is still GPL to
the gate (a person decides, in the allow-list). "LGPL", "GNU Lesser General Public License" and
"GNU Library General Public License" are never read as GPL.

    python packaging/licences.py                      # the gate only
    python packaging/licences.py --bundle DIR         # the gate, then DIR/THIRD-PARTY-LICENSES.txt
    python packaging/licences.py --extras nudenet     # the closure with an extra (fails: AGPL)

Exit status: 0 when the gate passes, 1 when a distribution fails it (each one named with its
licence and where it was read), 2 when a declared dependency is not installed.
"""
from __future__ import annotations

import argparse
import importlib.metadata as metadata
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT_DIST = "generec-studio"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
ALLOWLIST = Path(__file__).resolve().parent / "licence-allowlist.txt"
OUTPUT_NAME = "THIRD-PARTY-LICENSES.txt"
# Licence texts of programs the app runs as separate processes (the ffmpeg executable), which
# no distribution's metadata carries
PROGRAM_LICENCES = Path(__file__).resolve().parent / "program-licences"

NONE, WEAK, STRONG = 0, 1, 2
RANK_NAMES = {NONE: "permissive or other", WEAK: "weak copyleft", STRONG: "strong copyleft"}
_AGPL = re.compile(r"\bAGPL|\bAffero\b", re.I)
_LGPL = re.compile(r"\bLGPL|\bLesser\s+General\s+Public|\bLibrary\s+General\s+Public", re.I)
# GPL, but not as part of LGPL/AGPL: `\bGPL` does not match inside "LGPL" (no word boundary),
# and "General Public License" counts only when "Lesser"/"Library"/"Affero" does not precede it.
_GPL = re.compile(r"\bGPL|\bGNU\s+GPL\b|(?<!Lesser )(?<!Library )(?<!Affero )General\s+Public\s+Licen[cs]e",
                  re.I)
_WEAK_OTHER = re.compile(r"\bMPL\b|Mozilla\s+Public|\bEPL\b|Eclipse\s+Public|\bCDDL\b|"
                         r"Common\s+Development\s+and\s+Distribution", re.I)
_LICENCE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|COPYRIGHT)", re.I)
_SPDX_TOKEN = re.compile(r"\(|\)|[A-Za-z0-9.+:-]+")
# Native libraries that are GPL-only (no LGPL or permissive option), by file name; a distribution
# that ships one links GPL code into whatever loads it.
GPL_LIBRARIES = {
    "x264": re.compile(r"^libx264[-.]"),               # GPL-2.0-or-later (commercial licence aside)
    "x265": re.compile(r"^libx265[-.]"),               # GPL-2.0-or-later (commercial licence aside)
    "libpostproc": re.compile(r"^libpostproc[-.]"),    # FFmpeg's GPL-only part
    "xvidcore": re.compile(r"^libxvidcore[-.]"),
    "rubberband": re.compile(r"^librubberband[-.]"),
    "vid.stab": re.compile(r"^libvidstab[-.]"),
}
_NATIVE = re.compile(r"\.(so(\.[0-9]+)*|dylib|dll)$")


def family(text: str) -> tuple[int, str | None]:
    """(rank, family name) of one licence name, identifier, classifier or title line."""
    if _AGPL.search(text):
        return STRONG, "AGPL"
    if _LGPL.search(text):
        return WEAK, "LGPL"
    if _GPL.search(text):
        return STRONG, "GPL"
    if _WEAK_OTHER.search(text):
        return WEAK, "MPL/EPL/CDDL"
    return NONE, None


def _looks_like_spdx(text: str) -> bool:
    return "\n" not in text.strip() and len(text) <= 300 and bool(
        re.fullmatch(r"[A-Za-z0-9.+:() -]+", text.strip()))


def spdx(expression: str) -> tuple[int, set[str]]:
    """(rank, families named anywhere) of an SPDX-like expression: OR takes the least
    restrictive alternative, AND and WITH the most restrictive part."""
    tokens = _SPDX_TOKEN.findall(expression)
    names: set[str] = set()
    position = 0

    def parse_or() -> int:
        nonlocal position
        ranks = [parse_and()]
        while position < len(tokens) and tokens[position].upper() == "OR":
            position += 1
            ranks.append(parse_and())
        return min(ranks)

    def parse_and() -> int:
        nonlocal position
        ranks = [parse_atom()]
        while position < len(tokens) and tokens[position].upper() in ("AND", "WITH"):
            is_with = tokens[position].upper() == "WITH"
            position += 1
            atom = parse_atom()
            if not is_with:          # an exception never raises the rank of what it qualifies
                ranks.append(atom)
        return max(ranks)

    def parse_atom() -> int:
        nonlocal position
        if position >= len(tokens):
            return NONE
        token = tokens[position]
        position += 1
        if token == "(":
            rank = parse_or()
            if position < len(tokens) and tokens[position] == ")":
                position += 1
            return rank
        rank, name = family(token)
        if name:
            names.add(name)
        return rank

    rank = parse_or()
    return rank, names


@dataclass
class Verdict:
    name: str
    version: str
    licence: str                       # what the metadata declares, for people
    rank: int
    reasons: list[str] = field(default_factory=list)   # where a copyleft family was read
    files: list[tuple[str, str]] = field(default_factory=list)   # (relative path, text)
    allowed: str | None = None         # the allow-list's reason

    @property
    def fails(self) -> bool:
        return self.rank == STRONG and self.allowed is None


def licence_files(dist: metadata.Distribution) -> list[tuple[str, str]]:
    """(path, text) of the licence files in the distribution's .dist-info folder."""
    found = []
    for path in dist.files or []:
        parts = Path(str(path)).parts
        if parts and parts[0].endswith(".dist-info") and _LICENCE_FILE.match(Path(str(path)).name):
            try:
                found.append((str(path), Path(dist.locate_file(path)).read_text(errors="replace")))
            except OSError:
                pass
    return found


def gpl_libraries(dist: metadata.Distribution) -> list[str]:
    """'path (library)' for each GPL-only native library among the distribution's files."""
    found = []
    for path in dist.files or []:
        name = Path(str(path)).name
        if _NATIVE.search(name):
            found += [f"{path} ({library})" for library, pattern in GPL_LIBRARIES.items()
                      if pattern.match(name)]
    return found


def _title(text: str, lines: int = 3) -> str:
    return " ".join([line.strip() for line in text.splitlines() if line.strip()][:lines])


def judge(name: str, version: str, meta, files: list[tuple[str, str]]) -> Verdict:
    """The verdict for one distribution from its metadata message and licence files."""
    expression = (meta.get("License-Expression") or "").strip()
    licence = (meta.get("License") or "").strip()
    classifiers = [c for c in (meta.get_all("Classifier") or []) if c.startswith("License ::")]
    declared = expression or (licence if licence and licence.upper() != "UNKNOWN" else "")
    rank, named, reasons = NONE, set(), []
    if declared and _looks_like_spdx(declared):
        rank, named = spdx(declared)
        where = "License-Expression" if expression else "License"
        if rank:
            reasons.append(f"{where} {declared!r}")
    elif declared:                     # a licence text in the field: its title tells
        rank, fam = family(_title(declared))
        named = {fam} if fam else set()
        if rank:
            reasons.append(f"License field titled {_title(declared)!r}")
    # Classifiers and shipped licence files count where the declared licence does not already
    # explain their family (a dual licence names its GPL alternative; nudenet's MIT does not).
    evidence = [(f"classifier {c!r}", c) for c in classifiers]
    evidence += [(f"licence file {path} titled {_title(text)!r}", _title(text)) for path, text in files]
    for where, text in evidence:
        item_rank, fam = family(text)
        if item_rank and fam not in named:
            rank = max(rank, item_rank)
            reasons.append(where)
    shown = declared.splitlines()[0][:120] if declared else "; ".join(
        c.split(" :: ")[-1] for c in classifiers) or "not declared"
    return Verdict(name, version, shown, rank, reasons, files)


def read_allowlist(path: Path = ALLOWLIST) -> dict[str, str]:
    """Canonical distribution name -> reason. One distribution a line: its name, then the reason;
    `#` starts a comment. A name without a reason is an error."""
    allowed = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise ValueError(f"{path}:{number}: {name} is allow-listed without a reason")
        allowed[canonicalize_name(name)] = reason.strip()
    return allowed


def declared(pyproject: Path = PYPROJECT, extras: tuple[str, ...] = ()) -> list[str]:
    """The requirements of the default install (and of the extras) as pyproject.toml declares."""
    project = tomllib.loads(pyproject.read_text())["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in optional]
    if unknown:
        raise SystemExit(f"licences: no extra {unknown} in {pyproject}")
    return list(project.get("dependencies", [])) + [r for e in extras for r in optional[e]]


def closure(requirements: list[str], extras: tuple[str, ...] = (), required_by: str = ROOT_DIST
            ) -> tuple[list[metadata.Distribution], list[str]]:
    """The installed distributions that `requirements` (for `extras`) need, transitively, and
    the requirements that are not installed."""
    seen: dict[str, metadata.Distribution] = {}
    missing: list[str] = []
    queue = [(required_by, requirements, tuple(extras))]
    done: set[tuple[str, tuple[str, ...]]] = set()
    while queue:
        parent, lines, wanted = queue.pop()
        for line in lines:
            requirement = Requirement(line)
            if requirement.marker and not any(
                    requirement.marker.evaluate({"extra": extra}) for extra in (wanted or ("",))):
                continue
            name = canonicalize_name(requirement.name)
            try:
                child = metadata.distribution(requirement.name)
            except metadata.PackageNotFoundError:
                missing.append(f"{requirement} (required by {parent})")
                continue
            seen.setdefault(name, child)
            key = (name, tuple(sorted(requirement.extras)))
            if key not in done:
                done.add(key)
                queue.append((child.metadata["Name"], child.requires or [], tuple(requirement.extras)))
    return [seen[name] for name in sorted(seen)], missing


def check(dists, allowlist: dict[str, str]) -> list[Verdict]:
    verdicts = []
    for dist in dists:
        name = dist.metadata["Name"]
        verdict = judge(name, dist.version, dist.metadata, licence_files(dist))
        native = gpl_libraries(dist)
        if native:
            verdict.rank = STRONG
            verdict.reasons += [f"ships the GPL-only native library {n}" for n in native]
        verdict.allowed = allowlist.get(canonicalize_name(name))
        verdicts.append(verdict)
    return verdicts


def write_bundle_file(folder: Path, verdicts: list[Verdict], app_version: str) -> Path:
    out = [f"Third-party software in GeneRec Studio {app_version}, with its licences.",
           "Written by packaging/licences.py from each distribution's metadata (License-Expression,",
           "License, classifiers) and the licence files it ships.",
           f"{len(verdicts)} distributions.", ""]
    for v in verdicts:
        out += ["=" * 78, f"{v.name} {v.version}", f"Licence: {v.licence}",
                f"Family: {RANK_NAMES[v.rank]}" + (f" ({'; '.join(v.reasons)})" if v.reasons else "")]
        if v.allowed:
            out.append(f"Allow-listed: {v.allowed}")
        if not v.files:
            out.append("(no licence file shipped in the distribution's metadata folder)")
        for path, text in v.files:
            out += ["", f"---- {path}", text.rstrip()]
        out.append("")
    for program in sorted(PROGRAM_LICENCES.glob("*.txt")):
        out += ["=" * 78, f"Program run as a separate process: {program.stem}", "",
                program.read_text().rstrip(), ""]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / OUTPUT_NAME
    target.write_text("\n".join(out) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, help=f"write {OUTPUT_NAME} into this folder")
    parser.add_argument("--extras", default="", help="comma-separated extras to include")
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    parser.add_argument("--pyproject", type=Path, default=PYPROJECT,
                        help="the project file whose dependencies start the closure")
    parser.add_argument("--root", help="start from this installed distribution's Requires-Dist instead")
    args = parser.parse_args(argv)
    extras = tuple(e.strip() for e in args.extras.split(",") if e.strip())
    if args.root:
        try:
            root = metadata.distribution(args.root)
        except metadata.PackageNotFoundError:
            print(f"licences: {args.root} is not installed here", file=sys.stderr)
            return 2
        name, version, requirements = args.root, root.version, root.requires or []
    else:
        project = tomllib.loads(args.pyproject.read_text())["project"]
        name, version = project["name"], project.get("version", "?")
        requirements = declared(args.pyproject, extras)
    dists, missing = closure(requirements, extras, name)
    if missing:
        print("licences: declared dependencies not installed (pip install -e .): " + "; ".join(missing),
              file=sys.stderr)
        return 2
    verdicts = check(dists, read_allowlist(args.allowlist))
    label = f"{name}[{','.join(extras)}]" if extras else name
    for v in verdicts:
        if v.rank or v.allowed:
            state = "FAIL" if v.fails else ("allow-listed" if v.allowed else "ok")
            print(f"  {state}: {v.name} {v.version}: {RANK_NAMES[v.rank]}: {v.licence}"
                  + (f" [{'; '.join(v.reasons)}]" if v.reasons else "")
                  + (f" -- {v.allowed}" if v.allowed else ""))
    failed = [v for v in verdicts if v.fails]
    if failed:
        for v in failed:
            print(f"licences: {v.name} {v.version} is strong copyleft ({'; '.join(v.reasons)}) and "
                  f"not in {args.allowlist.name}: remove it from the default install or allow-list it "
                  "with the reason it may ship", file=sys.stderr)
        return 1
    print(f"licences: {len(verdicts)} distributions in the closure of {label}: no GPL or AGPL "
          f"component outside the allow-list")
    if args.bundle:
        target = write_bundle_file(args.bundle, verdicts, version)
        print(f"licences: wrote {target} ({target.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
