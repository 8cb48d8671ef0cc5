"""The README and docs/ link only to files inside the repository (or to web addresses): a
newcomer's clone has nothing else."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)|<((?:https?|file)://[^>]+)>")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_resolves_inside_the_repository(page):
    for found in LINK.finditer(page.read_text(encoding="utf-8")):
        target = found.group(1) or found.group(2)
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        assert not target.startswith("file:"), f"{page.name} links to {target}"
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(REPO), f"{page.name} links outside the repository: {target}"
        assert path.exists(), f"{page.name} links to a missing file: {target}"


def test_nothing_points_at_the_shared_folder():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert "/work/shared" not in text and "../shared" not in text, page.name
