"""Upsert keys already imported from a file, for finding duplicates within it. Pure."""

from __future__ import annotations


class SeenKeys:
    """The upsert keys already imported from a file, each with the line it was first on.

    A million-row file has two million keys (email and external id); as a dict of Python ints
    that is ~180 MB. Here they are 64-bit fingerprints in a sorted NumPy array with a parallel
    array of lines (12 bytes a key), looked up a chunk at a time with `searchsorted`; the keys
    of the chunk being checked sit in a small dict until `flush`.
    """

    def __init__(self) -> None:
        import numpy as np

        self._np = np
        self.keys = np.empty(0, dtype=np.uint64)
        self.lines = np.empty(0, dtype=np.uint32)
        self.pending: dict[int, int] = {}

    @staticmethod
    def fingerprint(name: str, value: object) -> int:
        return hash((name, str(value).lower())) & 0xFFFF_FFFF_FFFF_FFFF

    def lookup(self, fingerprints: list[int]) -> dict[int, int]:
        """{fingerprint: first line} for those of `fingerprints` seen before this chunk."""
        np = self._np
        if not fingerprints or not len(self.keys):
            return {}
        wanted = np.array(fingerprints, dtype=np.uint64)
        at = np.searchsorted(self.keys, wanted).clip(max=len(self.keys) - 1)
        hit = self.keys[at] == wanted
        return dict(zip(wanted[hit].tolist(), self.lines[at[hit]].tolist(), strict=True))

    def add(self, fingerprint: int, line: int) -> None:
        self.pending.setdefault(fingerprint, line)

    def flush(self) -> None:
        """Move the pending keys into the sorted arrays."""
        np = self._np
        if not self.pending:
            return
        keys = np.fromiter(self.pending.keys(), dtype=np.uint64, count=len(self.pending))
        lines = np.fromiter(self.pending.values(), dtype=np.uint32, count=len(self.pending))
        order = np.argsort(keys, kind="stable")
        keys, lines = keys[order], lines[order]
        at = np.searchsorted(self.keys, keys)
        self.keys = np.insert(self.keys, at, keys)
        self.lines = np.insert(self.lines, at, lines)
        self.pending.clear()

    def __len__(self) -> int:
        return len(self.keys) + len(self.pending)
