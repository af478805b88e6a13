"""Recordings for human review (issue 12, section 4): each answer's media as Opus/VP8 in WebM, sealed, in a BlobStore.

Nothing here imports the server: :class:`Recordings` is built by the app
from its settings and handed the store's vault and a :class:`BlobStore`
(:class:`LocalBlobStore`, or :class:`recordings.s3.S3BlobStore` for
S3-compatible object storage).
"""

from .blobs import BlobStore, LocalBlobStore
from .encoder import AnswerEncoder, EncodedAnswer, file_time_at
from .ranges import RangeNotSatisfiable, byte_range
from .service import RecorderConfig, RecordingInfo, Recordings, SessionRecorder

__all__ = [
    "AnswerEncoder", "BlobStore", "EncodedAnswer", "LocalBlobStore", "RangeNotSatisfiable", "RecorderConfig", "RecordingInfo",
    "Recordings", "SessionRecorder", "byte_range", "file_time_at",
]
