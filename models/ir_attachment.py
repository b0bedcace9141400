from odoo import models

from ..services.common import NO_INDEX


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _index(self, bin_data, file_type, checksum=None):
        """Amazon's settlement and returns files are kept as they came, and read through their
        report; Odoo would list every word of a text file (tens of megabytes for a large
        settlement) in ``index_content``, in memory and in the database."""
        if self.env.context.get(NO_INDEX):
            return file_type.split("/")[0] if file_type else False
        return super()._index(bin_data, file_type, checksum=checksum)
