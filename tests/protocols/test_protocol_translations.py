"""A protocol that declares a language translates every patient-facing string, or loading
names the first missing key; translations read back filled in for each cycle."""

from __future__ import annotations

import pytest
from test_protocol_errors import broken, refusal

from scheduler.protocols import load_protocol, shipped_protocol_files

NCT = next(p for p in shipped_protocol_files() if p.name == "nct03945799.toml")


def test_the_shipped_protocol_translates_its_visits_into_chinese():
    protocol = load_protocol(NCT)
    assert protocol.languages == ("zh_CN",)
    assert protocol.title_in("zh_CN") == "安罗替尼用于肝细胞癌术后高复发风险患者"
    c3d1 = protocol.visit_text("C3D1", "zh_CN")
    assert c3d1 is not None
    assert c3d1.name == "第3周期第1天"
    assert c3d1.bring == "服药日记、所有胶囊和空药瓶"
    assert c3d1.procedures == ("化验", "不良事件评估", "药品清点", "领药")
    # The source text stays what staff read, and is what an undeclared language gets.
    assert protocol.visits[0].name == "Screening"
    screening = protocol.visit_text("SCR", "en")
    assert screening is not None and screening.name == "Screening"
    assert protocol.visit_text("C9D1", "zh_CN") is None


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name.zh_CN = "第1周期第15天安全检查"\n', "", "visits[2].name.zh_CN"),
        ('bring.zh_CN = "用药清单"\n', "", "visits[1].bring.zh_CN"),
        (
            'procedures.zh_CN = ["化验", "不良事件评估", "领药"]\n',
            'procedures.zh_CN = ["化验"]\n',
            "visits[1].procedures.zh_CN",
        ),
        ('title.zh_CN = "安罗替尼用于肝细胞癌术后高复发风险患者"\n', "", "title.zh_CN"),
        (
            'name.zh_CN = "筛选访视"\n',
            'name.zh_CN = "筛选访视"\nname.fr = "Sélection"\n',
            "visits[0].name.fr",
        ),
        ('languages = ["zh_CN"]\n', 'languages = ["zh_CN", "Chinese"]\n', "languages"),
        ('name.en = "Screening"\n', 'name.de = "Screening"\n', "visits[0].name.en"),
    ],
)
def test_a_missing_or_stray_translation_is_named(tmp_path, old, new, key):
    error = refusal(broken(tmp_path, old, new))
    assert error.key_path == key, str(error)
