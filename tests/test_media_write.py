"""Video writing through the ffmpeg executable: H.264 encoding, carrying the source's audio
over, cutting clips and stripping metadata, on real files."""
import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from core.editor.outputs import cut_clip
from core.errors import MediaError
from core.export.metadata import container_tags, strip_metadata
from core.media import iter_frames, probe, write_video
from core.media.ffmpeg import read_header
from core.media.write import carry_audio
from media_factory import audio_seconds, decoded_hashes, ffmpeg, packet_hashes


def gradient(k, size=(64, 96)):
    h, w = size
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None]
    image[..., 1] = (k * 12) % 256
    image[..., 2] = np.linspace(255, 0, h, dtype=np.uint8)[:, None]
    return image


def with_audio(path, seconds=3.0, size="320x240", rate=10, extra=()):
    """A testsrc clip (a frame counter) with a 440 Hz tone as AAC."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc=s={size}:d={seconds}:r={rate}", "-f", "lavfi",
           "-i", f"sine=frequency=440:duration={seconds}", *extra, "-c:v", "libx264",
           "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path))
    return path


def mean_diff(a, b):
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


@pytest.mark.parametrize("fps", [29.97, 12.5, 10])
def test_h264_has_the_frames_rate_and_size_asked_for(tmp_path, fps):
    frames = [gradient(k) for k in range(15)]
    path = write_video(tmp_path / "v.mp4", frames, fps=fps)
    info = probe(path)
    assert (info.codec, info.width, info.height, info.frames, info.has_audio) == \
        ("h264", 96, 64, 15, False)
    assert info.fps == fps
    decoded = list(iter_frames(path, info=info))
    assert [f.t_s for f in decoded] == pytest.approx([k / fps for k in range(15)], abs=1e-6)
    assert max(mean_diff(f.image, g) for f, g in zip(decoded, frames)) < 4
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")   # +faststart
    assert not list(tmp_path.glob(".*"))


def test_write_refuses_no_frames_and_a_size_change(tmp_path):
    with pytest.raises(MediaError, match="no frames"):
        write_video(tmp_path / "none.mp4", [], fps=10)
    with pytest.raises(MediaError, match="frame size changed"):
        write_video(tmp_path / "sizes.mp4", [gradient(0), gradient(1, (32, 32))], fps=10)
    with pytest.raises(MediaError, match="frames per second"):
        write_video(tmp_path / "rate.mp4", [gradient(0)], fps=0)
    assert not list(tmp_path.iterdir())


def test_a_failure_mid_stream_leaves_no_partial_file_and_the_old_file_alone(tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(b"the previous version")

    def frames():
        for k in range(30):
            if k == 20:
                raise RuntimeError("the producer failed")
            yield gradient(k)

    with pytest.raises(RuntimeError, match="producer"):
        write_video(path, frames(), fps=10)
    assert path.read_bytes() == b"the previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_carry_audio_copies_the_video_and_cuts_the_audio(tmp_path):
    source = with_audio(tmp_path / "source.mp4", seconds=3.0)
    video = write_video(tmp_path / "silent.mp4", [gradient(k) for k in range(10)], fps=10)
    cut = tmp_path / "cut.mp4"
    carry_audio(source, video, cut, has_audio=True, duration_s=1.0)
    info = probe(cut)
    assert info.has_audio and info.frames == 10
    assert packet_hashes(cut) == packet_hashes(video)    # stream copy
    assert audio_seconds(cut) == pytest.approx(1.0, abs=0.025)

    whole = tmp_path / "whole.mp4"
    carry_audio(source, video, whole, has_audio=True)
    assert audio_seconds(whole) == pytest.approx(3.0, abs=0.025)

    moved = tmp_path / "moved.mp4"
    carry_audio(source, video, moved, has_audio=False)
    assert not video.exists() and not probe(moved).has_audio
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["cut.mp4", "moved.mp4", "source.mp4", "whole.mp4"]


def test_carry_audio_names_the_source_when_it_cannot(tmp_path):
    video = write_video(tmp_path / "silent.mp4", [gradient(k) for k in range(4)], fps=10)
    with pytest.raises(MediaError, match="missing.mp4"):
        carry_audio(tmp_path / "missing.mp4", video, tmp_path / "out.mp4", has_audio=True)
    assert not (tmp_path / "out.mp4").exists()


def test_cut_clip_of_a_rotated_source_is_upright_with_audio(tmp_path):
    coded = with_audio(tmp_path / "coded.mp4", seconds=2.0, size="240x320")
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation:v:0", "90", "-i", str(coded), "-c", "copy", str(rotated))
    assert probe(rotated).rotation == 270
    clip = cut_clip(rotated, 0.5, 1.5, tmp_path / "clip.mp4")
    info = probe(clip)
    assert (info.width, info.height, info.rotation, info.frames) == (320, 240, 0, 10)
    assert info.has_audio and audio_seconds(clip) == pytest.approx(1.0, abs=0.025)
    assert info.duration_s == pytest.approx(1.0, abs=0.11)
    source = {round(f.t_s, 3): f.image for f in iter_frames(rotated)}
    for k, frame in enumerate(iter_frames(clip)):
        assert frame.t_s == pytest.approx(k / 10, abs=1e-6)
        assert mean_diff(frame.image, source[round(0.5 + k / 10, 3)]) < 5


def test_cut_clip_seeks_far_starts_and_makes_odd_sizes_even(tmp_path):
    # 4:4:4 lets H.264 hold the odd size; keyframes every 10 frames give the seek a target
    source = with_audio(tmp_path / "odd.mp4", seconds=6.0, size="161x121",
                        extra=("-pix_fmt", "yuv444p", "-g", "10"))
    clip = cut_clip(source, 3.3, 4.3, tmp_path / "clip.mp4")
    info = probe(clip)
    assert (info.width, info.height, info.frames, info.has_audio) == (160, 120, 10, True)
    wanted = next(f.image for f in iter_frames(source) if f.t_s >= 3.3 - 1e-6)
    first = next(iter_frames(clip)).image
    import cv2
    assert mean_diff(first, cv2.resize(wanted, (160, 120), interpolation=cv2.INTER_AREA)) < 6
    with pytest.raises(MediaError, match="no frame"):
        cut_clip(source, 7.0, 8.0, tmp_path / "late.mp4")
    assert not (tmp_path / "late.mp4").exists()


def test_cut_clip_of_the_upside_down_real_clip(shared_media, tmp_path):
    source = shared_media / "fire2.mp4"   # rotation -180, VFR, mono AAC
    clip = cut_clip(source, 0.0, 1.0, tmp_path / "fire.mp4")
    info = probe(clip)
    assert (info.width, info.height, info.rotation, info.has_audio) == (1280, 720, 0, True)
    ours = [f for f in iter_frames(clip, max_side=320)]
    theirs = [f for f in iter_frames(source, max_side=320) if f.t_s < 1.0]
    assert len(ours) == len(theirs)
    assert [f.t_s for f in ours] == pytest.approx([f.t_s - theirs[0].t_s for f in theirs],
                                                  abs=1e-4)
    assert max(mean_diff(a.image, b.image) for a, b in zip(ours, theirs)) < 4


def test_strip_metadata_drops_sei_and_encoder_strings_and_keeps_the_pixels(tmp_path):
    source = with_audio(tmp_path / "source.mp4", seconds=1.0,
                        extra=("-metadata", "title=Holiday", "-metadata", "artist=Alice"))
    marked = tmp_path / "marked.mp4"
    carry_audio(source, write_video(tmp_path / "v.mp4", [gradient(k) for k in range(10)], 10),
                marked, has_audio=True)
    assert b"x264" in marked.read_bytes() and b"Lavf" in marked.read_bytes()
    clean = strip_metadata(marked, tmp_path / "clean.mp4", "generation gen-1")
    raw = clean.read_bytes()
    assert b"x264" not in raw and b"Lavf" not in raw and b"Alice" not in raw
    tags = container_tags(clean)
    assert tags["format"]["comment"] == "generation gen-1"
    assert set(tags["format"]) <= {"major_brand", "minor_version", "compatible_brands", "comment"}
    assert all(set(s) <= {"language", "handler_name"} for s in tags["streams"])
    assert len(tags["streams"]) == 2 and packet_hashes(clean, "a") == packet_hashes(marked, "a")
    assert len(decoded_hashes(clean)) == 10 and decoded_hashes(clean) == decoded_hashes(marked)
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["clean.mp4", "marked.mp4", "source.mp4", "v.mp4"]


def test_carry_audio_from_mp3_in_avi(shared_media, tmp_path):
    """MP3 in AVI counts time in 1152-sample frames, too coarse for AAC's 1024-sample ones."""
    video = write_video(tmp_path / "silent.mp4", [gradient(k) for k in range(10)], fps=10)
    out = tmp_path / "out.mp4"
    carry_audio(shared_media / "mmaction2_test.avi", video, out, has_audio=True, duration_s=1.0)
    audio = [s for s in read_header(out).streams if s.kind == "audio"]
    assert [s.codec for s in audio] == ["aac"] and audio_rate(out) == 44100
    assert audio_seconds(out) == pytest.approx(1.0, abs=1e-3)


def test_cut_clip_of_an_avi_with_packed_b_frames(shared_media, tmp_path):
    """Its frames' pts go backwards; FFmpeg's best-effort timestamps (the dts) put them right."""
    clip = cut_clip(shared_media / "mmaction2_test.avi", 2.0, 3.0, tmp_path / "avi.mp4")
    info = probe(clip)
    assert (info.width, info.height, info.has_audio, info.frames) == (320, 240, True, 25)
    times = [f.t_s for f in iter_frames(clip)]
    assert times == sorted(times) and times[-1] == pytest.approx(0.96, abs=1e-6)


def audio_rate(path):
    log = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                         capture_output=True, text=True).stderr
    return int(re.search(r"Audio: .*?(\d+) Hz", log).group(1))


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
def test_no_gpl_library_is_loaded_into_the_app(tmp_path):
    """Issue 16: libx264 encodes in the ffmpeg process, never in ours (PyAV linked it here)."""
    source = with_audio(tmp_path / "source.mp4", seconds=1.0)
    video = write_video(tmp_path / "v.mp4", [gradient(k) for k in range(10)], fps=10)
    carry_audio(source, video, tmp_path / "out.mp4", has_audio=True)
    cut_clip(tmp_path / "out.mp4", 0.2, 0.8, tmp_path / "clip.mp4")
    assert len(list(iter_frames(tmp_path / "clip.mp4"))) == 6
    loaded = Path("/proc/self/maps").read_text()
    assert not re.search(r"libx26[45]|libpostproc|libxvidcore|/av\.libs/", loaded)
