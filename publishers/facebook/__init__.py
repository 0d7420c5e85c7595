"""Facebook Page publisher over the Graph API."""

from publishers.facebook.client import FacebookPageClient
from platforms.graph_errors import GraphUsage

__all__ = ["FacebookPageClient", "GraphUsage"]
