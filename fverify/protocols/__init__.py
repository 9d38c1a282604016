"""Protocol adapters: official pair lists and user pair sets, all turned into one Protocol."""
from fverify.protocols.protocol import Protocol

__all__ = ["Protocol"]
