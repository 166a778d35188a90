"""Pretrained diffusers pipelines the user keeps on disk (issue 14): find them, check them, load
them, and name every weight file they hold for provenance.

A pipeline is a folder written by diffusers' `save_pretrained` (`model_index.json` plus one
subfolder per component). It is never downloaded: loading is `local_files_only=True` and
`use_safetensors=True`, and a folder that lacks a file (or holds only pickled `.bin` weights) is
refused with an error that names the file. An IP-Adapter, if the folder has one, lives in its
`ip_adapter/` subfolder: one `*.safetensors` adapter file and the CLIP vision encoder it was
trained with in `ip_adapter/image_encoder/` (the layout of h94/IP-Adapter's `models/` folder).

Where pipelines are looked for: `<user data folder>/models/pipelines/*/`, the folders in
`GENEREC_PIPELINES` (separated by the OS path separator) and any folder the caller adds (the
GUI's setting).
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from core.errors import InputError

PIPELINES_ENV = "GENEREC_PIPELINES"
IP_ADAPTER_DIR = "ip_adapter"
IMG2IMG, TEXT2IMG, TEXT2VIDEO = "img2img", "text2img", "text2video"
# Text-to-video pipeline classes of diffusers (one video per call); any other class whose name
# says Video is taken as text-to-video too.
VIDEO_CLASSES = {"TextToVideoSDPipeline", "TextToVideoZeroPipeline", "AnimateDiffPipeline",
                 "CogVideoXPipeline", "LTXPipeline", "WanPipeline", "HunyuanVideoPipeline",
                 "MochiPipeline", "LattePipeline"}
# Image pipelines whose components also run img2img (diffusers' AutoPipelineForImage2Image).
IMAGE_FAMILIES = ("StableDiffusion", "StableDiffusionXL", "Kandinsky", "LatentConsistencyModel",
                  "PixArt", "Flux", "StableDiffusion3")
DIFFUSERS_WEIGHTS = "diffusion_pytorch_model"
TRANSFORMERS_WEIGHTS = "model"


@dataclass
class PipelineInfo:
    path: str
    class_name: str
    kinds: list[str] = field(default_factory=list)    # img2img, text2img, text2video
    ip_adapter: bool = False
    error: str | None = None                          # why it cannot be used, if it cannot

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def summary(self) -> str:
        what = ", ".join(self.kinds) or "no task this app runs"
        return what + (" + IP-Adapter" if self.ip_adapter else "")


def pipeline_folders(extra: list[str | os.PathLike] | None = None) -> list[Path]:
    """The folders searched for pipelines: the user data folder's models/pipelines, the
    GENEREC_PIPELINES folders, then `extra`."""
    from core.paths import data_home

    env = [p for p in os.environ.get(PIPELINES_ENV, "").split(os.pathsep) if p.strip()]
    folders = [data_home() / "models" / "pipelines", *map(Path, env), *map(Path, extra or [])]
    return list(dict.fromkeys(Path(f).expanduser() for f in folders))


def discover_pipelines(folders: list[str | os.PathLike] | None = None) -> list[PipelineInfo]:
    """Every pipeline folder in `folders` (default: `pipeline_folders()`): each folder that has
    a model_index.json, or whose subfolders do. Broken ones are listed with their error."""
    found = []
    for folder in map(Path, folders if folders is not None else pipeline_folders()):
        if (folder / "model_index.json").is_file():
            candidates = [folder]
        elif folder.is_dir():
            candidates = sorted(p for p in folder.iterdir() if (p / "model_index.json").is_file())
        else:
            continue
        found += [describe(c) for c in candidates]
    return found


def describe(folder: str | os.PathLike) -> PipelineInfo:
    """What the folder is and can do, with the error `validate` would raise (never raises)."""
    folder = Path(folder)
    try:
        index = _model_index(folder)
    except InputError as exc:
        return PipelineInfo(str(folder), "?", error=str(exc))
    info = PipelineInfo(str(folder), index.get("_class_name", "?"), pipeline_kinds(index),
                        (folder / IP_ADAPTER_DIR).is_dir())
    try:
        validate(folder)
    except InputError as exc:
        info.error = str(exc)
    return info


def pipeline_kinds(index: dict) -> list[str]:
    name = index.get("_class_name", "")
    if name in VIDEO_CLASSES or "Video" in name:
        return [TEXT2VIDEO]
    if any(name.startswith(f) for f in IMAGE_FAMILIES) and ("unet" in index or "transformer" in index):
        return [IMG2IMG, TEXT2IMG]
    return []


def _model_index(folder: Path) -> dict:
    path = folder / "model_index.json"
    if not folder.is_dir():
        raise InputError(f"{folder}: no such pipeline folder")
    if not path.is_file():
        raise InputError(f"{path}: missing; not a diffusers pipeline folder (save one with "
                         f"diffusers' save_pretrained)")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable ({exc})") from exc


def validate(folder: str | os.PathLike, need: str | None = None) -> dict:
    """Check that every component the folder's model_index.json names is on disk with
    safetensors weights; raise InputError naming the first missing file. `need` (a kind) must
    be among what the pipeline does. Returns the model index."""
    folder = Path(folder).expanduser()
    index = _model_index(folder)
    for name, spec in sorted(index.items()):
        if name.startswith("_") or not isinstance(spec, list) or None in spec[:2] \
                or name == "safety_checker":        # never loaded: the fidelity checks screen
            continue
        _check_component(folder / name, spec[0], spec[1])
    ip = folder / IP_ADAPTER_DIR
    if ip.is_dir():
        if not list(ip.glob("*.safetensors")):
            raise InputError(f"{ip}: no IP-Adapter weights (*.safetensors) in it"
                             + _pickles_note(ip, "*.bin"))
        _check_component(ip / "image_encoder", "transformers", "CLIPVisionModelWithProjection")
    if need and need not in pipeline_kinds(index):
        raise InputError(f"{folder}: a {index.get('_class_name')} cannot run {need} (it does "
                         f"{', '.join(pipeline_kinds(index)) or 'no task this app runs'})")
    return index


def _check_component(sub: Path, library: str, class_name: str) -> None:
    if not sub.is_dir():
        raise InputError(f"{sub}: missing (model_index.json names a {class_name} there)")
    if class_name.endswith("Scheduler") or "Scheduler" in class_name:
        _need(sub / "scheduler_config.json")
    elif "Tokenizer" in class_name:
        if not (sub / "tokenizer.json").is_file():
            for name in ("vocab.json", "merges.txt") if "CLIP" in class_name else ():
                _need(sub / name)
    elif "ImageProcessor" in class_name or "FeatureExtractor" in class_name:
        _need(sub / "preprocessor_config.json")
    else:       # a model: config and safetensors weights
        _need(sub / "config.json")
        stem = DIFFUSERS_WEIGHTS if library == "diffusers" else TRANSFORMERS_WEIGHTS
        if not _safetensors_of(sub, stem):
            raise InputError(f"{sub / (stem + '.safetensors')}: missing; weights must be "
                             f"safetensors" + _pickles_note(sub, "*.bin"))


def _safetensors_of(sub: Path, stem: str) -> list[Path]:
    """The model's safetensors: one file, a variant (stem.fp16.safetensors) or shards named by
    an index file (every shard must be there)."""
    index = sub / f"{stem}.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text()).get("weight_map", {}).values()))
        for shard in shards:
            _need(sub / shard)
        return [sub / s for s in shards]
    return sorted(sub.glob(f"{stem}*.safetensors"))


def _pickles_note(folder: Path, pattern: str) -> str:
    pickles = sorted(p.name for p in folder.glob(pattern))
    return (f" (found only pickled {', '.join(pickles)}: this app loads safetensors only; "
            f"convert with diffusers' save_pretrained(..., safe_serialization=True))"
            if pickles else "")


def _need(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: missing")


def weight_files(folder: str | os.PathLike) -> list[dict]:
    """Every safetensors file under the folder (the IP-Adapter's too): path relative to the
    folder, bytes and sha256, sorted by path."""
    folder = Path(folder).expanduser()
    return [{"file": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size,
             "sha256": _sha256(str(p), p.stat().st_size, p.stat().st_mtime_ns)}
            for p in sorted(folder.rglob("*.safetensors"))]


@lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """Hashed once per process while the file is unchanged (an SD folder is gigabytes)."""
    from core.hashing import file_sha256

    return file_sha256(path)


def provenance(folder: str | os.PathLike, class_name: str | None = None) -> dict:
    """The pipeline as a provenance model entry: its id names the class (default: the one in
    model_index.json) and a digest of every weight file's sha256; `files` lists each one."""
    import hashlib

    class_name = class_name or _model_index(Path(folder).expanduser()).get("_class_name", "?")
    files = weight_files(folder)
    digest = hashlib.sha256("".join(f"{f['file']}:{f['sha256']}\n" for f in files).encode())
    return {"role": "pipeline", "id": f"{class_name}@{digest.hexdigest()[:12]}",
            "spec": str(Path(folder).expanduser().resolve()), "class": class_name,
            "files": files}


def load_pipeline(folder: str | os.PathLike, kind: str):
    """The pipeline for `kind`, from local files only, loaded once per process (until its
    model_index.json changes); the IP-Adapter too where the folder has one (image kinds)."""
    folder = Path(folder).expanduser().resolve()
    validate(folder, kind)
    return _loaded(str(folder), kind, (folder / "model_index.json").stat().st_mtime_ns)


@lru_cache(maxsize=2)
def _loaded(folder: str, kind: str, mtime_ns: int):
    import torch
    from diffusers import (AutoPipelineForImage2Image, AutoPipelineForText2Image,
                           DiffusionPipeline)

    cls = {IMG2IMG: AutoPipelineForImage2Image, TEXT2IMG: AutoPipelineForText2Image}.get(
        kind, DiffusionPipeline)
    cuda = torch.cuda.is_available()
    options = {"local_files_only": True, "use_safetensors": True,
               **({"torch_dtype": torch.float16} if cuda else {})}    # CPUs run float32
    index = json.loads((Path(folder) / "model_index.json").read_text())
    if "safety_checker" in index:     # the fidelity checks screen every output instead
        options.update(safety_checker=None, requires_safety_checker=False)
    try:
        pipe = cls.from_pretrained(folder, **options)
        ip = Path(folder) / IP_ADAPTER_DIR
        if kind != TEXT2VIDEO and ip.is_dir():
            pipe.load_ip_adapter(str(ip), subfolder="", image_encoder_folder="image_encoder",
                                 weight_name=sorted(p.name for p in ip.glob("*.safetensors"))[0],
                                 local_files_only=True)
    except (OSError, ValueError, EnvironmentError) as exc:
        raise InputError(f"{folder}: cannot load the pipeline from local files ({exc})") from exc
    pipe.set_progress_bar_config(disable=True)
    pipe.generec_scheduler = pipe.scheduler       # what use_sampler(pipe, None) restores
    return pipe.to("cuda" if cuda else "cpu")


SCHEDULERS = {"ddim": "DDIMScheduler", "dpm": "DPMSolverMultistepScheduler",
              "ddpm": "DDPMScheduler"}


def use_sampler(pipe, sampler: str | None) -> str:
    """Set the pipeline's scheduler to the named sampler, or back to the folder's own (None);
    returns the scheduler class that runs."""
    import diffusers

    own = getattr(pipe, "generec_scheduler", pipe.scheduler)
    if sampler and sampler not in SCHEDULERS:
        raise InputError(f"unknown sampler {sampler!r}; expected one of {', '.join(SCHEDULERS)}")
    cls = getattr(diffusers, SCHEDULERS[sampler]) if sampler else type(own)
    if type(pipe.scheduler) is not cls:
        pipe.scheduler = own if cls is type(own) else cls.from_config(own.config)
    return cls.__name__
