import base64
import csv
import io

from odoo import models

from .common import text_workbook

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AmazonSpAnomalyServiceExport(models.AbstractModel):
    """The claim candidates as a CSV file or a spreadsheet, for Seller Central."""

    _inherit = "amazon.sp.service.anomalies"

    # ------------------------------------------------------------------------------------------
    # Export (CSV, XLSX)
    # ------------------------------------------------------------------------------------------

    def _export_rows(self, claim_records):
        _ = self.env._
        kinds = dict(claim_records._fields["kind"]._description_selection(self.env))
        states = dict(claim_records._fields["state"]._description_selection(self.env))
        header = [
            _("Seller account"),
            _("Marketplace"),
            _("Case"),
            _("Order ID"),
            _("SKU"),
            _("FNSKU"),
            _("Refund date"),
            _("Return date"),
            _("Claimable from"),
            _("Refunded"),
            _("Reimbursed"),
            _("To claim"),
            _("Currency"),
            _("License plate number"),
            _("Disposition"),
            _("Status"),
            _("Evidence"),
        ]
        rows = [
            [
                c.account_id.name or "",
                c.marketplace_id.code or "",
                kinds.get(c.kind, ""),
                c.amazon_order_id or "",
                c.sku or "",
                c.fnsku or "",
                str(c.refund_date or ""),
                str(c.return_date or ""),
                str(c.due_date or ""),
                c.refund_amount,
                c.reimbursed_amount,
                c.claim_amount,
                c.currency_id.name or "",
                c.license_plate or "",
                c.disposition or "",
                states.get(c.state, ""),
                c.evidence or "",
            ]
            for c in claim_records
        ]
        return header, rows

    def _attach(self, name, content, mimetype):
        return self.env["ir.attachment"].create(
            {
                "name": name,
                "datas": base64.b64encode(content),
                "mimetype": mimetype,
                "res_model": "amazon.sp.claim",
            }
        )

    def _export_csv(self, claim_records):
        header, rows = self._export_rows(claim_records)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            # Text stays text: a value starting with =, +, - or @ is not a formula.
            writer.writerow(
                [
                    f"'{v}" if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                    for v in row
                ]
            )
        return self._attach("amazon-claims.csv", out.getvalue().encode("utf-8"), "text/csv")

    def _export_xlsx(self, claim_records):
        header, rows = self._export_rows(claim_records)
        out = io.BytesIO()
        book, bold, money = text_workbook(out)
        wrap = book.add_format({"text_wrap": True})
        sheet = book.add_worksheet("Claims")
        for col, title in enumerate(header):
            sheet.write_string(0, col, title, bold)
        for row, values in enumerate(rows, start=1):
            for col, value in enumerate(values):
                if isinstance(value, float):
                    sheet.write_number(row, col, value, money)
                else:
                    sheet.write_string(row, col, value, wrap if col == len(values) - 1 else None)
        sheet.set_column(0, 15, 16)
        sheet.set_column(16, 16, 60)
        book.close()
        return self._attach("amazon-claims.xlsx", out.getvalue(), XLSX_MIMETYPE)
