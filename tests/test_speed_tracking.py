from datetime import timedelta

from odoo.tests import tagged

from .common_import import AmazonImportCommon


@tagged("post_install", "-at_install")
class TestSpeedTracking(AmazonImportCommon):
    """The chatter line of each event whose state changed: the one Odoo writes (same body,
    author, subtype and tracking values), made in one ``create`` for all the events a
    transaction changed instead of one per event."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls._import_account("na", cls.marketplace_us)
        for days in range(2, 9):
            cls.dataset.add_refund(
                "US", posted=cls.now - timedelta(days=days), items=[cls.us_item(f"SKU-{days}")]
            )

    def _tracked(self, events, reason):
        """Send ``events`` to review in a transaction of their own (as the import's next page
        is); returns the queries the tracking took at commit time."""
        self.env.flush_all()
        self.env.cr.precommit.clear()  # the import's own changes (created in this transaction)
        # Odoo's test classes turn tracking off: on, as in production
        tracked = events.with_context(tracking_disable=False, mail_notrack=False)
        tracked._amazon_sp_set_review(reason, "waits")
        self.env.flush_all()
        queries = self.env.cr.sql_log_count
        self.env.cr.precommit.run()
        queries = self.env.cr.sql_log_count - queries
        self.env.invalidate_all()
        return queries

    def _tracking_line(self, event):
        messages = event.message_ids.filtered("tracking_value_ids")
        self.assertEqual(len(messages), 1, event.display_name)
        values = messages.tracking_value_ids.sorted(lambda v: v.field_id.name)
        return (
            messages.author_id,
            messages.message_type,
            messages.subtype_id,
            messages.is_internal,
            str(messages.body),
            [(v.field_id.name, v.old_value_char or False, v.new_value_char) for v in values],
        )

    def test_events_tracked_together_as_odoo_tracks_one(self):
        self._sync(self.account)
        events = self._events(self.account).sorted("id")
        self.assertEqual(len(events), 7)
        self.assertEqual(set(events.mapped("state")), {"posted"})
        one, many = events[:1], events[1:]
        odoo_queries = self._tracked(one, "plan")  # one event: Odoo's own tracking
        batch_queries = self._tracked(many, "plan")
        expected = self._tracking_line(one)
        self.assertEqual(expected[3], True)
        self.assertEqual(
            expected[5],
            [
                ("review_reason", False, "Needs a decision"),
                ("state", "Posted", "To Review"),
            ],
        )
        for event in many:
            self.assertEqual(self._tracking_line(event), expected)
        # Six events' lines in fewer queries than Odoo takes for two.
        self.assertLess(batch_queries, 2 * odoo_queries)
