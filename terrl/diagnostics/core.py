"""One diagnostic type for every pass, and the registry of stable codes.

Codes and names are a contract (JSON output, SARIF rule ids, severity overrides in
configuration, the error index in docs): never renumber or rename one; retire a code
by leaving it registered with `retired=True`.

Ranges: E0xx reading and syntax, E1xx names and types, E2xx/W2xx/N2xx coverage analysis (N: notes),
E3xx/W3xx lint rules, E4xx test blocks, E9xx internal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

from terrl.diagnostics.source import Span

Severity = Literal["error", "warning", "note"]
SEVERITY_RANK = {"error": 0, "warning": 1, "note": 2}


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    name: str
    severity: Severity
    summary: str  # one line for the error index and SARIF shortDescription
    explanation: str = ""  # longer text: why it matters and how to fix it
    example: str = ""  # a small `.terr` snippet that triggers it
    retired: bool = False


CODES: dict[str, Code] = {}
CODES_BY_NAME: dict[str, Code] = {}


def register(code: str, name: str, severity: Severity, summary: str, explanation: str = "", example: str = "") -> Code:
    if code in CODES or name in CODES_BY_NAME:
        raise ValueError(f"diagnostic code {code} / {name} registered twice")
    entry = Code(code, name, severity, summary, explanation, example)
    CODES[code] = entry
    CODES_BY_NAME[name] = entry
    return entry


@dataclass(slots=True)
class Label:
    """A secondary span with a short message, e.g. "this territory also matches"."""

    span: Span
    message: str = ""


@dataclass(slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None
    severity: Severity = "error"
    labels: list[Label] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    help: str | None = None
    # Extra machine-readable fields added to the JSON object (coverage findings add
    # model, territories, witness, region).
    extra: dict[str, Any] = field(default_factory=dict)
    # In-process facts for later passes, never rendered nor compared (coverage findings add
    # `region_pred`, the region as a predicate, which docs put into words).
    facts: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return CODES[self.code].name

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple:
        if self.span is None:
            return ("", -1, -1, SEVERITY_RANK[self.severity], self.code, self.message)
        return (self.span.file.path, self.span.start, self.span.end, SEVERITY_RANK[self.severity], self.code, self.message)


def diag(code: str, message: str, span: Span | None, *, labels: Iterable[Label] = (), notes: Iterable[str] = (),
         help: str | None = None, severity: Severity | None = None, **extra: Any) -> Diagnostic:
    """Build a diagnostic with the code's registered severity unless told otherwise."""
    entry = CODES[code]
    return Diagnostic(code=code, message=message, span=span, severity=severity or entry.severity,
                      labels=list(labels), notes=list(notes), help=help, extra=dict(extra))


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file, position, severity; exact duplicates dropped."""
    seen: set[tuple] = set()
    out = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        key = d.sort_key()
        if key in seen:
            continue
        seen.add(key)
        out.append(d)
    return out


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


# Reading, syntax, name and type errors (E0xx, E1xx) mean terrl did not understand the
# input: the analysis and lint do not run past them (terrl.pipeline), and the
# configuration cannot silence or downgrade them (terrl.project.config).
NOT_UNDERSTOOD_PREFIXES = ("E0", "E1")


def not_understood(d: Diagnostic) -> bool:
    """Whether `d` says terrl did not understand the input (see NOT_UNDERSTOOD_PREFIXES)."""
    return d.is_error and d.code.startswith(NOT_UNDERSTOOD_PREFIXES)


# --- reading and syntax -------------------------------------------------------
register("E001", "unreadable-file", "error", "a file cannot be read",
         "The file does not exist, is a directory, or cannot be opened.")
register("E002", "invalid-utf8", "error", "a file is not valid UTF-8 text",
         "`.terr` files are UTF-8. Binary files and other encodings are rejected at the first bad byte.")
register("E003", "syntax-error", "error", "the text does not follow the grammar",
         "The parser met a token it did not expect. The message lists what it was looking for.",
         "territory west {\n  where state in us.west\n")
register("E004", "unclosed-block", "error", "a `{`, `(` or string is not closed before the end of the file")
register("E005", "too-deep", "error", "nesting is deeper than terrl accepts",
         "Parentheses or territories nested deeper than the limit, or one expression whose levels (each `(`, `not` "
         "and set `+` or `-` inside another) go deeper, are rejected so that every later pass stays fast and safe.")
register("E006", "bad-literal", "error", "a literal cannot be read (number, date, string escape)")
register("E007", "empty-file", "error", "a file holds no declarations")
register("E008", "file-too-large", "error", "a file is larger than terrl accepts")
register("E009", "keyword-as-name", "error", "a keyword is used where a name is expected",
         "Keywords such as `territory`, `where`, `in` cannot name things. Pick another name.",
         "territory where { else }")

# --- names, imports and types ---------------------------------------------------
register("E101", "unknown-name", "error", "a name is not declared", example="segment big = employes >= 1000")
register("E102", "duplicate-name", "error", "a name is declared twice in the same scope")
register("E103", "type-mismatch", "error", "a literal does not fit the field's type", example='where employees == "x"')
register("E104", "unknown-member", "error", "a value is not a member of the field's enum", example="where state == ZZ")
register("E105", "invalid-operator", "error", "an operator does not apply to the field's type", example='where employees startswith "1"')
register("E106", "empty-range", "error", "a range's lower bound is above its upper bound", example="where employees in 100..10")
register("E107", "mixed-set", "error", "a set mixes values of different types")
register("E108", "else-with-where", "error", "a territory has both `else` and `where`")
register("E109", "several-else", "error", "several siblings say `else`")
register("E110", "import-cycle", "error", "imports form a cycle")
register("E111", "import-escapes-root", "error", "an import leaves the project root or the stdlib")
register("E112", "import-not-found", "error", "an imported module or file does not exist")
register("E113", "unknown-test-path", "error", "a test expects a territory path the model does not have")
register("E114", "schema-ambiguous", "error", "a model does not say which schema it uses and several are in scope")
register("E115", "no-schema", "error", "a model has no schema in scope")
register("E116", "several-keys", "error", "a schema marks more than one field `key`")
register("E117", "bad-type", "error", "a type is malformed (e.g. `digits(0)`, bounds on a string)")
register("E118", "duplicate-item", "error", "a body item that may appear once appears twice (policy, where, effective, status)")
register("E119", "unknown-field", "error", "a test account names a field the schema does not have")
register("E120", "bad-test-value", "error", "a test that expects a territory or `unassigned` gives an account the schema rejects (a value that does not fit, a required field missing)")
register("E121", "segment-cycle", "error", "segments refer to each other in a cycle")
register("E122", "out-of-bounds", "error", "a literal lies outside the field's declared bounds")
register("E123", "else-at-model", "error", "`else` is not allowed directly in a model")
register("E124", "wrong-kind", "error", "a name refers to the wrong kind of thing (a set where a segment is expected, ...)")
register("W101", "unused-import", "warning", "an import is never used")

# --- coverage analysis (terrl.analysis.coverage) -----------------------------------------
register("E201", "overlap", "error", "two sibling territories under `policy unique` both match some account")
register("E202", "gap", "error", "some accounts reach a parent but no child takes them")
register("E203", "unreachable", "error", "under `policy first`, earlier siblings take everything a territory matches")
register("E204", "empty", "error", "no account reaching the parent can match the territory")
register("N201", "order-decides", "note",
         "under `policy first`, two siblings' `where` clauses overlap and the earlier one wins",
         "Under `policy first` an account goes to the first sibling that matches it, so overlaps are not "
         "errors: the order settles them. The policy is inherited, so one `policy first` settles every overlap "
         "below it, including ones nobody meant. This note names each such pair, says which sibling wins and "
         "gives a witness account (`terrl explain` on it shows the earlier sibling taking it). It is a note: "
         "`terrl check` still exits 0. To have these overlaps reported as errors below some territory, write "
         "`policy unique` in it; to hide the notes, write `N201 = \"off\"` under `[severity]` in terrl.toml.")
register(
    "W201", "redundant-where", "warning", "a `where` adds nothing to what reaches the territory",
    "Every account that reaches the parent matches this territory's `where`, so among its siblings it "
    "takes everything (under `policy unique` that is also an overlap with each of them). An only child is "
    "not reported: restating the parent's criteria there, as models exported from a CRM do on every level, "
    "changes nothing.")
register("W202", "dead-else", "warning", "an `else` can never match: the siblings take everything")
register("W203", "unused-segment", "warning", "a segment is never used")
register("W204", "unused-set", "warning", "a set is never used")

# --- test blocks ------------------------------------------------------------------
register("E401", "test-failed", "error", "a `test` block's expectation (or a case table row's) does not hold")
register("E402", "bad-test-case", "error", "a row of a case table cannot be checked (an empty or unknown `expect`, an unknown model, a row that cannot be read)")
register("E403", "bad-case-file", "error", "a case table cannot be used (no `expect` column, a required column missing, an empty file, no model to test)")

# --- internal ---------------------------------------------------------------------
register("E901", "internal-error", "error", "terrl itself failed; please report it")
register("E125", "misplaced-item", "error", "an item is not allowed where it stands (e.g. `effective` in a territory)")
register("E126", "set-cycle", "error", "sets refer to each other in a cycle")
register("E127", "incomplete-test", "error", "a `test` block lacks an `account` or an `expect`, or has several accounts")
register("E128", "definition-too-deep", "error",
         "segments or sets are defined through a chain of names longer, or nested deeper, than terrl accepts",
         "A segment defined through another, itself defined through another, and so on, is followed to the end by "
         "every command (the docs, the evaluators, the SQL). Chains of up to 50 names are accepted, and the "
         "expression they expand to may nest up to 100 levels (each `(`, `not` and set `+` or `-`), as one "
         "expression may.")
register("E129", "bad-subdivision-context", "error",
         "a field read `of` a country field is declared wrongly (its type, the country field, the country list)",
         "`state: subdivisions.Subdivision? of country` reads a raw value such as `CA` as the ISO 3166-2 code "
         "`US-CA` when the account's `country` is US. The type must be an enum of ISO 3166-2 codes (`US-CA`), "
         "the field after `of` an enum field of ISO 3166-1 alpha-2 country codes (`world.Country`) in the same schema, and the field optional when "
         "it is read for listed countries only (`of country in {US, CA}`) or the country may be missing. "
         "`enum UsState of US` names the country of an enum's subdivisions with its ISO 3166-1 code.")
register("E130", "blank-text-value", "error", "a blank text (empty or only whitespace) is written as a string value",
         "An account's text that is empty or only whitespace is a missing value, in every input form (CSV, JSON "
         "Lines, the Python API, the generated module, SQL): no account ever has it as a value, so a rule or set "
         "that names it could never match. Test for a missing value with `is null`.")
register("W102", "null-check-on-required", "warning", "`is null` on a field that can never be missing")

# --- lint rules (terrl.analysis.lint) ------------------------------------------------------
register(
    "W301", "territory-without-owner", "warning", "accounts can land on a territory that nobody owns",
    "Accounts land on leaves (and on `keep` parents). If neither the territory nor, by default, one of its "
    "ancestors has an `owner`, those accounts have nobody to work them. Set `inherited-owners = false` in "
    "`[lint]` to require an owner on the territory itself.",
    'territory west "West" {\n  where state in us.west\n}')
register(
    "W302", "owner-malformed", "warning", "an owner id is not a well-formed address or id",
    "Owner ids are matched against the CRM's users: an id with spaces, control characters or a broken "
    "e-mail address matches nobody. With `owner-pattern` in `[lint]`, every owner must match that "
    "regular expression.",
    'owner "dana@acme" as RVP')
register(
    "W303", "duplicate-owner", "warning", "two sibling territories under `policy unique` have the same owner",
    "Under `policy unique` siblings split accounts between different people; the same owner on two "
    "siblings usually means a copy-paste mistake. Set `unique-owners = false` in `[lint]` if it is intended.",
    'territory east { where state in us.northeast  owner "ivy@acme.example" }\n'
    'territory south { where state in us.south  owner "ivy@acme.example" }')
register(
    "W304", "title-missing", "warning", "a model or territory has no title",
    "Titles are what generated documentation and assignment results show to people. This rule is off "
    "by default; enable it with `\"title-missing\" = \"warning\"` under `[severity]`.",
    "territory west { where state in us.west }")
register(
    "W305", "long-inline-list", "warning", "a long inline value list should be a named `set`",
    "A `{...}` list with many values inside a `where` is hard to review and tends to be copied into "
    "several territories. Declare it once with `set name: Type = {...}` and use the name. The threshold "
    "is `max-inline-values` in `[lint]` (default 10). One finding per cause, not per list: a list written "
    "several times is reported once, at its first place, with the copies labelled; when more than three "
    "other lists are long (a model exported from a CRM), one finding counts them and gives their lines. "
    "A `startswith {...}` list of prefixes is not counted: it cannot be a named set.",
    "where state in {CA, OR, WA, NV, ID, MT, WY, UT, CO, AZ, NM}")
register(
    "W306", "else-takes-missing", "warning", "an `else` also takes accounts whose tested field is missing",
    "The siblings of an `else` split accounts on a field that may be missing (`T?`); accounts without "
    "a value match none of them, so the `else` takes them silently. Say what should happen: add a sibling "
    "`where FIELD is null`, or make the field required.",
    "territory west { where state in us.west }\nterritory rest { else }   # also takes accounts with no state")
register(
    "W307", "bidi-control-character", "warning", "a string or comment holds an invisible bidirectional control character",
    "Unicode bidirectional controls (U+202A to U+202E, U+2066 to U+2069, the marks U+200E, U+200F and "
    "U+061C) are invisible, yet they reorder how the rest of the line is displayed. In a string, a title, an "
    "owner or a comment they can make what a reviewer reads differ from what terrl runs (the \"Trojan "
    "Source\" attack, CVE-2021-42574): a quoted `where` value or an owner id that looks right but is not, or "
    "a rule that looks active but is really inside a comment. Remove the character. If a string "
    "really needs it (a right-to-left title), write it as an escape, `\"\\u202E\"`, which a review shows; "
    "comments have no escapes. In the example `<U+202E>` stands for the invisible character itself.",
    'owner "kim@acme.example<U+202E>" as AE   # the id is not the address it shows')
