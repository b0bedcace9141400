from . import amazon_sp_account_link
from . import amazon_sp_import
