"""Demo data of the ANPR app: the two models of 003's example, a deny-listed plate, and a day of plate events
with drawn frames and crops, stored through the ingest service like any edge worker's (no network)."""

from __future__ import annotations

import random
from datetime import timedelta

import cv2
import numpy as np
from django.utils import timezone

from anpr import ingest
from anpr.choices import ListType, ModelType
from anpr.models import DetectionModel, PlateEvent, WatchlistEntry
from cameras.demo import DEMO_CAMERA_ID, DEMO_FACE_CAMERA_ID

DEMO_PREFIX = "demo-"
DEMO_PLATES = ["ABC-123", "KLM 456", "XYZ-789", "JKL-012", "MNO 345", "PQR-678", "STU-901", "BAD-666"]
DENIED_PLATE = "BAD-666"
EVENTS = 48
# The events name the demo's real cameras (the Cameras page lists them), not cameras nobody can find.
DEMO_CAMERAS = [DEMO_CAMERA_ID, DEMO_FACE_CAMERA_ID]
# Earlier demo data named cameras that do not exist; they are moved to the real ones.
OLD_DEMO_CAMERAS = {"cam-001": DEMO_CAMERA_ID, "cam-002": DEMO_FACE_CAMERA_ID}


def plate_images(text: str, seed: int) -> tuple[bytes, bytes]:
    """(frame, crop) as JPEG: a drawn plate on a dark road scene, and the plate alone."""
    crop = np.full((60, 220, 3), 235, np.uint8)
    cv2.rectangle(crop, (2, 2), (217, 57), (20, 20, 20), 2)
    cv2.putText(crop, text, (12, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (15, 15, 15), 3, cv2.LINE_AA)
    rng = np.random.default_rng(seed)
    frame = np.zeros((360, 640, 3), np.uint8)
    frame[:] = (40, 42, 46)
    frame += rng.integers(0, 12, frame.shape, dtype=np.uint8)  # sensor noise, so frames differ
    cv2.rectangle(frame, (200, 150), (440, 300), (90, 90, 110), -1)  # the car
    frame[250:310, 210:430] = crop
    _, frame_jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    _, crop_jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return frame_jpeg.tobytes(), crop_jpeg.tobytes()


def create_demo_data(command) -> list[str]:
    models = [
        {
            "id": "model-001",
            "name": "YOLOv8 Vehicle Detector",
            "type": ModelType.DETECTOR,
            "version": "8.0.0",
            "weights_path": "/models/yolov8-vehicle.pt",
            "parameters": {"confidence_threshold": 0.5, "iou_threshold": 0.45, "input_size": 640},
            "metadata": {"description": "Vehicle detection model"},
        },
        {
            "id": "model-002",
            "name": "PaddleOCR Lithuanian",
            "type": ModelType.OCR,
            "version": "2.7.0",
            "weights_path": "/models/paddle-ocr-lt.tar.gz",
            "parameters": {"language": "lt", "confidence_threshold": 0.5},
            "metadata": {"description": "OCR model optimized for Lithuanian plates"},
        },
    ]
    for model in models:
        DetectionModel.objects.get_or_create(id=model["id"], defaults=model)
    if not WatchlistEntry.objects.filter(plate_text=DENIED_PLATE, list_type=ListType.DENY).exists():
        WatchlistEntry.objects.create(plate_text=DENIED_PLATE, list_type=ListType.DENY, reason="Demo: reported stolen")
    stored = PlateEvent.objects.filter(event_id__startswith=DEMO_PREFIX).count()
    if not stored:
        rng = random.Random(20231215)
        # Irregular gaps over the last day or so, so the hourly chart has some shape.
        gaps = [rng.choice([3, 8, 15, 25, 40, 70]) for _ in range(EVENTS)]
        moment = timezone.now() - timedelta(minutes=sum(gaps))
        for number in range(EVENTS):
            moment += timedelta(minutes=gaps[number])
            plate = DEMO_PLATES[number % len(DEMO_PLATES)]
            confidence = round(rng.uniform(0.7, 0.99), 2)
            frame, crop = plate_images(plate, number)
            event = ingest.ValidEvent(
                event_id=f"{DEMO_PREFIX}{number:04d}",
                timestamp=moment - timedelta(minutes=1),
                camera_id=rng.choice(DEMO_CAMERAS),
                zone_id=rng.choice(["zone-entrance", "zone-exit"]),
                plate_text=plate,
                confidence=confidence,
                raw_candidates=[
                    {"text": plate.replace("-", "").replace(" ", ""), "confidence": confidence, "model": "paddle-ocr"}
                ],
                vehicle_info={"color": rng.choice(["white", "black", "red"]), "type": "sedan", "confidence": 0.87},
                tpms_status=None,
                metadata={"edge_worker_id": "edge-demo", "demo": True},
            )
            ingest.store_event(event, [ingest.ValidImage("frame", frame), ingest.ValidImage("crop", crop)])
        stored = EVENTS
    demo_events = PlateEvent.objects.filter(event_id__startswith=DEMO_PREFIX)
    for old, new in OLD_DEMO_CAMERAS.items():
        demo_events.filter(camera_id=old).update(camera_id=new)
    return [f"anpr: {stored} demo plate events (see /anpr/), 2 models, deny-listed plate {DENIED_PLATE}"]
