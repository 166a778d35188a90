import numpy as np
import pytest

from core.demo.render import render_segment
from core.demo.vocabulary import COLOURS
from core.encoders import EncoderError, load_encoder


@pytest.fixture(scope="module")
def bundled():
    return load_encoder("bundled")


def test_bundled_encoder_embeds_images_and_texts(bundled):
    frames = render_segment({"scene": "beach", "shape": "star", "colour": "red",
                             "motion": "still", "count": 1}, 2, 0)
    images = bundled.encode_images(frames)
    texts = bundled.encode_texts(["a red star on a beach", "a blue ring in the snow", "zebra"])
    assert images.shape == (2, bundled.dim) and texts.shape == (3, bundled.dim)
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-4)
    assert np.abs(texts[0] - texts[1]).max() > 1e-3    # different words, different vectors
    assert bundled.model_id.startswith("bundled:generec-tiny@") and len(bundled.sha256) == 64


def test_bundled_encoder_knows_colours_better_than_chance(bundled):
    """Zero-shot: each colour's frame must be nearest to its own colour's prompt."""
    frames, labels = [], []
    for k, colour in enumerate(COLOURS):
        for shape, scene in (("circle", "snow"), ("square", "city")):
            frames.append(render_segment({"scene": scene, "shape": shape, "colour": colour,
                                          "motion": "still", "count": 2}, 1, k)[0])
            labels.append(colour)
    prompts = bundled.encode_texts([f"a {c} object" for c in COLOURS])
    predicted = np.argmax(bundled.encode_images(frames) @ prompts.T, axis=1)
    accuracy = np.mean([list(COLOURS)[p] == label for p, label in zip(predicted, labels)])
    assert accuracy >= 0.5    # chance is 1/6


def test_local_weights_load_through_the_spec(local_checkpoint):
    encoder = load_encoder(f"ViT-S-32-alt:{local_checkpoint}")
    assert encoder.model_id.startswith("ViT-S-32-alt:my-clip.safetensors@")
    assert encoder.image_size == 224
    vectors = encoder.encode_images([np.zeros((100, 180, 3), np.uint8)])
    assert vectors.shape == (1, encoder.dim)


def test_bad_specs_say_what_to_do(tmp_path):
    with pytest.raises(EncoderError, match="not found"):
        load_encoder(f"ViT-S-32-alt:{tmp_path / 'missing.safetensors'}")
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(EncoderError, match="junk.safetensors: cannot load"):
        load_encoder(f"ViT-S-32-alt:{tmp_path / 'junk.safetensors'}")
    with pytest.raises(EncoderError, match="unknown open_clip architecture"):
        load_encoder("NoSuchNet:whatever")
    with pytest.raises(EncoderError, match="expected 'bundled'"):
        load_encoder("nonsense")


def test_pretrained_tag_without_download_fails_fast_with_a_hint(monkeypatch):
    monkeypatch.delenv("GENEREC_ALLOW_DOWNLOADS", raising=False)
    monkeypatch.setenv("HF_HOME", "/nonexistent-cache")
    with pytest.raises(EncoderError, match="Downloads are off"):
        load_encoder("RN50:openai")


def test_every_caption_word_survives_vocabulary_pruning(bundled):
    """The pruned token table must keep every word the demo captions and prompts use."""
    from core.demo.spec import build_spec
    from core.encoders.train import zero_shot_prompts

    texts = [seg["caption"] for item in build_spec(30, 1).items for seg in item.segments]
    texts += [t for prompts in zero_shot_prompts().values() for ts in prompts.values() for t in ts]
    tokens = bundled.tokenizer(texts).numpy()
    unknown_row = int(np.bincount(bundled.vocab_map).argmax())   # every dropped token maps here
    assert not np.any(bundled.vocab_map[tokens] == unknown_row)
