"""``python -m server``: run Candor with settings from the environment."""

from __future__ import annotations

import logging

import uvicorn

from .app import create_app
from .settings import Settings


def main() -> None:
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # faster-whisper logs every decode at INFO; keep the log for operators.
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    app = create_app(settings)
    print(f"Candor on {settings.base_url}  (HR page: {settings.base_url}/hr)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False, ws="websockets-sansio")


if __name__ == "__main__":
    main()
