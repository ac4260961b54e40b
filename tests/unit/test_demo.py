"""The demo's project without running it: the tracker template scaffolded at DEMO_CAPACITY, the same content
wherever it is scaffolded (so the circuit build, cached by content, is reused between runs), and defaults of two
full tasks per device."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

from proofstream.cli import main as cli_main
from proofstream.demo import DEMO_CAPACITY, DEMO_NAME, demo_project, run_demo
from proofstream.projects.scaffold import LARGEST_CAPACITY, template_dir


def test_the_demo_runs_the_tracker_template_at_its_largest_shipped_capacity(tmp_path: Path) -> None:
    assert DEMO_CAPACITY == LARGEST_CAPACITY["tracker-distance"] == 16
    spec = demo_project(tmp_path)
    assert spec.root == tmp_path / DEMO_NAME
    assert (spec.name, spec.template, spec.capacity, spec.depth) == (DEMO_NAME, "tracker-distance", 16, 4)
    assert spec.circuit_path.read_text().rstrip().endswith("= TrackerDistance(4);")
    assert demo_project(tmp_path).root == spec.root  # found again, not scaffolded twice


def test_without_a_folder_the_demo_project_lives_in_one_per_process_folder() -> None:
    """What `proofstream node` runs without --project: one folder for the process, whatever asks for it."""
    spec = demo_project()
    assert spec.root.is_dir() and spec.root.name == DEMO_NAME
    assert not spec.root.is_relative_to(template_dir("tracker-distance"))
    assert demo_project().root == spec.root


def test_every_scaffold_of_the_demo_has_one_content_hash(tmp_path: Path) -> None:
    assert demo_project(tmp_path / "a").content_hash(None) == demo_project(tmp_path / "b").content_hash(None)
    assert demo_project(tmp_path / "a").content_hash(None) == demo_project().content_hash(None)


def test_the_demo_sends_two_full_tasks_a_device_by_default() -> None:
    assert inspect.signature(run_demo).parameters["messages"].default == 2 * DEMO_CAPACITY
    assert inspect.signature(cli_main.demo).parameters["messages"].default == 2 * DEMO_CAPACITY
    (option,) = typing.get_type_hints(cli_main.demo, include_extras=True)["messages"].__metadata__
    assert f"two full tasks of {DEMO_CAPACITY}" in option.help
