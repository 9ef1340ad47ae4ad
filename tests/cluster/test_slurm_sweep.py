"""The `.test` sweep on a real SLURM cluster (tests/cluster/slurm.sh) through workflows/profiles/slurm.

One local run is the reference. The SLURM run is made in two invocations: the first (without retries) has one of
its group jobs killed with `scancel` while it runs, and must report it and leave nothing half-written; the second
resumes and completes. Checked: the results equal the local run's, every job went through sbatch (its id is in
SLURM's job completion log), grouping sent far fewer batch jobs than there are rule jobs, and the killed job's
work was redone."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
import yte

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROFILE = ROOT / "workflows" / "profiles" / "slurm"
TEST_PROFILE = HERE / "profile"  # the test cluster has no sacct: status from squeue, quick first check
TABLES = ["summary.csv", "mobilenet/cifar10/res.csv", "mobilenet/cifar10/layers.csv"]
LAYER_GROUP = "layer_runs"  # the profile's group of per-layer runs
RUN_TIMEOUT_S = 1800

SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.$", re.MULTILINE)
RUN_ID = re.compile(r"SLURM run ID: (\S+)")
JOB_STATS = re.compile(r"^(\w+)\s+(\d+)$", re.MULTILINE)

pytestmark = [pytest.mark.cluster, pytest.mark.workflow, pytest.mark.slow]


@dataclass
class Invocation:
    log: str
    returncode: int
    seconds: float

    def submitted(self) -> dict[str, Path]:
        """SLURM job id -> its SLURM log, for every sbatch this invocation made."""
        return {jobid: Path(log) for jobid, log in SUBMITTED.findall(self.log)}

    def run_ids(self) -> set[str]:
        return set(RUN_ID.findall(self.log))

    def rule_jobs(self) -> dict[str, int]:
        """Snakemake's job stats table: rule -> jobs planned (without the target rule `all`)."""
        table = self.log.split("Job stats:", 1)[1].split("\n\n", 1)[0]
        return {rule: int(n) for rule, n in JOB_STATS.findall(table) if rule not in ("all", "total")}


def profile_settings() -> tuple[dict, dict]:
    """The profile as Snakemake reads it, and the rule names defined at its top (MAPPER_RULE, LAYER_RULES, ...)."""
    text = (PROFILE / "config.yaml").read_text()
    names: dict = {}
    for statement in yaml.safe_load(text)["__definitions__"]:
        exec(statement, names)  # noqa: S102 - the repository's own profile
    return yte.process_yaml(text, require_use_yte=True), names


def snakemake_command(results: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--configfile",
        ".test/config.yaml",
        "--config",
        f"results={results}",
        *args,
    ]


def run(command: list[str], log: Path, env: dict[str, str] | None = None) -> Invocation:
    start = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=RUN_TIMEOUT_S, check=False
        )
    return Invocation(log.read_text(), done.returncode, time.monotonic() - start)


def squeue(env: dict[str, str]) -> list[tuple[str, str, str]]:
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i|%T|%k"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    return [tuple(line.split("|", 2)) for line in out.stdout.splitlines() if line.count("|") == 2]  # type: ignore


def cancel_group_job_mid_run(proc: subprocess.Popen, slurm_logs: Path, env: dict[str, str]) -> tuple[str, Path]:
    """Wait until a per-layer group job is running and has finished two of its runs, then scancel it. (Its SLURM log
    says `Finished jobid` twice per run: once from the run's own Snakemake, once from the group's.)"""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while proc.poll() is None and time.monotonic() < deadline:
        for jobid, state, comment in squeue(env):
            if state != "RUNNING" or not comment.startswith(f"rule_{LAYER_GROUP}"):
                continue
            logs = list(slurm_logs.rglob(f"{jobid}.log"))
            if logs and logs[0].read_text().count("Finished jobid") >= 4:
                subprocess.run(["scancel", jobid], env=env, check=True, timeout=30)
                return jobid, logs[0]
        time.sleep(0.5)
    pytest.fail("the sweep ended before a group job could be cancelled mid-run")


def half_written(results: Path) -> list[Path]:
    """Temporary files and directories of specs.io (`.<name>.<random>[.tmp]`) left in the results."""
    return [p for p in results.rglob(".*") if p.name != ".snakemake_timestamp"]


def unreadable_outputs(results: Path) -> list[Path]:
    return [
        p
        for pattern in ("runs/*/stats.json", "*/*/*/details.json", "*/*/*/runs.json")
        for p in results.glob(pattern)
        if not _is_json(p)
    ]


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except ValueError:
        return False
    return True


def job_completion_log(slurm_conf: Path) -> dict[str, dict[str, str]]:
    """SLURM's own record of every finished job (JobCompType=jobcomp/filetxt): job id -> its fields."""
    location = next(
        line.split("=", 1)[1].strip() for line in slurm_conf.read_text().splitlines() if line.startswith("JobCompLoc=")
    )
    records = {}
    for line in Path(location).read_text().splitlines():
        fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
        records[fields["JobId"]] = fields
    return records


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("slurm-sweep")


@pytest.fixture(scope="module")
def local(work, report) -> Invocation:
    local = run(snakemake_command(work / "local", "--cores", "2"), work / "local.log")
    assert local.returncode == 0, local.log[-4000:]
    report.append(f"local run (snakemake --cores 2): {local.seconds:.0f} s wall")
    return local


@dataclass
class SlurmSweep:
    results: Path
    killed: Invocation
    resumed: Invocation
    cancelled_job: str
    cancelled_outputs: list[Path]  # outputs of the cancelled group job's runs that started before the kill
    missing_after_kill: list[Path]
    half_written_after_kill: list[Path]
    unreadable_after_kill: list[Path]


@pytest.fixture(scope="module")
def sweep(work, slurm_conf, local, report) -> SlurmSweep:
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[slurm]'")
    env = {**os.environ, "SLURM_CONF": str(slurm_conf)}
    results, slurm_logs = work / "slurm", work / "slurm_logs"
    command = snakemake_command(
        results, "--profile", str(PROFILE), "--profile", str(TEST_PROFILE), "--slurm-logdir", str(slurm_logs)
    )
    # First invocation without retries, so that the killed job fails the run instead of being resubmitted in place.
    start = time.monotonic()
    log = work / "slurm-killed.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*command, "--retries", "0"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            jobid, group_log = cancel_group_job_mid_run(proc, slurm_logs, env)
            proc.wait(timeout=RUN_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
    killed = Invocation(log.read_text(), proc.returncode, time.monotonic() - start)
    outputs = [Path(p) for p in re.findall(r"^\s+output: (.+)$", group_log.read_text(), re.MULTILINE)]
    missing = [p for p in outputs if not p.exists()]
    half, unreadable = half_written(results), unreadable_outputs(results)
    resumed = run(command, work / "slurm-resumed.log", env)
    assert resumed.returncode == 0, resumed.log[-4000:]
    report.append(
        f"SLURM run: {killed.seconds:.0f} s until the cancelled job stopped it, {resumed.seconds:.0f} s "
        f"to resume, {killed.seconds + resumed.seconds:.0f} s in all"
    )
    return SlurmSweep(results, killed, resumed, jobid, outputs, missing, half, unreadable)


def test_results_equal_the_local_run(work, sweep):
    for table in TABLES:
        local = pd.read_csv(work / "local" / table)
        slurm = pd.read_csv(sweep.results / table)
        pd.testing.assert_frame_equal(slurm, local, check_exact=False, rtol=1e-12, obj=table)


def test_every_job_went_through_sbatch(sweep, slurm_conf):
    submitted = {**sweep.killed.submitted(), **sweep.resumed.submitted()}
    run_ids = sweep.killed.run_ids() | sweep.resumed.run_ids()
    assert len(run_ids) == 2
    # SLURM's completion log, written by slurmctld, has exactly the jobs Snakemake reported submitting
    recorded = {jobid: fields for jobid, fields in job_completion_log(slurm_conf).items() if fields["Name"] in run_ids}
    assert set(recorded) == set(submitted)
    states = {jobid: fields["JobState"] for jobid, fields in recorded.items()}
    assert states.pop(sweep.cancelled_job) == "CANCELLED"
    assert set(states.values()) == {"COMPLETED"}
    # each job kept its SLURM log, showing the rule jobs it ran
    for jobid, log in submitted.items():
        assert "Finished jobid" in log.read_text() or jobid == sweep.cancelled_job, log


def test_grouping_cut_the_number_of_batch_jobs(sweep, report):
    profile, names = profile_settings()
    planned = sweep.killed.rule_jobs()
    mapper_runs = planned[names["MAPPER_RULE"]]
    # a group's components: one mapper run each (the sparse accelerator re-costs the dense runs in its table step)
    groups_needed = math.ceil(mapper_runs / profile["group-components"][LAYER_GROUP])
    logs = [*sweep.killed.submitted().values(), *sweep.resumed.submitted().values()]
    layer_group_jobs = [log for log in logs if log.parts[-2].startswith(f"group_{LAYER_GROUP}")]
    assert not [log for log in logs for rule in names["LAYER_RULES"] if f"/rule_{rule}/" in str(log)]
    # the cancelled group is submitted again; the resumed run may split what was left differently
    assert groups_needed <= len(layer_group_jobs) <= groups_needed + 2
    rule_jobs = sum(planned.values())
    assert len(logs) * 5 < rule_jobs
    report.append(
        f"rule jobs: {rule_jobs} ({mapper_runs} mapper runs); SLURM jobs submitted with grouping: "
        f"{len(sweep.killed.submitted())} + {len(sweep.resumed.submitted())} after the cancel "
        f"({len(layer_group_jobs)} per-layer group jobs); without grouping: one per rule job"
    )


def test_a_cancelled_job_is_reported_and_rerun_without_partial_results(sweep, report):
    killed = sweep.killed
    assert killed.returncode != 0
    # Snakemake names the failed group job and its SLURM log, and prints that log, where slurmstepd says why
    error = killed.log.split(f"Error in group {LAYER_GROUP}", 1)[1]
    assert f"/{sweep.cancelled_job}.log (check log file(s) for error details)" in error.split("jobs:", 1)[0]
    assert f"*** JOB {sweep.cancelled_job} ON {os.uname().nodename.split('.')[0]} CANCELLED AT" in error
    # killed mid-run: some of its runs had finished, the one running did not; nothing is half-written
    assert sweep.cancelled_outputs and sweep.missing_after_kill
    assert sweep.half_written_after_kill == [] and sweep.unreadable_after_kill == []
    # the next invocation re-ran exactly what was missing and the results are complete
    redone = [p for p in sweep.missing_after_kill if p.exists()]
    assert redone == sweep.missing_after_kill
    assert sum(sweep.resumed.rule_jobs().values()) < sum(killed.rule_jobs().values())
    assert half_written(sweep.results) == [] and unreadable_outputs(sweep.results) == []
    report.append(
        f"scancel of group job {sweep.cancelled_job}: reported, {len(sweep.missing_after_kill)} of its "
        f"{len(sweep.cancelled_outputs)} started outputs missing afterwards, all re-made on resume"
    )
