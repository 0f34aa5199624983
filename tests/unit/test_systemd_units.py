"""The systemd units in deployments/systemd/ (README.md there): what they run, read, write and need.

    units()                  # every unit file, parsed (repeated keys kept in order)
    commands(unit)           # every program an Exec*= line runs, `/bin/sh -c '…'` opened up

The units expect the repository at PREFIX (/opt/jukinet, its .venv beside it); here that is this
repository and the .venv running the tests. `systemd-analyze verify` runs on copies with PREFIX
replaced, only where systemd-analyze is installed (otherwise that one test is skipped).
"""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from jukinet.cli import main as jukinet_main
from jukinet.devstack import WORK_POOL

ROOT = Path(__file__).resolve().parents[2]
UNITS_DIR = ROOT / "deployments" / "systemd"
EXAMPLE = UNITS_DIR / "jukinet.env.example"
PREFIX = "/opt/jukinet"
VENV_BIN = f"{PREFIX}/.venv/bin/"
SYSTEM_DIRS = ("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/")
EXEC_KEYS = ("ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecStop")
DEPENDENCY_KEYS = ("Wants", "Requires", "BindsTo", "PartOf", "After", "Before", "OnFailure")
INSTALL_KEYS = ("WantedBy", "RequiredBy", "Also")
SYSTEMD_VARIABLES = {"MAINPID"}  # set by systemd for ExecStop=, not read from the env file
SHELL_OPERATORS = {"||", "&&", ";", "|", "&"}
SHELL_KEYWORDS = {"exec", "while", "do", "done", "if", "then", "else", "fi"}
EXPECTED = {
    "jukinet-server.service",
    "jukinet-migrate.service",
    "jukinet-deploy.service",
    "jukinet-worker@.service",
    "jukinet-backup.service",
    "jukinet-backup.timer",
    "jukinet.target",
}
# what each service writes, by the env file's variable; must lie under its ReadWritePaths=
WRITES = {
    "jukinet-server.service": ("PREFECT_HOME",),
    "jukinet-deploy.service": ("PREFECT_HOME",),
    "jukinet-worker@.service": ("PREFECT_HOME", "JUKINET_HOME", "PREFECT_LOCAL_STORAGE_PATH"),
    "jukinet-backup.service": ("JUKINET_BACKUP_DIR",),
}
# docs/production.md: only the server gets Prefect's database; the store's URL never reaches it
WITHHELD = {
    "jukinet-server.service": {"JUKINET_STORE_URL", "PREFECT_API_AUTH_STRING"},
    "jukinet-worker@.service": {
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
        "PREFECT_SERVER_API_AUTH_STRING",
    },
    "jukinet-deploy.service": {
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
        "PREFECT_SERVER_API_AUTH_STRING",
    },
    "jukinet-migrate.service": {
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
        "PREFECT_SERVER_API_AUTH_STRING",
        "PREFECT_API_AUTH_STRING",
    },
}


@dataclass(frozen=True)
class Unit:
    path: Path
    sections: dict[str, dict[str, list[str]]]

    @property
    def name(self) -> str:
        return self.path.name

    def values(self, section: str, key: str) -> list[str]:
        """Every value of a key in order; an empty assignment resets the list (systemd)."""
        found: list[str] = []
        for value in self.sections.get(section, {}).get(key, []):
            found = [*found, value] if value else []
        return found

    def one(self, section: str, key: str) -> str | None:
        found = self.values(section, key)
        return found[-1] if found else None

    def words(self, section: str, key: str) -> list[str]:
        return [word for value in self.values(section, key) for word in value.split()]


def parse_unit(path: Path) -> Unit:
    """systemd's unit syntax: [Section], Key=value, repeated keys, `#`/`;` comments, `\\` lines."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"{path.name}: not a unit line: {raw!r}"
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return Unit(path, sections)


def units() -> list[Unit]:
    return [
        parse_unit(p)
        for p in sorted(UNITS_DIR.iterdir())
        if p.suffix in (".service", ".timer", ".target")
    ]


def unit(name: str) -> Unit:
    return parse_unit(UNITS_DIR / name)


def services() -> list[Unit]:
    return [u for u in units() if u.path.suffix == ".service"]


def exec_argvs(u: Unit) -> list[tuple[str, list[str]]]:
    """(key, argv) of every Exec*= line, without systemd's prefixes (- @ : + !)."""
    found = []
    for key in EXEC_KEYS:
        for value in u.values("Service", key):
            found.append((key, shlex.split(value.lstrip("-@:+!"))))
    return found


def commands(u: Unit) -> list[list[str]]:
    """Every program the unit runs: the Exec*= lines and the commands inside `sh -c '…'`."""
    pending = [argv for _, argv in exec_argvs(u)]
    found: list[list[str]] = []
    while pending:
        argv = pending.pop(0)
        found.append(argv)
        for i, word in enumerate(argv[:-2]):
            if word.endswith("/sh") and argv[i + 1] == "-c":
                pending.extend(_shell_commands(argv[i + 2]))
    return found


def _shell_commands(script: str) -> list[list[str]]:
    """The absolute-path commands of a shell script (redirections dropped)."""
    lexer = shlex.shlex(
        re.sub(r"\s\d*[<>]&?\s*\S+", " ", script), posix=True, punctuation_chars=True
    )
    lexer.whitespace_split = True
    parts: list[list[str]] = [[]]
    for token in lexer:
        if token in SHELL_OPERATORS:
            parts.append([])
        elif token not in SHELL_KEYWORDS:
            parts[-1].append(token)
    return [p for p in parts if p and p[0].startswith("/")]


def venv_commands(program: str) -> list[list[str]]:
    """Arguments of every `PREFIX/.venv/bin/<program>` the units run."""
    return [argv[1:] for u in units() for argv in commands(u) if argv[0] == f"{VENV_BIN}{program}"]


def example_variables() -> dict[str, tuple[str, list[str]]]:
    """NAME -> (value, the comment lines right above it) of every active line of the example."""
    found: dict[str, tuple[str, list[str]]] = {}
    comments: list[str] = []
    for raw in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            comments.append(line)
        elif "=" in line:
            name, value = line.split("=", 1)
            assert name not in found, f"{name} twice in {EXAMPLE.name}"
            found[name] = (value.strip("'\""), comments)
        else:
            comments = []
    return found


def referenced_variables(text: str) -> set[str]:
    """$X and ${X} that systemd expands ($$ is a literal $ for the shell)."""
    return set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", text.replace("$$", "")))


class TestFiles:
    def test_every_unit_is_there(self) -> None:
        assert {u.name for u in units()} == EXPECTED

    def test_every_unit_parses_into_its_sections(self) -> None:
        for u in units():
            kind = {".service": "Service", ".timer": "Timer", ".target": "Unit"}[u.path.suffix]
            assert "Unit" in u.sections and kind in u.sections, u.name
            assert u.one("Unit", "Description"), u.name

    def test_the_readme_names_every_file(self) -> None:
        readme = (UNITS_DIR / "README.md").read_text(encoding="utf-8")
        for name in [*EXPECTED, EXAMPLE.name]:
            assert name in readme, name


class TestPrograms:
    def test_every_program_is_in_the_venv_or_a_system_binary(self) -> None:
        venv_bin = Path(sys.executable).parent
        for u in units():
            for argv in commands(u):
                program = argv[0]
                assert program.startswith("/"), f"{u.name}: {program} is not an absolute path"
                if program.startswith(VENV_BIN):
                    assert (venv_bin / program.removeprefix(VENV_BIN)).exists(), program
                else:
                    assert program.startswith(SYSTEM_DIRS), f"{u.name}: {program}"
                    assert Path(program).exists(), f"{u.name}: {program} is not on this machine"

    def test_paths_under_the_prefix_are_in_the_repository(self) -> None:
        for u in units():
            for key in ("WorkingDirectory",):
                value = u.one("Service", key)
                if value and value.startswith(PREFIX):
                    assert (ROOT / value.removeprefix(PREFIX).lstrip("/")).is_dir(), u.name
            for link in u.words("Unit", "Documentation"):
                path = link.removeprefix("file:")
                assert path.startswith(f"{PREFIX}/"), link
                assert (ROOT / path.removeprefix(f"{PREFIX}/")).is_file(), link

    def test_jukinet_subcommands_and_options_exist(self) -> None:
        used = venv_commands("jukinet")
        assert {args[0] for args in used} == {"migrate", "worker", "backup", "result-storage"}
        listing = re.search(r"\{([^}]*)\}", _help([sys.executable, "-m", "jukinet.cli", "--help"]))
        assert listing is not None
        choices = set(listing[1].split(","))
        for args in used:
            assert args[0] in choices, args
            options = [a for a in args[1:] if a.startswith("--")]
            if options:
                sub_help = _help([sys.executable, "-m", "jukinet.cli", args[0], "--help"])
                assert all(o in sub_help for o in options), args

    def test_prefect_commands_and_options_exist(self) -> None:
        prefect = str(Path(sys.executable).parent / "prefect")
        seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
        for args in venv_commands("prefect"):
            words = [a for a in args if a != "--no-prompt"]
            path = tuple(w for w in words[:2] if not w.startswith(("-", "$")) and w != WORK_POOL)
            options = tuple(w for w in words if w.startswith("--"))
            if (path, options) in seen:
                continue
            seen.add((path, options))
            text = _help([prefect, *path, "--help"])
            assert text.startswith(f"Usage: prefect {' '.join(path)}"), path
            assert all(o in text for o in options), (path, options)


def _help(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout


class TestEnvironment:
    def test_environment_files_have_an_example(self) -> None:
        readme = (UNITS_DIR / "README.md").read_text(encoding="utf-8")
        for u in services():
            files = u.values("Service", "EnvironmentFile")
            assert files == ["/etc/jukinet/jukinet.env"], u.name
            for name in files:
                assert (UNITS_DIR / f"{Path(name).name}.example").is_file(), name
                assert name in readme

    def test_every_variable_a_unit_uses_is_set_in_the_example(self) -> None:
        example = example_variables()
        for u in services():
            used = set()
            for _, argv in exec_argvs(u):
                used |= referenced_variables(" ".join(argv))
            used |= set(u.words("Service", "UnsetEnvironment"))
            missing = used - SYSTEMD_VARIABLES - set(example)
            assert not missing, f"{u.name}: {sorted(missing)} not in {EXAMPLE.name}"

    def test_every_variable_is_explained_in_japanese(self) -> None:
        for name, (value, comments) in example_variables().items():
            assert value, name
            assert any(re.search(r"[ぁ-んァ-ン一-龥]", c) for c in comments), name

    def test_the_example_holds_no_password(self) -> None:
        for name, (value, _) in example_variables().items():
            if name.endswith("_URL") and "://" in value:
                password = urlsplit(value).password
                assert password is None or password.startswith("CHANGE-ME"), name
            if name.endswith("AUTH_STRING"):
                assert value.partition(":")[2].startswith("CHANGE-ME"), name

    def test_services_write_only_under_their_writable_paths(self) -> None:
        example = example_variables()
        for name, variables in WRITES.items():
            u = unit(name)
            assert u.one("Service", "ProtectSystem") == "strict", name
            writable = [Path(p.lstrip("-")) for p in u.words("Service", "ReadWritePaths")]
            mounts = [Path(p) for p in u.words("Unit", "RequiresMountsFor")]
            for variable in variables:
                path = Path(example[variable][0])
                assert any(path.is_relative_to(w) for w in writable), (name, variable, path)
                assert any(path.is_relative_to(m) for m in mounts), (name, variable, path)

    def test_database_urls_reach_only_the_services_that_need_them(self) -> None:
        for name, withheld in WITHHELD.items():
            assert withheld <= set(unit(name).words("Service", "UnsetEnvironment")), name
        backup = set(unit("jukinet-backup.service").words("Service", "UnsetEnvironment"))
        assert not backup & {"JUKINET_STORE_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL"}


class TestDependencies:
    def test_product_units_named_anywhere_exist(self) -> None:
        names = {u.name for u in units()}
        for u in units():
            named = [w for k in DEPENDENCY_KEYS for w in u.words("Unit", k)]
            named += [w for k in INSTALL_KEYS for w in u.words("Install", k)]
            named += u.words("Timer", "Unit")
            for other in named:
                if other.startswith("jukinet"):
                    assert re.sub(r"@[^.]+\.", "@.", other) in names, f"{u.name}: {other}"

    def test_every_service_runs_as_jukinet_and_is_confined(self) -> None:
        for u in services():
            service = u.sections["Service"]
            assert service["User"] == ["jukinet"] and service["Group"] == ["jukinet"], u.name
            for key, value in (
                ("NoNewPrivileges", "yes"),
                ("ProtectSystem", "strict"),
                ("ProtectHome", "yes"),
                ("PrivateTmp", "yes"),
            ):
                assert u.one("Service", key) == value, (u.name, key)

    def test_the_worker_is_a_template_that_starts_after_the_migration(self) -> None:
        assert not [u for u in units() if u.name.startswith("jukinet-worker") and "@" not in u.name]
        worker = unit("jukinet-worker@.service")
        assert "%i" in (worker.one("Unit", "Description") or "")
        assert "jukinet-migrate.service" in worker.words("Unit", "Requires")
        after = worker.words("Unit", "After")
        assert {"jukinet-migrate.service", "jukinet-server.service"} <= set(after)
        assert ["worker"] in venv_commands("jukinet")

    def test_the_migration_runs_once_and_stays_done(self) -> None:
        migrate = unit("jukinet-migrate.service")
        assert migrate.one("Service", "Type") == "oneshot"
        assert migrate.one("Service", "RemainAfterExit") == "yes"

    def test_deploy_waits_for_the_server_then_registers_every_deployment(self) -> None:
        deploy = unit("jukinet-deploy.service")
        assert "jukinet-server.service" in deploy.words("Unit", "After")
        pre = [argv for key, argv in exec_argvs(deploy) if key == "ExecStartPre"]
        assert any(argv[1:4] == ["server", "status", "--wait"] for argv in pre)
        assert ["--no-prompt", "deploy", "--all"] in venv_commands("prefect")
        assert deploy.one("Service", "WorkingDirectory") == PREFIX
        creates = [a for a in venv_commands("prefect") if a[:2] == ["work-pool", "create"]]
        assert creates == [["work-pool", "create", WORK_POOL, "--type", "process"]]

    def test_prefect_yaml_deploys_to_the_pool_the_workers_poll(self) -> None:
        config = YAML(typ="safe").load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
        deployments = config["deployments"]
        assert {d["work_pool"]["name"] for d in deployments} == {WORK_POOL}
        scheduled = {d["name"] for d in deployments if d.get("schedules")}
        assert {"未送付通知の再送", "回答待ちの督促"} <= scheduled


class TestRestarts:
    def test_long_running_services_restart(self) -> None:
        for u in services():
            if u.one("Service", "Type") != "oneshot":
                assert u.one("Service", "Restart") == "always", u.name
                assert u.one("Service", "RestartSec"), u.name
                assert u.one("Unit", "StartLimitIntervalSec") is not None, u.name

    def test_the_worker_gives_up_only_on_a_configuration_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code = unit("jukinet-worker@.service").one("Service", "RestartPreventExitStatus")
        monkeypatch.setenv("JUKINET_CONFIG_DIR", str(tmp_path / "missing"))
        assert jukinet_main(["worker"]) == int(code or 0) == 2
        assert "ワーカーを起動しません" in capsys.readouterr().err

    def test_the_timer_starts_the_backup_daily_and_catches_up(self) -> None:
        timer = unit("jukinet-backup.timer")
        target = timer.one("Timer", "Unit")
        assert target == "jukinet-backup.service" and (UNITS_DIR / target).is_file()
        assert timer.one("Timer", "OnCalendar") and timer.one("Timer", "RandomizedDelaySec")
        assert timer.one("Timer", "Persistent") == "true"
        backup = unit(target)
        assert backup.one("Service", "Type") == "oneshot" and "Install" not in backup.sections
        backups = [a for a in venv_commands("jukinet") if a[0] == "backup"]
        assert backups == [["backup", "--to", "${JUKINET_BACKUP_DIR}"]]


@pytest.mark.skipif(not (shutil.which("pgrep") and shutil.which("pkill")), reason="no procps")
def test_stopping_a_worker_lets_runs_finish_then_terminates_the_rest(tmp_path: Path) -> None:
    """The worker's ExecStop= lines, waits shortened: a child that ends by itself is waited
    for, one that does not gets SIGTERM (Prefect records that run as Crashed)."""
    marker, finished = tmp_path / "terminated", tmp_path / "finished"
    child = (
        "import signal, sys, time, pathlib\n"
        f"signal.signal(signal.SIGTERM, lambda *_: (pathlib.Path({str(marker)!r}).touch(), sys.exit(0)))\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, subprocess, sys, time\n"
            "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"  # reaps its children, as a worker does
            f"subprocess.Popen(['sh', '-c', 'sleep 1; touch {finished}'])\n"
            f"subprocess.Popen([sys.executable, '-c', {child!r}])\n"
            "time.sleep(60)\n",
        ]
    )
    try:
        time.sleep(0.5)
        started = time.monotonic()
        for key, argv in exec_argvs(unit("jukinet-worker@.service")):
            if key != "ExecStop":
                continue
            argv = [
                "2" if i and argv[i - 1].endswith("/timeout") else a for i, a in enumerate(argv)
            ]
            argv = [str(parent.pid) if a == "$MAINPID" else a.replace("$$", "$") for a in argv]
            env = {"MAINPID": str(parent.pid), "PATH": "/usr/bin:/bin"}
            subprocess.run(argv, env=env, timeout=30, check=False)
        assert finished.exists() and marker.exists()
        assert time.monotonic() - started < 10
        left = subprocess.run(["pgrep", "-P", str(parent.pid)], capture_output=True, text=True)
        assert left.stdout == ""
    finally:
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=10)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    """Copies with PREFIX replaced by this repository, so every program exists; a warning (an
    unknown key, a value systemd ignores) fails as well as an error."""
    for u in units():
        text = u.path.read_text(encoding="utf-8").replace(PREFIX, str(ROOT))
        (tmp_path / u.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            "--man=no",
            "--recursive-errors=no",
            *sorted(str(tmp_path / u.name) for u in units()),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    output = [line for line in (done.stdout + done.stderr).splitlines() if "jukinet" in line]
    assert done.returncode == 0 and output == [], "\n".join(output) or done.stderr
