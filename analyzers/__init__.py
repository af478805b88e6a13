"""Analyzer graph: plain frames in, typed events out (no WebRTC here)."""
