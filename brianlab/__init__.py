"""brianlab: declarative, versioned Brian2 models, network builders, devices and analysis."""

from .compose import compose, model_of

from .library import list_models, load_model
from .modelfile import Model, read_model_file
from .units import ModelError, parse_quantity

__version__ = "0.1.0"

__all__ = [
    "Model",
    "ModelError",

    "compose",
    "list_models",
    "load_model",
    "model_of",
    "parse_quantity",
    "read_model_file",

    "__version__",
]
