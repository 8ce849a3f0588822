"""SDO files: reading, validating, calibrating, fetching (never imports TensorFlow)."""
