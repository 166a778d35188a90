"""The optional diffusion style, run through diffusers with tiny components assembled here
(random weights, a made-up vocabulary): the loading and frame path are the real ones."""
import json

import numpy as np
import pytest

from core.cli import main
from core.errors import InputError
from core.media import probe

diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_pipeline(tmp_path_factory):
    import torch
    from diffusers import (AutoencoderKL, DDIMScheduler, StableDiffusionImg2ImgPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny-sd")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(16, 32), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=16,
        attention_head_dim=2, norm_num_groups=8)
    vae = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4,   # 8x downsampling
                        block_out_channels=(8, 8, 16, 16), down_block_types=("DownEncoderBlock2D",) * 4,
                        up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=4,
                        layers_per_block=1)
    text = CLIPTextModel(CLIPTextConfig(hidden_size=16, intermediate_size=32, num_attention_heads=2,
                                        num_hidden_layers=1, vocab_size=100,
                                        max_position_embeddings=77))
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in "abcdefghijklmnopqrstuvwxyz":
        vocab[ch], vocab[ch + "</w>"] = len(vocab), len(vocab) + 1
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"),
                              model_max_length=77)
    pipe = StableDiffusionImg2ImgPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet,
                                          scheduler=DDIMScheduler(clip_sample=False, steps_offset=1), safety_checker=None,
                                          feature_extractor=None, requires_safety_checker=False)
    pipe.save_pretrained(folder / "sd")
    return folder / "sd"


def test_diffusion_style_restyles_frames(tiny_pipeline):
    from core.editor.img2img import DiffusionStyle

    style = DiffusionStyle("a cartoon", tiny_pipeline, strength=0.5, steps=4)
    frame = np.random.default_rng(0).integers(0, 255, (60, 90, 3), dtype=np.uint8)
    out = style(frame)
    assert out.shape == frame.shape and out.dtype == np.uint8
    assert np.array_equal(out, style(frame))            # same seed, same frame


def test_generate_with_the_diffusion_style(tiny_pipeline, small_demo, tmp_path, capsys):
    import shutil

    from core.store import open_store

    with open_store(small_demo) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(small_demo, tmp_path / "c.db")
    assert main(["generate", "--db", str(tmp_path / "c.db"), "--user", "u0001", "--item",
                 "demo-0001", "--task", "style", "--style", "diffusion", "--prompt", "a cartoon",
                 "--diffusion-weights", str(tiny_pipeline), "--steps", "2", "--strength", "0.5",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["style"] == "diffusion" and result["prompt"] == "a cartoon"
    assert probe(result["output_path"]).frames == result["frames"]
    from core.editor.generations import get_generation

    with open_store(tmp_path / "c.db") as store:        # every weight file's sha256 (issue 14)
        models = get_generation(store, result["generation_id"])["provenance"]["models"]
    files = {f["file"] for f in models[0]["files"]}
    assert models[0]["role"] == "pipeline" and models[0]["class"] == "StableDiffusionImg2ImgPipeline"
    assert files == {p.relative_to(tiny_pipeline).as_posix()
                     for p in tiny_pipeline.rglob("*.safetensors")} and len(files) == 3


def test_missing_weights_are_a_clear_error(tmp_path, monkeypatch):
    from core.editor.img2img import weights_folder

    monkeypatch.delenv("GENEREC_SD_WEIGHTS", raising=False)
    with pytest.raises(InputError, match="GENEREC_SD_WEIGHTS"):
        weights_folder(None)
    with pytest.raises(InputError, match="model_index.json"):
        weights_folder(tmp_path)
