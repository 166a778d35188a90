"""Real video I/O: probe, decode (rotation, timestamps, working size), sample, thumbnails, write."""
from core.media.decode import (Frame, frame_at, iter_frames, sample_frames, sample_times,
                               working_size)
from core.media.probe import VIDEO_SUFFIXES, VideoInfo, probe
from core.media.thumbnail import original_thumbnail, read_image, save_image
from core.media.write import write_video

__all__ = [
    "Frame", "VideoInfo", "VIDEO_SUFFIXES", "frame_at", "iter_frames", "original_thumbnail", "probe",
    "read_image", "sample_frames", "sample_times", "save_image", "working_size", "write_video",
]
