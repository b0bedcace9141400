from . import importer
from . import documents
from . import settlement_shim
from . import account_shim
