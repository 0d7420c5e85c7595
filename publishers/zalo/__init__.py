"""Zalo Official Account publisher, CS replies and OAuth token client."""

from publishers.zalo.auth import ZaloAuthClient
from publishers.zalo.oa import ZaloOAClient

__all__ = ["ZaloAuthClient", "ZaloOAClient"]
