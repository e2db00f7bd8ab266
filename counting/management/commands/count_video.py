"""``manage.py count_video FILE --line x1,y1,x2,y2``: count people crossing a line (or a zone) in a video file.

Prints the "in" and "out" totals (and each interval with ``--verbose``); with ``--camera CAM-01 --store``
it stores one count per interval for that camera, as the live counter does. Exit codes: 0 done, 1 the
video could not be read or the counts not stored, 2 bad arguments.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from cameras.models import Camera
from config.api.contracts import ApiError
from counting.video import storage
from counting.video.config import (
    ConfigError,
    CountingConfig,
    camera_config,
    parse_config,
    parse_line_argument,
    parse_zone_argument,
)
from counting.video.runner import IntervalCount, RunResult, count_frames
from counting.video.sources import Frame, SourceError, VideoFile

USAGE = 2


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{round((seconds - whole) * 10) % 10}"


class Command(BaseCommand):
    help = (
        "Count people crossing a line (--line x1,y1,x2,y2) or entering and leaving a zone (--zone x,y;x,y;x,y) "
        "in a video file; prints in/out totals. Coordinates are pixels of the video's frames. "
        "With --camera and --store, one count per interval is stored for that camera."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a video file OpenCV can read (mp4, avi, mkv, ...)")
        parser.add_argument("--line", help="x1,y1,x2,y2: the counting line, in pixels of the video's frames")
        parser.add_argument("--zone", help="x,y;x,y;x,y;...: a zone polygon instead of a line (in = entries)")
        parser.add_argument(
            "--in-side",
            choices=["right", "left"],
            default="right",
            help='which side of the line (walking from its first point to its second) counts as "in" '
            "(default right: for a line drawn left to right, walking downwards on the screen)",
        )
        parser.add_argument("--interval", type=float, default=None, help="seconds per interval (default 60)")
        parser.add_argument("--camera", help="camera id: its stored set-up is used when --line/--zone are absent")
        parser.add_argument("--store", action="store_true", help="store per-interval counts for --camera")
        parser.add_argument(
            "--start", help="ISO 8601 moment of the video's first frame, for --store (default: it ended now)"
        )
        parser.add_argument("--verbose", action="store_true", help="print every interval and every crossing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def _usage(self, message: str) -> CommandError:
        return CommandError(message, returncode=USAGE)

    def _config(self, options: dict[str, Any], camera: Camera | None, frame: tuple[int, int]) -> CountingConfig:
        if options["line"] and options["zone"]:
            raise self._usage("give --line or --zone, not both")
        interval = options["interval"]
        if interval is not None and not 1 <= interval <= 86400:
            raise self._usage("--interval must be from 1 to 86400 seconds")
        data: dict[str, Any]
        try:
            if options["line"]:
                line = parse_line_argument(options["line"])
                data = {"mode": "line", "line": {"x1": line.x1, "y1": line.y1, "x2": line.x2, "y2": line.y2}}
                data["in_side"] = options["in_side"]
            elif options["zone"]:
                zone = parse_zone_argument(options["zone"])
                data = {"mode": "zone", "zone": {"points": [{"x": x, "y": y} for x, y in zone.points]}}
            elif camera is not None:
                stored = camera_config(camera.metadata, frame)
                if stored is None:
                    raise self._usage(f"camera {camera.pk} has no counting set-up; give --line or --zone")
                return stored
            else:
                raise self._usage("give --line x1,y1,x2,y2 or --zone x,y;x,y;x,y (or --camera with a set-up)")
            # The same rules as a stored set-up: points inside the frame, a line of some length, an area.
            return parse_config(data, frame)
        except ConfigError as exc:
            raise self._usage("; ".join(exc.errors.values())) from None
        except ValueError as exc:
            raise self._usage(str(exc)) from None

    def _start(self, options: dict[str, Any], duration: float) -> datetime:
        if not options["start"]:
            return timezone.now() - timedelta(seconds=duration)
        try:
            moment = datetime.fromisoformat(options["start"])
        except ValueError:
            raise self._usage(f"--start must be an ISO 8601 date-time, got {options['start']!r}") from None
        if timezone.is_naive(moment):
            raise self._usage("--start needs a time zone (e.g. 2024-05-01T08:00:00+07:00 or ...Z)")
        return moment

    def handle(self, *args: Any, **options: Any) -> None:
        camera = None
        if options["camera"]:
            camera = Camera.objects.filter(pk=options["camera"]).first()
            if camera is None:
                raise self._usage(f"no camera {options['camera']}")
        elif options["store"]:
            raise self._usage("--store needs --camera")
        try:
            video = VideoFile(options["file"])
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        try:
            config = self._config(options, camera, (video.width, video.height))
            start = self._start(options, video.duration) if options["store"] else None
            result = self._count(video, config, options)
        finally:
            video.close()
        self._report(result, config, options)
        if options["store"]:
            assert camera is not None and start is not None
            try:
                stored = storage.store_intervals(
                    camera, result.intervals, storage.offset_moment(start), zone_id=config.mode
                )
            except ApiError as exc:
                raise CommandError(f"counts not stored: {exc}") from None
            self.stdout.write(f"stored {stored} interval count(s) for {camera.pk} from {start.isoformat()}")

    def _count(self, video: VideoFile, config: CountingConfig, options: dict[str, Any]) -> RunResult:
        interval = options["interval"] or config.interval
        what = (
            f"line ({config.line.x1:g},{config.line.y1:g})-({config.line.x2:g},{config.line.y2:g}), "
            f'"in" on its {config.in_side}'
            if config.mode == "line" and config.line
            else f'zone of {len(config.zone.points) if config.zone else 0} points, "in" = entries'
        )
        size = f"{video.width}x{video.height}, {video.duration:.1f} s"
        self.stdout.write(f"{video.path.name}: {size}; {what}; intervals of {interval:g} s")
        bar = tqdm(
            total=video.frame_count or None,
            unit="frame",
            file=self.stderr._out,
            disable=options["no_progress"],
            dynamic_ncols=True,
        )
        verbose = options["verbose"]
        first: list[Frame] = []

        def on_frame(frame: Frame, events: list) -> None:
            if len(first) < 2:
                first.append(frame)
                if len(first) == 2 and video.duration and (fps := video.measured_fps(*first)):
                    # The header's frame count can be off (see VideoFile); the real rate fixes the bar.
                    bar.total = max(round(video.duration * fps), 2)
                    bar.refresh()
            bar.update(1)
            if verbose:
                for event in events:
                    bar.write(
                        f"  {_clock(event.time)}  track {event.track_id:>4}  {event.direction}", file=self.stdout._out
                    )

        def on_interval(closed: IntervalCount) -> None:
            if verbose:
                bar.write(
                    f"{_clock(closed.start)} - {_clock(closed.end)}  in {closed.entered:>4}  out {closed.exited:>4}  "
                    f"confidence {closed.confidence:.2f}",
                    file=self.stdout._out,
                )

        try:
            return count_frames(
                video,
                config,
                source_size=(video.width, video.height),
                interval=interval,
                on_frame=on_frame,
                on_interval=on_interval,
            )
        finally:
            bar.close()

    def _report(self, result: RunResult, config: CountingConfig, options: dict[str, Any]) -> None:
        if not result.frames:
            raise CommandError("the video has no frames OpenCV could decode")
        self.stdout.write(f"frames: {result.frames}  tracks: {result.tracks}")
        self.stdout.write(f"in: {result.totals['in']}")
        self.stdout.write(f"out: {result.totals['out']}")
        self.stdout.write(f"total: {result.totals['in'] + result.totals['out']}")
