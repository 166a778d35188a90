"""Tiny diffusers pipelines assembled from configs, for tests and the benchmark: no download,
no real weights. `tiny_pipeline_folder(dest)` writes a Stable Diffusion folder (UNet, VAE, CLIP
text encoder with an offline byte-level tokenizer, DDIM scheduler) as safetensors, optionally
with an IP-Adapter (`ip_adapter/`: a CLIP vision encoder and the adapter's weights in the key
layout diffusers' `load_ip_adapter` reads)."""
from __future__ import annotations

from pathlib import Path

CROSS_DIM = 32          # the text encoder's width = the UNet's cross-attention width
IMAGE_EMBED_DIM = 32    # the image encoder's projection width


def tiny_tokenizer():
    """A CLIP BPE tokenizer built offline: every byte-level character, alone and word-final,
    plus the two special tokens; no merges, so any text tokenizes to characters."""
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTokenizer

    chars = sorted(ByteLevel.alphabet())
    vocab = [*chars, *(c + "</w>" for c in chars), "<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(vocab={t: i for i, t in enumerate(vocab)}, merges=[],
                         model_max_length=77)


def tiny_components(seed: int = 0) -> dict:
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=32, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=CROSS_DIM,
        attention_head_dim=8, norm_num_groups=32)
    vae = AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=8,
        block_out_channels=(8, 16, 16, 16), down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, sample_size=256)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=514, hidden_size=CROSS_DIM, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, max_position_embeddings=77, bos_token_id=512, eos_token_id=513,
        pad_token_id=513, projection_dim=CROSS_DIM))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    return {"unet": unet, "vae": vae, "text_encoder": text_encoder, "scheduler": scheduler}


def tiny_pipeline_folder(dest: Path, kind: str = "img2img", ip_adapter: bool = False,
                         seed: int = 0) -> Path:
    """Write a tiny pipeline folder (`kind`: img2img, text2img or text2video) with safetensors
    weights."""
    from diffusers import StableDiffusionImg2ImgPipeline, StableDiffusionPipeline

    dest = Path(dest)
    if kind == "text2video":
        return _tiny_text2video(dest, seed)
    cls = StableDiffusionImg2ImgPipeline if kind == "img2img" else StableDiffusionPipeline
    pipe = cls(**tiny_components(seed), tokenizer=tiny_tokenizer(), safety_checker=None,
               feature_extractor=None, image_encoder=None, requires_safety_checker=False)
    pipe.save_pretrained(dest, safe_serialization=True)
    if ip_adapter:
        write_ip_adapter(dest / "ip_adapter", pipe.unet, seed)
    return dest


def _tiny_text2video(dest: Path, seed: int) -> Path:
    """A TextToVideoSDPipeline (ModelScope's layout): the image components with a 3D UNet."""
    import torch
    from diffusers import TextToVideoSDPipeline, UNet3DConditionModel

    parts = tiny_components(seed)
    torch.manual_seed(seed + 2)
    parts["unet"] = UNet3DConditionModel(
        sample_size=32, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(32, 64), down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=CROSS_DIM,
        attention_head_dim=8, norm_num_groups=32)
    TextToVideoSDPipeline(**parts, tokenizer=tiny_tokenizer()).save_pretrained(
        dest, safe_serialization=True)
    return dest


def write_ip_adapter(folder: Path, unet, seed: int = 0) -> Path:
    """An IP-Adapter for `unet`: `image_encoder/` (CLIPVisionModelWithProjection) and
    `ip-adapter.safetensors` with the keys `image_proj.proj.*`, `image_proj.norm.*` and
    `ip_adapter.{n}.to_k_ip.weight` / `to_v_ip.weight` for each cross-attention processor
    (n = 1, 3, 5, ...: diffusers counts the self-attention processors between them)."""
    import torch
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed + 1)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        image_size=32, patch_size=8, projection_dim=IMAGE_EMBED_DIM))
    encoder.save_pretrained(folder / "image_encoder", safe_serialization=True)
    tokens = 4
    weights = {"image_proj.proj.weight": torch.randn(CROSS_DIM * tokens, IMAGE_EMBED_DIM) * 0.05,
               "image_proj.proj.bias": torch.zeros(CROSS_DIM * tokens),
               "image_proj.norm.weight": torch.ones(CROSS_DIM),
               "image_proj.norm.bias": torch.zeros(CROSS_DIM)}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn2.processor"):
            hidden = _hidden_size(unet, name)
            for proj in ("to_k_ip", "to_v_ip"):
                weights[f"ip_adapter.{key_id}.{proj}.weight"] = torch.randn(hidden, CROSS_DIM) * 0.05
            key_id += 2
    save_file({k: v.contiguous() for k, v in weights.items()}, str(folder / "ip-adapter.safetensors"))
    return folder


def _hidden_size(unet, name: str) -> int:
    channels = unet.config.block_out_channels
    if name.startswith("mid_block"):
        return channels[-1]
    block = int(name.split(".")[1])
    return list(reversed(channels))[block] if name.startswith("up_blocks") else channels[block]
