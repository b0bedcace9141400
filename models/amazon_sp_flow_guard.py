"""The audit trail: what the Amazon import stores (events, their lines, cursors, settlements,
import runs) is written by the import's flows only, never by a user's ``write``.

The flows run with the user's rights (access rules and companies still apply) and mark their
environment at their entry points (the import, the event and settlement buttons) with
``records._amazon_sp_flow()``; the scheduled actions run as superuser. Outside a flow, a
``create``, ``unlink`` or a ``write`` of a protected field raises an AccessError.

The mark is the context key ``amazon_sp_flow`` holding a Python object, not a JSON value: a
context sent over RPC cannot carry it.
"""

from odoo import api, models
from odoo.exceptions import AccessError

FLOW_KEY = "amazon_sp_flow"


class _FlowMark:
    """The value of the context key: only code running in the server can hold it."""

    __slots__ = ()

    def __repr__(self):
        return "<amazon_sp_flow>"


FLOW_MARK = _FlowMark()

# Fields that mail.thread / mail.activity.mixin write on behalf of any user (followers,
# activities, the main attachment): not part of the audit trail.
_MAIL_PREFIXES = ("message_", "activity_", "website_message_", "rating_")


def in_flow(env):
    """True in an import flow (or as superuser)."""
    return bool(env.su or env.context.get(FLOW_KEY) is FLOW_MARK)


def flow(records):
    """``records`` in the import flow (their writes of protected fields allowed)."""
    return records.with_context(**{FLOW_KEY: FLOW_MARK})


def check_flow(records, operation, fnames=(), user_fields=()):
    """Raise an AccessError when a user, outside the import flow, creates or deletes
    ``records`` or writes one of ``fnames`` that is not in ``user_fields``."""
    if in_flow(records.env):
        return
    if operation == "write":
        protected = [
            fname
            for fname in fnames
            if fname not in user_fields and not fname.startswith(_MAIL_PREFIXES)
        ]
        if not protected:
            return
        labels = ", ".join(
            sorted(records._fields[f].string for f in protected if f in records._fields)
        )
        raise AccessError(
            records.env._(
                "%(model)s: %(fields)s are written by the Amazon import only.",
                model=records._description,
                fields=labels or ", ".join(protected),
            )
        )
    raise AccessError(
        records.env._(
            "%(model)s records are created and deleted by the Amazon import only.",
            model=records._description,
        )
    )


class Base(models.AbstractModel):
    _inherit = "base"

    def _amazon_sp_flow(self):
        """These records in an Amazon import flow (the services mark their entry points with
        it; see this module's docstring). Private: not callable over RPC."""
        return flow(self)


class AmazonSpImportRecord(models.AbstractModel):
    """Mixin of the records the Amazon import writes (events, their lines, cursors, settlements,
    import runs): outside an import flow, users create, delete and write none of their fields
    but ``_amazon_sp_user_fields`` (a note, a reason)."""

    _name = "amazon.sp.import.record"
    _description = "Record Written by the Amazon Import"

    #: Fields a user may write outside the import flow.
    _amazon_sp_user_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        check_flow(self, "create")
        return super().create(vals_list)

    def write(self, vals):
        check_flow(self, "write", vals, self._amazon_sp_user_fields)
        return super().write(vals)

    def unlink(self):
        check_flow(self, "unlink")
        return super().unlink()
