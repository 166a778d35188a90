"""The licence gate (packaging/licences.py), checked without building: it flags a GPL or AGPL
distribution unless allow-listed, never reads LGPL as GPL, catches a licence file that
contradicts the metadata (nudenet's case), and the default install's closure passes it."""
import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "packaging" / "licences.py"


def _load():
    spec = importlib.util.spec_from_file_location("generec_licences", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module      # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


licences = _load()


def fake_dist(site: Path, name: str, *, licence: str = "", expression: str = "",
              classifiers=(), requires=(), files: dict[str, str] | None = None):
    """An installed distribution made of a .dist-info folder in `site`."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.4", f"Name: {name}", "Version: 1.0"]
    lines += [f"License: {licence}"] * bool(licence) + [f"License-Expression: {expression}"] * bool(expression)
    lines += [f"Classifier: {c}" for c in classifiers] + [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    record = ["METADATA"]
    for rel, text in (files or {}).items():
        (info / rel).parent.mkdir(parents=True, exist_ok=True)
        (info / rel).write_text(text)
        record.append(rel)
    (info / "RECORD").write_text("".join(f"{info.name}/{r},,\n" for r in record + ["RECORD"]))
    return importlib.metadata.PathDistribution(info)


STRONG_TEXTS = [
    "GPL-3.0-or-later", "GPL-2.0-only", "AGPL-3.0-only", "GPLv3", "GPL v2", "GNU GPL",
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
    "License :: OSI Approved :: GNU Affero General Public License v3",
    "GNU AFFERO GENERAL PUBLIC LICENSE Version 3, 19 November 2007",
    "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007",
]
LGPL_TEXTS = [
    "LGPL-3.0-only", "LGPL-2.1-or-later", "LGPLv3", "LGPL",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)",
    "License :: OSI Approved :: GNU Library or Lesser General Public License (LGPL)",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)",
    "GNU LESSER GENERAL PUBLIC LICENSE Version 3, 29 June 2007",
    "GNU Library General Public License",
]


@pytest.mark.parametrize("text", STRONG_TEXTS)
def test_gpl_and_agpl_are_strong_copyleft(text):
    assert licences.family(text)[0] == licences.STRONG


@pytest.mark.parametrize("text", LGPL_TEXTS)
def test_lgpl_is_never_read_as_gpl(text):
    assert licences.family(text) == (licences.WEAK, "LGPL")


@pytest.mark.parametrize("expression, rank", [
    ("MIT", licences.NONE), ("Apache-2.0 AND BSD-3-Clause", licences.NONE),
    ("MPL-2.0 AND MIT", licences.WEAK),
    ("MIT OR GPL-3.0-only", licences.NONE),                     # the licensee's choice
    ("LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only", licences.WEAK),   # PySide6
    ("MIT AND GPL-2.0-only", licences.STRONG),
    ("(MIT OR Apache-2.0) AND GPL-3.0-or-later", licences.STRONG),
    ("GPL-2.0-only WITH Classpath-exception-2.0", licences.STRONG),     # a person decides
    ("Apache-2.0 WITH LLVM-exception", licences.NONE),
])
def test_spdx_expressions(expression, rank):
    assert licences.spdx(expression)[0] == rank


def test_a_fake_gpl_distribution_fails_unless_allow_listed(tmp_path):
    dists = [fake_dist(tmp_path, "fake-gpl", licence="GPL-3.0-or-later"),
             fake_dist(tmp_path, "fake-classifier",
                       classifiers=["License :: OSI Approved :: GNU General Public License v3 (GPLv3)"]),
             fake_dist(tmp_path, "fake-lgpl",
                       classifiers=["License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)"]),
             fake_dist(tmp_path, "fake-mit", expression="MIT")]
    verdicts = {v.name: v for v in licences.check(dists, {})}
    assert [name for name, v in verdicts.items() if v.fails] == ["fake-gpl", "fake-classifier"]
    assert verdicts["fake-lgpl"].rank == licences.WEAK and not verdicts["fake-lgpl"].fails
    allowed = licences.check(dists, {"fake-gpl": "runs as a separate process",
                                     "fake-classifier": "reason"})
    assert not any(v.fails for v in allowed)
    assert {v.name: v.allowed for v in allowed}["fake-gpl"] == "runs as a separate process"


def test_a_licence_file_that_contradicts_the_metadata_counts(tmp_path):
    """nudenet's metadata says MIT while its wheel ships the AGPL-3.0 text."""
    agpl = "                    GNU AFFERO GENERAL PUBLIC LICENSE\n    Version 3, 19 November 2007\n..."
    dist = fake_dist(tmp_path, "fake-nudenet", licence="MIT", files={"LICENSE": agpl})
    [verdict] = licences.check([dist], {})
    assert verdict.fails and "licence file" in verdict.reasons[0] and "AFFERO" in verdict.reasons[0]
    # a dual licence that names its GPL alternative explains a GPL text beside the MIT one
    dual = fake_dist(tmp_path, "fake-dual", expression="MIT OR GPL-3.0-only",
                     files={"licenses/LICENSE-GPL": "GNU GENERAL PUBLIC LICENSE\nVersion 3",
                            "licenses/LICENSE-MIT": "MIT License\n\nCopyright"})
    [verdict] = licences.check([dual], {})
    assert not verdict.fails and len(verdict.files) == 2


def test_the_gate_walks_the_closure_names_the_failure_and_writes_the_licence_file(
        tmp_path, monkeypatch, capsys):
    site = tmp_path / "site"
    fake_dist(site, "fake-app", expression="MIT",
              requires=["fake-lib>=1", "fake-gpl; extra == 'copyleft'", "fake-skip; python_version < '3'"])
    fake_dist(site, "fake-lib", expression="BSD-3-Clause", requires=["fake-deep"],
              files={"licenses/LICENSE": "BSD 3-Clause License\n\nCopyright (c) the fake authors"})
    fake_dist(site, "fake-deep", classifiers=["License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)"])
    fake_dist(site, "fake-gpl", licence="GPL-2.0-or-later")
    monkeypatch.syspath_prepend(str(site))
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text("# comment\n")

    bundle = tmp_path / "bundle"
    assert licences.main(["--root", "fake-app", "--allowlist", str(allowlist), "--bundle", str(bundle)]) == 0
    text = (bundle / licences.OUTPUT_NAME).read_text()
    assert "fake-lib 1.0" in text and "Copyright (c) the fake authors" in text
    assert "fake-deep 1.0" in text and "fake-gpl" not in text and "fake-skip" not in text
    # the ffmpeg executable's GPL text ships although no distribution's metadata carries it
    assert "Program run as a separate process: ffmpeg" in text
    assert "GNU GENERAL PUBLIC LICENSE\n                       Version 3" in text

    assert licences.main(["--root", "fake-app", "--extras", "copyleft", "--allowlist", str(allowlist)]) == 1
    assert "fake-gpl 1.0 is strong copyleft" in capsys.readouterr().err
    allowlist.write_text("fake-gpl  runs as a separate process, never linked\n")
    assert licences.main(["--root", "fake-app", "--extras", "copyleft", "--allowlist", str(allowlist)]) == 0

    allowlist.write_text("fake-gpl\n")
    with pytest.raises(ValueError, match="without a reason"):
        licences.read_allowlist(allowlist)


def test_a_gpl_only_native_library_inside_a_permissive_wheel_fails(tmp_path):
    """PyAV's case: BSD-3-Clause metadata, libx264 and libx265 among the wheel's libraries."""
    dists = [fake_dist(tmp_path, "fake-av", expression="BSD-3-Clause",
                       files={"../fake_av.libs/libx264-d6533a8d.so.165": "",
                              "../fake_av.libs/libavcodec-5e6b81c2.so.62.28.102": ""}),
             fake_dist(tmp_path, "fake-cv", expression="Apache-2.0",
                       files={"../fake_cv.libs/libavcodec-c4204469.so.62.28.101": "",
                              "../fake_cv/x264_notes.txt": ""})]
    verdicts = {v.name: v for v in licences.check(dists, {})}
    assert verdicts["fake-av"].fails and not verdicts["fake-cv"].fails
    assert any("libx264-d6533a8d.so.165 (x264)" in r for r in verdicts["fake-av"].reasons)


def test_the_allowlist_gives_reasons_and_never_names_the_agpl_detector():
    allowed = licences.read_allowlist()
    assert "nudenet" not in allowed
    assert {"pyside6", "imageio-ffmpeg"} <= set(allowed)


def test_the_default_install_passes_the_gate():
    """The real check: the closure of generec-studio as installed here (no extra)."""
    try:
        importlib.metadata.distribution("generec-studio")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("generec-studio is not installed (pip install -e .)")
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "no GPL or AGPL component outside the allow-list" in result.stdout


def test_the_nudenet_extra_fails_the_gate():
    try:
        importlib.metadata.distribution("nudenet")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("the nudenet extra is not installed here (pip install 'generec-studio[nudenet]')")
    result = subprocess.run([sys.executable, str(SCRIPT), "--extras", "nudenet"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1 and "nudenet" in result.stderr and "AFFERO" in result.stderr
