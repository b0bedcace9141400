from . import amazon_sp_marketplace
from . import amazon_sp_account
from . import amazon_sp_oauth_state
