"""Issue 17: CRM data as it comes — clean-up, did-you-mean reasons, one meaning of missing,
column mapping, duplicate keys. From the user's side first (the CLI on files), then the rules."""

from __future__ import annotations

import ast
import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import REPO, make_project, run_cli
from terrl.pipeline import Compilation
from terrl.semantics.cleanup import ALL_RULES, DEFAULT_RULES, clean_text, field_spellings, is_blank
from terrl.targets.codegen_python import EMBEDDED_MODULES, render_module
from terrl.targets.evaluate import compile_model, pick_model
from terrl.targets.reference import assign_reference

FY28 = REPO / "examples" / "acme" / "fy28.terr"
SALESFORCE_HEADER = ["Id", "Account Name", "Billing Country", "BillingState", "Billing Zip/Postal Code",
                     "Industry", "NumberOfEmployees", "AnnualRevenue"]


@pytest.fixture(scope="module")
def fy28():
    return pick_model(Compilation.from_paths([FY28]).units[0].program, None)


def write_csv(path: Path, header, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- from the user's side -------------------------------------------------------------------

MESSY = [
    ["A1", "Acme", " US ", " ca", "94105-1234", "Software", "1,200", "$1,200,000"],
    ["A2", "Beta", "United States", "California", "2139", "healthcare", "50", "1.2M"],
    ["A3", "Gamma", "U.S.", "Calfornia", "94105", "Finance", "10", "100"],
    ["A1", "Dup", "US", "TX", "75001", "retail", "10", "100"],
    ["A5", "Blank", "US", "   ", "75001", "retail", "10", "100"],
]


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_salesforce_export_is_cleaned_counted_and_hinted_alike_by_both_engines(tmp_path, engine):
    source = write_csv(tmp_path / "sf.csv", SALESFORCE_HEADER, MESSY)
    result = run_cli(["assign", str(FY28), str(source), "--columns", "salesforce", "--engine", engine,
                      "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["status"], r["territories"]) for r in lines] == [
        ("assigned", ["na.west.west_ent"]), ("invalid", []), ("invalid", []), ("assigned", ["na.east.east_com"]),
        ("assigned", ["na.na_unknown"])]
    assert lines[1]["reason"] == ("`zip`: expected exactly 5 digits, got '2139'; clean-up `leading-zeros` would read "
                                  "it as '02139'; `revenue`: '1.2M' is not a number (write digits with `.` as the "
                                  "decimal point); clean-up `suffix` would read it as '1200000'")
    assert lines[2]["reason"] == "`state`: 'Calfornia' is not a member of us.UsState; did you mean `CA` (California)?"
    assert lines[3]["reason"] == "duplicate key: also on row 1"
    assert ("10 values cleaned: 4 letter case, 2 trimmed, 2 number format, 2 member title, "
            "1 ZIP+4 cut to 5 digits") in result.stderr
    assert "1 row repeat the key of an earlier row" in result.stderr


def test_opt_in_rules_strict_and_explain(tmp_path):
    source = write_csv(tmp_path / "sf.csv", SALESFORCE_HEADER, MESSY[:2])
    result = run_cli(["assign", str(FY28), str(source), "--columns", "salesforce", "--clean", "leading-zeros",
                      "--clean", "suffix", "--explain"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["territories"] for r in rows] == ["na.west.west_ent", "na.west.west_com"]
    assert rows[1]["explain"].startswith("cleaned `country`: 'United States' -> 'US' (member title); cleaned `state`: "
                                         "'California' -> 'CA' (member title); cleaned `zip`: '2139' -> '02139' "
                                         "(leading zeros restored); cleaned `revenue`: '1.2M' -> '1200000' (K/M/B suffix); ")
    strict = run_cli(["assign", str(FY28), str(source), "--columns", "salesforce", "--strict"])
    assert [r["status"] for r in csv.DictReader(io.StringIO(strict.stdout))] == ["invalid", "invalid"]
    assert "cleaned" not in strict.stderr


def test_columns_from_the_command_line_and_terrl_toml(tmp_path, monkeypatch):
    rows = [["X1", "Germany", "software", "5", "10"]]
    make_project(tmp_path, {"a.csv": ""}, config='[assign]\ncleanup = ["trim", "title"]\n'
                 '[assign.columns]\ncountry = "Land"\n', monkeypatch=monkeypatch)
    source = write_csv(tmp_path / "a.csv", ["id", "Land", "Branche", "employees", "revenue"], rows)
    result = run_cli(["assign", str(FY28), str(source), "--column", "industry=Branche"])
    assert result.exit_code == 0, result.output
    assert list(csv.DictReader(io.StringIO(result.stdout)))[0]["territories"] == "intl.emea"
    missing = run_cli(["assign", str(FY28), str(source)])
    assert missing.exit_code == 2 and "`industry`" in missing.output
    wrong = run_cli(["assign", str(FY28), str(source), "--column", "industri=Branche"])
    assert wrong.exit_code == 2 and "has no field `industri`; did you mean `industry`?" in wrong.output


def test_duplicate_keys_can_fail_the_run(tmp_path):
    source = write_csv(tmp_path / "a.csv", ["id", "country", "industry", "employees", "revenue"],
                       [["K", "DE", "other", "1", "1"], [" K ", "DE", "other", "1", "1"]])
    assert run_cli(["assign", str(FY28), str(source)]).exit_code == 0
    failed = run_cli(["assign", str(FY28), str(source), "--on-duplicate-key", "error"])
    assert failed.exit_code == 1 and "error: 1 row repeat the key" in failed.stderr
    quiet = run_cli(["assign", str(FY28), str(source), "--on-duplicate-key", "ignore"])
    assert "duplicate key" not in quiet.stdout and "repeat the key" not in quiet.stderr


# --- one meaning of missing ------------------------------------------------------------------

@pytest.mark.parametrize("blank", ["", " ", "\t \u3000", "\u00a0"])
def test_a_blank_text_is_missing_in_every_input_form(tmp_path, fy28, blank):
    account = {"id": "M1", "country": "US", "state": blank, "industry": "other", "employees": "1", "revenue": "1"}
    api = compile_model(fy28).assign(account)
    assert api.territories == ("na.na_unknown",) and assign_reference(fy28, account) == tuple(api[:5])
    module = compile_model(fy28, cleanup=()).assign(account)  # strict too: missing is not a clean-up
    assert module.territories == ("na.na_unknown",)
    assert compile_model(fy28).assign(dict(account, id=blank)).reason == "missing required field `id`"
    write_csv(tmp_path / "a.csv", list(account), [list(account.values())])
    (tmp_path / "a.jsonl").write_text(json.dumps(account) + "\n", encoding="utf-8")
    for name in ("a.csv", "a.jsonl"):
        for engine in ("python", "duckdb"):
            result = run_cli(["assign", str(FY28), str(tmp_path / name), "--engine", engine, "--format", "jsonl"])
            assert json.loads(result.stdout)["territories"] == ["na.na_unknown"], (name, engine)


def test_a_blank_string_literal_is_refused():
    from terrl.pipeline import check_source

    diags = check_source('schema A { id: string key  name: string? }\nmodel M { territory t { where name == " " } }\n',
                         "m.terr").diagnostics
    assert [d.code for d in diags if d.severity == "error"] == ["E130"]


# --- the rules -------------------------------------------------------------------------------

US_STATES = field_spellings(("CA", "WA", "NY"), ("California", "Washington", "New York"))


@pytest.mark.parametrize("raw, kind, digits, spellings, rules, expected", [
    (" TX ", "string", None, None, DEFAULT_RULES, ("TX", ("trim",))),
    ("ca", "enum", None, US_STATES, DEFAULT_RULES, ("CA", ("case",))),
    ("new york", "enum", None, US_STATES, DEFAULT_RULES, ("NY", ("title",))),
    ("New-York", "enum", None, US_STATES, DEFAULT_RULES, ("NY", ("title",))),
    ("ca", "enum", None, US_STATES, (), ("ca", ())),
    ("TRUE", "bool", None, None, DEFAULT_RULES, ("true", ("case",))),
    ("94105-1234", "digits", 5, None, DEFAULT_RULES, ("94105", ("zip4",))),
    ("94105-1234", "digits", 9, None, DEFAULT_RULES, ("94105-1234", ())),
    ("2139", "digits", 5, None, DEFAULT_RULES, ("2139", ())),
    ("2139", "digits", 5, None, ALL_RULES, ("02139", ("leading-zeros",))),
    ("$1,200,000", "decimal", None, None, DEFAULT_RULES, ("1200000", ("number-format",))),
    ("-$1,200.50", "decimal", None, None, DEFAULT_RULES, ("-1200.50", ("number-format",))),
    ("1,5", "decimal", None, None, DEFAULT_RULES, ("1,5", ())),  # a decimal comma, not thousands
    ("1,20", "int", None, None, DEFAULT_RULES, ("1,20", ())),
    ("1.2M", "decimal", None, None, DEFAULT_RULES, ("1.2M", ())),
    ("1.2M", "decimal", None, None, ALL_RULES, ("1200000", ("suffix",))),
    ("$2.5k", "int", None, None, ALL_RULES, ("2500", ("suffix", "number-format"))),
    ("1." + "1" * 40 + "B", "decimal", None, None, ALL_RULES, ("1" + "1" * 9 + "." + "1" * 31, ("suffix",))),
])
def test_each_rule(raw, kind, digits, spellings, rules, expected):
    assert clean_text(raw, kind, digits, spellings, rules) == expected


def test_spellings_two_members_share_name_nobody():
    table = field_spellings(("a_b", "ab", "c"), (None, None, "A B"))
    assert "ab" not in table and table["c"] == ("c", "case")


@given(st.text(max_size=12), st.sampled_from(["string", "enum", "bool", "digits", "int", "decimal"]))
def test_clean_up_is_idempotent(raw, kind):
    text, _ = clean_text(raw, kind, 5, US_STATES, ALL_RULES)
    assert clean_text(text, kind, 5, US_STATES, ALL_RULES) == (text, ())


def test_the_embedded_modules_do_not_shadow_the_templates_names(fy28):
    """The generated module holds cleanup.py and suggest.py as they are: none of their top-level
    names may be one the template defines."""
    embedded: set[str] = set()
    for path in EMBEDDED_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        embedded |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        embedded |= {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    source = render_module(fy28, "fy28.terr")
    tree = ast.parse(source)
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    defined += [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    repeated = {name for name in defined if defined.count(name) > 1}
    assert not repeated & embedded and not repeated - {"Assignment"}, repeated


# --- the property: messy renderings of valid accounts, in every engine -------------------------

VALID = {
    "id": st.sampled_from(["001A000001", "A1", "B7", "x y"]),
    "country": st.sampled_from(["US", "CA", "DE", "FR", "JP", "BR"]),
    "state": st.sampled_from(["CA", "WA", "NY", "TX", "FL", None]),
    "zip": st.sampled_from(["94105", "94000", "10001", "02139", "75001", None]),
    "industry": st.sampled_from(["software", "healthcare", "finance", "retail", "public_sector", "other"]),
    "employees": st.sampled_from(["0", "999", "1000", "1200", "5000"]),
    "revenue": st.sampled_from(["0", "1000", "1200000", "499999999.99", "500000000", "2000000000"]),
}


def renderings(field: str, value: str | None, titles: dict[str, str]) -> list[str | None]:
    """The ways a CRM export spells a valid value (each one the default rules bring back, or missing)."""
    if value is None:
        return [None, "", "  ", "\t"]
    forms = [value, f" {value}", f"{value}  "]
    if field in ("country", "state"):
        forms += [value.lower(), titles.get(value, value), titles.get(value, value).upper(), ".".join(value) + "."]
    elif field == "industry":
        forms += [value.upper(), value.replace("_", " ").title()]
    elif field == "zip":
        forms += [f"{value}-1234"]
    elif field in ("employees", "revenue"):
        whole, _, fraction = value.partition(".")
        grouped = f"{int(whole):,}" + (f".{fraction}" if fraction else "")
        forms += [grouped, "$" + grouped, "€ " + whole]
    return forms


@st.composite
def messy_accounts(draw, titles):
    clean = {name: draw(strategy) for name, strategy in VALID.items()}
    messy = {name: draw(st.sampled_from(renderings(name, value, titles.get(name, {})))) for name, value in clean.items()}
    return clean, messy


def _titles(model):
    out = {}
    for f in model.schema.fields:
        if f.type.kind == "enum" and f.type.titles:
            out[f.name] = dict(zip(f.type.members, f.type.titles))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_messy_renderings_of_valid_accounts_assign_as_the_clean_ones_in_every_engine(fy28, data, tmp_path_factory):
    titles = _titles(fy28)
    batch = data.draw(st.lists(messy_accounts(titles), min_size=1, max_size=12))
    evaluator = compile_model(fy28)
    for clean, messy in batch:
        expected = evaluator.assign(clean)
        got = evaluator.assign(messy)
        assert tuple(got[:5]) == tuple(expected[:5]), (clean, messy)
        notes: list = []
        assert assign_reference(fy28, messy, notes=notes) == tuple(expected[:5])
        assert list(got.cleaned) == notes
        # strict: the messy values are invalid (or missing) with the same reason in the evaluator and the reference
        strict = compile_model(fy28, cleanup=()).assign(messy)
        assert tuple(strict[:5]) == assign_reference(fy28, messy, cleanup=())
    # the files, through both engines: CSV and JSON Lines, byte for byte
    folder = tmp_path_factory.mktemp("messy")
    names = list(VALID)
    write_csv(folder / "a.csv", names, [[m[n] if m[n] is not None else "" for n in names] for _, m in batch])
    (folder / "a.jsonl").write_text("".join(json.dumps(m) + "\n" for _, m in batch), encoding="utf-8")
    for name in ("a.csv", "a.jsonl"):
        outs = {}
        for engine in ("python", "duckdb"):
            result = run_cli(["assign", str(FY28), str(folder / name), "--engine", engine, "--format", "jsonl",
                              "--on-duplicate-key", "ignore"])
            assert result.exit_code == 0, result.output
            outs[engine] = (result.stdout, result.stderr)
        assert outs["python"] == outs["duckdb"]
        results = [json.loads(line) for line in outs["python"][0].splitlines()]
        assert [(r["status"], r["territories"]) for r in results] == \
            [(e.status, list(e.territories)) for e in (evaluator.assign(c) for c, _ in batch)]


@pytest.mark.parametrize("config, message", [
    ('[assign]\ncleanup = ["trim", "trimm"]\n', "`assign.cleanup`: `trimm` is not a clean-up rule"),
    ('[assign]\non-duplicate-key = "fail"\n', "`assign.on-duplicate-key`: must be warn, error or ignore"),
    ('[assign]\ncolumn = {}\n', "`assign.column`: not an assign option"),
    ('[assign]\npreset = "hubspot"\n', "`assign.preset`: must be \"salesforce\""),
])
def test_assign_settings_mistakes_are_usage_errors(tmp_path, monkeypatch, config, message):
    make_project(tmp_path, {}, config=config, monkeypatch=monkeypatch)
    source = write_csv(tmp_path / "a.csv", ["id", "country", "industry", "employees", "revenue"], [])
    result = run_cli(["assign", str(FY28), str(source)])
    assert result.exit_code == 2 and message in result.output, result.output


def test_missing_columns_of_a_salesforce_export_suggest_the_preset(tmp_path):
    source = write_csv(tmp_path / "sf.csv", SALESFORCE_HEADER, MESSY[:1])
    result = run_cli(["assign", str(FY28), str(source)])
    assert result.exit_code == 2 and "add `--columns salesforce`" in result.output


def test_compile_python_takes_the_clean_up_rules(tmp_path):
    messy = {"id": "X", "country": "United States", "state": " ca", "zip": "02139", "industry": "Software",
             "employees": "5,000", "revenue": "2B"}
    for flags, status in (([], "invalid"), (["--clean", "suffix"], "assigned"), (["--strict"], "invalid")):
        out = tmp_path / f"m{len(flags)}{status}.py"
        assert run_cli(["compile", str(FY28), "--target", "python", "-o", str(out), *flags]).exit_code == 0
        namespace: dict = {"__name__": "generated"}
        exec(compile(out.read_text(encoding="utf-8"), str(out), "exec"), namespace)
        result = namespace["assign"](messy)
        assert result.status == status, (flags, result)
        assert bool(result.cleaned) == (flags != ["--strict"])
    assert run_cli(["compile", str(FY28), "--target", "sql", "--strict"]).exit_code == 2
