"""The definitions contract. (The versioned, signed-off contract is built on this module.)"""

import copy

from closedloop.definitions.defaults import DEFAULT_CONTRACT


def active_contract_body() -> dict:
    """The body of the contract in force; the defaults until a version has been signed off."""
    return copy.deepcopy(DEFAULT_CONTRACT)


def active_contract_version() -> int | None:
    """The number of the contract version in force, or None while the defaults apply."""
    return None
