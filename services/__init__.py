from . import importer
from . import documents
from . import settlement
from . import settlement_report
from . import check
