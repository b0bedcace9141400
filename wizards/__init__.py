from . import amazon_sp_account_link
