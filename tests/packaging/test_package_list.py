"""The installed package list in pyproject.toml names every package folder of the checkout.

setuptools is given the list explicitly (the folders are mapped under the ``headroom_mitm``
namespace); a new folder left off it would work from the checkout and be missing from a wheel.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        "headroom_mitm." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in config["package-dir"].values()
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk - listed == set(), "package folders missing from [tool.setuptools] packages"
    assert listed - on_disk == set(), "listed packages with no folder"
