"""The members' ranking for an address, as tig computes it
(Sources/TigCluster/Rendezvous.swift), so a scenario can choose blocks whose
home is a given pod instead of placing them where the cluster would not."""

from __future__ import annotations

MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    z = (value + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def score(member: str, digest_hex: str) -> int:
    """member as the pods name each other (`ip:port`); digest_hex the 64 hex digits of the address."""
    value = 0xCBF29CE484222325
    for byte in member.encode():
        value = ((value ^ byte) * 0x100000001B3) & MASK
    for word in range(4):
        value = _mix(value ^ int(digest_hex[16 * word:16 * word + 16], 16))
    return value


def home(members: list[str], digest_hex: str) -> str:
    return max(members, key=lambda member: (score(member, digest_hex), member))
