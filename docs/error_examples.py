"""One worked example per diagnostic code, for the error index (docs/errors.md).

Each entry is a small, complete `.terr` file that makes terrl report exactly that code,
and the fix: a one-line instruction (what to do and why) and, where the fix is code, the
corrected file. docs/generate.py runs terrl on every example and pastes what terrl
prints, so the page shows real output; tests/test_error_index.py checks that each example
still produces its code, and only it, and that each corrected file is clean.

A code that no `.terr` file can trigger says how it arises instead (`arises`), and, where
the situation can be built in a scratch folder (a dangling symlink, an oversized file),
builds it (`arrange`) so that the page still shows what terrl really prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

MAIN_FILE = "territories.terr"


@dataclass(frozen=True)
class ErrorExample:
    code: str
    fix: str  # one line: what to do, and why
    source: str | bytes | None = None  # the file `territories.terr`; None when no `.terr` file triggers the code
    fixed: str | None = None  # the corrected `territories.terr`, when the fix is code
    files: tuple[tuple[str, str], ...] = ()  # other files beside it (what it imports), as (name, text)
    config: str = ""  # the project's terrl.toml
    command: str = "check"  # the command that reports the code: `check` or `test`
    args: tuple[str, ...] = ()  # more arguments to that command (a case table: `--cases cases.csv`)
    arises: str = ""  # how the code arises, when no snippet shows it (or the snippet needs words)
    arrange: Callable[[Path], None] | None = None  # builds the example's files in a scratch folder
    shown: str | None = None  # the snippet as the page shows it, when `source` cannot be shown as is
    fixed_files: tuple[tuple[str, str], ...] | None = None  # the other files as corrected, when the fix changes them


def _dangling_symlink(folder: Path) -> None:
    (folder / MAIN_FILE).symlink_to("shared/territories.terr")


def _oversized_file(folder: Path) -> None:
    from terrl.syntax.parser import MAX_FILE_CHARS

    padding = "# " + "x" * 98 + "\n"
    body = ('schema Account { id: string key  employees: int in 0.. }\n'
            'model FY27 "Fiscal 2027" {\n  territory all "All" { owner "dana@acme.example" as RVP }\n}\n')
    (folder / MAIN_FILE).write_text(body + padding * (MAX_FILE_CHARS // len(padding) + 1), encoding="utf-8")


# A 101-deep parenthesis, one past the parser's limit: what a careless generator writes.
_DEEP = ("(" * 50 + "\n  ") + ("(" * 50 + "\n  ") + "(employees > 0)" + ")" * 100

# 51 segments, each defined through the one before: one past the resolver's chain limit.
_BANDS = ('schema Account { id: string key  employees: int in 0.. }\n'
          'segment band1 = employees >= 100\n'
          + "".join(f"segment band{i} = band{i - 1} and employees >= {i * 100}\n" for i in range(2, 52))
          + 'model FY27 "Fiscal 2027" {\n'
            '  territory top "Top band" { where band51  owner "kim@acme.example" as AE }\n'
            '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
            '}\n')

_QUEBEC = ('schema Account { id: string key  province: enum { QC, ON } }\n'
           'model FY27 "Fiscal 2027" {\n'
           '  territory quebec "Qu\u00e9bec" { where province == QC  owner "luc@acme.example" as AE }\n'
           '  territory ontario "Ontario" { where province == ON  owner "ann@acme.example" as AE }\n'
           '}\n')


# The small model most test-block and lint examples start from.
FY27_MODEL = ('schema Account { id: string key  employees: int in 0.. }\n'
              'model FY27 "Fiscal 2027" {\n'
              '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
              '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
              '}\n')

EXAMPLES: tuple[ErrorExample, ...] = (
    # --- reading and syntax -------------------------------------------------------
    ErrorExample(
        "E001",
        arises="`terrl check` (or `assign`, `compile`, `docs`, `test`) is given a file it cannot open: a symlink "
               "whose target is gone (below: `territories.terr` points at `shared/territories.terr`, which was "
               "never checked out), a file without read permission, or a read error. A path that does not exist "
               "at all is a usage error instead (`no such file or directory`). Either way the exit status is 2.",
        arrange=_dangling_symlink,
        fix="make the path readable (restore the symlink's target, fix the permissions) or stop passing it; "
            "terrl cannot check what it cannot read"),
    ErrorExample(
        "E002",
        source=_QUEBEC.encode("latin-1"),
        shown=_QUEBEC,
        arises="The file below was saved as Latin-1: the `é` of `Québec` is the single byte 0xE9, which is "
               "not UTF-8.",
        fix="re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`); terrl reads `.terr` files as UTF-8 only, "
            "so a title is never silently mangled",
        fixed=_QUEBEC),
    ErrorExample(
        "E003",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory cal "California" { where state = CA  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="write `==` to compare: `=` only appears in declarations (`segment x = ...`, `set s: T = ...`)",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory cal "California" { where state == CA  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E004",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" {\n'
                '    where employees >= 1000\n'
                '    owner "eli@acme.example" as AE\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="close `ent` with `}` after its owner; otherwise `smb` would be read as its child and the model "
            "never ends",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" {\n'
               '    where employees >= 1000\n'
               '    owner "eli@acme.example" as AE\n'
               '  }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E005",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                f'segment staffed =\n  {_DEEP}\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory staffed_accts "Staffed" { where staffed  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        arises="Hand-written rules never nest this deep; generated ones can (below, 101 parentheses around one "
               "comparison). Braces count too: more than 100 levels of parentheses, `not`s or territories are rejected.",
        fix="drop the redundant parentheses (or flatten the generator's output); one level says the same",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'segment staffed = employees > 0\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory staffed_accts "Staffed" { where staffed  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E006",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  effective 2027-02-30\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="write a real calendar date (February has no 30th); dates are read exactly, never rolled over",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  effective 2027-03-01\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E007",
        source=('## FY28 alignment: to be written once the new segments are agreed.\n'
                '# owner: sales-ops@acme.example\n'
                '# see FY27 in fy27.terr for the current rules\n'),
        fix="add the declarations, or delete the file until there are some: an empty file in the project is "
            "more likely a mistake than a plan",
        fixed=('## FY28 alignment: a first cut by company size.\n'
               'schema Account { id: string key  employees: int in 0.. }\n'
               'model FY28 "Fiscal 2028" {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E008",
        arises="A file is larger than 8 MiB (8,388,608 bytes). A 10,000-territory model is about 2 MB, so this is "
               "nearly always a data export or a generated file passed by mistake; below, a small model padded "
               "with comments past the limit.",
        arrange=_oversized_file,
        fix="split the model into files that import each other, or stop passing the data file; the limit keeps "
            "`check` fast and its memory bounded"),
    ErrorExample(
        "E009",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory wa "Washington" { where state == WA  owner "eli@acme.example" as AE }\n'
                '  territory or "Oregon" { where state == OR  owner "fay@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "gus@acme.example" as AE }\n'
                '}\n'),
        fix="rename the territory (`oregon`); `or`, `in`, `not` and the other keywords cannot be names, even "
            "where a state code spells one",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory wa "Washington" { where state == WA  owner "eli@acme.example" as AE }\n'
               '  territory oregon "Oregon" { where state == OR  owner "fay@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "gus@acme.example" as AE }\n'
               '}\n')),
    # --- names, imports and types ---------------------------------------------------
    ErrorExample(
        "E101",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'segment enterprise = employes >= 1000\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where enterprise  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="spell the field as the schema declares it (`employees`); names are never guessed",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'segment enterprise = employees >= 1000\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where enterprise  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E102",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" { where state in us.west and employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory west "West" { where state in us.west and employees < 1000  owner "fay@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "gus@acme.example" as AE }\n'
                '}\n'),
        fix="give each sibling its own name (`west_ent`, `west_com`): paths like `west` identify a territory in "
            "assignments, tests and docs",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west_ent "West Enterprise" { where state in us.west and employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory west_com "West Commercial" { where state in us.west and employees < 1000  owner "fay@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "gus@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E103",
        source=('schema Account { id: string key  zip: digits(5) }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory sf "San Francisco" { where zip in {94105, 94107}  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix='quote postal codes (`{"94105", "94107"}`): a `digits(5)` value is text, so `"02134"` keeps its '
            'leading zero',
        fixed=('schema Account { id: string key  zip: digits(5) }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory sf "San Francisco" { where zip in {"94105", "94107"}  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E104",
        source=('import geo.world\n'
                'schema Account { id: string key  country: world.Country }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory uki "UK and Ireland" { where country in {UK, IE}  owner "ian@acme.example" as AE }\n'
                '  territory rest "Rest of world" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="use the member the enum declares (`GB`: ISO 3166-1 has no `UK`); an unknown value would match no "
            "account, silently",
        fixed=('import geo.world\n'
               'schema Account { id: string key  country: world.Country }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory uki "UK and Ireland" { where country in {GB, IE}  owner "ian@acme.example" as AE }\n'
               '  territory rest "Rest of world" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E105",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory n_states "N states" { where state startswith "N"  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="list the members (`state in {NC, ND, NE, NH, NJ, NM, NV, NY}`): an enum member is a value, not text, "
            "so it has no prefix",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory n_states "N states" { where state in {NC, ND, NE, NH, NJ, NM, NV, NY}  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E106",
        source=('schema Account { id: string key  zip: digits(5) }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory pacific "Pacific" { where zip in "96199".."90000"  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix='write the lower bound first (`"90000".."96199"`): a range runs upwards, so this one holds no code at all',
        fixed=('schema Account { id: string key  zip: digits(5) }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory pacific "Pacific" { where zip in "90000".."96199"  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E107",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'set strategic: int = {1001, 1002}\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory named "Named accounts" { where id in strategic  owner "kim@acme.example" as AE }\n'
                '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix='declare the set with the field\'s type and quote the ids (`set strategic: string = {"1001", "1002"}`); '
            'a number never equals a text id',
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'set strategic: string = {"1001", "1002"}\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory named "Named accounts" { where id in strategic  owner "kim@acme.example" as AE }\n'
               '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E108",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" {\n'
                '    else\n'
                '    where employees < 1000\n'
                '    owner "fay@acme.example" as AE\n'
                '  }\n'
                '}\n'),
        fix="keep either `else` (what the siblings leave) or the `where`, not both: together they would say two "
            "different things",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" {\n'
               '    else\n'
               '    owner "fay@acme.example" as AE\n'
               '  }\n'
               '}\n')),
    ErrorExample(
        "E109",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '  territory overflow "Overflow" { else  owner "gus@acme.example" as AE }\n'
                '}\n'),
        fix="keep one `else` (or give one of them a `where`): two of them would both claim what the siblings leave",
        fixed=FY27_MODEL),
    ErrorExample(
        "E110",
        source=('import "./segments.terr" as seg\n'
                'schema Account { id: string key  employees: int in 0.. }\n'
                'set strategic: string = {"001A000001", "001A000002"}\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where seg.enterprise  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        files=(("segments.terr",
                'import "./territories.terr" as terr\n'
                'segment enterprise = employees >= 1000 or id in terr.strategic\n'),),
        arises="`territories.terr` imports `segments.terr`, which imports `territories.terr` back for its set "
               "`strategic`.",
        fix="move what both need (the set `strategic`) into `segments.terr` and drop its import: a cycle has no "
            "order in which the files could be read",
        fixed=('import "./segments.terr" as seg\n'
               'schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where seg.enterprise  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n'),
        fixed_files=(("segments.terr",
                      'set strategic: string = {"001A000001", "001A000002"}\n'
                      'segment enterprise = employees >= 1000 or id in strategic\n'),)),
    ErrorExample(
        "E111",
        source=('import "../sales-shared/segments.terr" as seg\n'
                'schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where seg.enterprise  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        arises="The project root is the folder holding `terrl.toml` (or `pyproject.toml`, or `.git`); here the "
               "import reaches into a sibling checkout.",
        fix="copy or move the shared file into the project (or make the common parent the project root): a "
            "check must not depend on whatever lies beside the checkout",
        fixed=('import "./segments.terr" as seg\n'
               'schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where seg.enterprise  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n'),
        fixed_files=(("segments.terr", 'segment enterprise = employees >= 1000\n'),)),
    ErrorExample(
        "E112",
        source=('import geo.usa\n'
                'schema Account { id: string key  state: usa.UsState }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" { where state in usa.west  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="import a module that exists (`import geo.us as usa` keeps the `usa.` names); stdlib modules are "
            "named after their files under `stdlib/`",
        fixed=('import geo.us as usa\n'
               'schema Account { id: string key  state: usa.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west "West" { where state in usa.west  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E113",
        source=(FY27_MODEL +
                'test "a 5,000-person company is enterprise" {\n'
                '  account { id: "X1", employees: 5000 }\n'
                '  expect FY27: enterprise\n'
                '}\n'),
        fix="name the territory by its path in the model (`ent`), as assignments report it",
        fixed=(FY27_MODEL +
               'test "a 5,000-person company is enterprise" {\n'
               '  account { id: "X1", employees: 5000 }\n'
               '  expect FY27: ent\n'
               '}\n')),
    ErrorExample(
        "E114",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'schema Lead { id: string key  employees: int in 0..  source: string }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="say which record the model assigns (`model FY27 \"Fiscal 2027\" for Account`): the same rules "
            "would check differently against each schema",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'schema Lead { id: string key  employees: int in 0..  source: string }\n'
               'model FY27 "Fiscal 2027" for Account {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E115",
        source=('import "./segments.terr" as seg\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where seg.enterprise  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        files=(("segments.terr", 'segment enterprise = employees >= 1000\n'),
               ("accounts.terr", 'schema Account { id: string key  employees: int in 0.. }\n')),
        arises="The schema lives in `accounts.terr`, which this file does not import.",
        fix='import the file that declares the schema (`import "./accounts.terr" as acc`): without one, no field '
            'name in the rules can be checked',
        fixed=('import "./accounts.terr" as acc\n'
               'import "./segments.terr" as seg\n'
               'model FY27 "Fiscal 2027" for acc.Account {\n'
               '  territory ent "Enterprise" { where seg.enterprise  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E116",
        source=('schema Account {\n'
                '  id:        string key\n'
                '  crm_id:    string key\n'
                '  employees: int in 0..\n'
                '}\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="mark one field `key`, the one that identifies rows in assignment output; keep the other as a plain field",
        fixed=('schema Account {\n'
               '  id:        string key\n'
               '  crm_id:    string\n'
               '  employees: int in 0..\n'
               '}\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E117",
        source=('schema Account { id: string key  zip: digits(5) in 90000..96199 }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory bay "Bay Area" { where zip startswith "94"  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of the West" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="drop the bounds (only `int` and `decimal` take them) and restrict the codes in a `where` instead, "
            "e.g. a model `where zip in \"90000\"..\"96199\"`",
        fixed=('schema Account { id: string key  zip: digits(5) }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  where zip in "90000".."96199"\n'
               '  territory bay "Bay Area" { where zip startswith "94"  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of the West" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E118",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west_ent "West Enterprise" {\n'
                '    where state in us.west\n'
                '    where employees >= 1000\n'
                '    owner "eli@acme.example" as AE\n'
                '  }\n'
                '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="join the two conditions into one `where` with `and`; two lines would leave open whether you meant "
            "`and` or `or`",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west_ent "West Enterprise" {\n'
               '    where state in us.west and employees >= 1000\n'
               '    owner "eli@acme.example" as AE\n'
               '  }\n'
               '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E119",
        source=(FY27_MODEL +
                'test "a 5,000-person company is enterprise" {\n'
                '  account { id: "X1", headcount: 5000 }\n'
                '  expect FY27: ent\n'
                '}\n'),
        fix="use the schema's field name (`employees`): a test account is checked like any account",
        fixed=(FY27_MODEL +
               'test "a 5,000-person company is enterprise" {\n'
               '  account { id: "X1", employees: 5000 }\n'
               '  expect FY27: ent\n'
               '}\n')),
    ErrorExample(
        "E120",
        source=(FY27_MODEL +
                'test "a 5,000-person company is enterprise" {\n'
                '  account { id: "X1", employees: "5 thousand" }\n'
                '  expect FY27: ent\n'
                '}\n'),
        fix="write the value as the schema reads it (`employees: 5000`); a test about invalid input says "
            "`expect FY27: invalid` instead, and its values are not checked",
        fixed=(FY27_MODEL +
               'test "a 5,000-person company is enterprise" {\n'
               '  account { id: "X1", employees: 5000 }\n'
               '  expect FY27: ent\n'
               '}\n')),
    ErrorExample(
        "E121",
        source=('schema Account { id: string key  employees: int in 0..  revenue: decimal in 0.. }\n'
                'segment enterprise = employees >= 1000 or strategic\n'
                'segment strategic = revenue >= 500M and not commercial\n'
                'segment commercial = not enterprise\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where enterprise  owner "eli@acme.example" as AE }\n'
                '  territory com "Commercial" { where commercial  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="define one segment from the fields alone (`segment strategic = revenue >= 500M`): a segment that "
            "depends on itself has no meaning",
        fixed=('schema Account { id: string key  employees: int in 0..  revenue: decimal in 0.. }\n'
               'segment enterprise = employees >= 1000 or strategic\n'
               'segment strategic = revenue >= 500M\n'
               'segment commercial = not enterprise\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where enterprise  owner "eli@acme.example" as AE }\n'
               '  territory com "Commercial" { where commercial  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E122",
        source=('schema Account { id: string key  employees: int in 1..  revenue: decimal in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory unstaffed "Holding companies" { where employees == 0  owner "hal@acme.example" as AE }\n'
                '  territory rest "Operating companies" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="widen the schema's bounds if the value can occur (`employees: int in 0..`), otherwise drop the "
            "comparison: no valid account has it, so the territory would stay empty",
        fixed=('schema Account { id: string key  employees: int in 0..  revenue: decimal in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory unstaffed "Holding companies" { where employees == 0  owner "hal@acme.example" as AE }\n'
               '  territory rest "Operating companies" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E123",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory mid "Mid-market" { where employees >= 200 and employees < 1000  owner "fay@acme.example" as AE }\n'
                '  else\n'
                '}\n'),
        fix="write `keep` to leave what no territory takes `unassigned`, or add a territory with `else` to "
            "give it an owner; a model has no owner of its own to take it",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory mid "Mid-market" { where employees >= 200 and employees < 1000  owner "fay@acme.example" as AE }\n'
               '  keep\n'
               '}\n')),
    ErrorExample(
        "E124",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'set strategic: string = {"001A000001", "001A000002"}\n'
                'model FY27 "Fiscal 2027" {\n'
                '  policy first\n'
                '  territory named "Named accounts" { where strategic  owner "kim@acme.example" as AE }\n'
                '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="compare a field with the set (`where id in strategic`): a set is a list of values, not a condition",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'set strategic: string = {"001A000001", "001A000002"}\n'
               'model FY27 "Fiscal 2027" {\n'
               '  policy first\n'
               '  territory named "Named accounts" { where id in strategic  owner "kim@acme.example" as AE }\n'
               '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E125",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" {\n'
                '    effective 2027-02-01\n'
                '    where employees >= 1000\n'
                '    owner "eli@acme.example" as AE\n'
                '  }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="move `effective` (and `status`) to the model: a model takes effect as a whole, territory by "
            "territory dates are not part of the language",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  effective 2027-02-01\n'
               '  territory ent "Enterprise" {\n'
               '    where employees >= 1000\n'
               '    owner "eli@acme.example" as AE\n'
               '  }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E126",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'set west_coast: us.UsState = pacific - {AK, HI}\n'
                'set pacific: us.UsState = west_coast + {AK, HI}\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory coast "West Coast" { where state in west_coast  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="build the set from the stdlib's `us.pacific` and drop the home-made one: a set defined through "
            "itself has no members to start from",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'set west_coast: us.UsState = us.pacific - {AK, HI}\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory coast "West Coast" { where state in west_coast  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E127",
        source=(FY27_MODEL +
                'test "a 5,000-person company is enterprise" {\n'
                '  account { id: "X1", employees: 5000 }\n'
                '}\n'),
        fix="add what the test expects (`expect FY27: ent`): a test without an expectation checks nothing",
        fixed=(FY27_MODEL +
               'test "a 5,000-person company is enterprise" {\n'
               '  account { id: "X1", employees: 5000 }\n'
               '  expect FY27: ent\n'
               '}\n')),
    ErrorExample(
        "E129",
        source=('import geo.world\n'
                'import geo.subdivisions\n'
                'schema Account {\n'
                '  id:      string key\n'
                '  country: world.Country\n'
                '  state:   subdivisions.Subdivision of country in {US, CA}\n'
                '}\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ontario "Ontario" { where state == CA-ON  owner "kim@acme.example" as AE }\n'
                '  territory rest "Rest" { where state != CA-ON  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="a state read only for US and Canadian accounts is missing for every other account: declare it "
            "optional (`?`)",
        fixed=('import geo.world\n'
               'import geo.subdivisions\n'
               'schema Account {\n'
               '  id:      string key\n'
               '  country: world.Country\n'
               '  state:   subdivisions.Subdivision? of country in {US, CA}\n'
               '}\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ontario "Ontario" { where state == CA-ON  owner "kim@acme.example" as AE }\n'
               '  territory rest "Rest" { where state != CA-ON  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E128",
        source=_BANDS,
        shown=('schema Account { id: string key  employees: int in 0.. }\n'
               'segment band1 = employees >= 100\n'
               'segment band2 = band1 and employees >= 200\n'
               '# ... and so on: each band narrows the one before ...\n'
               'segment band51 = band50 and employees >= 5100\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory top "Top band" { where band51  owner "kim@acme.example" as AE }\n'
               '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
               '}\n'),
        arises="A generator wrote one segment per employee band, each defined through the one before.",
        fix="define the segment by what it amounts to (`employees >= 5100`): a chain of 51 segments, each "
            "narrowing the last, says no more than its final step",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'segment top_band = employees >= 5100\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory top "Top band" { where top_band  owner "kim@acme.example" as AE }\n'
               '  territory rest "Rest" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E130",
        source=('schema Account { id: string key  tier: string? }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory unsegmented "Unsegmented" { where tier == ""  owner "ops@acme.example" as AE }\n'
                '  territory segmented "Segmented" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        arises="An export writes an empty cell for an account without a tier; the rule tried to catch it.",
        fix="test for the missing value: an empty or all-whitespace text is read as missing in every input form, "
            "so `tier == \"\"` could never match",
        fixed=('schema Account { id: string key  tier: string? }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory unsegmented "Unsegmented" { where tier is null  owner "ops@acme.example" as AE }\n'
               '  territory segmented "Segmented" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W101",
        source=('import geo.us\n'
                'import geo.world\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="delete the import (left over from an earlier `country` field); unused imports make readers look "
            "for a dependency that is not there",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W102",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory triage "Needs data" { where state is null or employees == 0  owner "ops@acme.example" as AE }\n'
                '  territory west "West" { where state in us.west and employees > 0  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="declare the field optional (`state: us.UsState?`) if the CRM can leave it empty, otherwise drop the "
            "test: as written it is always false, so `triage` never sees such accounts",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState?  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory triage "Needs data" { where state is null or employees == 0  owner "ops@acme.example" as AE }\n'
               '  territory west "West" { where state in us.west and employees > 0  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    # --- coverage analysis -------------------------------------------------------
    ErrorExample(
        "E201",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
                '  territory bay "Bay Area" { where state == CA and employees < 1000  owner "fay@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "gus@acme.example" as AE }\n'
                '}\n'),
        fix="make the two `where`s exclusive (`state in us.west - {CA}` for `west`), or write `policy first` so "
            "that the earlier sibling wins; otherwise a Californian account has two owners",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  policy first\n'
               '  territory bay "Bay Area" { where state == CA and employees < 1000  owner "fay@acme.example" as AE }\n'
               '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "gus@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E202",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory mid "Mid-market" { where employees >= 200 and employees < 999  owner "fay@acme.example" as AE }\n'
                '  territory smb "Small business" { where employees < 200  owner "gus@acme.example" as AE }\n'
                '}\n'),
        fix="close the gap (`employees < 1000` for `mid`), add an `else` sibling, or say `keep` to leave such "
            "accounts unassigned on purpose; as written a 999-person company has no owner",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory mid "Mid-market" { where employees >= 200 and employees < 1000  owner "fay@acme.example" as AE }\n'
               '  territory smb "Small business" { where employees < 200  owner "gus@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E203",
        source=('schema Account { id: string key  employees: int in 0..  revenue: decimal in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  policy first\n'
                '  territory ent "Enterprise" { where employees >= 1000 or revenue >= 500M  owner "eli@acme.example" as AE }\n'
                '  territory global "Global accounts" { where employees >= 10000  owner "gia@acme.example" as GAM }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="move the narrower territory (`global`) above the broader one: under `policy first` the first match "
            "wins, so `ent` takes every account `global` was meant for",
        fixed=('schema Account { id: string key  employees: int in 0..  revenue: decimal in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  policy first\n'
               '  territory global "Global accounts" { where employees >= 10000  owner "gia@acme.example" as GAM }\n'
               '  territory ent "Enterprise" { where employees >= 1000 or revenue >= 500M  owner "eli@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "E204",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" {\n'
                '    where state in us.west\n'
                '    territory nyc "New York" { where state == NY  owner "eli@acme.example" as AE }\n'
                '    territory west_rest "Rest of West" { else  owner "fay@acme.example" as AE }\n'
                '  }\n'
                '  territory east "East" { else  owner "gus@acme.example" as AE }\n'
                '}\n'),
        fix="move `nyc` under the parent whose accounts it means (`east`), or fix its `where`: a child only sees "
            "what reaches its parent, and no western account is in New York",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west "West" { where state in us.west  owner "fay@acme.example" as AE }\n'
               '  territory east "East" {\n'
               '    else\n'
               '    territory nyc "New York" { where state == NY  owner "eli@acme.example" as AE }\n'
               '    territory east_rest "Rest of East" { else  owner "gus@acme.example" as AE }\n'
               '  }\n'
               '}\n')),
    ErrorExample(
        "N201",
        source=('schema Account { id: string key  zip: digits(5) }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  policy first\n'
                '  territory socal "Southern California" { where zip in "90000".."94500"  owner "eli@acme.example" as AE }\n'
                '  territory norcal "Northern California" { where zip in "94000".."96199"  owner "fay@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "gus@acme.example" as AE }\n'
                '}\n'),
        arises="The two ZIP ranges share 94000 to 94500; `policy first` gives those accounts to `socal` without "
               "an error. `terrl check` reports it as a note and still exits 0.",
        fix="nothing, if the earlier territory should win; otherwise make the ranges exclusive (`norcal`: "
            "`zip in \"94501\"..\"96199\"`), or write `policy unique` where overlaps should be errors",
        fixed=('schema Account { id: string key  zip: digits(5) }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  policy first\n'
               '  territory socal "Southern California" { where zip in "90000".."94500"  owner "eli@acme.example" as AE }\n'
               '  territory norcal "Northern California" { where zip in "94501".."96199"  owner "fay@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "gus@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W201",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" {\n'
                '    where state in us.west\n'
                '    policy all\n'
                '    territory west_all "West, all sizes" { where state in us.west  owner "eli@acme.example" as AE }\n'
                '    territory west_big "West, enterprise" { where employees >= 1000  owner "ida@acme.example" as AE }\n'
                '  }\n'
                '  territory east "East" { else  owner "gus@acme.example" as AE }\n'
                '}\n'),
        fix="delete the child's `where` (a territory without one takes all its parent receives), or make it say "
            "what you meant to split on",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west "West" {\n'
               '    where state in us.west\n'
               '    policy all\n'
               '    territory west_all "West, all sizes" { owner "eli@acme.example" as AE }\n'
               '    territory west_big "West, enterprise" { where employees >= 1000  owner "ida@acme.example" as AE }\n'
               '  }\n'
               '  territory east "East" { else  owner "gus@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W202",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory com "Commercial" { where employees < 1000  owner "fay@acme.example" as AE }\n'
                '  territory overflow "Overflow" { else  owner "gus@acme.example" as AE }\n'
                '}\n'),
        fix="delete the `else` territory: its siblings already take every account, so it would only mislead "
            "readers into thinking some fall through",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme.example" as AE }\n'
               '  territory com "Commercial" { where employees < 1000  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W203",
        source=('schema Account { id: string key  employees: int in 0..  revenue: decimal in 0.. }\n'
                'segment enterprise = employees >= 1000\n'
                'segment strategic = revenue >= 1B\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where enterprise  owner "eli@acme.example" as AE }\n'
                '  territory com "Commercial" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="use the segment in a `where`, or delete it: an unused segment suggests a rule that was meant to "
            "apply and does not",
        fixed=('schema Account { id: string key  employees: int in 0..  revenue: decimal in 0.. }\n'
               'segment enterprise = employees >= 1000\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where enterprise  owner "eli@acme.example" as AE }\n'
               '  territory com "Commercial" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W204",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'set four_corners: us.UsState = {AZ, CO, NM, UT}\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="use the set in a `where`, or delete it: an unused set suggests a territory that was meant to use it",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    # --- lint rules --------------------------------------------------------------
    ErrorExample(
        "W301",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
                '  territory east "East" { where state in us.northeast }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="give the territory an `owner` (or give one to a parent): accounts that land on it otherwise have "
            "nobody to work them",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
               '  territory east "East" { where state in us.northeast  owner "ivy@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W302",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "eli@acme" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="write the owner's full id as the CRM knows it (`eli@acme.example`): a malformed id matches no user",
        fixed=FY27_MODEL),
    ErrorExample(
        "W303",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory east "Northeast" { where state in us.northeast  owner "ivy@acme.example" as AE }\n'
                '  territory south "South" { where state in us.south  owner "ivy@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="give `south` its own owner (a copy-paste slip), or merge the two territories if one person really "
            "covers both",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory east "Northeast" { where state in us.northeast  owner "ivy@acme.example" as AE }\n'
               '  territory south "South" { where state in us.south  owner "sam@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W304",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent { where employees >= 1000  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        config='[severity]\n"title-missing" = "warning"\n',
        arises="This project's `terrl.toml` turns the rule on.",
        fix="give the territory a title (`territory ent \"Enterprise\" { ... }`): docs and assignment results "
            "show titles to people who do not read paths",
        fixed=FY27_MODEL),
    ErrorExample(
        "W305",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" {\n'
                '    where state in {AK, AZ, CA, CO, HI, ID, MT, NM, NV, OR, UT, WA, WY}\n'
                '    owner "eli@acme.example" as AE\n'
                '  }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="name the list once (here the stdlib already has it: `us.west`) and use the name: long inline lists "
            "are hard to review and get copied between territories",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory west "West" {\n'
               '    where state in us.west\n'
               '    owner "eli@acme.example" as AE\n'
               '  }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W306",
        source=('import geo.us\n'
                'schema Account { id: string key  state: us.UsState? }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
                '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        fix="say where accounts without a state go: add a sibling `where state is null` (e.g. a triage queue), "
            "or make `state` required; otherwise `rest` takes them silently",
        fixed=('import geo.us\n'
               'schema Account { id: string key  state: us.UsState? }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory triage "Needs data" { where state is null  owner "ops@acme.example" as AE }\n'
               '  territory west "West" { where state in us.west  owner "eli@acme.example" as AE }\n'
               '  territory rest "Rest of US" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    ErrorExample(
        "W307",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees >= 1000  owner "kim@acme.example\u202e" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'),
        shown=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "kim@acme.example<U+202E>" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n'),
        arises="A RIGHT-TO-LEFT OVERRIDE came along when the owner's address was pasted in.",
        fix="delete the invisible character (or, in a title that needs it, write the escape `\\u202E`, which a "
            "review shows): what a reviewer reads must be what terrl runs",
        fixed=('schema Account { id: string key  employees: int in 0.. }\n'
               'model FY27 "Fiscal 2027" {\n'
               '  territory ent "Enterprise" { where employees >= 1000  owner "kim@acme.example" as AE }\n'
               '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
               '}\n')),
    # --- test blocks ---------------------------------------------------------------
    ErrorExample(
        "E401",
        source=('schema Account { id: string key  employees: int in 0.. }\n'
                'model FY27 "Fiscal 2027" {\n'
                '  territory ent "Enterprise" { where employees > 1000  owner "eli@acme.example" as AE }\n'
                '  territory smb "Small business" { else  owner "fay@acme.example" as AE }\n'
                '}\n'
                'test "a 1,000-person company is enterprise" {\n'
                '  account { id: "X1", employees: 1000 }\n'
                '  expect FY27: ent\n'
                '}\n'),
        command="test",
        arises="`terrl test` runs each `test` block through the evaluator and prints a failure as `FAIL`, with "
               "the expected and the actual result; `terrl check` does not run tests.",
        fix="fix whichever of the two is wrong; here it is the rule: `employees >= 1000` was meant, as the "
            "test says",
        fixed=(FY27_MODEL +
               'test "a 1,000-person company is enterprise" {\n'
               '  account { id: "X1", employees: 1000 }\n'
               '  expect FY27: ent\n'
               '}\n')),
    ErrorExample(
        "E402",
        source=FY27_MODEL,
        files=(("cases.csv", "id,employees,expect\nX1,5000,ent\nX2,12,small\nX3,40,\n"),),
        command="test",
        args=("--cases", "cases.csv"),
        arises="`terrl test --cases` checks each row of a case table; a row it cannot check is reported at its "
               "line, and the other rows still run.",
        fix="write, in each row's `expect`, a territory path of the model (`smb`), `unassigned` or `invalid`",
        fixed=FY27_MODEL,
        fixed_files=(("cases.csv", "id,employees,expect\nX1,5000,ent\nX2,12,smb\nX3,40,smb\n"),)),
    ErrorExample(
        "E403",
        source=FY27_MODEL,
        files=(("cases.csv", "id,employees,territory\nX1,5000,ent\nX2,12,smb\n"),),
        command="test",
        args=("--cases", "cases.csv"),
        arises="A case table is an account file, as `terrl assign` reads it, with an `expect` column; when the "
               "table as a whole cannot be used, no row is checked.",
        fix="name the column of expected territories `expect`",
        fixed=FY27_MODEL,
        fixed_files=(("cases.csv", "id,employees,expect\nX1,5000,ent\nX2,12,smb\n"),)),
    # --- internal --------------------------------------------------------------------
    ErrorExample(
        "E901",
        arises="No `.terr` file should cause it: terrl reports E901 when its coverage analysis of a model fails "
               "unexpectedly (a bug in terrl), naming the model and the failure, instead of printing a traceback. "
               "The other models' findings are still reported. Crashes outside the analysis print "
               "`terrl: internal error: ...` and exit with status 3.",
        fix="report it with the file that triggers it (run again with `TERRL_DEBUG=1` for the details); "
            "meanwhile `terrl check --stop-after resolve` still checks names and types"),
)
