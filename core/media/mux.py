"""MP4 output in-process with PyAV: files that appear atomically, H.264 encoding, the source's
audio re-encoded to AAC, stream copy, and packets muxed in time order."""
from __future__ import annotations

import heapq
import math
import os
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from core.errors import MediaError
from core.media.probe import decoded_frames, error_reason


@contextmanager
def atomic_output(out: str | os.PathLike, failure: str) -> Iterator[Path]:
    """A temporary name beside `out`, renamed to `out` when the block succeeds and removed
    when it fails; a PyAV error becomes MediaError("failure (reason)")."""
    import av

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    except av.error.FFmpegError as exc:
        raise MediaError(f"{failure} ({error_reason(exc)})") from exc
    finally:
        tmp.unlink(missing_ok=True)


def open_mp4(path: Path, bitexact: bool = False):
    """An MP4 output container with the index up front (+faststart); `bitexact` leaves out
    the muxer's name and version ("Lavf...")."""
    import av

    options = {"movflags": "+faststart", **({"fflags": "+bitexact"} if bitexact else {})}
    return av.open(str(path), mode="w", format="mp4", container_options=options)


def frame_rate(fps: float, path) -> Fraction:
    """`fps` as an exact rate: 29.97 -> 2997/100, 12.5 -> 25/2."""
    if not (math.isfinite(fps) and fps > 0):
        raise MediaError(f"{path}: cannot write {fps!r} frames per second")
    return Fraction(float(fps)).limit_denominator(1001)


def add_h264(container, width: int, height: int, rate: Fraction, time_base: Fraction,
             crf: int, preset: str):
    """An H.264 yuv420p stream. x264 runs frame-threaded on all cores, as the ffmpeg command
    line does (PyAV's default, slice threads, gives a different stream)."""
    stream = container.add_stream("libx264", rate=rate, width=width, height=height,
                                  pix_fmt="yuv420p", time_base=time_base,
                                  options={"crf": str(crf), "preset": preset})
    stream.codec_context.thread_count = 0
    stream.codec_context.thread_type = "FRAME"
    return stream


def encode_h264(stream, frames: Iterable[tuple[int, np.ndarray]], path) -> Iterator:
    """Packets of (pts in the stream's time base, RGB uint8 image) frames, then the encoder's
    delayed ones. Colour conversion is bicubic, as in ffmpeg's scale filter."""
    import av

    size = (stream.codec_context.height, stream.codec_context.width)
    for pts, image in frames:
        if image.shape[:2] != size:
            raise MediaError(f"{path}: frame size changed from {size[1]}x{size[0]} to "
                             f"{image.shape[1]}x{image.shape[0]}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image, dtype=np.uint8),
                                           format="rgb24")
        frame = frame.reformat(format="yuv420p", interpolation="BICUBIC")
        frame.pts = pts
        yield from stream.encode(frame)
    yield from stream.encode(None)


def add_aac(container, source, start_s: float = 0.0, end_s: float | None = None):
    """Add an AAC stream holding `source`'s first audio stream from start_s to end_s (seconds
    on the source's clock), starting at 0; returns its packets as a lazy iterator, or None
    where the source has no audio. `source` is a container of its own: the iterator demuxes it."""
    import av

    if not source.streams.audio:
        return None
    audio_in = source.streams.audio[0]
    rate = audio_in.codec_context.sample_rate
    # the rate kept where AAC has it, else the nearest AAC rate above (as ffmpeg picks)
    rate = min(av.codec.Codec("aac", "w").audio_rates or [rate],
               key=lambda r: (r < rate, abs(r - rate)))
    stream = container.add_stream("aac", rate=rate)
    stream.layout = audio_in.codec_context.layout
    return _aac_packets(source, audio_in, stream, start_s, end_s)


def _aac_packets(source, audio_in, stream, start_s: float, end_s: float | None) -> Iterator:
    if start_s > 0:
        source.seek(int(start_s / audio_in.time_base), stream=audio_in, backward=True)
    graph = None
    for frame in decoded_frames(source, audio_in):
        graph = graph or _trim_graph(frame, start_s, end_s)
        try:
            graph.push(frame)
        except EOFError:                # past end_s: atrim has all it wants
            break
        yield from _encode_pulled(graph, stream)
    else:
        if graph is not None:
            graph.push(None)
    if graph is not None:
        yield from _encode_pulled(graph, stream)
    yield from stream.encode(None)


def _trim_graph(first, start_s: float, end_s: float | None):
    """abuffer -> atrim [start_s, end_s) -> timestamps from 0, in samples -> abuffersink."""
    import av

    graph = av.filter.Graph()
    source = graph.add("abuffer", sample_rate=str(first.sample_rate),
                       sample_fmt=first.format.name, channel_layout=first.layout.name,
                       time_base=str(first.time_base))
    trim = {"start": f"{start_s:.6f}"} if start_s > 0 else {}
    if end_s is not None:
        trim["end"] = f"{end_s:.6f}"
    chain = [graph.add("atrim", **trim)] if trim else []
    # timestamps counted in samples: the encoder re-cuts frames to 1024 samples, which a
    # coarser time base (MP3 in AVI: 1152 samples a tick) cannot express
    chain += [graph.add("asetpts", "PTS-STARTPTS"), graph.add("asettb", "1/sr"),
              graph.add("abuffersink")]
    for a, b in zip([source, *chain], chain):
        a.link_to(b)
    graph.configure()
    return graph


def _encode_pulled(graph, stream) -> Iterator:
    while True:
        try:
            frame = graph.pull()
        except (BlockingIOError, EOFError):     # needs more input / all pulled
            return
        yield from stream.encode(frame)


def add_copy(container, source, kind: str = "video",
             bitstream_filter: str | None = None) -> Iterator | None:
    """Add a stream with the codec parameters of `source`'s first `kind` ("video", "audio")
    stream; returns its packets, unchanged or through `bitstream_filter`, as a lazy iterator
    that demuxes `source` (None where there is no such stream)."""
    import av

    if not getattr(source.streams, kind):
        return None
    template = getattr(source.streams, kind)[0]
    stream = container.add_stream_from_template(template)
    bsf = (av.bitstream.BitStreamFilterContext(bitstream_filter, template, stream)
           if bitstream_filter else None)

    def packets():
        for packet in source.demux(template):
            if packet.dts is None:      # the demuxer's end-of-stream packet
                continue
            for out in bsf.filter(packet) if bsf else [packet]:
                out.stream = stream
                yield out
        for out in bsf.filter(None) if bsf else []:
            out.stream = stream
            yield out

    return packets()


def mux_in_time_order(container, packet_iterators: Iterable) -> None:
    """Mux the packets of several streams interleaved by decoding time, as ffmpeg does;
    None stands for a stream that is not there."""
    def keyed(packets):
        for packet in packets:
            when = packet.dts if packet.dts is not None else packet.pts
            yield (float(when * packet.time_base) if when is not None else -math.inf), packet

    merged = heapq.merge(*(keyed(p) for p in packet_iterators if p is not None),
                         key=lambda item: item[0])
    for _, packet in merged:
        container.mux(packet)
