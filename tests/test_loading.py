"""solar_euv.load_model: safe mode and clear refusals."""
import keras
import numpy as np
import pytest

from solar_euv.exceptions import InputError
from solar_euv.models import UNetGenerator, build_generator, load_model


def test_generator_file_loads(tmp_path):
    gen = build_generator(64, base_filters=4, max_filters=8)
    gen.save(tmp_path / "g.keras")
    loaded = load_model(tmp_path / "g.keras")
    assert isinstance(loaded, UNetGenerator)
    x = np.zeros((1, 64, 64, 1), "float32")
    np.testing.assert_array_equal(gen.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_file_with_code_is_refused(tmp_path):
    inputs = keras.Input((8,))
    outputs = keras.layers.Lambda(lambda t: t * 2)(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "lambda.keras")
    with pytest.raises(InputError, match=r"lambda\.keras: could not be loaded") as info:
        load_model(tmp_path / "lambda.keras")
    # The first sentence of Keras's reason, on one line, never cut mid-word.
    message = str(info.value)
    assert "`Lambda` layer" in message and message.endswith(".)") and "\n" not in message
    assert message.count(". ") == 0, message


def test_foreign_model_is_refused(tmp_path):
    inputs = keras.Input((8,))
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(tmp_path / "dense.keras")
    with pytest.raises(InputError, match="holds a Functional, not a solar_euv model"):
        load_model(tmp_path / "dense.keras")


@pytest.mark.parametrize("content,match", [
    (None, "does not exist"),
    (b"not a zip archive", "is not a Keras .keras archive"),
])
def test_missing_or_non_archive_file(tmp_path, content, match):
    path = tmp_path / "model.keras"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=match):
        load_model(path)
