"""`dosing enroll --language` and `dosing set-language` from the command line."""

from __future__ import annotations

import json

from cli_runner import run


def test_enrol_in_chinese_then_switch_to_english(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    argv = ["enroll", "S-301", "--c1d1", "2026-03-09", "--surgery", "2026-02-02"]
    code, _, err = run(capsys, *argv, "--language", "zh_CN", "--db", url)
    assert code == 0, err
    code, out, err = run(capsys, "set-language", "S-301", "en", "--db", url)
    assert code == 2 and "--reason" in err
    code, out, _ = run(capsys, "set-language", "S-301", "en", "--reason", "asked", "--db", url)
    assert code == 0 and out.strip() == "S-301: language is now en"
    code, out, _ = run(capsys, "audit", "S-301", "--json", "--db", url)
    actions = [(e["action"], e["old_value"], e["new_value"]) for e in json.loads(out)]
    assert ("subject.change_language", '"zh_CN"', '"en"') in actions
    assert (
        json.loads(
            next(e["new_value"] for e in json.loads(out) if e["action"] == "subject.enroll")
        )["language"]
        == "zh_CN"
    )


def test_an_unknown_language_at_enrolment_exits_2_naming_the_field(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run(capsys, "init", "--db", url)[0] == 0
    argv = ["enroll", "S-302", "--c1d1", "2026-03-09", "--surgery", "2026-02-02"]
    code, _, err = run(capsys, *argv, "--language", "de", "--db", url)
    assert code == 2 and err.startswith("error: language: expected one of en, zh_CN")
    code, out, _ = run(capsys, "subjects", "--json", "--db", url)
    assert json.loads(out) == []
