import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

from core.errors import MediaError
from core.media import iter_frames, probe, sample_frames, write_video, working_size
from core.media import decode as decode_module
from media_factory import ffmpeg, pattern_video

# Displayed size, rotation and frame count of each clip in ../shared/media (its README).
SHARED = {
    "b.mp4": (480, 270, 150), "big_buck_bunny_432_433.webm": (1280, 720, 24),
    "bigbuckbunny.mp4": (1280, 720, 132), "bikes.mp4": (640, 272, 250),
    "carphone_pristine.mp4": (176, 144, 120), "example2.mp4": (1280, 720, 48),
    "fire2.mp4": (1280, 720, 25), "mmaction2_demo.mp4": (340, 256, 280),
    "mmaction2_test.avi": (320, 240, 164), "pigs_in_a_polka.gif": (314, 273, 30),
    "scene_cuts.mp4": (1280, 272, 250), "world.mp4": (480, 270, 901),
}


@pytest.mark.parametrize("name", sorted(SHARED))
def test_probe_real_clips(shared_media, name):
    info = probe(shared_media / name)
    assert (info.width, info.height, info.frames) == SHARED[name]
    assert info.duration_s > 0.5 and info.fps > 5


def test_fire2_comes_out_upright(shared_media):
    """fire2.mp4 is stored upside-down with a -180 display matrix."""
    info = probe(shared_media / "fire2.mp4")
    assert info.rotation == 180
    ours = next(iter_frames(shared_media / "fire2.mp4", max_side=320)).image
    stored = subprocess.run(        # the first frame as stored, without the display matrix
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-noautorotate", "-i",
         str(shared_media / "fire2.mp4"), "-frames:v", "1", "-s", "320x180", "-pix_fmt",
         "rgb24", "-f", "rawvideo", "-"], capture_output=True, check=True).stdout
    raw = np.frombuffer(stored, np.uint8).reshape(180, 320, 3)
    diff = lambda a, b: np.abs(a.astype(int) - b.astype(int)).mean()  # noqa: E731
    assert diff(ours, raw[::-1, ::-1]) < 3 < 40 < diff(ours, raw)


def test_quarter_turn_matches_ffmpeg_autorotate(tmp_path):
    coded = pattern_video(tmp_path / "coded.mp4", size="240x320", seconds=1.0)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation:v:0", "90", "-i", str(coded), "-c", "copy", str(rotated))
    info = probe(rotated)
    assert (info.width, info.height, info.rotation) == (320, 240, 270)
    ours = next(iter_frames(rotated)).image
    reader = imageio_ffmpeg.read_frames(str(rotated))   # ffmpeg applies the display matrix
    meta = reader.__next__()
    reference = np.frombuffer(reader.__next__(), np.uint8).reshape(
        meta["size"][1], meta["size"][0], 3)
    reader.close()
    assert ours.shape == reference.shape == (240, 320, 3)
    assert np.abs(ours.astype(int) - reference.astype(int)).mean() < 4


def test_timestamps_are_real_and_sampling_is_uniform(shared_media):
    path = shared_media / "fire2.mp4"   # 25 frames over 2.4 s: a variable frame rate
    info = probe(path)
    times = [f.t_s for f in iter_frames(path, max_side=64, info=info)]
    assert len(times) == info.frames and times == sorted(times)
    assert times[-1] == pytest.approx(info.duration_s, abs=0.3)
    frames = sample_frames(path, 8, max_side=64, info=info)
    assert len(frames) == 8
    targets = [(i + 0.5) * info.duration_s / 8 for i in range(8)]
    assert all(abs(f.t_s - t) < 0.25 for f, t in zip(frames, targets))


def test_seeking_and_sequential_sampling_agree(shared_media, monkeypatch):
    path = shared_media / "world.mp4"   # 901 frames: sampled by seeking
    seeking = sample_frames(path, 12, max_side=96)
    monkeypatch.setattr(decode_module, "SEQUENTIAL_FRAME_LIMIT", 10**9)
    sequential = sample_frames(path, 12, max_side=96)
    assert [f.t_s for f in seeking] == pytest.approx([f.t_s for f in sequential])
    for a, b in zip(seeking, sequential):
        assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() < 2


def test_frame_at_seeks_on_long_videos_and_agrees_with_decoding_from_the_start(shared_media,
                                                                               monkeypatch):
    path = shared_media / "world.mp4"   # 901 frames: frame_at seeks
    times = (0.0, 0.5, 7.3, 29.9, 1e6)
    seeking = [decode_module.frame_at(path, t, max_side=96) for t in times]
    monkeypatch.setattr(decode_module, "SEQUENTIAL_FRAME_LIMIT", 10**9)
    sequential = [decode_module.frame_at(path, t, max_side=96) for t in times]
    for a, b in zip(seeking, sequential):
        assert a.shape == b.shape and np.abs(a.astype(int) - b.astype(int)).mean() < 2
    assert np.abs(sequential[2].astype(int) - sequential[3].astype(int)).mean() > 2


@pytest.mark.parametrize("name", ["big_buck_bunny_432_433.webm", "pigs_in_a_polka.gif",
                                  "mmaction2_test.avi", "carphone_pristine.mp4"])
def test_containers_decode_to_working_size(shared_media, name):
    frames = sample_frames(shared_media / name, 4, max_side=128)
    assert len(frames) == 4
    h, w, c = frames[0].image.shape
    assert c == 3 and max(h, w) <= 128 and frames[0].image.dtype == np.uint8


def test_write_h264_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    frames = [np.full((64, 96, 3), (i * 8, 100, 255 - i * 8), np.uint8) for i in range(20)]
    frames[5] = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
    path = write_video(tmp_path / "out.mp4", frames, fps=10)
    info = probe(path)
    assert (info.codec, info.width, info.height, info.frames) == ("h264", 96, 64, 20)
    decoded = [f.image for f in iter_frames(path)]
    assert np.abs(decoded[10].astype(int) - frames[10].astype(int)).mean() < 6
    assert not list(tmp_path.glob(".*partial*"))


def test_write_refuses_odd_sizes(tmp_path):
    with pytest.raises(MediaError, match="even"):
        write_video(tmp_path / "odd.mp4", [np.zeros((33, 32, 3), np.uint8)], fps=5)
    assert not (tmp_path / "odd.mp4").exists()


def test_working_size_keeps_aspect_and_even_sides():
    assert working_size(1280, 720, 256) == (256, 144)
    assert working_size(314, 273, 128) == (128, 112)
    assert working_size(176, 144, 256) == (176, 144)
