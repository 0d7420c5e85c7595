"""Zalo Official Account publisher, CS replies and OAuth token client."""

from platforms.zalo_auth import ZaloAuthClient
from publishers.zalo.oa import ZaloOAClient

__all__ = ["ZaloAuthClient", "ZaloOAClient"]
