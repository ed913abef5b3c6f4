"""The schema as it was before migrations: interviews, turns, the evaluation queue and evaluations.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "interviews",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("candidate_name", sa.String(200), nullable=True),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("level", sa.String(16), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("config_hash", sa.String(64), nullable=True),
        sa.Column("snapshot", JSONDoc, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "turns",
        sa.Column("interview_id", sa.String(128), sa.ForeignKey("interviews.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("idx", sa.Integer(), primary_key=True),
        sa.Column("speaker", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("phase", sa.String(32), nullable=True),
        sa.Column("question_id", sa.String(128), nullable=True),
        sa.Column("stt_confidence", sa.Float(), nullable=True),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("metrics", JSONDoc, nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "evaluation_jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("interview_id", sa.String(128), sa.ForeignKey("interviews.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("record", JSONDoc, nullable=False),
        sa.Column("output_dir", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_evaluation_jobs_status", "evaluation_jobs", ["status"])
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("interview_id", sa.String(128), sa.ForeignKey("interviews.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("evaluation_jobs.id", ondelete="SET NULL"), nullable=True),
        sa.Column("overall_score", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("role_fit_percentage", sa.Integer(), nullable=False),
        sa.Column("report", JSONDoc, nullable=False),
        sa.Column("json_path", sa.Text(), nullable=False),
        sa.Column("html_path", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_evaluations_interview_id", "evaluations", ["interview_id"])


def downgrade() -> None:
    op.drop_table("evaluations")
    op.drop_table("evaluation_jobs")
    op.drop_table("turns")
    op.drop_table("interviews")
