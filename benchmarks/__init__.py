"""Reproducible speed measurements of solar_euv (``python -m benchmarks``).

``python -m benchmarks run --quick`` times training steps of Models A and B
side by side with a loop written like the authors', counts the FLOP of one
step from its graph and compares the achieved FLOP/s with a matmul peak
measured in the same run; without ``--quick`` (or with ``--data``) it then
measures, in the same process, the input pipeline from TFRecords, the
preparation of level-1 files and prediction through ``Model.predict`` and
the exported SavedModel (:mod:`benchmarks.data_speed`).  It writes
``train_speed.json`` and ``train_speed.md``.
``python -m benchmarks compare OLD.json NEW.json`` prints speed ratios
between two runs, and ``python -m benchmarks profile`` lists the ops that
take the time of one step.  The standalone scripts
beside this package (``prep_speed.py``, ``pipeline_speed.py``,
``predict_speed.py``, ``synthetic_speed.py``, ``synthetic_learnability.py``)
measure the data side with more options.  What they share (the machine of
a run, best-of timing, result files) is :mod:`benchmarks.common`.
"""
__all__ = []
