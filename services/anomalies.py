from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from odoo import Command, api, fields, models
from odoo.tools import format_amount

from ..domain import anomalies, claims
from .common import company_tz, to_decimal

# Days of events read per run: the SKU baseline (9 weeks), the concentration window (90 days by
# default) and refunds still waiting for their item (the return window, 45 days by default).
LOOKBACK_DAYS = 200
# The daily-volume rule reports only the last days (older days were reported by older runs).
DAILY_RECENT_DAYS = 7
ORDER_TYPES = ("refund", "guarantee_claim", "chargeback", "sale")
# Adjustment amount types by which Amazon pays a seller back for an item (lost, damaged, not
# returned); with the order id and SKU they close a claim candidate.
REIMBURSEMENT_TYPES = (
    "Adjustment/FBAInventoryReimbursement",
    "Adjustment/LostOrDamagedReimbursement",
    "Adjustment/CanceledButPickedUpReimbursement",
    "Adjustment/ReimbursementClawback",
    "Adjustment/REVERSAL_REIMBURSEMENT",
    "Adjustment/WAREHOUSE_DAMAGE",
    "Adjustment/WAREHOUSE_LOST",
    "Adjustment/COMPENSATED_CLAWBACK",
)


class AmazonSpAnomalyService(models.AbstractModel):
    """The anomaly rules (``domain.anomalies``) and the claim candidates (``domain.claims``)
    over the staged events, Amazon's returns and reimbursements: each hit and candidate is a
    record kept per account and key (a later run updates it), each new one an activity for the
    account's accountant. Entry point: ``_run(accounts, today)``."""

    _name = "amazon.sp.service.anomalies"
    _description = "Amazon SP-API: anomaly rules and claim candidates"

    @api.model
    def _today(self, company=None):
        """Today in ``company``'s time zone (the days of the events' accounting dates)."""
        now = self.env["amazon.sp.service.import"]._now()
        return now.astimezone(company_tz(self.env, company or self.env.company)).date()

    @api.model
    def _run(self, accounts=None, today=None):
        """Run the rules and the claims for ``accounts`` (default: every active account).
        Returns {account id: (anomalies, claims)} found in this run."""
        accounts = accounts if accounts is not None else self.env["amazon.sp.account"].search([])
        result = {}
        for account in accounts:
            account = account.with_company(account.company_id)._amazon_sp_flow()
            service = self.with_env(account.env)
            day = today or service._today(account.company_id)
            result[account.id] = service._run_account(account, day)
        return result

    def _run_account(self, account, today):
        settings = self.env["amazon.sp.anomaly.setting"]._amazon_sp_for(account.company_id)
        marketplaces = self.env["amazon.sp.marketplace"].search([])
        by_code = {mp.code: mp for mp in marketplaces}

        def setting(code):
            marketplace = by_code.get(code)
            return settings.get(marketplace.id if marketplace else False) or settings[False]

        start = today - timedelta(days=LOOKBACK_DAYS)
        events = self.env["amazon.sp.event"].search(
            [
                ("account_id", "=", account.id),
                ("event_type", "in", (*ORDER_TYPES, "adjustment")),
                ("posted_date", ">=", datetime.combine(start, datetime.min.time())),
                ("state", "!=", "ignored"),
            ],
            order="posted_date, id",
        )
        returns = self._returns(account, start)
        facts = self._facts(account, events, returns, setting, start)
        hits = anomalies.run_rules(
            facts["rows"], facts["return_rows"], today, lambda code: setting(code)[0]
        )
        recent = today - timedelta(days=DAILY_RECENT_DAYS)
        hits = [h for h in hits if h.rule != anomalies.RULE_DAILY or h.day >= recent]
        found = self._store_hits(account, hits, facts, by_code)
        candidates = claims.candidates(
            facts["refunds"],
            facts["claim_returns"],
            facts["reimbursements"],
            today,
            window_days=lambda code: setting(code)[1],
        )
        kept = self._store_claims(account, candidates, facts, by_code)
        return found, kept

    # ------------------------------------------------------------------------------------------
    # Rows for the pure rules
    # ------------------------------------------------------------------------------------------

    def _returns(self, account, start):
        return self.env["amazon.sp.return"].search(
            [
                ("account_id", "=", account.id),
                ("return_date", ">=", datetime.combine(start, datetime.min.time())),
            ]
        )

    def _facts(self, account, events, returns, setting, start):
        """The rows the pure rules read, built from the records in a few queries."""
        buyers = self._buyers(account, events)
        lines_of = defaultdict(list)
        for line in events.line_ids:
            lines_of[line.event_id.id].append(
                (line.amount_type, to_decimal(line.amount), line.sku or None)
            )
        fba_orders = set()
        for event in events:
            if event.amazon_order_id and any(
                "FBA" in amount_type.upper() for amount_type, _a, _s in lines_of[event.id]
            ):
                fba_orders.add(event.amazon_order_id)
        rows, refunds, reimbursements = [], [], []
        for event in events:
            code = event.marketplace_id.code or ""
            lines = lines_of[event.id]
            day = event.date or event.posted_date.date()
            currency = event.currency_id.name or ""
            if event.event_type in ORDER_TYPES:
                amount = anomalies.buyer_amount(lines)
                rows.append(
                    anomalies.OrderMoney(
                        event.id,
                        event.event_type,
                        code,
                        day,
                        amount if event.event_type == "sale" else -amount,
                        order_id=event.amazon_order_id or None,
                        skus=tuple(sorted({sku for _t, _a, sku in lines if sku})),
                        buyer=buyers.get(event.amazon_order_id),
                        currency=currency,
                    )
                )
            if event.event_type == "refund" and event.amazon_order_id:
                refunds += self._refund_rows(event, lines, code, day, currency, fba_orders, setting)
        reported, paid_by = self._report_reimbursements(account)
        for event in events.filtered(lambda ev: ev.event_type == "adjustment"):
            # An adjustment Amazon's reimbursements report lists is counted once, as a row.
            if event.amazon_order_id and event.id not in paid_by:
                reimbursements += self._event_reimbursements(
                    event, lines_of[event.id], event.date or event.posted_date.date()
                )
        reimbursements += reported
        return_rows, claim_returns = self._return_rows(returns)
        fba_orders |= {r.amazon_order_id for r in returns if r.source == "fba"}
        # An FBA return of the order makes its other refunds FBA too.
        refunds = [
            r if r.fba or r.order_id not in fba_orders else replace(r, fba=True) for r in refunds
        ]
        return {
            "rows": rows,
            "return_rows": return_rows,
            "refunds": refunds,
            "claim_returns": claim_returns,
            "reimbursements": reimbursements,
            "events": events,
            "returns": returns,
            "buyers": buyers,
            "start": start,
        }

    def _refund_rows(self, event, lines, code, day, currency, fba_orders, setting):
        """The principal refunded per SKU of a refund event (claims compare it with Amazon's
        reimbursement, which pays the item, not the tax or the shipping)."""
        principal = defaultdict(Decimal)
        for amount_type, amount, sku in lines:
            if sku and amount_type == "Charge/Principal":
                principal[sku] -= amount
        fba = setting(code)[2] or event.amazon_order_id in fba_orders
        return [
            claims.RefundRow(
                event.id, event.amazon_order_id, sku, day, amount, currency, code, fba=fba
            )
            for sku, amount in sorted(principal.items())
            if amount > 0
        ]

    def _event_reimbursements(self, event, lines, day):
        paid = defaultdict(Decimal)
        for amount_type, amount, sku in lines:
            if sku and amount_type in REIMBURSEMENT_TYPES:
                paid[sku] += amount
        return [
            claims.ReimbursementRow(
                event.id,
                event.amazon_order_id,
                sku,
                day,
                amount,
                event.currency_id.name or "",
                source="event",
            )
            for sku, amount in sorted(paid.items())
        ]

    def _report_reimbursements(self, account):
        """The rows of Amazon's reimbursements report that name an order, and the ids of the
        adjustment events they are linked to."""
        rows = []
        found = self.env["amazon.sp.reimbursement"].search(
            [("account_id", "=", account.id), ("amazon_order_id", "!=", False)]
        )
        for reimb in found:
            rows.append(
                claims.ReimbursementRow(
                    reimb.id,
                    reimb.amazon_order_id,
                    reimb.sku or "",
                    fields.Date.to_date(reimb.approval_date) or self._today(),
                    to_decimal(reimb.amount_total),
                    reimb.currency_id.name or "",
                    quantity_inventory=Decimal(reimb.quantity_inventory or 0),
                )
            )
        return rows, set(found.event_ids.filtered(lambda ev: ev.event_type == "adjustment").ids)

    def _return_rows(self, returns):
        rule_rows, claim_rows = [], []
        for ret in returns:
            code = ret.marketplace_id.code or ""
            day = fields.Datetime.to_datetime(ret.return_date).date()
            if ret.source == "fba":
                rule_rows.append(
                    anomalies.ReturnRow(
                        ret.id,
                        code,
                        ret.marketplace_id.country_id.code or "",
                        ret.fulfillment_center,
                        day,
                        order_id=ret.amazon_order_id,
                        sku=ret.sku,
                    )
                )
            claim_rows.append(
                claims.ReturnRow(
                    ret.id,
                    ret.amazon_order_id or "",
                    ret.sku or "",
                    day,
                    fnsku=ret.fnsku or "",
                    damaged_by=ret.damaged_by or None,
                    disposition=ret.disposition or "",
                    license_plate=ret.license_plate or "",
                    marketplace=code,
                )
            )
        return rule_rows, claim_rows

    def _buyers(self, account, events):
        """{order id: buyer} for the A-to-z claims and chargebacks, where Odoo knows the buyer:
        the partner of the order's posted invoice (not the marketplace's generic customer)."""
        orders = {
            ev.amazon_order_id
            for ev in events
            if ev.event_type in anomalies.CLAIM_TYPES and ev.amazon_order_id
        }
        if not orders:
            return {}
        company = account.company_id
        generic = company.amazon_sp_partner_id | self.env["amazon.sp.marketplace"].search(
            []
        ).mapped("amazon_sp_partner_id")
        invoices = self.env["account.move"].search(
            [
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                "|",
                ("amazon_order_id", "in", list(orders)),
                ("ref", "in", list(orders)),
            ],
            order="id",
        )
        buyers = {}
        for invoice in invoices:
            partner = invoice.partner_id.commercial_partner_id
            if partner and partner not in generic:
                buyers.setdefault(invoice.amazon_order_id or invoice.ref, str(partner.id))
        return buyers

    # ------------------------------------------------------------------------------------------
    # Hits → amazon.sp.anomaly
    # ------------------------------------------------------------------------------------------

    def _store_hits(self, account, hits, facts, by_code):
        Anomaly = self.env["amazon.sp.anomaly"]
        existing = {
            a.key: a
            for a in Anomaly.search(
                [("account_id", "=", account.id), ("key", "in", [h.key for h in hits])]
            )
        }
        currencies = {c.name: c for c in self.env["res.currency"].search([])}
        now = fields.Datetime.now()
        to_create, found = [], Anomaly
        for hit in hits:
            vals = self._hit_vals(hit, facts, by_code, currencies)
            vals["last_seen"] = now
            anomaly = existing.get(hit.key)
            if anomaly:
                anomaly.write(vals)
                found |= anomaly
            else:
                to_create.append(
                    {**vals, "account_id": account.id, "key": hit.key, "first_seen": now}
                )
        if to_create:
            created = Anomaly.create(to_create)
            self._schedule(account, created)
            found |= created
        return found

    def _hit_vals(self, hit, facts, by_code, currencies):
        figures = hit.figures
        event_ids, return_id = list(hit.ids), False
        if hit.rule == anomalies.RULE_RETURN_COUNTRY:
            returned = facts["returns"].browse(hit.ids)
            event_ids, return_id = returned.event_ids.ids, returned.id
        partner = figures.get("buyer")
        currency = currencies.get(figures.get("currency") or "")
        amount = figures.get("amount", figures.get("excess"))
        return {
            "rule": hit.rule,
            "marketplace_id": by_code[hit.marketplace].id if hit.marketplace in by_code else False,
            "subject": self._subject(hit),
            "date": hit.day,
            "amazon_order_id": figures.get("order_id") or False,
            "sku": figures.get("sku") or False,
            "partner_id": int(partner) if partner else False,
            "count": figures.get("count") or len(hit.ids),
            "currency_id": currency.id if currency else False,
            "amount": float(amount) if amount is not None else 0.0,
            "fulfillment_center": figures.get("fulfillment_center") or False,
            "return_id": return_id,
            "figures": self._figures_text(hit, currency),
            "event_ids": [Command.set(event_ids)],
        }

    def _subject(self, hit):
        figures = hit.figures
        if hit.rule == anomalies.RULE_CONCENTRATION_BUYER:
            return self.env["res.partner"].browse(int(figures["buyer"])).display_name
        if hit.rule == anomalies.RULE_RETURN_COUNTRY:
            return figures.get("order_id") or hit.subject
        if hit.rule == anomalies.RULE_SKU:
            return f"{figures['sku']} {figures['from']} – {figures['to']}"
        return figures.get("order_id") or figures.get("sku") or hit.subject

    def _figures_text(self, hit, currency):
        """What made the rule fire, in plain words."""
        f = hit.figures

        def money(value):
            if currency:
                return format_amount(self.env, float(value), currency)
            return f"{value} {f.get('currency') or ''}".strip()

        _ = self.env._
        if hit.rule == anomalies.RULE_DAILY:
            return _(
                "%(count)s refunds, claims and chargebacks on %(day)s for %(amount)s "
                "(thresholds: %(limit)s a day, amount %(limit_amount)s; 0 = not checked).",
                count=f["count"],
                day=hit.day,
                amount=money(f["amount"]),
                limit=f["count_threshold"],
                limit_amount=money(f["amount_threshold"]),
            )
        if hit.rule == anomalies.RULE_SKU:
            return _(
                "%(sku)s: %(count)s refunds from %(start)s to %(end)s, against %(mean)s a week "
                "on average over the 8 weeks before (more than %(factor)s times is unusual).",
                sku=f["sku"],
                count=f["count"],
                start=f["from"],
                end=f["to"],
                mean=f["weekly_mean"],
                factor=f["factor"],
            )
        if hit.rule == anomalies.RULE_REPEAT:
            product = " ({})".format(f["sku"]) if f["sku"] else ""
            return _(
                "Order %(order)s%(sku)s was refunded %(count)s times, %(amount)s in all.",
                order=f["order_id"],
                sku=product,
                count=f["count"],
                amount=money(f["amount"]),
            )
        if hit.rule == anomalies.RULE_OVER:
            return _(
                "Order %(order)s: the buyer paid %(paid)s and got back %(refunded)s, "
                "%(excess)s more.",
                order=f["order_id"],
                paid=money(f["paid"]),
                refunded=money(f["refunded"]),
                excess=money(f["excess"]),
            )
        if hit.rule in (anomalies.RULE_CONCENTRATION_SKU, anomalies.RULE_CONCENTRATION_BUYER):
            return _(
                "%(subject)s: %(claims)s A-to-z claims and %(chargebacks)s chargebacks in the "
                "last %(days)s days, %(amount)s in all.",
                subject=self._subject(hit),
                claims=f["claims"],
                chargebacks=f["chargebacks"],
                days=f["days"],
                amount=money(f["amount"]),
            )
        return _(
            "Order %(order)s (%(sku)s) was returned to the fulfillment center %(center)s in "
            "%(center_country)s, not in the marketplace's country %(country)s: VAT and "
            "liability differ.",
            order=f["order_id"] or "-",
            sku=f["sku"] or "-",
            center=f["fulfillment_center"],
            center_country=f["center_country"],
            country=f["marketplace_country"],
        )

    def _accountants(self, account):
        """The account's responsible accountant, else the company's accounting managers."""
        if account.accountant_id:
            return account.accountant_id
        managers = self.env.ref("account.group_account_manager").users.filtered(
            lambda user: account.company_id in user.company_ids
        )
        return managers[:1] or self.env.user

    def _schedule(self, account, records):
        user = self._accountants(account)
        for record in records:
            record.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=record.name,
                note=record.figures if record._name == "amazon.sp.anomaly" else record.evidence,
                user_id=user.id,
            )

    # ------------------------------------------------------------------------------------------
    # Candidates → amazon.sp.claim
    # ------------------------------------------------------------------------------------------

    def _store_claims(self, account, candidates, facts, by_code):
        Claim = self.env["amazon.sp.claim"]
        existing = {
            c.key: c
            for c in Claim.search(
                [
                    ("account_id", "=", account.id),
                    "|",
                    ("state", "=", "open"),
                    ("key", "in", [cand.key for cand in candidates]),
                ]
            )
        }
        currencies = {c.name: c for c in self.env["res.currency"].search([])}
        now = fields.Datetime.now()
        labels = self._evidence_labels()
        to_create, kept = [], Claim

        def reimbursed(cand):
            return claims.reimbursement_for(cand.order_id, cand.sku, facts["reimbursements"])

        for cand in candidates:
            currency = currencies.get(cand.currency)
            vals = {
                "kind": cand.kind,
                "marketplace_id": by_code[cand.marketplace].id
                if cand.marketplace in by_code
                else False,
                "amazon_order_id": cand.order_id,
                "sku": cand.sku,
                "fnsku": cand.fnsku or False,
                "refund_date": cand.refund_date or False,
                "return_date": cand.return_date or False,
                "due_date": cand.due_date or cand.return_date or cand.refund_date or False,
                "currency_id": currency.id if currency else False,
                "refund_amount": float(cand.refund_amount),
                "reimbursed_amount": float(cand.reimbursed_amount),
                "claim_amount": float(cand.claim_amount),
                "license_plate": cand.license_plate or False,
                "disposition": cand.disposition or False,
                "evidence": claims.evidence(cand, labels),
                "event_ids": [Command.set(list(cand.event_ids))],
                "return_ids": [Command.set(list(cand.return_ids))],
                "reimbursement_ids": [
                    Command.set([r.id for r in reimbursed(cand) if r.source == "report"])
                ],
                "last_seen": now,
            }
            claim = existing.pop(cand.key, None)
            if claim:
                if claim.closed_reason != "manual":
                    vals.update(state="open", closed_reason=False, closed_date=False)
                claim.write(vals)
                kept |= claim
            else:
                to_create.append({**vals, "account_id": account.id, "key": cand.key})
                to_create[-1]["first_seen"] = now
        if to_create:
            created = Claim.create(to_create)
            self._schedule(account, created)
            kept |= created
        # An open candidate older than the days read is kept as it is (nothing known of it).
        start = facts["start"]
        gone = Claim.browse(
            [
                c.id
                for c in existing.values()
                if c.state == "open" and (c.refund_date or c.return_date or start) >= start
            ]
        )
        self._close(gone, facts)
        return kept

    def _close(self, gone, facts):
        """Close the open candidates no run finds any more: reimbursed (the reimbursement of
        the order and SKU arrived), returned (the item came back) or no longer applies."""
        if not gone:
            return
        now = fields.Datetime.now()
        returned = {(r.order_id, r.sku) for r in facts["claim_returns"]}
        for claim in gone:
            paid = claims.reimbursement_for(
                claim.amazon_order_id, claim.sku, facts["reimbursements"]
            )
            vals = {"state": "closed", "closed_date": now, "closed_reason": "gone"}
            if paid:
                vals["closed_reason"] = "reimbursed"
                last = max(paid, key=lambda r: r.day)
                field = "closed_by_event_id" if last.source == "event" else "closed_by_id"
                vals[field] = last.id
            elif (claim.amazon_order_id, claim.sku) in returned:
                vals["closed_reason"] = "returned"
            claim.write(vals)
            claim.activity_ids.action_feedback(
                feedback=dict(claim._fields["closed_reason"]._description_selection(self.env))[
                    vals["closed_reason"]
                ]
            )

    def _evidence_labels(self):
        _ = self.env._
        return {
            "Order ID": _("Order ID"),
            "SKU": _("SKU"),
            "FNSKU": _("FNSKU"),
            "Refund date": _("Refund date"),
            "Return date": _("Return date"),
            "License plate number": _("License plate number"),
            "Disposition": _("Disposition"),
            "Refunded": _("Refunded"),
            "Reimbursed": _("Reimbursed"),
            "Claimed": _("To claim"),
        }
