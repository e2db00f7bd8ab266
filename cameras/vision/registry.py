"""What the vision pipeline watches and who analyses it: filled by the apps in their ``AppConfig.ready()``.

Cameras own the streams; every app that wants frames says so here, so the pipeline imports none of them.

- A *demand provider* lists who needs which stream now (``StreamDemand``): the cameras app lists its enabled
  cameras, recognition its face-service session cameras. Demands for the same stream (the same URL) share one
  decoder: a ``VisionStream``.
- An *analyzer factory* is offered each stream a worker starts and answers an analyzer for it, or None when
  the stream is none of its business (a camera without recognition, say). Analyzers run in the order given.

A stream is decoded at the largest size any demand asks, at the highest rate of the demands of that size (the
*main* output). Demands for smaller frames at a higher rate (counting: 320 pixels at 25 fps, beside faces at
720p and 5 fps) get a *side* output of the same decoder: smaller frames, converted and piped at their own rate.
An analyzer that has a ``kind`` attribute is given the frames of that kind's demands (the side output's when
they have one); the others get the main output's frames.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cameras.vision.decoder import DecoderSettings, DecoderStats, Frame, SideOutput

# A side output's frames are analysed on a thread of their own; this much of them waits for a busy analyzer.
SIDE_QUEUE_SECONDS = 0.5


@dataclass(frozen=True)
class StreamDemand:
    """One consumer's need for a stream: who (``kind`` and ``id``), where (``url`` with its password, ``stream_type``),
    how (the largest frame and the rate it analyses at) and ``settings``: what its analyzers read. A change of any
    of these restarts the stream's analysis."""

    kind: str  # "camera", "session-camera", ...
    id: str
    url: str
    stream_type: str = "RTSP"
    max_width: int = 1280
    max_height: int = 720
    fps: float = 5.0
    settings: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def fingerprint(self) -> str:
        document = [self.kind, self.id, self.url, self.stream_type, self.max_width, self.max_height, self.fps]
        return json.dumps([document, self.settings], sort_keys=True, default=str)


def stream_key(url: str) -> str:
    """The stream's name among workers: the same URL is one stream, whoever wants it."""
    return "s-" + hashlib.sha256(url.strip().encode()).hexdigest()[:20]


@dataclass(frozen=True)
class VisionStream:
    """One stream and every demand for it; decoded once, at the largest size and the highest rate asked."""

    key: str
    demands: tuple[StreamDemand, ...]

    @property
    def url(self) -> str:
        return self.demands[0].url

    @property
    def label(self) -> str:
        return ", ".join(demand.label or f"{demand.kind} {demand.id}" for demand in self.demands)

    def _main_size(self) -> tuple[int, int]:
        return max(demand.max_width for demand in self.demands), max(demand.max_height for demand in self.demands)

    def _smaller(self, demand: StreamDemand) -> bool:
        return demand.max_width < self._main_size()[0]

    def _main_fps(self) -> float:
        # The rate of the demands that need the full width; smaller demands at no higher rate get its frames too.
        return max(demand.fps for demand in self.demands if not self._smaller(demand))

    def _on_side(self, demand: StreamDemand) -> bool:
        return self._smaller(demand) and demand.fps > self._main_fps()

    def decoder_settings(self) -> DecoderSettings:
        width, height = self._main_size()
        side = [demand for demand in self.demands if self._on_side(demand)]
        return DecoderSettings(
            url=self.url,
            stream_type=self.demands[0].stream_type,
            max_width=width,
            max_height=height,
            fps=self._main_fps(),
            side=SideOutput(
                max_width=max(d.max_width for d in side),
                max_height=max(d.max_height for d in side),
                fps=max(d.fps for d in side),
                queue=max(1, round(max(d.fps for d in side) * SIDE_QUEUE_SECONDS)),
            )
            if side
            else None,
        )

    def output_of(self, kind: str | None) -> int:
        """Which decoder output an analyzer of ``kind``'s demands gets: 1 (the side one) when they have one."""
        return 1 if kind and any(self._on_side(demand) for demand in self.demands_of(kind)) else 0

    def fingerprint(self) -> str:
        return hashlib.sha256("|".join(sorted(d.fingerprint() for d in self.demands)).encode()).hexdigest()

    def demands_of(self, kind: str) -> list[StreamDemand]:
        return [demand for demand in self.demands if demand.kind == kind]


@dataclass(frozen=True)
class Motion:
    """What the motion gate saw in a frame: whether anything moved, how much, and where (frame pixels)."""

    active: bool
    score: float  # share of the frame that changed, 0..1
    regions: tuple[tuple[int, int, int, int], ...] = ()  # (x, y, width, height)


@dataclass
class AnalysedFrame:
    """A decoded frame on its way through the analyzers, with the motion gate's verdict."""

    frame: Frame
    motion: Motion
    stream: VisionStream

    @property
    def pixels(self):
        return self.frame.pixels

    @property
    def captured_at(self) -> float:
        return self.frame.captured_at


class Analyzer(Protocol):
    """One app's analysis of one stream. Calls come from the stream's own thread, one at a time.

    An analyzer may name the ``kind`` of demand it serves (``kind = "counting"``): it then gets the frames
    decoded for those demands (see :meth:`VisionStream.output_of`), else the stream's main frames."""

    def on_frame(self, frame: AnalysedFrame) -> None: ...

    def tick(self, now: float, stats: DecoderStats) -> None:
        """About once a second, frames or not: for timeouts, and to notice a stream that stopped."""

    def close(self) -> None:
        """The stream is no longer analysed here (stopped, moved to another worker, or changed)."""


AnalyzerFactory = Callable[[VisionStream], "Analyzer | None"]
DemandProvider = Callable[[], Iterable[StreamDemand]]

_providers: dict[str, DemandProvider] = {}
_analyzers: dict[str, tuple[int, AnalyzerFactory]] = {}


def register_demands(name: str, provider: DemandProvider) -> None:
    """Add (or replace, by name) a source of stream demands."""
    _providers[name] = provider


def register_analyzer(name: str, factory: AnalyzerFactory, order: int = 100) -> None:
    """Add (or replace, by name) an analyzer factory; lower ``order`` runs first on each frame."""
    _analyzers[name] = (order, factory)


def unregister(name: str) -> None:
    _providers.pop(name, None)
    _analyzers.pop(name, None)


def analyzer_factories() -> list[tuple[str, AnalyzerFactory]]:
    return [(name, factory) for name, (_, factory) in sorted(_analyzers.items(), key=lambda item: item[1][0])]


def wanted_streams() -> dict[str, VisionStream]:
    """Every stream some consumer needs now, by stream key."""
    grouped: dict[str, list[StreamDemand]] = {}
    for provider in _providers.values():
        for demand in provider():
            if demand.url:
                grouped.setdefault(stream_key(demand.url), []).append(demand)
    return {
        key: VisionStream(key, tuple(sorted(demands, key=lambda d: (d.kind, d.id)))) for key, demands in grouped.items()
    }
