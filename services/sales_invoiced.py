from collections import defaultdict

from odoo import models

# Where the order id of an invoice made elsewhere is looked for, in this order.
ORDER_FIELDS = ("amazon_order_id", "ref", "invoice_origin", "payment_reference")


class AmazonSpServiceSalesInvoiced(models.AbstractModel):
    """The *already invoiced in Odoo* policy's part of ``amazon.sp.service.sales.invoice``: the
    order's invoice made elsewhere (Odoo's ``sale_amazon``, another connector, by hand), found
    by the order id, and what keeps a sale from settling it."""

    _inherit = "amazon.sp.service.sales.invoice"

    def _find_invoices(self, events, batch):
        """``{order id: the posted customer invoice of that Amazon order}`` in one search: by
        the addon's Amazon order id, else the reference, else the source document, else the
        payment reference (exactly the order id). Two invoices found at the same step for one
        order: ``{order id: both}`` (to review)."""
        orders = list({ev.amazon_order_id for ev in events if ev.amazon_order_id})
        if not orders:
            return {}
        domain = [
            ("company_id", "=", batch.company.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
        ]
        domain += ["|"] * (len(ORDER_FIELDS) - 1)
        domain += [(name, "in", orders) for name in ORDER_FIELDS]
        found = self.env["account.move"].search(domain, order="id")
        wanted = set(orders)
        result = {}
        for name in ORDER_FIELDS:
            step = defaultdict(lambda: self.env["account.move"])
            for invoice in found:
                if invoice[name] in wanted and invoice[name] not in result:
                    step[invoice[name]] |= invoice
            result.update(step)
        return result

    def _invoice_problem(self, event, invoice, sale):
        """Why the sale cannot settle ``invoice`` (the order's invoice found in Odoo), as a
        (review reason, message) pair, or None."""
        order = event.amazon_order_id
        if not order:
            return (
                "plan",
                self.env._("This sale has no Amazon order id: its invoice cannot be found."),
            )
        if not invoice:
            return (
                "plan",
                self.env._(
                    "No posted customer invoice of Amazon order %(order)s was found in Odoo "
                    "(searched by Amazon order id, reference, source document and payment "
                    "reference). Post the order's invoice, then retry.",
                    order=order,
                ),
            )
        if len(invoice) > 1:
            return (
                "plan",
                self.env._(
                    "Several customer invoices belong to Amazon order %(order)s (%(invoices)s): "
                    "which one this sale pays is not known. Settle it by hand, or ignore it.",
                    order=order,
                    invoices=", ".join(invoice.mapped("name")),
                ),
            )
        currency = event.currency_id
        if invoice.currency_id != currency:
            return (
                "balance",
                self.env._(
                    "Invoice %(invoice)s of Amazon order %(order)s is in %(invoice_currency)s, "
                    "Amazon charged the buyer in %(currency)s.",
                    invoice=invoice.name,
                    order=order,
                    invoice_currency=invoice.currency_id.name,
                    currency=currency.name,
                ),
            )
        if currency.compare_amounts(invoice.amount_total, float(sale["gross"])) != 0:
            return (
                "balance",
                self.env._(
                    "Invoice %(invoice)s of Amazon order %(order)s is for %(invoice_total)s, "
                    "Amazon charged the buyer %(amazon)s.",
                    invoice=invoice.name,
                    order=order,
                    invoice_total=currency._amazon_sp_amount_text(invoice.amount_total),
                    amazon=currency._amazon_sp_amount_text(sale["gross"]),
                ),
            )
        if currency.compare_amounts(invoice.amount_residual, invoice.amount_total) != 0:
            return (
                "balance",
                self.env._(
                    "Invoice %(invoice)s of Amazon order %(order)s is already paid in part or in "
                    "full (%(residual)s of %(total)s open): this sale would pay it twice.",
                    invoice=invoice.name,
                    order=order,
                    residual=currency._amazon_sp_amount_text(invoice.amount_residual),
                    total=currency._amazon_sp_amount_text(invoice.amount_total),
                ),
            )
        return None
