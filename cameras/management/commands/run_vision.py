"""``manage.py run_vision``: a vision worker. Run one per host (or several); they share the cameras."""

from __future__ import annotations

import signal

import cv2
from django.conf import settings
from django.core.management.base import BaseCommand

from cameras.vision.worker import VisionWorker


class Command(BaseCommand):
    help = (
        "Watch cameras continuously: claim a fair share of the enabled cameras (leases in Redis), decode each "
        "once, and run motion, the live picture, faces and counting on its frames. Stop with SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--worker-id", help="Name of this worker (default: host:pid:random)")
        parser.add_argument("--max-streams", type=int, help="Hold at most this many streams")

    def handle(self, *args, **options):
        threads = int(getattr(settings, "VISION_OPENCV_THREADS", 1))
        if threads > 0:
            cv2.setNumThreads(threads)
        worker = VisionWorker(options.get("worker_id"), max_streams=options.get("max_streams"))

        def stop(signum, frame):
            worker.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"vision worker {worker.worker_id}: watching cameras (Ctrl-C stops)")
        worker.run()
