"""Benchmark: seconds per frame of a pipeline revision (issue 14) at 256 px on this machine.

Measured: the tiny assembled pipeline (tests/pipeline_fixtures.py, with its IP-Adapter) through
the revision's frame step (core.editor.img2img.img2img_frame) at the defaults of
`generate --task revise --pipeline` (20 steps, strength 0.45: 9 denoising steps, guidance 6 so
each step runs the UNet on a batch of 2), at 1 and 2 torch threads. With --sd15, also one step
of a Stable Diffusion 1.5-sized UNet (random weights, 860M parameters; 3.5 GB of memory) and
its VAE's encode and decode at 256 px, which gives this machine's sustained FLOP rate on that
network, and from it the cost of a frame at 256 and 512 px. FLOPs are counted by
torch.utils.flop_counter on meta tensors (no weights needed). docs/pipelines.md explains the
figures and the GPU estimate.

    python bench/bench_pipeline.py [--frames 12] [--sd15] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
CLIP = ROOT.parent / "shared" / "media" / "b.mp4"
STEPS, STRENGTH, GUIDANCE = 20, 0.45, 6.0       # generate --pipeline's defaults
SD15_UNET = dict(sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
                 block_out_channels=(320, 640, 1280, 1280),
                 down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
                 up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
                 cross_attention_dim=768, attention_head_dim=8)
SD15_VAE = dict(in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
                block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
                up_block_types=("UpDecoderBlock2D",) * 4, sample_size=512)
# Assumed sustained fp16 rate of one current GPU on this UNet (RTX 4090 / A100 class, about a
# quarter to a half of its dense fp16 tensor peak); not measured here, see docs/pipelines.md.
GPU_TFLOPS = 40.0


def frames_of(clip: Path, n: int):
    import cv2

    from core.media import iter_frames

    if clip.is_file():
        images = [f.image for f in iter_frames(clip, max_side=512)][:n]
    else:                       # no ../shared/media: noise frames cost the same
        import numpy as np

        images = list(np.random.default_rng(0).integers(0, 255, (n, 256, 256, 3), dtype=np.uint8))
    return [cv2.resize(i, (256, 256), interpolation=cv2.INTER_AREA) for i in images]


def tiny(n_frames: int) -> dict:
    import numpy as np
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from core.diffusion.pipelines import IMG2IMG, load_pipeline
    from core.editor.img2img import img2img_frame
    from pipeline_fixtures import tiny_pipeline_folder

    folder = tiny_pipeline_folder(Path(tempfile.mkdtemp()) / "tiny", "img2img", ip_adapter=True)
    pipe = load_pipeline(folder, IMG2IMG)
    frames = frames_of(CLIP, n_frames)
    embeds = np.random.default_rng(0).normal(size=(1, 32)).astype(np.float32)

    def one(frame):
        return img2img_frame(pipe, frame, "autumn colours", STRENGTH, STEPS, GUIDANCE, 0, embeds)

    counter = FlopCounterMode(display=False)
    with counter:
        one(frames[0])
    out = {"flops_per_frame_g": round(counter.get_total_flops() / 1e9, 2)}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        one(frames[0])                                            # warm
        times = []
        for frame in frames:
            start = time.perf_counter()
            one(frame)
            times.append(time.perf_counter() - start)
        out[f"threads_{threads}"] = {"s_per_frame": round(statistics.median(times), 3),
                                     "min": round(min(times), 3), "max": round(max(times), 3)}
    return out


def sd15_flops() -> dict:
    """GFLOPs of SD 1.5's networks per call, at 256 and 512 px (meta tensors: no weights)."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        unet, vae = UNet2DConditionModel(**SD15_UNET), AutoencoderKL(**SD15_VAE)
    out = {"unet_params_m": round(sum(p.numel() for p in unet.parameters()) / 1e6, 1)}
    for px in (256, 512):
        lat = px // 8
        with torch.device("meta"):
            x, text = torch.randn(2, 4, lat, lat), torch.randn(2, 77, 768)
            image, z = torch.randn(1, 3, px, px), torch.randn(1, 4, lat, lat)
        for name, call in (("unet_cfg_step", lambda: unet(x, 10, text)),
                           ("vae_encode", lambda: vae.encode(image)),
                           ("vae_decode", lambda: vae.decode(z))):
            counter = FlopCounterMode(display=False)
            with counter, torch.no_grad():
                call()
            out[f"{name}_{px}_g"] = round(counter.get_total_flops() / 1e9, 1)
    return out


def sd15_measured() -> dict:
    """Seconds of one UNet step (batch 2) and of VAE encode + decode at 256 px, random weights,
    on every core."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel

    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    unet, vae = UNet2DConditionModel(**SD15_UNET).eval(), AutoencoderKL(**SD15_VAE).eval()
    x, text = torch.randn(2, 4, 32, 32), torch.randn(2, 77, 768)
    image = torch.randn(1, 3, 256, 256)
    out = {}
    with torch.no_grad():
        unet(x, 10, text)                                           # warm
        for name, call in (("unet_cfg_step_256_s", lambda: unet(x, 10, text)),
                           ("vae_encode_256_s", lambda: vae.encode(image)),
                           ("vae_decode_256_s", lambda: vae.decode(x[:1]))):
            start = time.perf_counter()
            call()
            out[name] = round(time.perf_counter() - start, 2)
    return out


def estimate(flops: dict, unet_gflops: float, vae_gflops: float) -> dict:
    """Seconds per revised frame at sustained rates (GFLOP/s) of the UNet and of the VAE:
    VAE encode, int(steps x strength) UNet steps with guidance (batch 2), VAE decode (the text
    and image encoders are left out: under 2% of a frame)."""
    steps = int(STEPS * STRENGTH)
    return {px: round(steps * flops[f"unet_cfg_step_{px}_g"] / unet_gflops
                      + (flops[f"vae_encode_{px}_g"] + flops[f"vae_decode_{px}_g"]) / vae_gflops, 2)
            for px in (256, 512)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--sd15", action="store_true",
                        help="also time an SD 1.5-sized UNet and VAE (3.5 GB, a few minutes)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    report = {"machine": f"{os.cpu_count()} cores, load average {load:.2f} at start",
              "settings": {"size": "256x256", "steps": STEPS, "strength": STRENGTH,
                           "denoising_steps": int(STEPS * STRENGTH), "guidance": GUIDANCE,
                           "ip_adapter": True},
              "tiny": tiny(args.frames), "sd15_gflop": sd15_flops()}
    flops = report["sd15_gflop"]
    if args.sd15:
        measured = sd15_measured()
        unet_rate = flops["unet_cfg_step_256_g"] / measured["unet_cfg_step_256_s"]
        vae_rate = ((flops["vae_encode_256_g"] + flops["vae_decode_256_g"])
                    / (measured["vae_encode_256_s"] + measured["vae_decode_256_s"]))
        report["sd15_cpu"] = {**measured, "unet_gflops": round(unet_rate, 1),
                              "vae_gflops": round(vae_rate, 1),
                              "s_per_frame_estimate": estimate(flops, unet_rate, vae_rate)}
    report["sd15_gpu"] = {"assumed_sustained_tflops_fp16": GPU_TFLOPS,
                          "s_per_frame_estimate": estimate(flops, GPU_TFLOPS * 1000,
                                                           GPU_TFLOPS * 1000)}
    print(json.dumps(report, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
