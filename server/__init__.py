"""Candor's ASGI server: signaling, REST API, auth, event fan-out."""
