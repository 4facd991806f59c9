"""Which repository a session worked in: the unit lessons are scoped to.

A lesson true in one repository belongs to that repository, whichever worktree, clone or
subfolder a session ran in. A project key is either a path (the repository's top level, so the
files can be written there) or a repository name such as ``sympy/sympy`` (a SWE-bench run, whose
working directory ``/testbed`` is shared by every repository and says nothing).

A path is resolved with git when it exists here: every worktree of one repository shares a git
common dir, and its key is the main worktree. A path that does not exist here (a log from
another machine) is resolved by the usual worktree layouts instead: ``REPO-worktrees/NAME``,
``REPO/.worktrees/NAME``, ``REPO/worktrees/NAME`` and ``REPO/.claude/worktrees/NAME`` all belong
to ``REPO``. Clones of one remote are pooled afterwards, by :func:`pool_clones`.
"""

from __future__ import annotations

import re
import subprocess
from functools import lru_cache
from pathlib import Path, PurePosixPath

__all__ = ["repository_of", "remote_of", "pool_clones", "project_name", "folder_names", "swe_bench_repository", "is_path"]

_WORKTREE_LAYOUTS = (
    re.compile(r"^(?P<repo>.+)-worktrees/[^/]+(?P<rest>/.*)?$"),
    re.compile(r"^(?P<repo>.+?)/(?:\.claude/)?\.?worktrees/[^/]+(?P<rest>/.*)?$"),
)

# a SWE-bench instance id: owner__name-number (scikit-learn__scikit-learn-10908)
_SWE_BENCH_INSTANCE = re.compile(r"^(?P<owner>[\w.-]+?)__(?P<name>[\w.-]+)-\d+$")


def swe_bench_repository(instance_id: str) -> str | None:
    """``sympy__sympy-24562`` -> ``sympy/sympy``; None for anything else."""
    found = _SWE_BENCH_INSTANCE.match(instance_id)
    return f"{found['owner']}/{found['name']}" if found else None


def is_path(project: str) -> bool:
    return project.startswith(("/", "~")) or bool(re.match(r"^[A-Za-z]:[\\/]", project))


@lru_cache(maxsize=4096)
def repository_of(project: str | None) -> str | None:
    """The repository key of a session's project (see the module docstring)."""
    if not project:
        return None
    project = project.rstrip("/") or "/"
    if not is_path(project):
        return project
    top = _git(project, "rev-parse", "--path-format=absolute", "--git-common-dir")
    if top:
        common = Path(top)
        # the common dir of a normal repository is TOP/.git; a bare one is the repository itself
        return str(common.parent if common.name == ".git" else common)
    for layout in _WORKTREE_LAYOUTS:
        found = layout.match(project)
        if found:
            return found["repo"]
    return project


@lru_cache(maxsize=4096)
def remote_of(root: str) -> str | None:
    """The repository's origin, normalised so ssh and https spellings compare equal."""
    if not is_path(root):
        return None
    url = _git(root, "config", "--get", "remote.origin.url")
    if not url:
        return None
    url = re.sub(r"^(?:[a-z+]+://)?(?:[^@/]+@)?", "", url).replace(":", "/", 1)
    return url.removesuffix(".git").rstrip("/").lower()


def pool_clones(keys: set[str]) -> dict[str, str]:
    """Each key to the key of its pool: clones of one remote share the first of their roots."""
    by_remote: dict[str, list[str]] = {}
    for key in sorted(keys):
        remote = remote_of(key)
        if remote:
            by_remote.setdefault(remote, []).append(key)
    pooled = {key: key for key in keys}
    for members in by_remote.values():
        for key in members:
            pooled[key] = members[0]
    return pooled


def project_name(key: str) -> str:
    """How a project is named to a reader: a repository name as it is, a path by its last part."""
    if not is_path(key):
        return key
    return PurePosixPath(key.replace("\\", "/")).name or key


def folder_names(keys: list[str]) -> dict[str, str]:
    """A folder name per project, for writing every project's files under one folder:
    ``sympy/sympy`` -> ``sympy__sympy`` (as SWE-bench names its instances), a path by its last
    part, and by its last two when two projects share one."""
    names = {key: project_name(key).replace("/", "__") for key in keys}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    for key, name in names.items():
        if counts[name] > 1 and is_path(key):
            parent = PurePosixPath(key.replace("\\", "/")).parent.name
            names[key] = f"{parent}__{name}" if parent else name
    return names


def _git(folder: str, *arguments: str) -> str | None:
    path = Path(folder).expanduser()
    if not path.is_dir():
        return None
    try:
        completed = subprocess.run(
            ["git", "-C", str(path), *arguments], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    output = completed.stdout.strip()
    return output if completed.returncode == 0 and output else None
