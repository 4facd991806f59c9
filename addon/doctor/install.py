"""Is the rules file valid, and is the ``headroom`` being run this package, not another one?"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

from headroom_mitm.addon.doctor.context import Context, Result

DISTRIBUTION = "headroom-mitm"


def check_rules(context: Context) -> Result:
    from headroom_mitm.rules import check_rules as check

    path = context.rules_path
    rule_set, errors = check(path)
    name = path or "the shipped default.yaml"
    if errors:
        shown = f"{errors[0]}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        return Result("rules", False, shown, f"fix the file (headroom rules check {path or ''} lists every problem); "
                      "until then the proxy keeps the last good rules")
    return Result("rules", True, f"{name}: valid")


def check_package(context: Context) -> list[Result]:
    results = []
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"] or ""
        if name.lower().replace("_", "-") == DISTRIBUTION:
            continue
        claims = _claims(distribution)
        if claims:
            results.append(Result("package", False, f"another package, {name} {distribution.version}, also installs "
                                  f"{' and '.join(claims)}", f"pip uninstall {name} (or keep it in a virtual "
                                  "environment of its own); this one also runs as python -m headroom_mitm.addon.cli"))
    on_path = shutil.which("headroom", path=context.environ.get("PATH"))
    if on_path and b"headroom_mitm" not in Path(on_path).read_bytes()[:4096]:
        results.append(Result("package", False, f"the headroom on PATH ({on_path}) is not {DISTRIBUTION}'s",
                              f"remove it or put {DISTRIBUTION}'s folder first on PATH"))
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "from a checkout"
    return results or [Result("package", True, f"{DISTRIBUTION} {version}; no other package claims 'headroom'")]


def _claims(distribution: metadata.Distribution) -> list[str]:
    claims = []
    top_level = (distribution.read_text("top_level.txt") or "").split()
    files = distribution.files or []
    if "headroom" in top_level or any(file.parts[:1] == ("headroom",) for file in files):
        claims.append("the import name 'headroom'")
    if any(entry.name == "headroom" for entry in distribution.entry_points.select(group="console_scripts")):
        claims.append("a 'headroom' command")
    return claims
