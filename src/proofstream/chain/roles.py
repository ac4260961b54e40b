"""The accounts a node or a project command acts as, and the one rule that picks them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from eth_account import Account
from eth_account.signers.local import LocalAccount

from proofstream import logs as log
from proofstream.chain.accounts import dev_account
from proofstream.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Roles:
    """The accounts the node acts as. On a real chain one operator key plays every role."""

    owner: LocalAccount
    """Deploys and owns the project; registers devices."""
    sequencer: LocalAccount
    prover: LocalAccount


def roles_for(settings: Settings, *, local_chain: bool, env: Mapping[str, str]) -> Roles:
    """The operator's key when one is given; anvil's development accounts only on a local chain.

    ``local_chain`` is True only for an anvil proofstream itself started (this node, or a project command
    on the project's own ``.proofstream/`` chain), never a guess from the chain id: anyone can run a chain
    with anvil's id 31337, and the development keys are public.
    """
    if settings.has_key(env) or not local_chain:
        account = Account.from_key(settings.private_key(env))
        return Roles(account, account, account)
    log.warning(logger, "using anvil's well-known development accounts (local chain only)")
    return Roles(owner=dev_account(0), sequencer=dev_account(0), prover=dev_account(1))
