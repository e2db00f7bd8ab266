"""What recognition announces to the apps that build on it.

Recognition sits below attendance: it never calls attendance. It announces each recognition of an enrolled
person, and whoever keeps track of people (attendance) subscribes in its ``AppConfig.ready()``.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

logger = logging.getLogger("argus.recognition")

#: An enrolled person was recognised. Sent once the detection is committed, once per detection, with the
#: keyword arguments ``detection`` (a saved ``Detection`` with its profile) and ``camera``. A sender whose
#: announcement failed for a passing cause (the database away) may send the same detection again once it is
#: back: receivers must make a repeat of one detection change nothing more (attendance does: the same
#: sighting again moves neither presence nor the day's times).
person_recognized = Signal()


def announce_recognition(detection, camera, *, log: bool = True) -> list[Exception]:
    """Send :data:`person_recognized`; a failing subscriber is logged with its cause (unless ``log`` is off:
    the sender logs) and never loses the detection. Returns the subscribers' failures (empty when every one
    took it), for a sender that retries."""
    failures = []
    for receiver, outcome in person_recognized.send_robust(sender=type(detection), detection=detection, camera=camera):
        if isinstance(outcome, Exception):
            failures.append(outcome)
            if not log:
                continue
            logger.error(
                "%s failed on the recognition of %s (detection %s)",
                getattr(receiver, "__qualname__", receiver),
                detection.person_id,
                detection.pk,
                exc_info=(type(outcome), outcome, outcome.__traceback__),
            )
    return failures


#: An enrolled person is being erased (their profile deleted). Sent inside the deletion's transaction with
#: ``employee_id``, ``name`` and ``profile_id``, so a subscriber that fails undoes the whole deletion (nothing
#: half erased). Each subscriber removes what it keeps of the person that is biometric or names them in a
#: file (attendance: presence thumbnails, export files), deletes files with ``transaction.on_commit`` and
#: returns a ``{what: count}`` dict for the audit entry.
person_erased = Signal()
