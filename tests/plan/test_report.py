"""The JSON form of a plan is built without its models and written by msgspec when that gives
the same bytes: checked against `json.dumps` and the models on any value."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from descript_iac.plan.report import dumps_indented, report, report_data
from descript_iac.redact import _CREDENTIAL, _mask_credential, redact
from tests.plan.test_render import sample_plan

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
@example({"del": "\x7f", "ctl": '\x00\x1f\b\t\n\f\r"\\/', "é": ["ü", 2**70, -(2**63)]})
def test_indented_text_is_json_dumps(value: object) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, sort_keys=True)


@given(st.dictionaries(st.text(st.characters(max_codepoint=0x7F)), st.text(), max_size=6))
def test_ascii_documents_take_the_fast_path_and_agree(value: dict[str, str]) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, sort_keys=True)


def test_the_report_holds_no_float() -> None:
    """`dumps_indented` writes floats unlike `json` (1e16): the report must have none."""
    schema = json.dumps(report(sample_plan()).model_json_schema())
    assert '"number"' not in schema


def test_report_data_is_what_the_models_dump() -> None:
    for blocked in (False, True):
        plan = sample_plan(blocked)
        # (`forecast` is added by the CLI when there is one: absent here, None in the model)
        assert report(plan).model_dump(mode="json", exclude={"forecast"}) == report_data(plan)


@given(
    st.text(
        alphabet=st.sampled_from("bBaAsSiIcCeErR\u017f\u0131\u0130\u212a \t:=1234567890xyz"),
        max_size=40,
    )
)
@example("Authorization: ba\u017fic abcdefgh1234")
@example("BEARER abcdefgh1234")
@example("Basic abcdefgh1234")
def test_credential_check_skips_only_text_the_regex_leaves(text: str) -> None:
    """`redact` skips the credential regex on text that cannot hold a credential: never on text
    where the regex would mask something."""
    assert redact(text) == _CREDENTIAL.sub(_mask_credential, redact(text))
