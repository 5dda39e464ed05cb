"""Every number as operators really paste it: the right MSISDN, or a rejection with the reason.

The expected values are written out here, never computed by the code under test.
"""

from __future__ import annotations

import json

import pytest
from test_cli import config_file, env, mobitui  # noqa: F401  (fixtures)

from mobitui.core import paste
from mobitui.core.msisdn import Verdict, normalise
from mobitui.simulator.demo import DEMO_API_KEY

# (as pasted, campaign country, MSISDN sent or None, verdict, words the reason must contain)
FORMS = [
    # spreadsheets
    ("254700000101.0", None, "254700000101", Verdict.WARNING, "spreadsheet number"),
    ("254700000113.0", "KE", "254700000113", Verdict.WARNING, "removed the decimal part '.0'"),
    ("254700000101.00", None, "254700000101", Verdict.WARNING, "removed the decimal part '.00'"),
    ("254700000101,0", None, "254700000101", Verdict.WARNING, "spreadsheet number"),
    ("2.54712E+11", None, None, Verdict.INVALID, "looks like a spreadsheet number: 2.54712E+11, digits were lost"),
    ("2.547E+11", "KE", None, Verdict.INVALID, "digits were lost"),
    ("2.54700000101E+11", None, "254700000101", Verdict.WARNING, "spreadsheet number"),
    ("2547000001.5", None, None, Verdict.INVALID, "decimal"),
    ("254700000101.000", None, None, Verdict.INVALID, "ambiguous"),
    ("'254700000101", None, "254700000101", Verdict.OK, "removed quotes"),
    ("'0700000101", "KE", "254700000101", Verdict.OK, "removed quotes"),
    ('"254700000101"', None, "254700000101", Verdict.OK, "removed quotes"),
    # invisible formatting: bidi embeddings and marks, zero-width, BOM, variation selectors
    ("\u202a+254 700 000 101\u202c", None, "254700000101", Verdict.OK, "U+202A, U+202C"),
    ("\u200e0700 000 101", "KE", "254700000101", Verdict.OK, "U+200E"),
    ("\u2066+254700000101\u2069", None, "254700000101", Verdict.OK, "invisible formatting"),
    ("\u200b254700000101\u200b", None, "254700000101", Verdict.OK, "U+200B"),
    ("\ufeff254700000101", None, "254700000101", Verdict.OK, "U+FEFF"),
    ("0700\ufe0f 000 101", "KE", "254700000101", Verdict.OK, "U+FE0F"),
    # Unicode spaces and dashes (WhatsApp, phone apps, word processors)
    ("+254\u00a0700\u00a0000\u00a0101", None, "254700000101", Verdict.OK, "removed spaces"),
    ("+254\u202f700\u2009000\u3000101", None, "254700000101", Verdict.OK, "removed spaces"),
    ("0700\u2011000\u2011101", "KE", "254700000101", Verdict.OK, "national number read as KE"),
    ("0700\u2013000\u2013101", "KE", "254700000101", Verdict.OK, "national number read as KE"),
    ("\u201c+254 700 000 101\u201d", None, "254700000101", Verdict.OK, "removed quotes"),
    # digits of other scripts
    (
        "\uff10\uff17\uff10\uff10 \uff10\uff10\uff10 \uff11\uff10\uff11",
        "KE",
        "254700000101",
        Verdict.OK,
        "non-ASCII digits",
    ),
    (
        "\u0660\u0667\u0660\u0660\u0660\u0660\u0660\u0661\u0660\u0661",
        "KE",
        "254700000101",
        Verdict.OK,
        "non-ASCII digits",
    ),
    ("\uff0b254 700 000 101", None, "254700000101", Verdict.OK, "removed '+'"),
    # links and prefixes
    ("tel:+254-700-000-101", None, "254700000101", Verdict.OK, "removed the tel: scheme"),
    ("TEL:0700000101", "KE", "254700000101", Verdict.OK, "removed the tel: scheme"),
    ("000254700000101", "KE", "254700000101", Verdict.OK, "removed the international prefix 000"),
    ("000 254 700 000 101", "KE", "254700000101", Verdict.OK, "international prefix 000"),
    ("00254700000101", "KE", "254700000101", Verdict.OK, "international prefix 00"),
    ("009254700000101", "NG", "254700000101", Verdict.OK, "international prefix 009"),
    ("011254700000101", "US", "254700000101", Verdict.OK, "international prefix 011"),
    ("000254700000101", None, None, Verdict.INVALID, "international prefix other than 00"),
    ("+254 (0)700 000 101", None, "254700000101", Verdict.OK, "national prefix after the country code"),
    # still rejected
    ("254\ufffd700000101", None, None, Verdict.INVALID, "not text"),
    ("25470000\x07101", None, None, Verdict.INVALID, "U+0007"),
    ("0700 000 101 ext 2", "KE", None, Verdict.INVALID, "contains 'e'"),
]


@pytest.mark.parametrize("raw,country,msisdn,verdict,why", FORMS, ids=[repr(f[0]) for f in FORMS])
def test_real_world_forms(raw, country, msisdn, verdict, why):
    p = normalise(raw, country)
    assert (p.msisdn, p.verdict) == (msisdn, verdict), p
    assert why in p.reason


def test_idd_was_a_wrong_reason_before():
    # 000254… was read as +0254… ("unknown country calling code")
    assert "unknown country calling code" not in normalise("000254700000101", "KE").reason


# -- files and pastes: tabular data --------------------------------------------------------


def numbers(table: paste.Table) -> list[str | None]:
    return [e.msisdn for e in table.entries]


def test_excel_csv_utf8_with_bom_header_and_quoted_fields():
    data = b'\xef\xbb\xbfmsisdn,name\r\n"254700000101","name withheld"\r\n"0700 000 113","Doe, Jane"\r\n'
    t = paste.read(data, "KE")
    assert t.encoding == "UTF-8 with BOM"
    assert t.header == (1, ("msisdn", "name"))
    assert (t.column, t.column_name) == (0, "msisdn")
    assert numbers(t) == ["254700000101", "254700000113"]
    assert [e.other for e in t.entries] == [("name withheld",), ("Doe, Jane",)]
    assert [e.line for e in t.entries] == [2, 3]
    assert paste.counts(t.entries)["invalid"] == 0


def test_excel_unicode_text_is_utf16_with_bom_and_tabs():
    data = "Phone Number\tName\r\n+254 700 000 101\tAmina\r\n254700000102\tJo\u00e3o\r\n".encode("utf-16")
    t = paste.read(data, "KE")
    assert t.encoding == "UTF-16 (BOM)" and t.delimiter == "\t"
    assert t.header == (1, ("Phone Number", "Name"))
    assert numbers(t) == ["254700000101", "254700000102"]
    assert [e.other for e in t.entries] == [("Amina",), ("Jo\u00e3o",)]


def test_european_excel_semicolons_and_a_float_column():
    data = b"MSISDN;Status\n254700000101.0;active\n2.54712E+11;unknown\n254700000102;active\n"
    t = paste.read(data, "KE")
    assert t.delimiter == ";"
    assert numbers(t) == ["254700000101", None, "254700000102"]
    assert [e.verdict for e in t.entries] == ["warning", "invalid", "ok"]
    assert "digits were lost" in t.entries[1].reason


def test_one_byte_that_is_not_utf8_rejects_its_line_only():
    data = b"254700000101\n2547000001\xe902\n254700000102\n"
    t = paste.read(data, "KE")
    assert numbers(t) == ["254700000101", None, "254700000102"]
    bad = t.entries[1]
    assert bad.line == 2 and bad.raw == "2547000001\ufffd02" and "not valid UTF-8" in bad.reason


def test_a_header_in_a_single_column_is_skipped_and_a_word_that_is_not_a_header_is_not():
    t = paste.read("Mobile number\n254700000101\n", "KE")
    assert t.header == (1, ("Mobile number",)) and numbers(t) == ["254700000101"]
    t = paste.read("not a number\n254700000101\n", "KE")
    assert t.header is None and numbers(t) == [None, "254700000101"]


def test_column_by_name_and_by_position():
    data = "ticket,msisdn,backup\nT-1,254700000101,254700000199\nT-2,254700000102,\n"
    t = paste.read(data, "KE", "backup")
    assert numbers(t) == ["254700000199", None] and "no number in column 3 (backup)" in t.entries[1].reason
    t = paste.read(data, "KE", "2")
    assert numbers(t) == ["254700000101", "254700000102"]
    assert t.entries[0].other == ("T-1", "254700000199")
    # the header names the number column: the backup number is not sent
    assert numbers(paste.read(data, "KE")) == ["254700000101", "254700000102"]
    with pytest.raises(paste.ColumnError, match=r"no column 'phone'.*'ticket', 'msisdn', 'backup'"):
        paste.read(data, "KE", "phone")


def test_a_whatsapp_paste_with_names_and_marks():
    text = "\u202a+254 700 000 101\u202c Amina\n\u202a+254 700 000 102\u202c, Jo\n"
    t = paste.read(text, "KE")
    # a name on the same field as the number is not a number: rejected, not guessed
    assert numbers(t) == [None, "254700000102"]
    assert t.entries[1].other == ("Jo",)


def test_crlf_and_blank_lines_keep_line_numbers():
    t = paste.read(b"254700000101\r\n\r\n0700000102\r\n", "KE")
    assert [(e.line, e.msisdn) for e in t.entries] == [(1, "254700000101"), (3, "254700000102")]


# -- the CLI, end to end ----------------------------------------------------------------------


def sent(simulator) -> list[str]:  # type: ignore[no-untyped-def]
    return [q["msisdn"] for q in simulator.sim.requests]


def test_cli_spreadsheet_float_stops_the_number_meant(env, config_file, simulator):  # noqa: F811
    r = mobitui(
        env,
        "unsubscribe",
        "--config",
        str(config_file),
        "--campaign",
        "Kenya Jokes SMS",
        "--yes",
        "--json",
        "254700000101.0",
        extra={"MOBITUI_API_KEY": DEMO_API_KEY},
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["msisdn"] == "254700000101"
    assert sent(simulator) == ["254700000101"]
    assert "input argument 1: 254700000101: read 254700000101.0 as a spreadsheet number" in r.stderr


def test_cli_float_that_lost_digits_sends_nothing(env, config_file, simulator):  # noqa: F811
    r = mobitui(env, "status", "--config", str(config_file), "--campaign", "Kenya Tips", "2.54712E+11")
    assert r.returncode == 1
    assert "looks like a spreadsheet number: 2.54712E+11, digits were lost" in r.stderr
    assert sent(simulator) == []


def test_cli_excel_csv_with_bom_quotes_and_header_exits_0(env, config_file, simulator, tmp_path):  # noqa: F811
    f = tmp_path / "export.csv"
    f.write_bytes(b'\xef\xbb\xbfmsisdn,name\r\n"254700000101","name withheld"\r\n\'254700000113,x\r\n')
    r = mobitui(env, "status", "--config", str(config_file), "--campaign", "Kenya Tips", "--json", "--file", str(f))
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["msisdn"] for line in r.stdout.splitlines()] == ["254700000101", "254700000113"]
    assert "header row skipped: msisdn, name" in r.stderr
    assert "input line 2: not numbers, not sent: 'name withheld'" in r.stderr
    assert "rejected" not in r.stderr
    assert sorted(sent(simulator)) == ["254700000101", "254700000113"]


def test_cli_stdin_with_a_byte_that_is_not_utf8_sends_the_other_lines(env, config_file, simulator):  # noqa: F811
    import subprocess
    import sys

    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mobitui",
            "status",
            "--config",
            str(config_file),
            "--campaign",
            "Kenya Tips",
            "--json",
            "--file",
            "-",
        ],
        input=b"254700000101\n2547000001\xe902\n254700000102\n254700000101\n",
        capture_output=True,
        env=env,
        timeout=60,
    )
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 1, err
    assert "Traceback" not in err
    assert "input line 2:" in err and "not valid UTF-8" in err
    assert "input line 4: 254700000101 duplicate of line 1: sent once" in err
    assert sorted(sent(simulator)) == ["254700000101", "254700000102"]


def test_cli_column_option(env, config_file, simulator, tmp_path):  # noqa: F811
    f = tmp_path / "tickets.tsv"
    f.write_text("ticket\tmsisdn\tbackup\nT-1\t254700000101\t254700000199\n")
    r = mobitui(
        env, "status", "--config", str(config_file), "--campaign", "Kenya Tips", "--file", str(f), "--column", "backup"
    )
    assert r.returncode == 0, r.stderr
    assert "numbers taken from column 3 (backup)" in r.stderr
    assert sent(simulator) == ["254700000199"]
    r = mobitui(
        env, "status", "--config", str(config_file), "--campaign", "Kenya Tips", "--file", str(f), "--column", "phone"
    )
    assert r.returncode == 2 and "--column phone: no column 'phone'" in r.stderr


def test_digit_groups_with_thousands_commas_or_a_decimal_part_are_named_for_what_they_look_like():
    from mobitui.core import paste

    entries = paste.read(b"254,700,000,101\n0700 000 101.00\n", "KE").entries
    assert [(e.raw, e.msisdn) for e in entries] == [("254,700,000,101", None), ("0700 000 101.00", None)]
    assert entries[0].parsed.reason == (
        "one number written with thousands separators? 254700000101 without them; not sent: write it without commas"
    )
    assert entries[1].parsed.reason == (
        "ends like a spreadsheet number (.00), but in digit groups: not read, write the number alone"
    )
