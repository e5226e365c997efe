"""docs/formats.md names what the code accepts and writes, and the docs' links resolve."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FORMATS = (REPO / "docs" / "formats.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    """The text of the ``## title`` section of formats.md."""
    start = FORMATS.index(f"\n## {title}\n")
    end = FORMATS.find("\n## ", start + 1)
    return FORMATS[start : end if end > 0 else None]


def test_every_spec_key_is_documented() -> None:
    from mediamix.data.spec import ChannelSpec, LiftTest, ModelSpec

    text = _section("Model spec (YAML)")
    for key in ModelSpec.model_fields:
        assert f"`{key}`" in text, f"spec key {key} is not in docs/formats.md"
    for key in ChannelSpec.model_fields:
        assert f"channels.<name>.{key}" in text
    for key in LiftTest.model_fields:
        assert key in text


def test_every_transform_type_is_documented() -> None:
    from mediamix.transforms.registry import ADSTOCKS, SATURATIONS

    text = _section("Model spec (YAML)")
    for name in [*ADSTOCKS, *SATURATIONS]:
        assert f"`{name}`" in text, f"transform {name} is not in docs/formats.md"


def test_every_constraints_key_is_documented() -> None:
    from mediamix.optimization.constraints import (
        ChannelRule,
        Constraints,
        GroupRule,
        RatioRule,
        ShareOfVoiceRule,
    )

    text = _section("Constraints (YAML)")
    for model in (Constraints, ChannelRule, GroupRule, RatioRule, ShareOfVoiceRule):
        for key in model.model_fields:
            assert key in text, f"constraints key {model.__name__}.{key} is not documented"


def test_every_plan_field_is_documented(tmp_path: Path) -> None:
    import mediamix
    from mediamix.optimization.response import read_curves

    curves = tmp_path / "curves.json"
    hill = {"type": "hill", "half_saturation": 50.0, "slope": 1.2}
    curves.write_text(
        json.dumps(
            {
                "channels": {
                    "tv": {"beta": 100.0, "saturation": hill, "current_spend": 40.0},
                    "search": {"beta": 80.0, "saturation": hill, "current_spend": 60.0},
                }
            }
        )
    )
    assert read_curves(curves).channels == ("tv", "search")
    plan = mediamix.optimize(curves, budget=100.0, frontier=True).to_dict()
    text = _section("`plan.json`")
    for key in plan:
        assert f"`{key}`" in text, f"plan.json field {key} is not in docs/formats.md"
    for key in next(iter(plan["channels"].values())):
        assert key in text
    point = plan["frontier"]["points"][0]
    for key in point:
        documented = "spend_<channel>" if key.startswith("spend_") else key
        assert documented in text, f"frontier field {key} is not documented"


@pytest.mark.parametrize(
    "page", ["README.md", "docs/formats.md", "docs/python-api.md", "docs/architecture.md"]
)
def test_relative_links_resolve(page: str) -> None:
    path = REPO / page
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        resolved = (path.parent / target).resolve()
        assert resolved.exists(), f"{page} links to missing {target}"
        # the repository explains itself: no page points outside it
        assert resolved.is_relative_to(REPO.resolve()), f"{page} links outside the repo: {target}"
