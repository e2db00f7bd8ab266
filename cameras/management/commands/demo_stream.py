"""``manage.py demo_stream``: the demo camera, an RTSP stream looping a clip, in the foreground."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cameras.rtsp_server import (
    DEMO_CLIP_NAME,
    DEMO_FACES_CLIP_NAME,
    RtspTestServer,
    demo_rtsp_port,
    prepare_demo_clip,
    prepare_demo_faces_clip,
)


class Command(BaseCommand):
    help = (
        "Serve the demo cameras over RTSP until stopped: ../shared/data/video/pedestrians.avi (transcoded to "
        "H.264 under var/demo-stream/) or a generated test pattern, and a face clip (scikit-image's astronaut), "
        "replayed without end."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=None, help="default: ARGUS_DEMO_RTSP_PORT or 8554")
        parser.add_argument("--host", default=os.environ.get("ARGUS_DEMO_RTSP_HOST", "127.0.0.1"))
        parser.add_argument("--source", type=Path, default=None, help="a video to serve instead")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(settings.VAR_DIR) / "demo-stream"
        self.stdout.write("Preparing the demo clip...")
        try:
            clip = prepare_demo_clip(directory, options["source"])
            faces_clip = prepare_demo_faces_clip(directory)
        except (RuntimeError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from None
        server = RtspTestServer(
            directory, port=options["port"] or demo_rtsp_port(), host=options["host"], log_path=directory / "server.log"
        )
        try:
            server.start()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None

        # SIGTERM (e.g. from a process manager) stops the server like Ctrl-C does.
        def terminate(signum: int, frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, terminate)
        self.stdout.write(self.style.SUCCESS(f"Demo RTSP stream: {server.url(DEMO_CLIP_NAME, loop=True)}"))
        self.stdout.write(self.style.SUCCESS(f"Demo face camera: {server.url(DEMO_FACES_CLIP_NAME, loop=True)}"))
        self.stdout.write(f"  serving {clip} and {faces_clip} (log: {directory / 'server.log'}); Ctrl-C stops it.")
        self.stdout.flush()
        try:
            code = server.wait()
        except KeyboardInterrupt:
            code = 0
        finally:
            server.stop()
        if code:
            raise CommandError(f"the RTSP server exited with code {code}; see {directory / 'server.log'}")
        self.stdout.write("Stopped.")
