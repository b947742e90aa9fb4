"""Platform connectors: one module per platform, found by name through the registry."""

from connectors.registry import REGISTRY, connector_class, platforms

__all__ = ["REGISTRY", "connector_class", "platforms"]
