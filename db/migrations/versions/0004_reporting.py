"""reporting: insights, plan targets, weekly digest

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 23:36:14.329926
"""
from alembic import op
import sqlalchemy as sa
import db.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'uncertain', name='digeststatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('retry_from', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_try_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('reported', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_digest_deliveries_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_deliveries')),
    sa.UniqueConstraint('org_id', 'week', 'email', name=op.f('uq_digest_deliveries_org_id'))
    )
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_digest_deliveries_status', ['status', 'next_try_at'], unique=False)

    op.create_table('digest_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_digest_recipients_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_recipients')),
    sa.UniqueConstraint('org_id', 'email', name=op.f('uq_digest_recipients_org_id'))
    )
    with op.batch_alter_table('digest_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_recipients_org_id'), ['org_id'], unique=False)

    op.create_table('digest_settings',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('hour', sa.SmallInteger(), nullable=False),
    sa.Column('updated_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_digest_settings_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_digest_settings'))
    )
    op.create_table('plan_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('cdcs_channel_pct', 'posts_per_channel_week', 'flagged_handled_pct', 'published_posts', 'digital_products_pct', 'manual', name='targetkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('comparison', sa.String(length=2), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('manual_value', sa.Float(), nullable=True),
    sa.Column('manual_note', sa.Text(), nullable=True),
    sa.Column('plan_ref', sa.String(length=255), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_plan_targets_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_plan_targets_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_targets'))
    )
    with op.batch_alter_table('plan_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_targets_org_id'), ['org_id'], unique=False)

    op.create_table('post_metric_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('fetched_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('views', sa.Integer(), nullable=True),
    sa.Column('reach', sa.Integer(), nullable=True),
    sa.Column('reactions', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=True),
    sa.Column('shares', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['target_id'], ['post_targets.id'], name=op.f('fk_post_metric_snapshots_target_id_post_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_metric_snapshots'))
    )
    with op.batch_alter_table('post_metric_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_post_metric_snapshots_target_at', ['target_id', 'fetched_at'], unique=False)

    op.create_table('post_metrics',
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Enum('facebook_page', 'zalo_oa', name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('published_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('views', sa.Integer(), nullable=True),
    sa.Column('reach', sa.Integer(), nullable=True),
    sa.Column('reactions', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=True),
    sa.Column('shares', sa.Integer(), nullable=True),
    sa.Column('engagement', sa.Integer(), nullable=False),
    sa.Column('fetched_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_fetch_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fetches', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_post_metrics_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_post_metrics_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_metrics_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['post_targets.id'], name=op.f('fk_post_metrics_target_id_post_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('target_id', name=op.f('pk_post_metrics'))
    )
    with op.batch_alter_table('post_metrics', schema=None) as batch_op:
        batch_op.create_index('ix_post_metrics_channel_published', ['channel_id', 'published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_metrics_next_fetch_at'), ['next_fetch_at'], unique=False)
        batch_op.create_index('ix_post_metrics_org_published', ['org_id', 'published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_metrics_post_id'), ['post_id'], unique=False)

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_org_created', ['org_id', 'created_at'], unique=False)

    with op.batch_alter_table('post_targets', schema=None) as batch_op:
        batch_op.create_index('ix_post_targets_channel_published', ['channel_id', 'published_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('post_targets', schema=None) as batch_op:
        batch_op.drop_index('ix_post_targets_channel_published')

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_org_created')

    with op.batch_alter_table('post_metrics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_metrics_post_id'))
        batch_op.drop_index('ix_post_metrics_org_published')
        batch_op.drop_index(batch_op.f('ix_post_metrics_next_fetch_at'))
        batch_op.drop_index('ix_post_metrics_channel_published')

    op.drop_table('post_metrics')
    with op.batch_alter_table('post_metric_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_post_metric_snapshots_target_at')

    op.drop_table('post_metric_snapshots')
    with op.batch_alter_table('plan_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_targets_org_id'))

    op.drop_table('plan_targets')
    op.drop_table('digest_settings')
    with op.batch_alter_table('digest_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_recipients_org_id'))

    op.drop_table('digest_recipients')
    with op.batch_alter_table('digest_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_deliveries_status')

    op.drop_table('digest_deliveries')
