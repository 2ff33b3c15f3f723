"""Small user network files for the pipeline's tests (``test_pipeline_build.py``,
``test_pipeline_cli.py``): cuba@1 shrunk to 160/40 neurons and 100 ms in two phases."""

from brianlab.store import models_root

#: Added to the copy of cuba@1: a hash drive of E for the first 30 ms (an active window and
#: a run-time drive seed).
KICK = """
[inputs.kick]
kind = "random_current"
target = "E"
amplitude = "0.3 nA"
interval = "0.5 ms"
duration = "30 ms"
"""


def small_cuba_text(extra: str = KICK, *, state: bool = False) -> str:
    """The text of cuba@1 as ``mycuba``: 160/40 neurons, phases ``settle`` (20 ms) and
    ``run`` (80 ms), without its ``[[published]]`` entries (their ``t_start`` lies past the
    short protocol), ``extra`` inserted before ``[monitors]``; with ``state``, a state
    monitor of ``v`` of E neurons 0 and 1 every 1 ms."""
    text = (models_root() / "networks" / "cuba" / "1.toml").read_text()
    text = text[:text.index("[[published]]")]
    text = text.replace('name = "cuba"', 'name = "mycuba"')
    text = text.replace("size = 3200", "size = 160").replace("size = 800", "size = 40")
    text = text.replace('phases = [{ name = "run", duration = "1 second" }]',
                        'phases = [{ name = "settle", duration = "20 ms" }, '
                        '{ name = "run", duration = "80 ms" }]')
    if state:
        text = text.replace("rates = [\"E\", \"I\"]", "rates = [\"E\", \"I\"]\nstate = "
                            "[{ population = \"E\", variables = [\"v\"], record = [0, 1], "
                            "dt = \"1 ms\" }]")
    return text.replace("[monitors]", extra + "\n[monitors]")
