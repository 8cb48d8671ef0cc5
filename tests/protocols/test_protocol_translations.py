"""A protocol that declares a language translates every patient-facing string, or loading
names the first missing key; translations read back filled in for each cycle."""

from __future__ import annotations

import pytest
from test_protocol_errors import broken, refusal

from scheduler.protocols import load_protocol, shipped_protocol_files

NCT = next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml")


def _visit_index(code: str) -> int:
    """The index of the shipped protocol's visit line ``code``, so that a case names the visit
    by its code and survives a visit line added before it."""
    codes = [visit.code for visit in load_protocol(NCT).visits]
    assert codes.count(code) == 1, f"{code!r} is not one visit line of the shipped protocol"
    return codes.index(code)


def test_the_shipped_protocol_translates_its_visits_into_chinese():
    protocol = load_protocol(NCT)
    assert protocol.languages == ("zh_CN",)
    assert protocol.title_in("zh_CN") == "安罗替尼用于肝细胞癌术后高复发风险患者"
    # Cycles 2, 4, 6 and 8 add thyroid tests and the blood pressure log; 3, 5 and 7 do not.
    c2d1 = protocol.visit_text("C2D1", "zh_CN")
    assert c2d1 is not None
    assert c2d1.name == "第2周期第1天"
    assert c2d1.bring == "服药日记、血压记录、所有胶囊和空药瓶"
    assert c2d1.procedures == (
        "化验", "甲状腺功能（TSH/FT4）", "血压", "不良事件评估", "药品清点", "领药",
    )  # fmt: skip
    c3d1 = protocol.visit_text("C3D1", "zh_CN")
    assert c3d1 is not None
    assert c3d1.name == "第3周期第1天"
    assert c3d1.bring == "服药日记、所有胶囊和空药瓶"
    assert c3d1.procedures == ("化验", "血压", "不良事件评估", "药品清点", "领药")
    base = protocol.visit_text("BASE", "zh_CN")
    assert base is not None and base.name == "基线影像检查（CT/MRI）和甲胎蛋白"
    survival = protocol.visit_text("SURV12M", "zh_CN")
    assert survival is not None and survival.name == "第12个月生存随访"
    # The source text stays what staff read, and is what an undeclared language gets.
    assert protocol.visits[0].name == "Screening"
    screening = protocol.visit_text("SCR", "en")
    assert screening is not None and screening.name == "Screening"
    assert protocol.visit_text("C9D1", "zh_CN") is None


@pytest.mark.parametrize(
    ("old", "new", "visit", "key"),
    [
        ('name.zh_CN = "第1周期第15天安全检查"\n', "", "C1D15", "visits[{}].name.zh_CN"),
        ('bring.zh_CN = "用药清单"\n', "", "C1D1", "visits[{}].bring.zh_CN"),
        (
            'procedures.zh_CN = ["化验", "不良事件评估", "领药"]\n',
            'procedures.zh_CN = ["化验"]\n',
            "C1D1",
            "visits[{}].procedures.zh_CN",
        ),
        ('title.zh_CN = "安罗替尼用于肝细胞癌术后高复发风险患者"\n', "", None, "title.zh_CN"),
        (
            'name.zh_CN = "筛选访视"\n',
            'name.zh_CN = "筛选访视"\nname.fr = "Sélection"\n',
            "SCR",
            "visits[{}].name.fr",
        ),
        ('languages = ["zh_CN"]\n', 'languages = ["zh_CN", "Chinese"]\n', None, "languages"),
        ('name.en = "Screening"\n', 'name.de = "Screening"\n', "SCR", "visits[{}].name.en"),
        (
            'name.zh_CN = "基线影像检查（CT/MRI）和甲胎蛋白"\n',
            "",
            "BASE",
            "visits[{}].name.zh_CN",
        ),
        ('name.zh_CN = "第12个月生存随访"\n', "", "SURV12M", "visits[{}].name.zh_CN"),
    ],
)
def test_a_missing_or_stray_translation_is_named(tmp_path, old, new, visit, key):
    expected = key.format(_visit_index(visit)) if visit is not None else key
    error = refusal(broken(tmp_path, old, new))
    assert error.key_path == expected, str(error)
