"""brianlab: declarative, versioned Brian2 models, network builders, devices and analysis.

The public face of the package::

    import brianlab as bl
    lif = bl.load_model("lif")                      # newest version; "lif@1" pins it
    G = lif.neuron_group(100, receptors=("ampa_exp", "gaba_exp"), I_ext="250 pA")
    with bl.use_device("cpp_standalone", threads=2) as dev:
        ...                                          # build a Network, then dev.run(net, 1*second)

Importing brianlab changes no Brian2 state; only :func:`use_device` does, and
it restores everything when its session is closed. The public names load their modules
(and Brian2) on first use.
"""

from .lazy import lazy_names

__version__ = "0.1.0"

__all__ = [
    "DeviceError",
    "DeviceSession",
    "Model",
    "ModelError",
    "NetworkFile",
    "UnreleasedModelWarning",
    "add_model_path",
    "compose",
    "list_models",
    "load_model",
    "load_network",
    "model_of",
    "model_paths",
    "parse_quantity",
    "read_model_file",
    "run",
    "sweep",
    "use_device",
    "__version__",
]

#: The submodule that defines each public name (``compose``, the module, loads as a
#: submodule; calling it composes: see brianlab.compose). The modules load on first use
#: (PEP 562), so that importing a submodule that needs no Brian2 (``python -m
#: brianlab.cmsa`` repeating a cached command) does not import Brian2 either;
#: ``from brianlab import X`` works as usual.
_PUBLIC = {"model_of": "compose", "DeviceError": "devices", "DeviceSession": "devices",
           "use_device": "devices", "UnreleasedModelWarning": "store",
           "add_model_path": "store", "list_models": "store", "load_model": "library",
           "load_network": "library", "NetworkFile": "networkfile",
           "model_paths": "store", "Model": "modelfile", "read_model_file": "modelfile",
           "ModelError": "units", "parse_quantity": "units", "run": "pipeline.api",
           "sweep": "pipeline.api"}

__getattr__, __dir__ = lazy_names(globals(), _PUBLIC)
