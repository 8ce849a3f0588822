"""The options of a training run: :class:`TrainConfig`, its presets and its identity."""
import dataclasses

from solar_euv.augmentations import AUGMENTATIONS
from solar_euv.exceptions import SolarEUVError

__all__ = ["PRESETS", "LR_DECAYS", "AUGMENTATIONS", "LEGACY_IDENTITY", "TrainConfig"]

#: Settings each preset gives to options left unset on the command line.
PRESETS = {
    # Sized for a 2-core CPU: the whole default run (sample generation,
    # preparation and training) finishes in under 10 minutes.
    # Magnetograms are clipped at +-1000 G here (the limit of the authors' later
    # TF2 notebook): at +-3000 G plage and network are a few hundredths of the
    # input range and 600 steps do not learn to use them (validation CC 0.05
    # against 0.47 at 1000 G on the synthetic sample, measured in the second
    # round with the earlier off-disk convention; not re-measured since).
    # The rate is 5x the paper's with pix2pix's linear decay over the second
    # half (docs: the learning benchmark).  val_examples covers the sample's
    # whole validation split, the examples the closing line's references use.
    # Model A: in 600 steps Model B reaches a lower CC (0.59 against 0.77 for
    # 171 A on the sample, docs/learning.md); its cGAN needs more steps.
    # The magnetogram enters as asinh(B / 30 G) (linear below 30 G, logarithmic
    # above) and the mask keeps the whole disk (1.0 R) the paper's metrics score:
    # with the linear input, 1600 and 304 A decline after 1000 steps (strong-field
    # pixels painted 5-10x too bright); with the notebook's 0.99 R mask the
    # model outputs 0 DN/s on the disk's outermost ring (docs/learning.md).
    "quick": {"model": "A", "image_size": 128, "iterations": 600, "batch_size": 4,
              "base_filters": 32, "validate_every": 200, "save_every": 100,
              "val_examples": 64, "hmi_limit": 1000.0, "lr": 1e-3, "lr_decay": "linear",
              "hmi_asinh": 30.0, "mask_radius": 1.0, "disk_loss": True},
    # Park et al. 2019: 1024 px, batch 1, 500,000 iterations.
    "paper": {"model": "B", "image_size": 1024, "iterations": 500_000, "batch_size": 1,
              "base_filters": 64, "validate_every": 10_000, "save_every": 5_000,
              "val_examples": 64, "hmi_limit": 3000.0, "lr": 2e-4, "lr_decay": "none",
              "hmi_asinh": 0.0, "mask_radius": 0.99, "disk_loss": False},
}

#: Learning-rate schedules: constant (the paper), or pix2pix's linear decay
#: to zero over the second half of the steps (:class:`~solar_euv.models.LinearDecay`).
LR_DECAYS = ("none", "linear")

# Options that define what a run computes; a run directory is only resumed
# with the same values (--iterations may change: a run can be extended).
_IDENTITY = ("data", "passbands", "model", "image_size", "batch_size",
             "disc_layers", "l1_weight", "lr", "d_lr", "lr_decay", "beta1", "precision", "seed",
             "base_filters", "validate_every", "save_every", "val_examples", "hmi_limit",
             "hmi_off_disk", "augment", "hmi_asinh", "mask_radius", "disk_loss")

#: Identity values of options added later, for run directories written before them
#: (such a run computed with these values).
LEGACY_IDENTITY = {"augment": [], "hmi_asinh": 0.0, "mask_radius": 0.99, "d_lr": None,
                   "disk_loss": False}


@dataclasses.dataclass
class TrainConfig:
    """Every option of a training run (recorded in ``config.json``).

    Each field's metadata describes its command-line option (``help``, and
    ``choices``, ``min``/``max``/``min_open``, ``directory``,
    ``case_sensitive``, ``cli_default``, ``cli_type`` where they apply):
    ``solar-euv-train`` builds its options from them.
    """

    data: str = dataclasses.field(default=None, metadata={
        "directory": True,
        "help": "A prepared dataset directory (from `solar-euv prepare`).  Default: the "
                "embedded synthetic sample, generated and prepared on first use into "
                "~/.cache/solar_euv (or $SOLAR_EUV_CACHE); no network."})
    passbands: tuple = dataclasses.field(default=("171",), metadata={
        "help": "AIA passbands to generate, comma-separated (or repeat the option); 'all' "
                "for one model with nine outputs."})
    model: str = dataclasses.field(default=None, metadata={
        "choices": ("A", "B"), "case_sensitive": False,
        "help": "A: L1 loss only (no discriminator). B: L1 + cGAN (pix2pix), as Park et "
                "al. 2019.  [preset: quick A, paper B]"})
    image_size: int = dataclasses.field(default=None, metadata={
        "help": "Training image side in pixels, a power of two from 64 to 2048 that "
                "divides the dataset's grid (images are area-averaged down).  [preset]"})
    iterations: int = dataclasses.field(default=None, metadata={
        "min": 1,
        "help": "Optimizer steps in total (one G and one D update each).  [preset]"})
    batch_size: int = dataclasses.field(default=None, metadata={
        "min": 1, "help": "Global batch size, divided among the replicas.  [preset]"})
    disc_layers: int = dataclasses.field(default=3, metadata={
        "min": 0, "max": 5,
        "help": "PatchGAN depth: 0..5 give receptive fields 1, 16, 34, 70, 142, 286 px."})
    l1_weight: float = dataclasses.field(default=100.0, metadata={
        "help": "lambda: weight of the L1 loss against the cGAN loss."})
    lr: float = dataclasses.field(default=None, metadata={
        "min": 0, "min_open": True,
        "help": "Adam learning rate of both networks (quick: 1e-3; paper: 2e-4, Park et "
                "al. 2019).  [preset]"})
    d_lr: float = dataclasses.field(default=None, metadata={
        "min": 0, "min_open": True,
        "help": "Adam learning rate of the discriminator (Model B), on the same schedule; "
                "default: --lr.  At the quick preset's 1e-3 the discriminator wins and "
                "Model B diverges; 2e-4 keeps it in step (docs: learning)."})
    lr_decay: str = dataclasses.field(default=None, metadata={
        "choices": LR_DECAYS,
        "help": "none: constant rate (the paper).  linear: constant for the first half of "
                "--iterations, then linearly to 0 (pix2pix).  [preset]"})
    beta1: float = dataclasses.field(default=0.5, metadata={
        "min": 0, "max": 1, "help": "Adam beta_1 of both networks (beta_2 is 0.999)."})
    precision: str = dataclasses.field(default="float32", metadata={
        "choices": ("auto", "float32", "mixed_bfloat16", "mixed_float16"),
        "cli_default": "auto",
        "help": "Keras dtype policy.  auto: mixed_float16 on GPUs with tensor cores "
                "(compute capability 7.0+), mixed_bfloat16 on CPUs with native bfloat16 "
                "(AVX512_BF16 or AMX), else float32; a resumed run keeps its policy.  "
                "mixed_float16 (GPU only) loss-scales both optimizers; mixed_bfloat16 on a "
                "CPU without native bfloat16 is emulated (about 10x slower; it warns)."})
    strategy: str = dataclasses.field(default="auto", metadata={
        "choices": ("auto", "default", "mirrored", "multiworker"),
        "help": "auto: MirroredStrategy when more than one GPU is visible, else one "
                "device.  multiworker: MultiWorkerMirroredStrategy configured by TF_CONFIG "
                "(run the same command on every worker)."})
    run_dir: str = dataclasses.field(default="runs/solar-euv", metadata={
        "directory": True,
        "help": "Where config.json, checkpoints/, backup/, logs/ (TensorBoard), "
                "metrics.csv, snapshots/ and the final model.keras go."})
    resume: bool = dataclasses.field(default=False, metadata={
        "help": "Continue from RUN_DIR/backup (rerunning the same command does this too); "
                "fails if there is no backup."})
    force: bool = dataclasses.field(default=False, metadata={
        "help": "Start over in a RUN_DIR that holds another run (removes its backup, "
                "checkpoints and metrics)."})
    seed: int = dataclasses.field(default=0, metadata={
        "help": "Random seed (weights, shuffling, augmentation)."})
    preset: str = dataclasses.field(default="quick", metadata={
        "choices": tuple(PRESETS),
        "help": "Defaults for model, size, steps, batch, filters, HMI clip and rate.  "
                "quick: Model A, 128 px, 600 steps, batch 4, 32 base filters, +-1000 G "
                "as asinh(B / 30 G), mask at 1.0 R, loss on the disk, rate 1e-3 decaying "
                "linearly (minutes on a laptop CPU).  paper: 1024 px, 500,000 steps, "
                "Model B, batch 1, 64 filters, +-3000 G linear, mask at 0.99 R, every "
                "pixel in the loss, constant rate 2e-4.  Options given explicitly win."})
    base_filters: int = dataclasses.field(default=None, metadata={
        "min": 1, "max": 512,
        "help": "Filters of the first layer of both networks (64 in the paper).  [preset]"})
    validate_every: int = dataclasses.field(default=None, metadata={
        "min": 1,
        "help": "Steps between validations (the paper's CC, RE, PPE10, PPE50 on the "
                "validation split, plus snapshots).  [preset]"})
    save_every: int = dataclasses.field(default=None, metadata={
        "min": 1,
        "help": "Steps between backups and checkpoints; a killed run loses at most this "
                "many.  [preset]"})
    val_examples: int = dataclasses.field(default=None, metadata={
        "min": 1, "help": "Validation examples used at each validation.  [preset]"})
    hmi_limit: float = dataclasses.field(default=None, metadata={
        "min": 0, "min_open": True,
        "help": "Magnetogram clip level in Gauss, mapped to +-1 (quick: 1000, the authors' "
                "TF2 notebook; paper: 3000, Park et al. 2019).  [preset]"})
    hmi_off_disk: float = dataclasses.field(default=0.0, metadata={
        "min": -1, "max": 1,
        "help": "Network value of the magnetogram's pixels beyond --mask-radius (0: no field; "
                "-1: the authors' TF2 notebook, several times slower to learn)."})
    hmi_asinh: float = dataclasses.field(default=None, metadata={
        "min": 0,
        "help": "Softening field in Gauss of the arcsinh magnetogram scaling "
                "asinh(B / s) / asinh(limit / s); 0: linear B / limit, the paper (quick: 30, "
                "paper: 0).  [preset]"})
    mask_radius: float = dataclasses.field(default=None, metadata={
        "min": 0.5, "max": 1.2,
        "help": "Radius in R_sun beyond which input and target are off-disk (quick: 1.0, "
                "the disk the paper's metrics score; paper: 0.99, the authors' TF2 "
                "notebook).  [preset]"})
    disk_loss: bool = dataclasses.field(default=None, metadata={
        "help": "Train on the disk alone: beyond --mask-radius the generated image is "
                "replaced by the target before the L1 and the discriminator, so the "
                "network need not draw the step from the limb to the off-disk -1 (quick: "
                "on; paper: off, every pixel counts).  [preset]"})
    augment: tuple = dataclasses.field(default=(), metadata={
        "cli_default": "none", "cli_type": str,
        "help": "Augmentations besides the paper's shake, comma-separated: flips (the "
                "eight quarter turns and mirror images of each pair), sign (the "
                "magnetogram's sign reversed), or none."})

    def __post_init__(self):
        if self.preset not in PRESETS:
            raise SolarEUVError(f"unknown preset {self.preset!r}; choose "
                                + " or ".join(PRESETS))
        for key, value in PRESETS[self.preset].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        self.passbands = tuple(self.passbands)
        self.augment = _augmentations(self.augment)
        self.model = str(self.model).upper()
        if self.lr_decay not in LR_DECAYS:
            raise SolarEUVError(f"unknown --lr-decay {self.lr_decay!r}; choose "
                                + " or ".join(LR_DECAYS))

    def scaling(self):
        """The :class:`~solar_euv.scaling.Scaling` of this run's network units."""
        from solar_euv.scaling import Scaling

        return Scaling(hmi_limit=self.hmi_limit, hmi_off_disk=self.hmi_off_disk,
                       hmi_asinh=self.hmi_asinh, mask_radius=self.mask_radius)

    def identity(self):
        """The options a resumed run must share with the run it continues.

        Returns
        -------
        dict
            Option name -> value (tuples as lists, as in ``config.json``).
        """
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items() if k in _IDENTITY}


def _augmentations(value):
    """``("flips", "sign")`` from a sequence or comma list; "none" or empty: ()."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    chosen = {str(item).strip().lower() for item in items} - {"", "none"}
    unknown = sorted(chosen - set(AUGMENTATIONS))
    if unknown:
        raise SolarEUVError(f"unknown --augment {unknown[0]!r}; choose from "
                            + ", ".join(AUGMENTATIONS) + " (comma list) or none")
    return tuple(a for a in AUGMENTATIONS if a in chosen)
