from . import test_install
from . import test_access
from . import test_account
from . import test_oauth
from . import test_connection
from . import test_neutralize
from . import test_import_refunds
from . import test_import_pull
