"""Revision and creation with a pretrained pipeline the user supplies (issue 14), run end to end
with tiny pipelines assembled here (tests/pipeline_fixtures.py: random weights, an offline
tokenizer, an IP-Adapter in diffusers' key layout) on real clips of ../shared/media."""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.errors import InputError
from core.media import iter_frames, probe
from core.store import open_store

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

USER = "u0001"
SECONDS = 0.4          # revised seconds of each clip: 12 frames at 30 fps


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on two cores shared with other work, two OpenMP threads spin against
    each other (a tiny-pipeline frame took 6 s instead of 0.25 s). The encoder is loaded first:
    loading it sets every core."""
    import torch

    from core.encoders import load_encoder

    before = torch.get_num_threads()
    load_encoder("bundled")
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def img2img_dir(tmp_path_factory):
    from pipeline_fixtures import tiny_pipeline_folder

    return tiny_pipeline_folder(tmp_path_factory.mktemp("pipes") / "tiny-img2img",
                                "img2img", ip_adapter=True)


@pytest.fixture(scope="module")
def text2img_dir(tmp_path_factory):
    from pipeline_fixtures import tiny_pipeline_folder

    return tiny_pipeline_folder(tmp_path_factory.mktemp("pipes") / "tiny-text2img", "text2img")


@pytest.fixture(scope="module")
def corpus(small_demo, shared_media, tmp_path_factory):
    """The small demo plus two real clips with audio: b.mp4 (landscape) and a portrait copy of
    its first second (transposed by ffmpeg, audio kept)."""
    import imageio_ffmpeg

    from core.corpus.importer import import_folder
    from scale_helpers import copy_corpus

    root = tmp_path_factory.mktemp("pipeline-corpus")
    db = copy_corpus(small_demo, root / "corpus.db")
    clips = root / "clips"
    clips.mkdir()
    shutil.copy(shared_media / "b.mp4", clips / "b.mp4")
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i",
                    str(shared_media / "b.mp4"), "-t", "1", "-vf", "transpose=1", "-c:v",
                    "libx264", "-c:a", "aac", str(clips / "portrait.mp4")], check=True)
    with open_store(db) as store:
        import_folder(store, clips)
    return db


def _run(capsys, *argv) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _frames(path) -> np.ndarray:
    return np.stack([f.image for f in iter_frames(path)])


def _source_frames(path, seconds) -> int:
    return sum(1 for f in iter_frames(path, max_side=64) if f.t_s < seconds)


def test_cli_revision_with_a_pipeline_and_ip_adapter(corpus, img2img_dir, capsys):
    result = _run(capsys, "generate", "--db", str(corpus), "--task", "revise", "--pipeline",
                  str(img2img_dir), "--user", USER, "--item", "b", "--max-seconds", str(SECONDS),
                  "--steps", "4", "--strength", "0.5", "--guidance", "3", "--seed", "7",
                  "--instruction", "make it look like autumn", "--json")
    source = probe(corpus.parent / "clips" / "b.mp4")
    out = probe(result["output_path"])
    expected = _source_frames(corpus.parent / "clips" / "b.mp4", SECONDS)
    assert out.frames == result["frames"] == expected == 12
    assert out.fps == pytest.approx(source.fps)
    assert out.duration_s == pytest.approx(expected / source.fps, abs=0.05)
    assert out.has_audio and out.width > out.height and min(out.width, out.height) == 256
    assert result["pipeline_class"] == "StableDiffusionImg2ImgPipeline"
    assert result["user_signal"].startswith("IP-Adapter image prompt")
    assert result["liked_items"] and result["prompt"] == "make it look like autumn"
    assert result["flicker"] >= 0 and result["source_flicker"] > 0
    from core.fidelity.registry import CHECKS

    assert {c["name"] for c in result["checks"]} == {c.name for c in CHECKS}

    with open_store(corpus) as store:
        from core.editor.generations import get_generation

        generation = get_generation(store, result["generation_id"])
        checks = store.conn.execute("SELECT COUNT(*) FROM checks WHERE generation_id = ?",
                                    (result["generation_id"],)).fetchone()[0]
        job = store.conn.execute("SELECT params FROM jobs WHERE kind = 'revise' ORDER BY rowid "
                                 "DESC LIMIT 1").fetchone()[0]
    assert checks == len(result["checks"]) > 0
    pipeline = next(m for m in generation["provenance"]["models"] if m["role"] == "pipeline")
    on_disk = {p.relative_to(img2img_dir).as_posix():
               hashlib.sha256(p.read_bytes()).hexdigest()
               for p in img2img_dir.rglob("*.safetensors")}
    assert len(on_disk) == 5           # unet, vae, text encoder, image encoder, IP-Adapter
    assert {f["file"]: f["sha256"] for f in pipeline["files"]} == on_disk
    assert generation["seed"] == 7 and generation["params"]["strength"] == 0.5
    assert generation["params"]["guidance"] == 3 and generation["params"]["steps"] == 4
    params = json.loads(job)    # a retry reproduces it: every parameter is in the job
    assert params["pipeline"] == str(img2img_dir.resolve()) and params["seed"] == 7
    assert params["max_seconds"] == SECONDS and params["instruction"]


def test_portrait_revision_keeps_orientation_and_the_seed_reproduces_it(corpus, img2img_dir):
    from core.diffusion.pipeline_tasks import generate_pipeline_revision

    def revise(seed, signal="User_Hist"):
        with open_store(corpus) as store:
            return generate_pipeline_revision(store, USER, "portrait", str(img2img_dir),
                                              signal=signal, steps=2, strength=0.6, seed=seed,
                                              max_seconds=SECONDS)

    first, again, other = revise(3), revise(3), revise(4)
    out = probe(first["output_path"])
    assert out.width < out.height and out.width == 256 and out.has_audio
    assert out.frames == _source_frames(corpus.parent / "clips" / "portrait.mp4", SECONDS)
    assert np.array_equal(_frames(first["output_path"]), _frames(again["output_path"]))
    assert not np.array_equal(_frames(first["output_path"]), _frames(other["output_path"]))
    plain = revise(3, "none")           # the liked thumbnails steer the result
    assert plain["user_signal"] == "none"
    assert not np.array_equal(_frames(first["output_path"]), _frames(plain["output_path"]))


def test_smoothing_lowers_flicker(corpus, img2img_dir):
    from core.diffusion.pipeline_tasks import generate_pipeline_revision

    with open_store(corpus) as store:
        made = [generate_pipeline_revision(store, USER, "b", str(img2img_dir), signal="none",
                                           steps=2, strength=0.9, max_seconds=0.2,
                                           smoothing=s) for s in (0.0, 0.9)]
    assert made[1]["flicker"] < made[0]["flicker"]


def test_cli_creation_with_a_text_to_image_pipeline(corpus, text2img_dir, capsys):
    argv = ["generate", "--db", str(corpus), "--task", "create", "--pipeline", str(text2img_dir),
            "--user", USER, "--instruction", "a sunny beach", "--frames", "16", "--steps", "2",
            "--seed", "5", "--json"]
    result = _run(capsys, *argv)
    out = probe(result["output_path"])
    assert (out.frames, out.fps, out.width, out.height) == (16, 16, 256, 256)
    assert out.duration_s == pytest.approx(1.0, abs=0.07) and not out.has_audio
    assert result["pipeline_class"] == "StableDiffusionPipeline"
    assert "over one generated image" in result["motion"] and "not generated motion" in result["motion"]
    with open_store(corpus) as store:
        from core.store.pipelines import item_covers

        titles = [c["title"] for c in item_covers(store, result["liked_items"])]
    assert result["prompt"].startswith("a sunny beach, in the spirit of ") and titles[0] in result["prompt"]
    assert result["checks"]
    again = _run(capsys, *argv)
    assert np.array_equal(_frames(result["output_path"]), _frames(again["output_path"]))
    frames = _frames(result["output_path"])
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1   # the camera moved


def test_camera_moves():
    from core.diffusion.pipeline_tasks import camera_move

    image = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    for motion in ("zoom", "pan"):
        frames = camera_move(image, 9, motion)
        assert frames.shape == (9, 64, 64, 3)
    assert np.abs(camera_move(image, 2, "zoom")[0].astype(int) - image).mean() < 1


def test_missing_files_are_named_and_pickles_refused(img2img_dir, tmp_path, corpus, capsys):
    from core.diffusion.pipelines import validate

    with pytest.raises(InputError, match="model_index.json: missing"):
        validate(tmp_path)
    broken = shutil.copytree(img2img_dir, tmp_path / "broken")
    weights = broken / "unet" / "diffusion_pytorch_model.safetensors"
    weights.unlink()
    with pytest.raises(InputError, match=str(weights).replace(".", r"\.") + ": missing"):
        validate(broken)
    pickled = shutil.copytree(img2img_dir, tmp_path / "pickled")
    for path in pickled.rglob("*.safetensors"):
        path.rename(path.with_suffix(".bin"))
    with pytest.raises(InputError, match=r"found only pickled .*\.bin.* safetensors only"):
        validate(pickled)
    no_vae = shutil.copytree(img2img_dir, tmp_path / "no-vae")
    shutil.rmtree(no_vae / "vae")
    with pytest.raises(InputError, match="vae: missing"):
        validate(no_vae)
    # the CLI refuses before a job is recorded, with exit status 2 and the file named
    assert main(["generate", "--db", str(corpus), "--task", "revise", "--pipeline",
                 str(broken), "--user", USER, "--item", "b", "--json"]) == 2
    assert str(weights) in capsys.readouterr().err


def test_discovery_lists_pipelines_with_their_kinds(img2img_dir, text2img_dir, tmp_path,
                                                    monkeypatch):
    from core.diffusion.pipelines import discover_pipelines, pipeline_folders
    from core.paths import data_home

    home = data_home() / "models" / "pipelines"
    home.mkdir(parents=True)
    (home / "img").symlink_to(img2img_dir)
    (home / "empty").mkdir()
    monkeypatch.setenv("GENEREC_PIPELINES", str(text2img_dir))
    found = {p.path: p for p in discover_pipelines(pipeline_folders())}
    assert set(found) == {str(home / "img"), str(text2img_dir)}
    img, text = found[str(home / "img")], found[str(text2img_dir)]
    assert img.class_name == "StableDiffusionImg2ImgPipeline" and img.ip_adapter and not img.error
    assert img.kinds == ["img2img", "text2img"] and "IP-Adapter" in img.summary
    assert text.class_name == "StableDiffusionPipeline" and not text.ip_adapter


@pytest.mark.gui
def test_settings_list_the_pipelines(qtbot, img2img_dir, tmp_path, monkeypatch):
    from core.paths import data_home
    from desktop.settings_dialog import SettingsDialog

    home = data_home() / "models" / "pipelines"
    home.mkdir(parents=True)
    (home / "tiny").symlink_to(img2img_dir)
    broken = tmp_path / "extra" / "broken"
    broken.mkdir(parents=True)
    (broken / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline",
                                                         "unet": ["diffusers", "UNet2DConditionModel"]}))
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.fields["models/pipelines_folder"].setText(str(tmp_path / "extra"))
    dialog.refresh_pipelines()
    rows = {dialog.pipelines.item(r, 0).text(): [dialog.pipelines.item(r, c).text()
                                                  for c in range(4)]
            for r in range(dialog.pipelines.rowCount())}
    assert rows["tiny"][1] == "StableDiffusionImg2ImgPipeline"
    assert rows["tiny"][2] == "img2img, text2img + IP-Adapter" and rows["tiny"][3] == "ready"
    assert "unet: missing" in rows["broken"][3]


def test_cancelling_stops_inside_a_frame(corpus, img2img_dir):
    from core.diffusion.pipeline_tasks import generate_pipeline_revision
    from core.errors import Cancelled
    from core.progress import Progress

    class CancelAtThirdCheck(Progress):
        calls = 0

        def check_cancelled(self):
            self.calls += 1
            if self.calls == 3:
                self.cancel()
            super().check_cancelled()

    progress = CancelAtThirdCheck()
    with open_store(corpus) as store, pytest.raises(Cancelled):
        generate_pipeline_revision(store, USER, "b", str(img2img_dir), signal="none", steps=8,
                                   strength=0.5, max_seconds=SECONDS, progress=progress)
    assert progress.calls == 3     # the frame loop's check, then the first two denoising steps


def test_creation_with_a_text_to_video_pipeline(corpus, tmp_path):
    from core.diffusion.pipeline_tasks import generate_pipeline_creation
    from core.diffusion.pipelines import describe
    from pipeline_fixtures import tiny_pipeline_folder

    folder = tiny_pipeline_folder(tmp_path / "tiny-t2v", "text2video")
    assert describe(folder).kinds == ["text2video"] and not describe(folder).error
    with open_store(corpus) as store:
        made = generate_pipeline_creation(store, USER, "a sunny beach", str(folder), n_frames=8,
                                          steps=2, seed=1)
    out = probe(made["output_path"])
    assert (out.frames, out.fps, out.width, out.height) == (8, 16, 256, 256)
    assert made["pipeline_class"] == "TextToVideoSDPipeline"
    assert made["motion"] == "8 frames from the text-to-video pipeline"


def test_the_app_revises_with_a_chosen_pipeline(qtbot, corpus, img2img_dir, tmp_path):
    """The Users dock offers the pipelines found; with one chosen, AI revise runs it (no
    bundled-model domain warning) and the generation records the folder."""
    from core.editor.generations import get_generation
    from core.paths import data_home
    from desktop.main_window import MainWindow
    from scale_helpers import copy_corpus

    home = data_home() / "models" / "pipelines"
    home.mkdir(parents=True, exist_ok=True)
    (home / "tiny-gui").symlink_to(img2img_dir)
    window = MainWindow(copy_corpus(corpus, tmp_path / "corpus.db"), build_demo_if_empty=False)
    qtbot.addWidget(window)
    try:
        choice = window.users.model
        qtbot.waitUntil(lambda: choice.findData(str(home / "tiny-gui")) > 0, timeout=30000)
        assert choice.itemText(0) == "Model: bundled video model"
        choice.setCurrentIndex(choice.findData(str(home / "tiny-gui")))
        assert "img2img" in choice.currentText() and "IP-Adapter" in choice.currentText()
        window.users.select(USER)
        window.corpus.select_item("portrait")
        window.users.strength.setValue(0.5)
        window.users.steps.setValue(4)
        with qtbot.waitSignal(window.job_ended, timeout=240000) as ended:
            window.users.revise_button.click()
        assert ended.args == ["Revise (diffusion)", "done"] and window.preflight.box is None
        with open_store(window.db_path) as store:
            job = json.loads(store.conn.execute(
                "SELECT params FROM jobs WHERE kind = 'revise' ORDER BY rowid DESC").fetchone()[0])
            generation = get_generation(store, store.conn.execute(
                "SELECT id FROM generations WHERE task = 'revise' ORDER BY rowid DESC").fetchone()[0])
        assert Path(job["pipeline"]).resolve() == img2img_dir.resolve()
        assert "guidance" not in job
        assert generation["params"]["guidance"] == 6.0       # the pipeline's default, not 2.0
        assert any(m["role"] == "pipeline" for m in generation["provenance"]["models"])
    finally:
        window.close()
