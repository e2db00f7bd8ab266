"""Counting people from video: a line crossed in/out, or a zone entered and left.

The pipeline, one module per step: frames come from a file or a live stream (:mod:`.sources`), the camera's
drift is compensated (:mod:`.stabilization`), moving people are found by background subtraction
(:mod:`.detection`), joined into tracks (:mod:`.tracking`) and counted when they cross the line or the zone's
outline (:mod:`.counter`); :mod:`.runner` tallies the counts per interval and :mod:`.storage` stores them.
:mod:`.config` is the per-camera set-up, :mod:`.live` the bounded runs on cameras' streams, and
:mod:`.synthetic` renders test footage with a known answer.
"""
