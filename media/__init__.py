"""Media layer: the only package that imports aiortc.

It turns WebRTC tracks into plain frames (``media.frames``) with media
timestamps; analyzers never see a transport object.
"""
