"""Project configuration (terrl.project.config) and the `terrl check` options that use it."""

from __future__ import annotations

import json

import pytest

from terrl.project.config import Config, ConfigError, discover, find_config, load_config

from support import make_project, run_cli

MODEL = """schema A { id: string key  n: int }
model M {
  territory a { where n > 0 }
  territory b { else }
}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    return make_project(tmp_path, {"m.terr": MODEL}, monkeypatch=monkeypatch)


def codes_of(result) -> list[str]:
    return [d["code"] for d in json.loads(result.output)["diagnostics"]]


# --- discovery ---------------------------------------------------------------------------

def test_found_walking_up_terrl_toml_first(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.terrl]\nline-length = 90\n", encoding="utf-8")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == tmp_path / "pyproject.toml"
    assert discover(deep).line_length == 90
    (tmp_path / "terrl.toml").write_text("line-length = 80\n", encoding="utf-8")
    assert find_config(deep) == tmp_path / "terrl.toml"


def test_pyproject_without_tool_terrl_is_not_a_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    assert find_config(tmp_path) is None or find_config(tmp_path).parent != tmp_path
    assert discover(tmp_path).path != tmp_path / "pyproject.toml"


def test_settings_are_read(tmp_path):
    path = tmp_path / "terrl.toml"
    path.write_text("""
include = ["rules/**/*.terr"]
exclude = ["archive"]
models = ["FY28*"]
line-length = 120
[severity]
W301 = "error"
"title-missing" = "warning"
E201 = "warning"
[lint]
max-inline-values = 4
inherited-owners = false
unique-owners = false
owner-pattern = '[a-z]+@acme\\.example'
""", encoding="utf-8")
    config = load_config(path)
    assert config.include == ("rules/**/*.terr",) and config.exclude == ("archive",)
    assert config.severity == {"W301": "error", "W304": "warning", "E201": "warning"}
    assert config.lint.max_inline_values == 4 and not config.lint.inherited_owners and not config.lint.unique_owners
    assert config.line_length == 120 and config.root == tmp_path.resolve()


@pytest.mark.parametrize("text, key", [
    ("colour = 1", "`colour`"),
    ("include = \"*.terr\"", "`include`"),
    ("[severity]\nW999 = \"error\"", "`severity.W999`"),
    ("[severity]\nW301 = \"fatal\"", "`severity.W301`"),
    ("[severity]\nE101 = \"off\"", "`severity.E101`"),
    ("[lint]\nmax-inline-values = 0", "`lint.max-inline-values`"),
    ("[lint]\nowner-pattern = \"(\"", "`lint.owner-pattern`"),
    ("[lint]\nunique-owners = \"yes\"", "`lint.unique-owners`"),
    ("[lint]\nfoo = 1", "`lint.foo`"),
    ("line-length = 10", "`line-length`"),
    ("this is not toml", "not valid TOML"),
])
def test_invalid_settings_name_the_file_and_key(tmp_path, text, key):
    path = tmp_path / "terrl.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and key in str(info.value)


def test_pyproject_keys_are_shown_with_their_table(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.terrl.severity]\nW301 = \"loud\"\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"`tool\.terrl\.severity\.W301`"):
        load_config(path)


# include and exclude: gitignore patterns (pathspec), relative to the configuration's folder
@pytest.mark.parametrize("patterns, path, matches", [
    # a pattern without a slash matches at any depth, a file or a folder (and what is inside it)
    (["archive"], "archive/old.terr", True), (["archive"], "x/archive/old.terr", True),
    (["archive"], "archives/a.terr", False), (["*.draft.terr"], "a/b.draft.terr", True),
    # a slash at the start or in the middle anchors to the configuration's folder
    (["/archive"], "archive/a.terr", True), (["/archive"], "x/archive/a.terr", False),
    (["rules/*.terr"], "rules/a.terr", True), (["rules/*.terr"], "x/rules/a.terr", False),
    (["rules/*.terr"], "rules/x/a.terr", False),  # `*` stops at a slash
    # `**`: any number of folders, none included
    (["rules/**"], "rules/x/a.terr", True), (["**/gen/*.terr"], "gen/a.terr", True),
    (["**/gen/*.terr"], "a/b/gen/c.terr", True), (["a/**/b.terr"], "a/b.terr", True),
    (["a/**/b.terr"], "a/x/y/b.terr", True), (["a/**/b.terr"], "x/a/b.terr", False),
    # a trailing slash: folders only
    (["old/"], "x/old/a.terr", True), (["old.terr/"], "old.terr", False),
    # `!` takes back an earlier match; the last matching pattern wins
    (["*.terr", "!keep.terr"], "a/keep.terr", False), (["*.terr", "!keep.terr"], "a/drop.terr", True),
    (["archive/*", "!archive/keep.terr"], "archive/keep.terr", False),
    # ... also below an excluded folder (git itself would not look inside `archive`)
    (["archive", "!archive/keep.terr"], "archive/keep.terr", False),
    (["archive/", "!archive/keep.terr"], "archive/other.terr", True),
    (["?.terr"], "a.terr", True), (["?.terr"], "ab.terr", False), (["[ab].terr"], "b.terr", True),
    (["\\!bang.terr"], "!bang.terr", True), (["# a comment"], "# a comment", False),
])
def test_exclude_patterns(tmp_path, patterns, path, matches):
    config = Config(root=tmp_path, exclude=tuple(patterns))
    assert config.is_excluded(tmp_path / path) is matches


def test_include_patterns_choose_terr_files(tmp_path):
    for name in ("main.terr", "a/x.terr", "a/b/y.terr", "a/b/notes.txt", "a/drafts/z.terr", ".hidden/h.terr",
                 "a/.cache/c.terr", "other/main.terr"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")

    def included(include, exclude=()):
        config = Config(root=tmp_path, include=tuple(include), exclude=tuple(exclude))
        return [p.relative_to(tmp_path).as_posix() for p in config.included_files()]

    # unanchored: at any depth (Path.glob read `*.terr` as the top folder only)
    assert included(["*.terr"]) == ["a/b/y.terr", "a/drafts/z.terr", "a/x.terr", "main.terr", "other/main.terr"]
    assert included(["/main.terr"]) == ["main.terr"]
    assert included(["main.terr"]) == ["main.terr", "other/main.terr"]
    assert included(["a/**/*.terr"]) == ["a/b/y.terr", "a/drafts/z.terr", "a/x.terr"]
    assert included(["a/"]) == ["a/b/y.terr", "a/drafts/z.terr", "a/x.terr"]  # a folder: its .terr files
    assert included(["a/", "!drafts/"]) == ["a/b/y.terr", "a/x.terr"]
    assert included(["a/"], exclude=["b"]) == ["a/drafts/z.terr", "a/x.terr"]
    assert included(["**/c.terr", "**/h.terr"]) == []  # hidden folders are skipped, as for a PATH
    assert included(["nothing/"]) == []
    # outside the configuration's folder nothing is excluded
    assert not Config(root=tmp_path / "a", exclude=("*.terr",)).is_excluded(tmp_path / "main.terr")


def test_models_are_shell_patterns_on_names():
    from terrl.diagnostics.core import diag

    findings = [diag("E202", "gap", None, model=name) for name in ("FY28", "FY28_EMEA", "FY27", "XFY28")]
    config = Config(models=("FY28*", "FY2[7]"))
    assert [d.extra["model"] for d in config.apply(findings)] == ["FY28", "FY28_EMEA", "FY27"]


# --- terrl check with a configuration ----------------------------------------------------------

def test_lint_runs_in_check_with_defaults(project):
    result = run_cli(["check", "--format", "json", "m.terr"])
    assert result.exit_code == 0
    assert codes_of(result) == ["W301", "W301"]  # a and b have no owner; W304 (titles) is off by default


def test_severity_override_makes_an_error(project):
    (project / "terrl.toml").write_text('[severity]\n"territory-without-owner" = "error"\n', encoding="utf-8")
    result = run_cli(["check", "--format", "json", "m.terr"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [d["severity"] for d in data["diagnostics"]] == ["error", "error"]
    assert data["summary"]["errors"] == 2


def test_severity_off_and_enabling_a_default_off_rule(project):
    (project / "terrl.toml").write_text('[severity]\nW301 = "off"\nW304 = "note"\n', encoding="utf-8")
    result = run_cli(["check", "--format", "json", "m.terr"])
    assert codes_of(result) == ["W304", "W304", "W304"]
    assert result.exit_code == 0


def test_no_config_and_explicit_config(project):
    (project / "terrl.toml").write_text('[severity]\nW301 = "error"\n', encoding="utf-8")
    assert run_cli(["check", "m.terr"]).exit_code == 1
    assert run_cli(["check", "--no-config", "m.terr"]).exit_code == 0
    (project / "quiet.toml").write_text('[severity]\nW301 = "off"\n', encoding="utf-8")
    result = run_cli(["check", "--config", "quiet.toml", "--format", "json", "m.terr"])
    assert result.exit_code == 0 and codes_of(result) == []


def test_excludes_and_includes(project):
    (project / "broken").mkdir()
    (project / "broken" / "x.terr").write_text("model {", encoding="utf-8")
    assert run_cli(["check", "."]).exit_code == 1
    (project / "terrl.toml").write_text('exclude = ["broken"]\n', encoding="utf-8")
    assert run_cli(["check", "."]).exit_code == 0
    # Everything given was excluded (pre-commit names changed files, excluded ones too): nothing
    # to check is success, said on stderr, and the fmt hook behaves the same.
    result = run_cli(["check", "broken/x.terr"])
    assert result.exit_code == 0 and "excluded by" in result.stderr and "terrl.toml" in result.stderr
    assert run_cli(["fmt", "--check", "broken/x.terr"]).exit_code == 0
    assert run_cli(["check", "missing/x.terr"]).exit_code == 2  # a path that is not there is still a usage error
    (project / "terrl.toml").write_text('include = ["broken/*.terr"]\n', encoding="utf-8")
    assert run_cli(["check"]).exit_code == 1  # no PATH: the include globs


def test_models_filter_findings(project):
    (project / "two.terr").write_text(MODEL.replace("model M", "model Keep") + MODEL.split("\n", 1)[1]
                                      .replace("model M", "model Drop"), encoding="utf-8")
    (project / "terrl.toml").write_text('models = ["Keep"]\n', encoding="utf-8")
    result = run_cli(["check", "--format", "json", "two.terr"])
    models = {d["model"] for d in json.loads(result.output)["diagnostics"]}
    assert models == {"Keep"}


def test_invalid_config_exits_2(project):
    (project / "terrl.toml").write_text("[severity]\nW301 = \"loud\"\n", encoding="utf-8")
    result = run_cli(["check", "m.terr"])
    assert result.exit_code == 2
    assert "terrl.toml" in result.output and "`severity.W301`" in result.output
    assert run_cli(["check", "--config", "missing.toml", "m.terr"]).exit_code == 2


# Every kind of mistake, through the CLI: one `terrl: error: FILE:LINE: KEY: PROBLEM` line, a
# help line, exit 2, and never click's "Usage: ... Try --help" banner (the command line was fine).
CONFIG_MISTAKES = [
    ("colour = 1", "terrl.toml:1: `colour`: not a terrl setting",
     "known settings: assign, exclude, include, line-length, lint, models, severity"),
    ("models = []\nexclde = []", "terrl.toml:2: `exclde`: not a terrl setting", "did you mean `exclude`?"),
    ('include = "*.terr"', "terrl.toml:1: `include`: must be a list of non-empty strings, not a string",
     'write `include = ["*.terr"]`'),
    ("line-length = 10", "terrl.toml:1: `line-length`: must be an integer from 40 to 400, not 10",
     "write `line-length = 100`"),
    ("line-length = \"wide\"", 'terrl.toml:1: `line-length`: must be an integer from 40 to 400, not "wide"', None),
    ("severity = 3", "terrl.toml:1: `severity`: must be a table, not an integer", "write `[severity]`"),
    ('\n[severity]\nW301 = "error"\nW999 = "error"', "terrl.toml:4: `severity.W999`: not a diagnostic code or name",
     "codes and names are listed in docs/errors.md"),
    ('[severity]\n"title-mising" = "warning"', "terrl.toml:2: `severity.title-mising`: not a diagnostic code or name",
     "did you mean `title-missing`?"),
    ('severity = { W999 = "error" }', "terrl.toml:1: `severity.W999`: not a diagnostic code or name", None),
    ('[severity]\nW301 = "fatal"',
     'terrl.toml:2: `severity.W301`: must be one of error, warning, note, off, not "fatal"', 'write `W301 = "warning"`'),
    ('[severity]\nE101 = "off"', "terrl.toml:2: `severity.E101`: cannot change: E101 (unknown-name) means terrl "
     "did not understand the input", "remove this line"),
    ("[lint]\nmax-inline-values = 0", "terrl.toml:2: `lint.max-inline-values`: must be a positive integer, not 0", None),
    ('[lint]\nowner-pattern = "("', "terrl.toml:2: `lint.owner-pattern`: not a valid regular expression", None),
    ('[lint]\nunique-owners = "yes"', 'terrl.toml:2: `lint.unique-owners`: must be true or false, not "yes"',
     "write `unique-owners = true` (no quotes)"),
    ("[lint]\nfoo = 1", "terrl.toml:2: `lint.foo`: not a lint option", "known options: inherited-owners"),
    ('x = """\nlint = 3\n"""\n', "terrl.toml:1: `x`: not a terrl setting", None),
    ("models = []\nthis is not toml", "terrl.toml:2: not valid TOML: expected '=' after a key in a key/value pair "
     "(column 6)", "https://toml.io"),
    ('models = []\ninclude = ["a"', "terrl.toml:2: not valid TOML: unclosed array (at the end of the file)", None),
]


@pytest.mark.parametrize("command", ["check", "fmt"])
@pytest.mark.parametrize("text, error, help", CONFIG_MISTAKES)
def test_config_mistakes_print_one_error_line_without_usage(project, command, text, error, help):
    (project / "terrl.toml").write_text(text, encoding="utf-8")
    result = run_cli([command, "m.terr"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("terrl: error: " + error), lines[0]
    if help is not None:
        assert lines[1].startswith("  help: ") and help in lines[1]
    assert len(lines) <= 2 and result.stdout == ""
    assert "Usage:" not in result.output and "--help" not in result.output


def test_pyproject_mistakes_name_the_tool_terrl_key_and_line(project):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.terrl.lint]\nunique-owners = 1\n',
                                            encoding="utf-8")
    result = run_cli(["check", "m.terr"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == \
        "terrl: error: pyproject.toml:5: `tool.terrl.lint.unique-owners`: must be true or false, not 1"
    (project / "pyproject.toml").write_text('[tool]\nterrl = "on"\n', encoding="utf-8")
    result = run_cli(["check", "m.terr"])
    assert result.stderr.splitlines()[0] == "terrl: error: pyproject.toml:2: `tool.terrl`: must be a table, not a string"


def test_unreadable_config_file(project):
    result = run_cli(["check", "--config", "missing.toml", "m.terr"])
    assert result.exit_code == 2
    assert result.stderr == "terrl: error: missing.toml: cannot read the configuration: no such file or directory\n"
    (project / "latin1.toml").write_bytes("models = [\"caf\xe9\"]\n".encode("latin-1"))
    result = run_cli(["check", "--config", "latin1.toml", "m.terr"])
    assert result.exit_code == 2 and result.stderr.startswith("terrl: error: latin1.toml: cannot read the configuration: "
                                                              "it is not UTF-8 text")


def test_config_error_through_the_real_entry_point(project):
    import subprocess
    import sys
    (project / "terrl.toml").write_text("[severity]\nW999 = \"error\"\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "terrl", "check", "m.terr"], capture_output=True, text=True,
                          cwd=project, env={**__import__("os").environ, "NO_COLOR": "1"})
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["terrl: error: terrl.toml:2: `severity.W999`: not a diagnostic code or name",
                                        "  help: codes and names are listed in docs/errors.md"]


def test_stop_after_parse_skips_lint(project):
    result = run_cli(["check", "--stop-after", "parse", "--format", "json", "m.terr"])
    assert codes_of(result) == []


def test_config_apply_directly():
    from terrl.diagnostics.core import diag
    d = diag("W301", "territory `a` has no owner", None, model="M")
    assert Config(severity={"W301": "error"}).apply([d])[0].severity == "error"
    assert d.severity == "warning"  # not mutated
    assert Config(models=("N",)).apply([d]) == []
    assert Config().apply([diag("W304", "x", None)], default_off={"W304"}) == []


# --- the one root search (terrl.diagnostics.source.find_upwards) -------------------------

def test_one_search_answers_the_three_roots(tmp_path, monkeypatch):
    from terrl.diagnostics.render import render
    from terrl.diagnostics.source import find_project_root, find_upwards

    (tmp_path / ".git").write_text("gitdir: elsewhere\n", encoding="utf-8")  # a worktree: .git is a file
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text("[project]\nname = 'x'\n", encoding="utf-8")
    deep = tmp_path / "sub" / "a" / "b"
    deep.mkdir(parents=True)
    # imports: the nearest of terrl.toml, pyproject.toml (with or without [tool.terrl]) or .git
    assert find_project_root(deep) == tmp_path / "sub"
    # configuration: a pyproject.toml counts only with [tool.terrl]
    assert find_config(deep) is None
    # GitHub and SARIF paths: the git repository's top folder
    assert find_upwards(deep, (".git",)) == tmp_path / ".git"
    # markers are tried in order within one folder before going up
    (tmp_path / "sub" / "terrl.toml").write_text("", encoding="utf-8")
    assert find_upwards(deep, ("terrl.toml", "pyproject.toml")) == tmp_path / "sub" / "terrl.toml"
    assert find_upwards(deep, ("nothing-here",)) is None
    assert find_project_root(tmp_path / "sub") == tmp_path / "sub"
    # the github renderer shows paths from the repository's top, wherever terrl runs
    from terrl.diagnostics.core import diag
    from terrl.diagnostics.source import SourceFile
    source = SourceFile(str(deep / "m.terr"), "x\n")
    monkeypatch.chdir(deep)
    assert "file=sub/a/b/m.terr," in render([diag("E003", "bad", source.span(0, 1))], "github")
