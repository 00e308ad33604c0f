"""(being written)"""

from stockkit.testing.conformance.base import ConformanceBase


class CrashPromises(ConformanceBase):
    """(being written)"""
