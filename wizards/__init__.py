from . import amazon_sp_account_link
from . import amazon_sp_import
from . import amazon_sp_reconcile_review
from . import amazon_sp_event_post
from . import amazon_sp_settlement_upload
