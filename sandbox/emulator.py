"""The Emulator object: configuration, clock, world, faults, budgets and webhooks in one place."""

from __future__ import annotations

import copy

from sandbox.config import EmuConfig
from sandbox.faults import Faults
from sandbox.feeds import FeedStore
from sandbox.ratelimit import FbLimits, ZaloLimits
from sandbox.state import Clock, World
from sandbox.webhooks import WebhookSender

_UNSET = object()


class Emulator:
    """Shared by every route; ``reset()`` brings it back to its startup state."""

    def __init__(self, config: dict | None = None, seed: int | None = None, demo: bool = False,
                 startup_faults: list[dict] | None = None) -> None:
        self.cfg = EmuConfig()
        unknown = self.cfg.update(config or {})
        if unknown:
            raise ValueError(f"unknown config keys: {unknown}")
        self._startup_config = copy.deepcopy(self.cfg.as_dict())
        self.startup_seed = seed
        self.startup_demo = demo
        self.startup_faults = list(startup_faults or [])
        self.clock = Clock()
        self.webhooks = WebhookSender(self.cfg)
        self.reset()

    def reset(self, seed=_UNSET, demo: bool | None = None) -> None:
        """Drop every object, fault, webhook setting and clock offset; reload demo data if asked."""
        self.seed = self.startup_seed if seed is _UNSET else seed
        self.cfg.update(copy.deepcopy(self._startup_config))
        self.clock.set_offset(0.0)
        self.world = World(self.seed)
        self.faults = Faults(self.clock, self.seed)
        for spec in self.startup_faults:
            self.faults.add(spec)
        self.fb_limits = FbLimits(self.cfg, self.clock)
        self.zalo_limits = ZaloLimits(self.cfg, self.clock)
        self.webhooks.reset()
        self.calls = {"facebook": 0, "zalo": 0}
        self.feed = FeedStore(self.clock, self.startup_demo if demo is None else demo)
        if self.startup_demo if demo is None else demo:
            from sandbox.demo import load_demo
            load_demo(self)
