"""(being written)"""

from stockkit.testing.conformance.base import ConformanceBase


class RollbackPromises(ConformanceBase):
    """(being written)"""
