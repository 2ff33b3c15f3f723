"""brianlab: declarative, versioned Brian2 models, network builders, devices and analysis.

The public face of the package::

    import brianlab as bl
    lif = bl.load_model("lif")                      # newest version; "lif@1" pins it
    G = lif.neuron_group(100, receptors=("ampa_exp", "gaba_exp"), I_ext="250 pA")
    with bl.use_device("cpp_standalone", threads=2) as dev:
        ...                                          # build a Network, then dev.run(net, 1*second)

Importing brianlab changes no Brian2 state; only :func:`use_device` does, and
it restores everything when its session is closed.
"""

from . import compose  # the module; calling it composes (see brianlab.compose)
from .compose import model_of
from .devices import DeviceError, DeviceSession, use_device
from .library import UnreleasedModelWarning, add_model_path, list_models, load_model, model_paths
from .modelfile import Model, read_model_file
from .units import ModelError, parse_quantity

__version__ = "0.1.0"

__all__ = [
    "DeviceError",
    "DeviceSession",
    "Model",
    "ModelError",
    "UnreleasedModelWarning",
    "add_model_path",
    "compose",
    "list_models",
    "load_model",
    "model_of",
    "model_paths",
    "parse_quantity",
    "read_model_file",
    "use_device",
    "__version__",
]
