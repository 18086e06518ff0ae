"""All media I/O of the project (PyAV): probe, decode to the 25 fps timeline, 16 kHz audio, write.

**Video timeline.** Frame ``k`` is the ``k``-th frame ``ffmpeg -i SRC -r 25`` produces. Frames are
decoded once, in memory, with threaded decoding; :class:`voxrepro.timeline.CfrSelector` decides
how often each decoded frame appears on the 25 fps timeline (drops, duplicates, the start time,
the end), exactly as the ffmpeg command line does. Timestamps are taken relative to the file's
start time (the earliest first timestamp over all streams), as ffmpeg does without ``-copyts``.

Measured caveat (ffmpeg 9.0.2, imageio-ffmpeg's binary): the spec's stage 1 writes
``video.avi`` *with its audio track*, which delays the AVI's second video timestamp by one tick;
the JPEG dump then repeats a frame, so UP's frame ``k`` shows this timeline's frame ``k - 1``
(``k - 2`` on the 25 fps HDTF clip) from the third frame on. Without the audio track (``-an``)
the AVI path equals this timeline exactly. Frame ``k`` here is the time ``k / 25`` s, which is
how the STELA and FOMM re-croppers read the published FRAME numbers (spec §10.2).

**Audio timeline.** 16 kHz mono int16 (``av.AudioResampler(format="s16", layout="mono",
rate=16000)`` with a final flush). Sample ``s`` belongs to time ``s / 16000`` on the same origin
as the video, so frame ``k`` covers samples ``[640 k, 640 (k + 1))``. Like the spec's
``ffmpeg ... -async 1`` step (aresample ``first_pts=0``), only the *start* is aligned: audio that
starts after the file start is preceded by silence, audio that starts before it is trimmed;
later gaps are not corrected.

**Colour.** 8-bit limited-range yuv420p (nearly all web video) is converted to BGR with OpenCV's
BT.601 I420 conversion, which is also what the spec's JPEG-dump pipeline ends up with; other
pixel formats go through swscale. Windows can be converted without converting the whole frame.

Every PyAV failure becomes a one-line :class:`voxrepro.errors.DecodeError` naming the file.

Modules: ``probe`` (open, stream parameters), ``decode`` (timeline iteration), ``sparse`` (decode
only keyframe intervals holding wanted frames), ``frames`` (lazy conversion of one frame),
``audio``, ``write`` (``VideoWriter``) and ``clip`` (atomic square clips).
"""

from __future__ import annotations

from voxrepro.media.audio import AudioArray, iter_audio_chunks, read_audio, read_audio_spans
from voxrepro.media.clip import ClipWriter, resize_square, write_clip
from voxrepro.media.decode import iter_timeline, iter_timeline_frames, timeline_length
from voxrepro.media.frames import BgrImage, TimelineFrame
from voxrepro.media.probe import VideoInfo, open_container, probe_video
from voxrepro.media.write import (
    AUDIO_CODEC,
    AUDIO_OPTIONS,
    CLIP_CRF,
    CLIP_PRESET,
    VIDEO_CODEC,
    VideoWriter,
)

__all__ = [
    "AUDIO_CODEC",
    "AUDIO_OPTIONS",
    "CLIP_CRF",
    "CLIP_PRESET",
    "VIDEO_CODEC",
    "AudioArray",
    "BgrImage",
    "ClipWriter",
    "TimelineFrame",
    "VideoInfo",
    "VideoWriter",
    "iter_audio_chunks",
    "iter_timeline",
    "iter_timeline_frames",
    "open_container",
    "probe_video",
    "read_audio",
    "read_audio_spans",
    "resize_square",
    "timeline_length",
    "write_clip",
]
