"""Training mode: the real desk on a separate training database, simulated customers, assessment.

* :mod:`.mode` — training settings (own home, database, key file, audit chain) and the watermark;
* :mod:`.scenarios` — the scenarios and quiz questions of ``data/training``;
* :mod:`.assessment` — a run scored from the training audit trail (what the trainee did);
* :mod:`.service` — :class:`TrainingService`: start, finish and score a run, and the simulated
  supervisor; every method refuses on a live database;
* :mod:`.report` — attempts, scores, common mistakes and live error signals before/after training.
"""
