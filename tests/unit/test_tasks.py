from __future__ import annotations

import itertools

import pytest

from proofstream.domain.tasks import FINAL, InvalidTransitionError, TaskStatus, check_transition, gas_shares, task_id
from proofstream.domain.types import FIELD_MODULUS, Address, Nonce, ProjectId


def test_happy_path_is_allowed() -> None:
    path = [TaskStatus.BATCHED, TaskStatus.PROVING, TaskStatus.SUBMITTED, TaskStatus.SETTLED]
    for current, new in itertools.pairwise(path):
        assert check_transition(current, new) is new


@pytest.mark.parametrize("final", sorted(FINAL))
@pytest.mark.parametrize("new", list(TaskStatus))
def test_final_states_never_move(final: TaskStatus, new: TaskStatus) -> None:
    with pytest.raises(InvalidTransitionError, match="cannot go"):
        check_transition(final, new)


def test_cannot_skip_proving() -> None:
    with pytest.raises(InvalidTransitionError):
        check_transition(TaskStatus.BATCHED, TaskStatus.SUBMITTED)


def test_task_id_fits_the_field_and_depends_on_every_key() -> None:
    tm = Address("0x5FbDB2315678afecb367f032d93F642f64180aa3")
    dev = Address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    base = task_id(31337, tm, ProjectId(1), dev, Nonce(0))
    assert 0 < base < FIELD_MODULUS
    others = {
        task_id(1, tm, ProjectId(1), dev, Nonce(0)),
        task_id(31337, Address("0x" + "11" * 20), ProjectId(1), dev, Nonce(0)),
        task_id(31337, tm, ProjectId(2), dev, Nonce(0)),
        task_id(31337, tm, ProjectId(1), Address("0x" + "22" * 20), Nonce(0)),
        task_id(31337, tm, ProjectId(1), dev, Nonce(1)),
    }
    assert base not in others
    assert len(others) == 5


@pytest.mark.parametrize(("total", "tasks"), [(1_000, 3), (7, 7), (5, 8), (1_808_093, 10)])
def test_gas_shares_add_up_to_the_transactions_gas(total: int, tasks: int) -> None:
    shares = gas_shares(total, tasks)
    assert sum(shares) == total and len(shares) == tasks
    assert max(shares) - min(shares) <= 1


def test_gas_shares_need_a_task() -> None:
    with pytest.raises(ValueError, match="at least one task"):
        gas_shares(100, 0)
