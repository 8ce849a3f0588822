"""Keras serialisation of the package's functional models from their constructor arguments.

As in keras-hub: ``get_config`` holds ``name``, ``trainable``, every
constructor argument and ``dtype`` (the model's dtype policy), and
``from_config`` calls the constructor with them, so a saved model rebuilds
exactly (mixed precision included).
"""
import keras

__all__ = ["ArgumentsConfig", "model_dtype_policy"]


def model_dtype_policy(dtype):
    """The dtype policy of a model built with ``dtype`` (None: the global policy)."""
    return keras.dtype_policies.get(dtype) if dtype is not None \
        else keras.config.dtype_policy()


class ArgumentsConfig:
    """Mixin (before ``keras.Model``) giving ``get_config`` / ``from_config``.

    The constructor, after ``super().__init__``, sets ``self.dtype_policy``
    (a functional model ignores ``dtype=``) and calls
    :meth:`_set_arguments` with every argument other than ``dtype`` and the
    base class's keyword arguments.
    """

    def _set_arguments(self, **arguments):
        """Keep each argument as an attribute of that name, for :meth:`get_config`."""
        for key, value in arguments.items():
            setattr(self, key, value)
        self._argument_names = tuple(arguments)

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        config.update({key: getattr(self, key) for key in self._argument_names})
        config["dtype"] = keras.dtype_policies.serialize(self.dtype_policy)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
