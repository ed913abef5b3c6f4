"""Resume (room, invitation, end), consent, evaluation retry backoff, and the webhook outbox.

Revision ID: 0002_resume_rights_outbox
Revises: 0001_initial
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_resume_rights_outbox"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("interviews", sa.Column("room", sa.String(200), nullable=True))
    op.add_column("interviews", sa.Column("invitation_id", sa.String(128), nullable=True))
    op.add_column("interviews", sa.Column("ended_at", sa.DateTime(), nullable=True))
    op.add_column("interviews", sa.Column("end_reason", sa.String(64), nullable=True))
    op.add_column("interviews", sa.Column("consent_at", sa.DateTime(), nullable=True))
    op.add_column("interviews", sa.Column("consent_text", sa.Text(), nullable=True))
    op.create_index("ix_interviews_room", "interviews", ["room"])
    op.create_index("ix_interviews_invitation_id", "interviews", ["invitation_id"])
    # an interview recorded before this revision is over if its evaluation was queued (that happens at its end)
    op.execute("UPDATE interviews SET ended_at = updated_at WHERE id IN (SELECT interview_id FROM evaluation_jobs)")
    op.add_column("evaluation_jobs", sa.Column("retry_at", sa.DateTime(), nullable=True))
    op.create_index("ix_evaluation_jobs_retry_at", "evaluation_jobs", ["retry_at"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("interview_id", sa.String(128), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("payload", JSONDoc, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_webhook_deliveries_interview_id", "webhook_deliveries", ["interview_id"])
    op.create_index("ix_webhook_deliveries_status", "webhook_deliveries", ["status"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("evaluation_jobs") as batch:
        batch.drop_index("ix_evaluation_jobs_retry_at")
        batch.drop_column("retry_at")
    with op.batch_alter_table("interviews") as batch:
        batch.drop_index("ix_interviews_invitation_id")
        batch.drop_index("ix_interviews_room")
        for column in ("consent_text", "consent_at", "end_reason", "ended_at", "invitation_id", "room"):
            batch.drop_column(column)
