"""monitoring: items, clusters, reviews, hot topics, alerts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 20:48:19.195323
"""
from alembic import op
import sqlalchemy as sa
import db.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('first_seen', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters'))
    )
    op.create_table('trend_states',
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('state', sa.JSON(), nullable=True),
    sa.Column('last_item_id', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_trend_states'))
    )
    op.create_table('cluster_bands',
    sa.Column('band_key', sa.String(length=40), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_cluster_bands_cluster_id_clusters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('band_key', 'cluster_id', name=op.f('pk_cluster_bands'))
    )
    op.create_table('feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('interval_s', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('cursor', sa.JSON(), nullable=True),
    sa.Column('next_fetch_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_fetched_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_feeds_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feeds')),
    sa.UniqueConstraint('org_id', 'url', name=op.f('uq_feeds_org_id'))
    )
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feeds_next_fetch_at'), ['next_fetch_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feeds_org_id'), ['org_id'], unique=False)

    op.create_table('hot_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('label', sa.String(length=512), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('entities', sa.JSON(), nullable=False),
    sa.Column('representative_ids', sa.JSON(), nullable=False),
    sa.Column('started_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('peak_score', sa.Float(), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_hot_topics_org_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hot_topics')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_hot_topics_scope'))
    )
    with op.batch_alter_table('hot_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hot_topics_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hot_topics_org_id'), ['org_id'], unique=False)

    op.create_table('channel_cursors',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.JSON(), nullable=True),
    sa.Column('next_fetch_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_fetched_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_cursors_channel_id_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('channel_id', name=op.f('pk_channel_cursors'))
    )
    op.create_table('hot_topic_points',
    sa.Column('hot_topic_id', sa.Integer(), nullable=False),
    sa.Column('at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('baseline', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['hot_topic_id'], ['hot_topics.id'], name=op.f('fk_hot_topic_points_hot_topic_id_hot_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('hot_topic_id', 'at', name=op.f('pk_hot_topic_points'))
    )
    op.create_table('items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.Enum('facebook_comment', 'facebook_post', 'zalo_message', 'news_article', name='itemsource', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('external_id', sa.String(length=512), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('feed_id', sa.Integer(), nullable=True),
    sa.Column('parent_external_id', sa.String(length=512), nullable=True),
    sa.Column('reply_to_external_id', sa.String(length=512), nullable=True),
    sa.Column('author_hash', sa.String(length=64), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('collected_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('classified_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('risk', sa.String(length=32), nullable=True),
    sa.Column('topic', sa.String(length=32), nullable=True),
    sa.Column('sentiment', sa.String(length=32), nullable=True),
    sa.Column('toxicity', sa.String(length=32), nullable=True),
    sa.Column('risk_score', sa.Float(), nullable=False),
    sa.Column('proba', sa.JSON(), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=True),
    sa.Column('flagged', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('review_status', sa.Enum('new', 'confirmed', 'dismissed', 'escalated', name='reviewstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('human_labels', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_items_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_items_channel_id_channels'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_items_cluster_id_clusters'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['feed_id'], ['feeds.id'], name=op.f('fk_items_feed_id_feeds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_items_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_items_reviewed_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_items_source'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_cluster_id'), ['cluster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_items_queue', ['org_id', 'flagged', 'review_status', 'risk_score'], unique=False)
        batch_op.create_index('ix_items_unclassified', ['classified_at', 'id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('high_risk', 'hot_topic', name='alertkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('hot_topic_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', name='alertstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_try_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hot_topic_id'], ['hot_topics.id'], name=op.f('fk_alerts_hot_topic_id_hot_topics'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_alerts_item_id_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_alerts_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alerts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('kind', 'subject', 'user_id', name=op.f('uq_alerts_kind'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_pending', ['status', 'user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_user_id'), ['user_id'], unique=False)

    op.create_table('item_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_notes_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_item_notes_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_notes'))
    )
    with op.batch_alter_table('item_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_notes_item_id'), ['item_id'], unique=False)

    op.create_table('label_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_label_corrections_item_id_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_label_corrections_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_corrections'))
    )
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_duty', sa.Boolean(), server_default=sa.text('false'), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('on_duty')

    op.drop_table('label_corrections')
    with op.batch_alter_table('item_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_notes_item_id'))

    op.drop_table('item_notes')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_user_id'))
        batch_op.drop_index('ix_alerts_pending')

    op.drop_table('alerts')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_unclassified')
        batch_op.drop_index('ix_items_queue')
        batch_op.drop_index(batch_op.f('ix_items_org_id'))
        batch_op.drop_index(batch_op.f('ix_items_created_at'))
        batch_op.drop_index(batch_op.f('ix_items_cluster_id'))
        batch_op.drop_index(batch_op.f('ix_items_assignee_id'))

    op.drop_table('items')
    op.drop_table('hot_topic_points')
    op.drop_table('channel_cursors')
    with op.batch_alter_table('hot_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hot_topics_org_id'))
        batch_op.drop_index(batch_op.f('ix_hot_topics_last_seen_at'))

    op.drop_table('hot_topics')
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feeds_org_id'))
        batch_op.drop_index(batch_op.f('ix_feeds_next_fetch_at'))

    op.drop_table('feeds')
    op.drop_table('cluster_bands')
    op.drop_table('trend_states')
    op.drop_table('clusters')
