"""Prepared SDO observations as TFRecord shards, and the tf.data input pipeline.

Knows TFRecords and tf.data, nothing about FITS headers (importing it imports
TensorFlow).  :func:`build_dataset` writes shards and ``manifest.json`` from
prepared arrays; :func:`make_dataset` turns a split into ``(magnetogram,
target)`` batches in network units; :func:`dataset_info` reads the manifest.
:func:`prepare_directory` prepares a directory of FITS files, reading and
calibrating them through :mod:`solar_euv.sdo`, into such a dataset.
"""
from solar_euv.dataset.build import build_dataset, plan_shards
from solar_euv.dataset.manifest import dataset_info
from solar_euv.dataset.pipeline import count_examples, make_dataset, verify_shards
from solar_euv.dataset.preparing import prepare_directory
from solar_euv.dataset.records import CHANNELS, SCHEMA_VERSION

__all__ = [
    "build_dataset",
    "plan_shards",
    "prepare_directory",
    "make_dataset",
    "dataset_info",
    "count_examples",
    "verify_shards",
    "CHANNELS",
    "SCHEMA_VERSION",
]
