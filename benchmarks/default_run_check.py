"""Compare a finished run's generator with an untrained one on the validation split.

The acceptance check of the default run: its validation CC must beat an
untrained generator (same configuration, fresh weights) by a wide margin.

    solar-euv-train --run-dir runs/solar-euv
    python -m benchmarks.default_run_check runs/solar-euv [--seeds 3]

Prints a markdown table of the paper's metrics per passband for the trained
model and for untrained generators built with different seeds.
"""
import argparse
import json
import pathlib

from benchmarks.learn import score_generator


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=pathlib.Path)
    parser.add_argument("--seeds", type=int, default=3, help="untrained generators to score")
    args = parser.parse_args(argv)

    import keras

    from solar_euv.dataset import make_dataset
    from solar_euv.models import build_generator, load_model
    from solar_euv.scaling import Scaling

    config = json.loads((args.run_dir / "config.json").read_text())
    opts = config["options"]
    scaling = Scaling.from_dict(config["scaling"])
    passbands = tuple(opts["passbands"])
    dataset = make_dataset(config["data_dir"], config["validation_split"], passbands, 4,
                           training=False, image_size=opts["image_size"], scaling=scaling) \
        .unbatch().take(opts["val_examples"]).batch(4)
    trained = load_model(args.run_dir / "model.keras").generator
    rows = [("trained (" + str(args.run_dir) + ")", score_generator(trained, dataset, passbands,
                                                             scaling))]
    for seed in range(args.seeds):
        keras.utils.set_random_seed(seed)
        fresh = build_generator(opts["image_size"], out_channels=len(passbands),
                                base_filters=opts["base_filters"])
        rows.append((f"untrained, seed {seed}", score_generator(fresh, dataset, passbands, scaling)))
    print("| generator | " + " | ".join(f"{b} CC" for b in passbands) + " |")
    print("|---|" + "---|" * len(passbands))
    for name, summary in rows:
        print(f"| {name} | " + " | ".join(f"{summary[b]['CC']:.3f}" for b in passbands) + " |")


if __name__ == "__main__":
    main()
