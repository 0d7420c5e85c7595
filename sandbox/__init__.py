"""Local emulator of the Facebook Graph API (Pages) and the Zalo Official Account API.

Run it with ``python -m sandbox --demo``; use it from tests through ``sandbox.testing.SandboxServer``
(the only module the rest of Loa imports). Behaviour follows docs/platform-apis.md Part C; every
[conflict]/[unverified] behaviour is a knob in ``sandbox.config.EmuConfig`` (``POST /__emu/config``).
"""
