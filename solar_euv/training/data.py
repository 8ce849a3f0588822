"""The data of a training run: the prepared dataset, its checks, and its two pipelines."""
import dataclasses
import os
import pathlib

from solar_euv.checksums import file_sha256
from solar_euv.exceptions import InputError
from solar_euv.scaling import Scaling

__all__ = ["FULL_VERIFY_BYTES", "TrainingData", "default_data_dir", "manifest_hash",
           "resolve_data", "validation_dataset", "training_dataset"]

#: Splits up to this size are read in full (CRC and SHA-256) before training.
FULL_VERIFY_BYTES = 2 * 2**30


def default_data_dir(echo=print):
    """The embedded synthetic sample, generated and prepared on first use (no network)."""
    from solar_euv.dataset.preparing import prepare_directory
    from solar_euv.synthetic.sample import default_sample_dir

    raw = default_sample_dir()
    prepared = raw.parent / (raw.name + "-prepared")
    if not (prepared / "manifest.json").is_file():
        echo(f"preparing the embedded synthetic sample {raw} -> {prepared} (first use only)")
        preparation = prepare_directory(raw, prepared, size=256,
                                        workers=os.cpu_count() or 1, progress=False)
        for line in preparation.summary_lines():
            echo(line)
    return prepared


def manifest_hash(data_dir):
    """SHA-256 of ``data_dir/manifest.json`` (None without one), recorded in config.json."""
    path = pathlib.Path(data_dir) / "manifest.json"
    return file_sha256(path) if path.is_file() else None


@dataclasses.dataclass
class TrainingData:
    """A prepared dataset checked for a run.

    Attributes
    ----------
    path : pathlib.Path
        The dataset directory.
    scaling : solar_euv.scaling.Scaling
        Physical units <-> network units of the run.
    splits : dict
        The manifest's splits.
    val_split : str
        ``"validation"``, or ``"test"`` when the dataset has no validation split.
    n_train, n_val : int
        Examples with the run's passbands in the training and validation splits.
    """

    path: pathlib.Path
    scaling: Scaling
    splits: dict
    val_split: str
    n_train: int
    n_val: int


def resolve_data(config, echo=print):
    """The dataset ``config`` names (or the embedded sample), with examples to train on.

    Raises
    ------
    InputError
        No ``manifest.json``, or no training or validation example with the
        run's passbands.
    """
    from solar_euv.dataset import count_examples, dataset_info

    data_dir = pathlib.Path(config.data) if config.data else default_data_dir(echo)
    if not (data_dir / "manifest.json").is_file():
        raise InputError(data_dir, "is not a prepared dataset (no manifest.json); make one "
                                   "with `solar-euv prepare RAW_DIR OUT_DIR`")
    scaling = config.scaling()
    splits = dataset_info(data_dir)["splits"]
    val_split = "validation" if "validation" in splits else "test"
    n_train = count_examples(data_dir, "train", config.passbands)
    n_val = count_examples(data_dir, val_split, config.passbands)
    if n_train == 0 or n_val == 0:
        empty = "training" if n_train == 0 else val_split
        raise InputError(data_dir, f"has no {empty} example with passband(s) "
                                   + ", ".join(config.passbands)
                         + "; prepare it with --splits covering both train and validation")
    return TrainingData(data_dir, scaling, splits, val_split, n_train, n_val)


def validation_dataset(data, config, replicas):
    """Check the shards, then the validation examples of each validation, batched.

    Built before the run directory is touched: ``make_dataset`` refuses
    passbands the data lack and image sizes that do not divide the data's
    grid.  Shards are checked before training: every record's CRC and every
    shard's SHA-256 for splits up to :data:`FULL_VERIFY_BYTES` (a bit-flipped
    shard is named before the run starts), presence and length only for
    larger ones (a full read of a paper-sized dataset would take longer than
    an epoch).
    """
    from solar_euv.dataset import make_dataset, verify_shards

    for split in ("train", data.val_split):
        size = sum(s.get("bytes", 0) for s in data.splits[split].get("shards", []))
        verify_shards(data.path, split, full=size <= FULL_VERIFY_BYTES)
    val_batch = max(replicas, min(config.batch_size, 8))
    return make_dataset(data.path, data.val_split, config.passbands, val_batch, training=False,
                        image_size=config.image_size, scaling=data.scaling) \
        .unbatch().take(config.val_examples).batch(val_batch)


def training_dataset(data, config, start_step):
    """The shuffled, repeated training batches of a run that continues at ``start_step``."""
    from solar_euv.dataset import make_dataset

    return make_dataset(data.path, "train", config.passbands, config.batch_size,
                        training=True, image_size=config.image_size, scaling=data.scaling,
                        shuffle_seed=config.seed + start_step, repeat=-1,
                        augment=config.augment)
