"""``solar-euv networks``: print the generator and discriminator of a configuration."""
import click

from solar_euv.cli.base import SolarEUVCommand
from solar_euv.cli.options import image_size_option, verbosity_options

__all__ = ["command"]


@click.command("networks", cls=SolarEUVCommand)
@image_size_option(default=1024)
@click.option("--disc-layers", type=click.IntRange(0, 5), default=3, show_default=True,
              help="PatchGAN depth (strided layers): 0..5 give receptive fields "
                   "1, 16, 34, 70, 142, 286 px.")
@click.option("--out-channels", type=click.IntRange(1, 9), default=1, show_default=True,
              help="Generator outputs: 1 for one passband, 9 for all nine in one model.")
@click.option("--variant", type=click.Choice(["seed", "deep"]), default="seed",
              show_default=True,
              help="U-Net depth: 'seed' stops at a 4x4 bottleneck (the paper's diagram); "
                   "'deep' halves down to 1x1 as the authors' code did.")
@click.option("--base-filters", type=click.IntRange(1, 512), default=64, show_default=True,
              help="Filters of the first layer of both networks (64 in the paper).")
@verbosity_options(quiet_help="Leave out the layer tables (repeatable).")
def command(image_size, disc_layers, out_channels, variant, base_filters, verbose, quiet):
    """Show the generator and discriminator: layer summaries, parameter counts
    and the discriminator's receptive field.

    Nothing is trained or written; the networks are built on the CPU.

    Example: ``solar-euv networks --image-size 512 --disc-layers 3``
    """
    from solar_euv.models import build_discriminator, build_generator, receptive_field

    bottleneck = 4 if variant == "seed" else 1
    gen = build_generator(image_size, out_channels=out_channels,
                          bottleneck_size=bottleneck, base_filters=base_filters)
    disc = build_discriminator(image_size, out_channels=out_channels,
                               n_layers=disc_layers, base_filters=base_filters)
    if verbose - quiet >= 0:
        gen.summary(print_fn=lambda line, **kw: click.echo(line))
        disc.summary(print_fn=lambda line, **kw: click.echo(line))
    out_shape = tuple(disc.output.shape[1:3])
    click.echo(f"generator:     {gen.count_params():,} parameters "
               f"({image_size}x{image_size}x1 -> {image_size}x{image_size}x{out_channels})")
    click.echo(f"discriminator: {disc.count_params():,} parameters "
               f"(depth {disc_layers}, {out_shape[0]}x{out_shape[1]} patch logits)")
    click.echo(f"receptive field: {receptive_field(disc)} px")
