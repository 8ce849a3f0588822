"""``solar-euv-train`` (also ``solar-euv train``): train Model A or B."""
import click

from solar_euv.cli.base import SolarEUVCommand, image_size_option, seed_option

__all__ = ["command", "main"]


@click.command("train", cls=SolarEUVCommand,
               context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", type=click.Path(file_okay=False), default=None,
              help="A prepared dataset directory (from `solar-euv prepare`).  Default: the "
                   "embedded synthetic sample, generated and prepared on first use into "
                   "~/.cache/solar_euv (or $SOLAR_EUV_CACHE); no network.")
@click.option("--passband", "passbands", multiple=True, default=("171",), show_default=True,
              help="AIA passband to generate; repeat for several, or 'all' for one model "
                   "with nine outputs.")
@click.option("--model", type=click.Choice(["A", "B"], case_sensitive=False), default=None,
              help="A: L1 loss only (no discriminator). B: L1 + cGAN (pix2pix), as Park et "
                   "al. 2019.  [preset: quick A, paper B]")
@click.option("--preset", type=click.Choice(["quick", "paper"]), default="quick",
              show_default=True,
              help="Defaults for model, size, steps, batch, filters, HMI clip and rate.  quick: "
                   "Model A, 128 px, "
                   "600 steps, batch 4, 32 base filters, +-1000 G, rate 1e-3 decaying "
                   "linearly (minutes on a laptop CPU).  paper: 1024 px, 500,000 steps, "
                   "Model B, batch 1, 64 filters, +-3000 G, constant rate 2e-4.  "
                   "Options given explicitly win.")
@image_size_option(default=None,
                   help_text="Training image side in pixels, a power of two from 64 to "
                             "2048 that divides the dataset's grid (images are "
                             "area-averaged down).  [preset]")
@click.option("--iterations", type=click.IntRange(1), default=None,
              help="Optimizer steps in total (one G and one D update each).  [preset]")
@click.option("--batch-size", type=click.IntRange(1), default=None,
              help="Global batch size, divided among the replicas.  [preset]")
@click.option("--base-filters", type=click.IntRange(1, 512), default=None,
              help="Filters of the first layer of both networks (64 in the paper).  [preset]")
@click.option("--disc-layers", type=click.IntRange(0, 5), default=3, show_default=True,
              help="PatchGAN depth: 0..5 give receptive fields 1, 16, 34, 70, 142, 286 px.")
@click.option("--l1-weight", type=float, default=100.0, show_default=True,
              help="lambda: weight of the L1 loss against the cGAN loss.")
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=None,
              help="Adam learning rate of both networks (quick: 1e-3; paper: 2e-4, "
                   "Park et al. 2019).  [preset]")
@click.option("--lr-decay", type=click.Choice(["none", "linear"]), default=None,
              help="none: constant rate (the paper).  linear: constant for the first "
                   "half of --iterations, then linearly to 0 (pix2pix).  [preset]")
@click.option("--beta1", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Adam beta_1 of both networks (beta_2 is 0.999).")
@click.option("--precision", type=click.Choice(["auto", "float32", "mixed_bfloat16",
                                                "mixed_float16"]),
              default="auto", show_default=True,
              help="Keras dtype policy.  auto: mixed_float16 on GPUs with tensor cores "
                   "(compute capability 7.0+), mixed_bfloat16 on CPUs with native "
                   "bfloat16 (AVX512_BF16 or AMX), else float32; a resumed run keeps "
                   "its policy.  mixed_float16 (GPU only) loss-scales both optimizers; "
                   "mixed_bfloat16 on a CPU without native bfloat16 is emulated (about "
                   "10x slower; it warns).")
@click.option("--strategy", type=click.Choice(["auto", "default", "mirrored", "multiworker"]),
              default="auto", show_default=True,
              help="auto: MirroredStrategy when more than one GPU is visible, else one "
                   "device.  multiworker: MultiWorkerMirroredStrategy configured by "
                   "TF_CONFIG (run the same command on every worker).")
@click.option("--run-dir", type=click.Path(file_okay=False), default="runs/solar-euv",
              show_default=True,
              help="Where config.json, checkpoints/, backup/, logs/ (TensorBoard), "
                   "metrics.csv, snapshots/ and the final model.keras go.")
@click.option("--resume", is_flag=True,
              help="Continue from RUN_DIR/backup (rerunning the same command does this "
                   "too); fails if there is no backup.")
@click.option("--force", is_flag=True,
              help="Start over in a RUN_DIR that holds another run (removes its backup, "
                   "checkpoints and metrics).")
@seed_option()
@click.option("--validate-every", type=click.IntRange(1), default=None,
              help="Steps between validations (the paper's CC, RE, PPE10, PPE50 on the "
                   "validation split, plus snapshots).  [preset]")
@click.option("--save-every", type=click.IntRange(1), default=None,
              help="Steps between backups and checkpoints; a killed run loses at most "
                   "this many.  [preset]")
@click.option("--val-examples", type=click.IntRange(1), default=None,
              help="Validation examples used at each validation.  [preset]")
@click.option("--hmi-limit", type=click.FloatRange(0, min_open=True), default=None,
              help="Magnetogram clip level in Gauss, mapped to +-1 (quick: 1000, the "
                   "authors' TF2 notebook; paper: 3000, Park et al. 2019).  [preset]")
@click.option("--hmi-off-disk", type=click.FloatRange(-1, 1), default=0.0, show_default=True,
              help="Network value of the magnetogram's pixels beyond 0.99 R (0: no field; "
                   "-1: the authors' TF2 notebook, several times slower to learn).")
@click.option("-q", "--quiet", is_flag=True, help="No per-step progress bar.")
def command(data, passbands, model, preset, image_size, iterations, batch_size, base_filters,
            disc_layers, l1_weight, lr, lr_decay, beta1, precision, strategy, run_dir, resume, force,
            seed, validate_every, save_every, val_examples, hmi_limit, hmi_off_disk, quiet):
    """Train a generator of SDO/AIA images from SDO/HMI magnetograms (Park et al. 2019).

    With no options it trains Model A for AIA 171 on the embedded synthetic
    sample (generated on first use, no network) with the quick preset, and
    writes everything to runs/solar-euv:

    \b
      config.json     every option, versions, data manifest hash
      checkpoints/    step_NNNNNNN.keras (last 3) and best.keras (validation L1)
      backup/         model + both optimizers for resuming after a kill
      logs/           TensorBoard: losses, learning rate, image panels
      metrics.csv     validation metrics per validation step
      snapshots/      generated validation images (FITS in DN/s, PNG)
      model.keras     the final model (keras.models.load_model)

    Rerunning the same command after an interruption resumes from the last
    backup.  The paper's setting:

    \b
      solar-euv-train --data DATA --passband all --preset paper --model B
    """
    from solar_euv.passbands import parse_passbands
    from solar_euv.training import TrainConfig, train

    config = TrainConfig(
        data=data, passbands=parse_passbands(passbands), model=model,
        image_size=image_size, iterations=iterations, batch_size=batch_size,
        disc_layers=disc_layers, l1_weight=l1_weight, lr=lr, lr_decay=lr_decay, beta1=beta1,
        precision=precision, strategy=strategy, run_dir=run_dir, resume=resume, force=force,
        seed=seed, preset=preset, base_filters=base_filters, validate_every=validate_every,
        save_every=save_every, val_examples=val_examples, hmi_limit=hmi_limit,
        hmi_off_disk=hmi_off_disk)
    train(config, echo=click.echo, verbose=0 if quiet else "auto")


def main():
    """Console-script entry point of ``solar-euv-train``."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command(prog_name="solar-euv-train")
