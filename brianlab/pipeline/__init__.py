"""One pipeline for every network file (issue 25; ``docs/architecture.md``, "The flow of a command").

``arguments -> Request -> Plan -> build (found or compiled) -> points run -> reduced ->
saved -> figures``. Each stage is one module of this package; every module here is tier 1
(never imports Brian2) except ``planner``, ``compile`` and ``inprocess``, which
``flow`` reaches only from the functions the tier test (``tests/test_tiers.py``) allows.
"""
