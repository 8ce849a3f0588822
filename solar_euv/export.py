"""Export a trained model as a SavedModel for TensorFlow Serving, in physical units.

Layout (what TF Serving's model server expects)::

    OUT/NAME/VERSION/saved_model.pb
                     variables/
                     assets.extra/solar_euv.json   (passbands, scaling, grid, source)

Signatures (both ``[batch, N, N, 1]`` float32 in, one output per passband,
``[batch, N, N, 1]`` float32, named ``aia_<passband>``: ``aia_171``, ...):

``serving_default``
    input ``magnetogram``: the line-of-sight field in **Gauss** on the common
    grid the model was trained on (:func:`solar_euv.sdo.prep.prepare_hmi`);
    outputs in **DN/s**.  The scaling (:class:`solar_euv.scaling.Scaling`'s
    methods, computed by TensorFlow) is baked in: NaN -> 0 G,
    clip at ``+-hmi_limit``, scale to [-1, 1], pixels beyond
    ``mask_radius * R`` set to ``hmi_off_disk`` (when the run masked), the generator with
    BatchNorm in inference mode and dropout off, then
    ``2 ** ((y + 1) / 2 * aia_log_max) - 1`` and 0 DN/s beyond
    ``mask_radius * R``: the same numbers as ``solar-euv predict``.
``network_units``
    the bare generator: input ``magnetogram`` in network units [-1, 1],
    outputs in network units.

The version directory is written under a hidden temporary name and renamed
when complete (TF Serving ignores names that are not numbers), then loaded
back with :func:`tf.saved_model.load` and compared with the Keras model.
"""
import json
import os
import pathlib
import shutil

import numpy as np

from solar_euv.exceptions import InputError, SolarEUVError

__all__ = ["SERVING_SIGNATURE", "NETWORK_SIGNATURE", "output_name", "export_saved_model",
           "check_saved_model"]

SERVING_SIGNATURE = "serving_default"
NETWORK_SIGNATURE = "network_units"
_METADATA_FILE = "solar_euv.json"


def output_name(passband):
    """Signature output key of a passband: ``"171"`` -> ``"aia_171"``."""
    return f"aia_{passband}"


def _serving_functions(trained):
    import tensorflow as tf

    generator = trained.generator
    s = trained.scaling
    names = [output_name(b) for b in trained.passbands]

    def split(y):
        return {name: y[..., c:c + 1] for c, name in enumerate(names)}

    def physical(magnetogram):
        x = s.hmi_network_input(magnetogram, xp=tf)
        y = tf.cast(generator(x, training=False), tf.float32)
        return split(s.apply_mask(s.aia_from_network(y, xp=tf), value=0.0, xp=tf))

    def network(magnetogram):
        return split(tf.cast(generator(magnetogram, training=False), tf.float32))

    return physical, network


def export_saved_model(trained, out_dir, *, name=None, version=1, overwrite=False,
                       verify=True):
    """Write ``trained`` as ``out_dir/name/version/`` for TF Serving.

    Parameters
    ----------
    trained : solar_euv.inference.trained_model.TrainedModel
    out_dir : str or os.PathLike
        The model base path of TF Serving (``--model_base_path`` is
        ``out_dir/name``).
    name : str, optional
        Model name (default: the run directory's name, else the file's stem).
    version : int
        Version number (a positive integer; TF Serving serves the highest).
    overwrite : bool
        Replace an existing ``out_dir/name/version``.
    verify : bool
        Load the result back and compare it with the Keras model
        (:func:`check_saved_model`).

    Returns
    -------
    pathlib.Path
        The version directory.

    Raises
    ------
    SolarEUVError
        A bad name or version, an existing version without ``overwrite``, or
        an export that does not reproduce the Keras model.
    """
    import keras
    import tensorflow as tf

    if isinstance(version, bool) or not isinstance(version, (int, np.integer)) or version < 1:
        raise SolarEUVError(f"--version must be a positive integer (TF Serving's version "
                            f"directories are numbers); received {version!r}")
    if name is None:
        name = trained.run_dir.name if trained.run_dir is not None else trained.path.stem
    if not name or name.startswith(".") or "/" in name or os.sep in name:
        raise SolarEUVError(f"--name must be a plain directory name; received {name!r}")
    base = pathlib.Path(out_dir) / name
    if base.exists() and not base.is_dir():
        raise InputError(base, "exists and is not a directory")
    target = base / str(int(version))
    if target.exists() and not overwrite:
        raise InputError(target, "exists already; choose another --version or pass "
                                 "--overwrite")
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f".partial-{os.getpid()}-{int(version)}"
    shutil.rmtree(tmp, ignore_errors=True)

    n = trained.image_size
    physical, network = _serving_functions(trained)
    spec = [tf.TensorSpec([None, n, n, 1], tf.float32, name="magnetogram")]
    archive = keras.export.ExportArchive()
    archive.track(trained.generator)
    archive.add_endpoint(SERVING_SIGNATURE, physical, input_signature=spec)
    archive.add_endpoint(NETWORK_SIGNATURE, network, input_signature=spec)
    try:
        archive.write_out(str(tmp), verbose=False)
        extra = tmp / "assets.extra"
        extra.mkdir(exist_ok=True)
        metadata = trained.metadata()
        metadata.update({"signatures": {
            SERVING_SIGNATURE: {"input": "magnetogram [batch, N, N, 1] Gauss",
                                "outputs": {output_name(b): "[batch, N, N, 1] DN/s"
                                            for b in trained.passbands}},
            NETWORK_SIGNATURE: {"input": "magnetogram [batch, N, N, 1] network units",
                                "outputs": {output_name(b): "[batch, N, N, 1] network units"
                                            for b in trained.passbands}}},
            "model_sha256": trained.sha256})
        (extra / _METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True)
                                            + "\n")
        if verify:
            check_saved_model(tmp, trained)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def check_saved_model(path, trained, *, batch_sizes=(1,), seed=0, rtol=1e-4, atol=1e-3):
    """Compare an exported SavedModel with the Keras model it came from.

    Random magnetograms (Gauss, a few hundred G with kG spots) go through
    ``serving_default`` and through :func:`solar_euv.inference.generation.generate`;
    the network-unit signature is compared with ``generator.predict``.

    Returns
    -------
    float
        The largest relative difference found in DN/s.

    Raises
    ------
    SolarEUVError
        If an output is missing or differs beyond ``rtol`` / ``atol`` (DN/s).
    """
    import tensorflow as tf

    from solar_euv.inference.generation import generate, network_input

    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures[SERVING_SIGNATURE]
    network = loaded.signatures[NETWORK_SIGNATURE]
    rng = np.random.default_rng(seed)
    n = trained.image_size
    worst = 0.0
    for batch in batch_sizes:
        gauss = (rng.normal(0.0, 300.0, (batch, n, n))
                 + rng.choice([0.0, 2500.0, -2500.0], (batch, n, n), p=[0.98, 0.01, 0.01])
                 ).astype(np.float32)
        expected = generate(trained, gauss, batch_size=batch).data
        got = serve(magnetogram=tf.constant(gauss[..., None]))
        y_net = trained.generator.predict(network_input(gauss, trained.scaling),
                                          batch_size=batch, verbose=0)
        got_net = network(magnetogram=tf.constant(network_input(gauss, trained.scaling)))
        for c, band in enumerate(trained.passbands):
            key = output_name(band)
            if key not in got or key not in got_net:
                raise SolarEUVError(f"{path}: the exported signatures lack the output {key}")
            value = got[key].numpy()[..., 0]
            if not np.allclose(value, expected[..., c], rtol=rtol, atol=atol):
                diff = float(np.max(np.abs(value - expected[..., c])))
                raise SolarEUVError(f"{path}: serving_default output {key} differs from the "
                                    f"Keras model by up to {diff:.3g} DN/s")
            if not np.allclose(got_net[key].numpy()[..., 0], y_net[..., c], atol=1e-5):
                raise SolarEUVError(f"{path}: network_units output {key} differs from the "
                                    "Keras model")
            scale = np.maximum(np.abs(expected[..., c]), 1.0)
            worst = max(worst, float(np.max(np.abs(value - expected[..., c]) / scale)))
    return worst
