"""The study's fakes (``tests/study/study_helpers.py``) serve the adapter tests too, and the faithfulness fakes
(``tests/impls/faithfulness/faithfulness_helpers.py``) the faithfulness interface's tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "study"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "impls" / "faithfulness"))
