"""solar-euv predict: AIA-like FITS and PNG from HMI files, MC dropout, metadata, refusals."""
import json
import shutil
import warnings

import numpy as np
import pytest
from astropy.io import fits
from click.testing import CliRunner

from solar_euv.cli.main import cli
from solar_euv.exceptions import InputError, SolarEUVWarning
from solar_euv.scaling import Scaling, solar_radius_px

SIZE = 64
BANDS = ("171", "193")


def _make_run(root, hmi_limit=2000.0, model="A"):
    """A run directory as solar-euv-train leaves it, with an untrained tiny model."""
    import keras

    from solar_euv.models import build_pix2pix

    # Seeded: an unseeded tiny network now and then has no live unit behind a
    # dropout layer, and then MC dropout cannot change its output.
    keras.utils.set_random_seed(0)
    model_obj = build_pix2pix(SIZE, model=model, out_channels=len(BANDS), base_filters=8)
    model_obj.compile(gan_weight=1.0 if model == "B" else 0.0)
    model_obj(np.zeros((1, SIZE, SIZE, 1), "float32"))
    (root / "checkpoints").mkdir(parents=True)
    model_obj.save(root / "model.keras")
    shutil.copy(root / "model.keras", root / "checkpoints" / "best.keras")
    scaling = Scaling(hmi_limit=hmi_limit)
    config = {"identity": {"passbands": list(BANDS), "image_size": SIZE, "model": model},
              "options": {"passbands": list(BANDS), "image_size": SIZE, "model": model},
              "scaling": scaling.to_dict(), "data_dir": str(root)}
    (root / "config.json").write_text(json.dumps(config))
    return root


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return _make_run(tmp_path_factory.mktemp("run") / "tiny-run")


@pytest.fixture(scope="module")
def hmi_files(tmp_path_factory):
    """Two synthetic HMI magnetograms and one AIA 171 image (256 px, JSOC names)."""
    from solar_euv.synthetic.sample import write_sample

    raw = tmp_path_factory.mktemp("raw")
    write_sample(raw, ["2017-08-01T12:00:00", "2017-08-02T00:00:00"], size=256, seed=0,
                 passbands=("171",))
    return raw


def _hmi(raw):
    return sorted(raw.glob("hmi.M_720s.*.magnetogram.fits"))


def _invoke(args):
    return CliRunner().invoke(cli, args)


def _expected(run_dir, path):
    """The same prediction computed by hand: prepare_hmi -> model.predict -> DN/s."""
    from solar_euv.inference.generation import network_input, physical_output
    from solar_euv.models import load_model
    from solar_euv.sdo.prep import prepare_hmi

    scaling = Scaling(hmi_limit=2000.0)
    model = load_model(run_dir / "model.keras")
    gauss = prepare_hmi(path, SIZE)
    return physical_output(model.predict(network_input(gauss, scaling), verbose=0), scaling)[0]


def test_predict_writes_aia_maps_from_a_run_directory(run_dir, hmi_files, tmp_path):
    import matplotlib.image
    import sunpy.map
    from sunpy.map.sources import AIAMap

    from solar_euv.sdo.io import read_sdo

    source = _hmi(hmi_files)[0]
    out = tmp_path / "gen"
    result = _invoke(["predict", str(run_dir), str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "scaling from tiny-run/config.json" in result.output
    hmi_time = read_sdo(source).time
    tag = hmi_time.strftime("%Y-%m-%dT%H%M%SZ")
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"aia_generated.{tag}.{b}.{ext}" for b in BANDS
                           for ext in ("fits", "png"))
    expected = _expected(run_dir, source)
    for c, band in enumerate(BANDS):
        m = sunpy.map.Map(out / f"aia_generated.{tag}.{band}.fits")
        assert isinstance(m, AIAMap)
        assert m.wavelength.to_value("angstrom") == float(band)
        assert abs((m.date - hmi_time).to_value("s")) < 1e-3
        assert m.unit.to_string() in ("DN / s", "ct / s")
        assert m.data.shape == (SIZE, SIZE)
        np.testing.assert_array_equal(m.data, expected[..., c])
        # WCS of the common grid: disk centre at the array centre, R = 392 N / 1024 px.
        centre = m.world_to_pixel(m.center)
        assert abs(float(centre.x.value) - (SIZE - 1) / 2) < 1e-6
        radius_px = (m.rsun_obs / m.scale.axis1).to_value("pix")
        assert radius_px == pytest.approx(solar_radius_px(SIZE), rel=1e-6)
        yy, xx = np.mgrid[:SIZE, :SIZE] - (SIZE - 1) / 2
        assert np.all(m.data[np.hypot(yy, xx) > 0.99 * solar_radius_px(SIZE)] == 0)
        assert m.data[SIZE // 2, SIZE // 2] > 0
        h = m.meta
        assert h["source"] == source.name and h["model"] == "tiny-run/model.keras"
        assert h["hmilimit"] == 2000.0 and h["mcsample"] == 0 and h["product"] == "generated"
        assert len(h["modelsha"]) == 16
        png = matplotlib.image.imread(out / f"aia_generated.{tag}.{band}.png")
        assert png.shape[:2] == (SIZE, SIZE) and png[..., :3].std() > 0


def test_predict_directory_input_and_png_only(run_dir, hmi_files, tmp_path):
    out = tmp_path / "gen"
    result = _invoke(["predict", str(run_dir / "checkpoints" / "best.keras"),
                      str(hmi_files), "--out", str(out), "--format", "png",
                      "--on-error", "skip", "--batch-size", "2"])
    # The directory also holds an AIA file: skipped with a warning, not fatal.
    assert result.exit_code == 0, result.output
    assert "not a line-of-sight magnetogram" in result.output
    assert len(list(out.glob("*.png"))) == 2 * len(BANDS)
    assert not list(out.glob("*.fits")) and not list(out.glob(".partial-*"))


def test_mc_dropout_writes_mean_and_std(run_dir, hmi_files, tmp_path):
    out = tmp_path / "gen"
    source = _hmi(hmi_files)[0]
    result = _invoke(["predict", str(run_dir), str(source), "--out", str(out),
                      "--mc-samples", "3", "--seed", "7", "--format", "fits"])
    assert result.exit_code == 0, result.output
    mean = sorted(out.glob("*.171.fits"))
    std = sorted(out.glob("*.171.std.fits"))
    assert len(mean) == 1 and len(std) == 1
    with fits.open(mean[0]) as a, fits.open(std[0]) as b:
        assert a[0].header["PRODUCT"] == "mean" and a[0].header["MCSAMPLE"] == 3
        assert b[0].header["PRODUCT"] == "std"
        deterministic = _expected(run_dir, source)[..., 0]
        # An untrained network's outputs are about 1e-4 in network units, and
        # dropout moves them by less than allclose's tolerance: compare exactly.
        disk = deterministic > 0
        assert disk.mean() > 0.3
        assert not np.array_equal(a[0].data[disk], deterministic[disk])
        assert b[0].data[disk].max() > 0 and np.all(b[0].data >= 0)


def test_mc_samples_differ_and_batchnorm_stays_in_inference_mode(run_dir):
    from solar_euv.inference.generation import generate, mc_dropout_generator, network_input
    from solar_euv.inference.trained_model import load_trained_model

    trained = load_trained_model(run_dir)
    rng = np.random.default_rng(0)
    gauss = rng.normal(0, 500, (2, SIZE, SIZE)).astype("float32")
    x = network_input(gauss, trained.scaling)
    plain = trained.generator.predict(x, verbose=0)

    # Off: exactly model.predict.
    off = generate(trained, gauss, batch_size=2)
    np.testing.assert_array_equal(off.data, trained.scaling.aia_from_network(plain)
                                  * (off.data > 0))
    assert off.std is None and off.samples == 0

    mc = mc_dropout_generator(trained.generator, seed=1)
    a, b = mc.predict(x, verbose=0), mc.predict(x, verbose=0)
    assert not np.allclose(a, b)                       # dropout is active
    assert {w.name for w in mc.weights} == {w.name for w in trained.generator.weights}

    # With the dropout rate set to 0 the MC model is the plain model: BatchNorm used
    # its moving statistics (training-mode BatchNorm would give other numbers).
    still = mc_dropout_generator(trained.generator, seed=1)
    for layer in still.layers:
        if "dropout" in layer.name:
            layer.rate = 0.0
    np.testing.assert_allclose(still.predict(x, verbose=0), plain, atol=1e-6)

    s1 = generate(trained, gauss, mc_samples=4, seed=3)
    s2 = generate(trained, gauss, mc_samples=4, seed=3)
    np.testing.assert_array_equal(s1.data, s2.data)    # reproducible with a seed
    inside = np.hypot(*(np.mgrid[:SIZE, :SIZE] - (SIZE - 1) / 2)) < 0.9 * solar_radius_px(SIZE)
    assert np.all(s1.std[:, inside, :] > 0)


def test_metadata_sources(run_dir, tmp_path):
    from solar_euv.inference.trained_model import load_trained_model, write_model_metadata

    from_run = load_trained_model(run_dir / "checkpoints" / "best.keras")
    assert from_run.run_dir == run_dir and from_run.scaling.hmi_limit == 2000.0
    assert from_run.passbands == BANDS and from_run.kind == "A"

    bare = tmp_path / "copy.keras"
    shutil.copy(run_dir / "model.keras", bare)
    with pytest.raises(InputError, match="passband is unknown; give it with --passbands"):
        load_trained_model(bare)
    with pytest.raises(InputError, match="names 1 passband"):
        load_trained_model(bare, passbands=["171"])
    with pytest.warns(SolarEUVWarning, match="default scaling"):
        assert load_trained_model(bare, passbands=BANDS).scaling == Scaling()

    sidecar = write_model_metadata(bare, BANDS, Scaling(hmi_limit=1000.0), SIZE, kind="A")
    assert sidecar.name == "copy.keras.json"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trained = load_trained_model(bare)
    assert trained.scaling.hmi_limit == 1000.0 and trained.metadata_source.startswith("sidecar")

    write_model_metadata(bare, BANDS, Scaling(), 128)
    with pytest.raises(InputError, match="says image size 128"):
        load_trained_model(bare)


def _continuum(src, dst):
    with warnings.catch_warnings(), fits.open(src) as hdul:
        warnings.simplefilter("ignore", RuntimeWarning)   # NaN off-disk in RICE re-encoding
        hdul[1].header["CONTENT"] = "CONTINUUM INTENSITY"
        hdul[1].header["BUNIT"] = "DN/s"
        hdul.writeto(dst)
    return dst


def _cutout(src, dst):
    with fits.open(src) as hdul:
        data = hdul[1].data[:100, :100].astype("float32")
        header = hdul[1].header.copy()
    for key in ("ZIMAGE", "ZBITPIX", "ZNAXIS", "ZNAXIS1", "ZNAXIS2", "ZTILE1", "ZTILE2",
                "ZCMPTYPE", "ZNAME1", "ZVAL1", "ZNAME2", "ZVAL2", "ZQUANTIZ", "ZDITHER0"):
        header.remove(key, ignore_missing=True)
    fits.PrimaryHDU(data, fits.Header([c for c in header.cards
                                       if c.keyword not in ("XTENSION", "PCOUNT", "GCOUNT",
                                                            "TFIELDS", "BITPIX", "NAXIS",
                                                            "NAXIS1", "NAXIS2")])
                    ).writeto(dst)
    return dst


@pytest.mark.parametrize("case, message", [
    ("not-fits", "is not a FITS file"),
    ("continuum", "not a line-of-sight magnetogram"),
    ("aia", "is an AIA 171 A image, not a line-of-sight magnetogram"),
    ("cutout", "is a cutout or partial field of view"),
    ("bad-model", "not a solar_euv model"),
    ("same-time", "has the same observation time (2017-08-01T"),
])
def test_refusals_write_nothing(run_dir, hmi_files, tmp_path, case, message):
    import keras

    good = _hmi(hmi_files)[0]
    model = str(run_dir)
    if case == "not-fits":
        bad = tmp_path / "notes.fits"
        bad.write_text("not a FITS file\n")
    elif case == "continuum":
        bad = _continuum(good, tmp_path / "hmi.Ic_720s.continuum.fits")
    elif case == "aia":
        bad = next(hmi_files.glob("aia*.fits"))
    elif case == "cutout":
        bad = _cutout(good, tmp_path / "cutout.fits")
    elif case == "same-time":
        import shutil

        bad = shutil.copy(good, tmp_path / "copy-of-the-first.fits")
    else:
        other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model = str(tmp_path / "other.keras")
        other.save(model)
        bad = good
    out = tmp_path / "gen"
    result = _invoke(["predict", model, str(good), str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2
    assert not out.exists()                 # nothing written, not even the directory


def test_refuses_non_empty_output_directory(run_dir, hmi_files, tmp_path):
    out = tmp_path / "gen"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ["predict", str(run_dir), str(_hmi(hmi_files)[0]), "--out", str(out), "-q"]
    result = _invoke(args)
    assert result.exit_code == 1 and "exists and is not empty" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    result = _invoke(args + ["--overwrite"])
    assert result.exit_code == 0, result.output
    assert (out / "keep.txt").read_text() == "mine" and len(list(out.glob("*.fits"))) == 2


def test_refuses_a_real_aia_file(run_dir, real_sdo_dir, tmp_path):
    result = _invoke(["predict", str(run_dir), str(real_sdo_dir / "AIAsynoptic0171.fits"),
                      "--out", str(tmp_path / "gen")])
    assert result.exit_code == 1 and "not a line-of-sight magnetogram" in result.output
    assert not (tmp_path / "gen").exists()
