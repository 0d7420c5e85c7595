"""Facebook Page publisher over the Graph API."""

from publishers.facebook.client import FacebookPageClient
from publishers.facebook.errors import GraphUsage

__all__ = ["FacebookPageClient", "GraphUsage"]
