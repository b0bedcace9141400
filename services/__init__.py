from . import import_shim
from . import settlement
from . import settlement_report
from . import check
