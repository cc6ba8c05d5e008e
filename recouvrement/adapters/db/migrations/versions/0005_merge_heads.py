"""Join the three branches (ingestion formats, litigation and audit, dunning pauses) into one head.

Revision ID: 0005_merge
Revises: 0002_ingest, 0003_litigation, 0004_dunning
"""

revision = "0005_merge"
down_revision = ("0002_ingest", "0003_litigation", "0004_dunning")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
