"""Test cases, evaluation runs and their results (registered by the behavior app, imported by behavior.models).

A case's `definition` holds the suite format's CASE (behavior/evaluations/format.py); key, name, kind and tags are
copied out of it for listing. A run executes cases x repeats on one version (or the draft); each attempt is one
EvalResult with its own evaluation session, so every turn's trace is kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CaseKind(models.TextChoices):
    SCRIPTED = "scripted", "Scripted"
    SIMULATED = "simulated", "Simulated customer"


class EvalCase(models.Model):
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="eval_cases")
    key = models.SlugField(max_length=80)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=CaseKind.choices, default=CaseKind.SCRIPTED)
    tags = models.JSONField(default=list, blank=True)
    definition = models.JSONField(default=dict)
    revision = models.PositiveIntegerField(default=1, help_text="Bumped by every change; guards concurrent edits.")
    # The sandbox conversation it was saved from, if any.
    source_session = models.ForeignKey(
        "conversations.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "behavior"
        ordering = ["key", "id"]
        constraints = [models.UniqueConstraint(fields=["agent", "key"], name="eval_case_key_unique_per_agent")]

    def __str__(self) -> str:
        return f"{self.key} ({self.kind})"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    ERROR = "error", "Error"


RUN_FINISHED = frozenset({RunStatus.PASSED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.ERROR})


class RunPurpose(models.TextChoices):
    MANUAL = "manual", "Started by hand"
    PUBLISH_CHECK = "publish_check", "Before publishing"
    CLI = "cli", "Command line"
    API = "api", "REST API"


class EvalRun(models.Model):
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="eval_runs")
    # null = the agent's draft as it is while the run goes (draft_revision records which one it started on)
    version = models.ForeignKey(
        "behavior.BehaviorVersion", null=True, blank=True, on_delete=models.RESTRICT, related_name="eval_runs"
    )
    draft_revision = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    purpose = models.CharField(max_length=20, choices=RunPurpose.choices, default=RunPurpose.MANUAL)
    # What was chosen: case keys and/or tags ("" = the whole suite)
    selection = models.JSONField(default=dict, blank=True)
    repeats = models.PositiveSmallIntegerField(default=1)
    concurrency = models.PositiveSmallIntegerField(default=4)
    min_pass_rate = models.FloatField(null=True, blank=True)
    # The run it is compared with by default (e.g. the published version's run of a publish check)
    baseline = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    progress_total = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveIntegerField(default=0)
    # Entity keys of the behavior it ran on, for coverage: guidelines, journeys (states, transitions), canned, tools
    inventory = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    coverage = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        app_label = "behavior"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agent", "-created_at"], name="eval_run_agent_created")]

    def __str__(self) -> str:
        return f"Run {self.pk} of agent {self.agent_id}: {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in RUN_FINISHED

    @property
    def version_label(self) -> str:
        version = self.version if self.version_id is not None else None
        if version is None:
            return "draft" if self.draft_revision is None else f"draft (revision {self.draft_revision})"
        return f"v{version.number}"


class ResultStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled"


RESULT_FINISHED = frozenset({ResultStatus.PASSED, ResultStatus.FAILED, ResultStatus.ERROR, ResultStatus.CANCELLED})


class EvalResult(models.Model):
    """One attempt: one case, one repeat."""

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="results")
    case = models.ForeignKey(EvalCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="results")
    case_key = models.SlugField(max_length=80)
    # The case as it was when the run started: later edits do not rewrite history
    definition = models.JSONField(default=dict)
    repeat = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=ResultStatus.choices, default=ResultStatus.PENDING)
    session = models.ForeignKey(
        "conversations.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Per turn: the customer message, replies, offsets, turn id and what the trace says (active guidelines,
    # tools with arguments, journey path, canned response, handoff, tokens, latency)
    turns = models.JSONField(default=list, blank=True)
    # Per assertion: where it applies (turn index or "conversation"), passed, the cause in words
    assertions = models.JSONField(default=list, blank=True)
    # goal_reached, turns_to_goal, simulator rationale, llm_calls, tokens, latency_ms
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "behavior"
        ordering = ["run_id", "case_key", "repeat", "id"]
        indexes = [models.Index(fields=["run", "status"], name="eval_result_run_status")]
        constraints = [models.UniqueConstraint(fields=["run", "case_key", "repeat"], name="eval_result_unique_attempt")]

    def __str__(self) -> str:
        return f"{self.case_key} #{self.repeat + 1}: {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in RESULT_FINISHED
