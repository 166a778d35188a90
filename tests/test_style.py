import numpy as np
import pytest

from core.editor.overlay import ai_label, burn_caption
from core.editor.restyle import restyle_video
from core.editor.style import PRESETS, TemporalSmoother, flicker
from core.errors import InputError
from core.media import iter_frames, probe
from test_media import SHARED


@pytest.mark.slow
@pytest.mark.parametrize("style", sorted(PRESETS))
def test_every_preset_renders_every_shared_clip(shared_media, tmp_path, style):
    for name in sorted(SHARED):
        source = probe(shared_media / name)
        result = restyle_video(shared_media / name, tmp_path / f"{name}.mp4", style, max_side=128)
        out = probe(result.path)
        assert out.frames == source.frames, name
        assert out.duration_s == pytest.approx(source.duration_s, abs=max(0.1, 1.5 / source.fps)), name
        assert out.codec == "h264" and out.has_audio == source.has_audio, name
        assert (out.width > out.height) == (source.width > source.height), name   # rotation kept


def test_smoothing_removes_flicker_the_source_does_not_have():
    rng = np.random.default_rng(0)
    still = np.full((64, 64, 3), 120, np.uint8)
    noisy = [np.clip(still + rng.normal(0, 20, still.shape), 0, 255).astype(np.uint8)
             for _ in range(10)]                       # a filter that adds noise to a still frame
    smoother = TemporalSmoother()
    smoothed = [smoother(still, frame) for frame in noisy]
    assert flicker(smoothed) < 0.5 * flicker(noisy)
    moving = [np.roll(still, k, axis=1) for k in range(10)]
    moving[3][:, :32] = 255                             # real change passes straight through
    out = TemporalSmoother()
    result = [out(src, src) for src in moving]
    assert np.abs(result[3][:, :32].astype(int) - moving[3][:, :32]).max() <= 1


def test_overlays_draw_where_expected():
    frame = np.full((256, 256, 3), 128, np.uint8)
    captioned = burn_caption(frame.copy(), "a red star on a beach")
    labelled = ai_label(frame.copy())
    assert np.abs(captioned[200:] - 128).sum() > 0 and np.array_equal(captioned[:100], frame[:100])
    assert np.abs(labelled[:30, :120].astype(int) - 128).sum() > 0
    assert np.array_equal(labelled[100:], frame[100:])


def test_restyle_keeps_audio_and_reports_flicker(shared_media, tmp_path):
    result = restyle_video(shared_media / "b.mp4", tmp_path / "b.mp4", "vintage_film",
                           caption="hello", max_side=256)
    out = probe(result.path)
    assert out.has_audio and out.frames == 150
    assert result.flicker > 0 and result.source_flicker > 0
    first = next(iter_frames(result.path)).image
    assert first.shape == (144, 256, 3)


def test_unknown_style_is_a_clear_error(shared_media, tmp_path):
    with pytest.raises(InputError, match="unknown style 'oil'"):
        restyle_video(shared_media / "b.mp4", tmp_path / "x.mp4", "oil")
