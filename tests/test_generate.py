"""solar_euv.generate: magnetogram Maps (or files) in, AIA-like sunpy Maps out."""
import warnings

import numpy as np
import pytest
from astropy.io import fits

import solar_euv
from solar_euv.exceptions import InputError, SolarEUVWarning

from test_predict import BANDS, SIZE, _expected, run_dir  # noqa: F401  (tiny run fixture)


@pytest.fixture(scope="module")
def nine_band_run(tmp_path_factory):
    """A tiny model of all nine passbands (a run directory)."""
    import json
    import shutil

    from solar_euv.models import build_pix2pix
    from solar_euv.passbands import PASSBAND_NAMES
    from solar_euv.scaling import Scaling

    root = tmp_path_factory.mktemp("run9") / "nine"
    model = build_pix2pix(SIZE, model="A", out_channels=9, base_filters=8)
    model.compile(gan_weight=0.0)
    model(np.zeros((1, SIZE, SIZE, 1), "float32"))
    root.mkdir(parents=True)
    model.save(root / "model.keras")
    options = {"passbands": list(PASSBAND_NAMES), "image_size": SIZE, "model": "A"}
    (root / "config.json").write_text(json.dumps({"options": options,
                                                  "scaling": Scaling().to_dict()}))
    shutil.copy(root / "model.keras", root / "copy.keras")
    return root


@pytest.fixture(scope="module")
def hmi_file(tmp_path_factory):
    """One synthetic full-disk HMI magnetogram (hmi.M_720s, 256 px, RICE-compressed)."""
    from solar_euv.synthetic.sample import write_sample

    raw = tmp_path_factory.mktemp("raw")
    write_sample(raw, ["2017-08-01T12:00:00"], size=256, seed=0, passbands=("171",))
    return next(raw.glob("hmi.M_720s.*.magnetogram.fits"))


def test_hmi_map_in_nine_maps_out_with_its_time(nine_band_run, hmi_file):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sunpy.map
    from sunpy.map.sources import AIAMap, HMIMap

    from solar_euv.sdo.io import observation_time

    hmi = sunpy.map.Map(hmi_file)
    assert isinstance(hmi, HMIMap)
    maps = solar_euv.generate(nine_band_run, hmi)
    assert list(maps) == ["1700", "1600", "304", "171", "193", "211", "335", "94", "131"]
    assert maps.std == {} and maps.samples == 0 and maps.instrument == "hmi"
    time = observation_time(hmi.meta)
    for band, m in maps.items():
        assert isinstance(m, AIAMap)
        assert m.wavelength.to_value("angstrom") == float(band)
        assert abs((m.date - time).to_value("s")) < 1e-3
        assert m.data.shape == (SIZE, SIZE) and m.unit.to_string() in ("DN / s", "ct / s")
        assert m.cmap.name == f"sdoaia{band}"
        assert m.meta["srcinst"] == "SDO/HMI" and m.meta["xcalfac"] == 1.0
        assert m.meta["srctrec"] == hmi.meta["t_rec"]
    fig = plt.figure()
    maps["171"].plot(axes=fig.add_subplot(projection=maps["171"]))
    plt.close(fig)
    sequence = maps.sequence()
    assert isinstance(sequence, sunpy.map.MapSequence) and len(sequence) == 9


def test_map_and_file_give_what_predict_writes(run_dir, hmi_file, tmp_path):
    """The Map path and the CLI share one path: same data, same header cards."""
    import sunpy.map
    from click.testing import CliRunner

    from solar_euv.cli.main import cli

    from_map = solar_euv.generate(run_dir, sunpy.map.Map(hmi_file))
    from_file = solar_euv.generate(str(run_dir), hmi_file)
    out = tmp_path / "gen"
    result = CliRunner().invoke(cli, ["predict", str(run_dir), str(hmi_file), "--out",
                                      str(out), "--format", "fits"])
    assert result.exit_code == 0, result.output
    expected = _expected(run_dir, hmi_file)
    for c, band in enumerate(BANDS):
        np.testing.assert_array_equal(from_file[band].data, expected[..., c])
        np.testing.assert_allclose(from_map[band].data, expected[..., c], rtol=1e-5, atol=1e-3)
        written = next(out.glob(f"*.{band}.fits"))
        with fits.open(written) as hdul:
            header, data = hdul[0].header, hdul[0].data
        np.testing.assert_array_equal(data, from_file[band].data)
        for key in ("DATE-OBS", "T_OBS", "WAVELNTH", "BUNIT", "CDELT1", "CRPIX1", "RSUN_OBS",
                    "MODEL", "MODELSHA", "HMILIMIT", "PRODUCT", "SRCINST", "XCALFAC",
                    "XCALREF", "SOURCE"):
            assert from_file[band].meta[key.lower()] == header[key], key
        assert header["SOURCE"] == hmi_file.name


def test_uncertainty_maps_with_mc_samples_and_a_list(run_dir, hmi_file):
    import sunpy.map

    hmi = sunpy.map.Map(hmi_file)
    first, second = solar_euv.generate(run_dir, [hmi, hmi_file], mc_samples=3, seed=5)
    again, _ = solar_euv.generate(run_dir, [hmi, hmi_file], mc_samples=3, seed=5)
    for band in BANDS:
        assert first[band].meta["product"] == "mean" and first[band].meta["mcsample"] == 3
        std = first.std[band]
        assert std.meta["product"] == "std" and std.data.shape == (SIZE, SIZE)
        assert np.all(std.data >= 0) and std.data.max() > 0
        np.testing.assert_array_equal(first[band].data, again[band].data)   # seeded
    assert len(first.sequence(std=True)) == len(BANDS)
    assert second.source == str(hmi_file) and second["171"].meta["source"] == hmi_file.name


def test_loaded_model_and_bare_generator(nine_band_run, hmi_file):
    import sunpy.map

    from solar_euv.models import load_model

    model = load_model(nine_band_run / "model.keras", compile=False)
    with pytest.warns(SolarEUVWarning, match="default scaling"):
        maps = solar_euv.generate(model, sunpy.map.Map(hmi_file))
    reference = solar_euv.generate(nine_band_run, hmi_file)
    np.testing.assert_allclose(maps["94"].data, reference["94"].data, rtol=1e-5, atol=1e-3)
    assert maps["94"].meta["model"].startswith("in-memory")
    assert len(maps["94"].meta["modelsha"]) == 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SolarEUVWarning)
        with pytest.raises(solar_euv.SolarEUVError, match="has 9 output channel"):
            solar_euv.generate(model.generator, hmi_file, passbands=["171"])


def test_refuses_an_aia_map_and_a_cutout_naming_them(run_dir, tmp_path):
    import sunpy.map

    from solar_euv.synthetic.sample import write_sample

    paths = write_sample(tmp_path, ["2017-08-01T12:00:00"], size=256, seed=0,
                         passbands=("171",))
    aia = sunpy.map.Map(next(p for p in paths if "aia" in p.name))
    with pytest.raises(InputError, match="AIA 171 A image, not a line-of-sight magnetogram"):
        solar_euv.generate(run_dir, aia)
    hmi = sunpy.map.Map(next(p for p in paths if "hmi" in p.name))
    cut = sunpy.map.Map(hmi.data[:100, :100], hmi.meta)
    with pytest.raises(InputError, match="is a cutout or partial field of view") as err:
        solar_euv.generate(run_dir, cut)
    assert str(err.value).startswith(cut.name.replace("/", "-"))
    with pytest.raises(solar_euv.SolarEUVError, match="FITS file path or a sunpy Map"):
        solar_euv.generate(run_dir, np.zeros((SIZE, SIZE)))
